//! Reading what a client posts: the body as a resource of the expected type, its text elements,
//! its references, and the 400 that names an element. Lenient in what each accepts (openIMIS's
//! clients), one place for every resource that is written.

use kernel::{Error, Result};
use serde_json::Value;

/// The element at fault, as FHIRPath, and what is wrong with it: a 400 OperationOutcome.
pub fn bad(element: &str, message: impl Into<String>) -> Error {
    Error::invalid(element, "invalid", message)
}

/// The trimmed text at `pointer`; `None` when absent, not text or empty.
pub fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The day of a FHIR date or dateTime (`2026-12-01`, `2026-12-01T10:00:00Z`).
pub fn day_of(t: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(t.trim().get(..10).unwrap_or(t), format).ok()
}

/// The day at `pointer` of `v` (a date or dateTime); `None` when absent, a 400 naming `element`
/// when it is not a date.
pub fn day(v: &Value, pointer: &str, element: &str) -> Result<Option<time::Date>> {
    let Some(t) = text(v, pointer) else {
        return Ok(None);
    };
    day_of(t)
        .map(Some)
        .ok_or_else(|| bad(element, format!("\"{t}\" is not a date (YYYY-MM-DD)")))
}

/// The openIMIS extension `name` of `v` (its URL absolute as the IG has it, or ending in
/// `/name` as legacy clients send it).
pub fn extension<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let url = crate::codes::extension(name);
    v.get("extension")?.as_array()?.iter().find(|e| {
        e.get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u == url || u.ends_with(&format!("/{name}")))
    })
}

/// The body as a resource of type `kind`: JSON (else 400) whose `resourceType` is `kind`.
pub fn resource(body: &[u8], kind: &str) -> Result<Value> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::BadRequest(format!("the {kind} is not JSON: {e}")))?;
    if value.get("resourceType").and_then(Value::as_str) != Some(kind) {
        return Err(bad(
            &format!("{kind}.resourceType"),
            format!("resourceType must be \"{kind}\""),
        ));
    }
    Ok(value)
}

/// What a Reference names: the id of `Type/id` (its last segment; `#Type/id` for a contained
/// one is not read), else its identifier's value.
pub fn reference_id(r: &Value) -> Option<&str> {
    if let Some(reference) = text(r, "/reference") {
        return reference.rsplit('/').next().filter(|s| !s.is_empty());
    }
    text(r, "/identifier/value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_by_literal_or_identifier() {
        assert_eq!(
            reference_id(&json!({"reference": "Patient/0707"})),
            Some("0707")
        );
        assert_eq!(
            reference_id(&json!({"identifier": {"value": " A1 "}})),
            Some("A1")
        );
        assert_eq!(reference_id(&json!({"reference": "Patient/"})), None);
        assert!(resource(b"{", "Claim").is_err());
        let wrong = resource(br#"{"resourceType": "Patient"}"#, "Claim").unwrap_err();
        assert_eq!(wrong.status().as_u16(), 422);
    }
}
