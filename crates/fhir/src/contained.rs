//! Contained resources of a Claim (spec/interop.md §A2): what a client sends inside the claim
//! (its Patient, the provider, the enterer, the items and services), and what `GET
//! Claim?contained=true` inlines.
//!
//! On input openIMIS creates or updates every contained resource before the claim, so a claim
//! can rewrite a patient's record or add a medicine to the register unseen. Bima reads a
//! contained resource as a reference to the record it names (by its `Code` identifier, else
//! its `UUID` identifier, else its id) and changes no register: an unknown patient, facility or
//! item is the same 400 as when referenced directly. Both openIMIS's `#Type/id` and FHIR's
//! `#id` are accepted.
//!
//! On output the references are FHIR's `#id`, the contained resource's id being its UUID.

use crate::input::{bad, text};
use crate::{Config, codes};
use claim::model::Claim;
use kernel::{Actor, AppState, Error, Result};
use serde_json::Value;
use std::collections::HashMap;

/// What a contained resource names: `Type/<code or UUID>`.
fn named(resource: &Value) -> Option<String> {
    let kind = text(resource, "/resourceType")?;
    let identifiers = resource.get("identifier").and_then(Value::as_array);
    let of_type = |wanted: &dyn Fn(&str) -> bool| {
        identifiers
            .into_iter()
            .flatten()
            .find(|i| text(i, "/type/coding/0/code").is_some_and(wanted))
            .and_then(|i| text(i, "/value"))
    };
    let key = of_type(&codes::is_code_type)
        .or_else(|| of_type(&|c: &str| c.eq_ignore_ascii_case("uuid")))
        .or_else(|| text(resource, "/id"))?;
    Some(format!("{kind}/{key}"))
}

/// Rewrite every `#…` reference of a posted resource into the literal reference of the record
/// its contained resource names, and drop `contained`. A `#` reference to nothing contained,
/// or a contained resource that names nothing, is a 400.
pub fn resolve(body: &mut Value, kind: &str) -> Result<()> {
    let Some(contained) = body.as_object_mut().and_then(|o| o.remove("contained")) else {
        return Ok(());
    };
    let mut local: HashMap<String, String> = HashMap::new();
    for (i, resource) in contained.as_array().into_iter().flatten().enumerate() {
        let literal = named(resource).ok_or_else(|| {
            bad(
                &format!("{kind}.contained[{i}]"),
                "a contained resource needs its resourceType and an identifier (Code or UUID) or id",
            )
        })?;
        let rtype = text(resource, "/resourceType").unwrap_or_default();
        if let Some(id) = text(resource, "/id") {
            local.insert(format!("#{id}"), literal.clone());
            local.insert(format!("#{rtype}/{id}"), literal.clone());
        }
        // openIMIS's clients name a contained resource by its type and code too.
        let key = literal.rsplit('/').next().unwrap_or_default();
        local.insert(format!("#{rtype}/{key}"), literal);
    }
    rewrite(body, &local, kind)
}

fn rewrite(value: &mut Value, local: &HashMap<String, String>, path: &str) -> Result<()> {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let at = format!("{path}.{k}");
                if k == "reference"
                    && let Some(r) = v.as_str().filter(|r| r.starts_with('#'))
                {
                    let literal = local.get(r).ok_or_else(|| {
                        bad(
                            &at,
                            format!("the reference {r} names no contained resource"),
                        )
                    })?;
                    *v = Value::String(literal.clone());
                } else {
                    rewrite(v, local, &at)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, v)| rewrite(v, local, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

/// A read the caller may not make, or of a record gone since: not inlined.
fn found<T>(read: Result<T>) -> Result<Option<T>> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound { .. } | Error::Forbidden { .. } | Error::Gone { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Inline what a stored claim names (its Patient, provider, enterer, Medications and
/// ActivityDefinitions) as `contained`, and point its references at them (`#<UUID>`). A record
/// the caller may not read, or deleted since, stays a literal reference.
pub async fn inline(
    state: &AppState,
    actor: &Actor,
    config: &Config,
    c: &Claim,
    resource: &mut crate::claim::ClaimResource,
) -> Result<()> {
    let db = &state.db;
    let mut contained: Vec<Value> = Vec::new();
    let mut local: HashMap<String, String> = HashMap::new();
    let mut keep = |literal: String, r: Value| {
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            local.insert(literal, format!("#{id}"));
            contained.push(r);
        }
    };
    let insuree = c.insuree_id.to_string();
    if let Some((i, village)) =
        found(registry::service::get_insuree_and_village(db, actor, &insuree).await)?
    {
        keep(
            format!("Patient/{insuree}"),
            serde_json::to_value(crate::patient::patient(&i, village)).unwrap_or_default(),
        );
    }
    let facility = c.health_facility_id.to_string();
    if let Some(f) = found(location::service::get_facility(db, actor, &facility).await)? {
        keep(
            format!("Organization/{facility}"),
            serde_json::to_value(crate::organization::facility(&f)).unwrap_or_default(),
        );
    }
    if let Some(admin) = c.admin_id.map(|a| a.to_string())
        && let Some(u) = found(identity::service::get_user(db, actor, &admin).await)?
    {
        keep(
            format!("Practitioner/{admin}"),
            serde_json::to_value(crate::practitioner::practitioner(&u)).unwrap_or_default(),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for l in &c.items {
        let id = l.register_id.to_string();
        if seen.insert(id.clone())
            && let Some(i) = found(medical::service::get_item(db, actor, &id).await)?
        {
            keep(
                format!("Medication/{id}"),
                serde_json::to_value(crate::medication::medication(&i, config)).unwrap_or_default(),
            );
        }
    }
    for l in &c.services {
        let id = l.register_id.to_string();
        if seen.insert(id.clone())
            && let Some(s) = found(medical::service::get_service(db, actor, &id).await)?
        {
            keep(
                format!("ActivityDefinition/{id}"),
                serde_json::to_value(crate::activity_definition::activity_definition(&s, config))
                    .unwrap_or_default(),
            );
        }
    }
    let point = |r: &mut crate::datatypes::Reference| {
        if let Some(to) = local.get(&r.reference) {
            r.reference = to.clone();
        }
    };
    point(&mut resource.patient);
    point(&mut resource.provider);
    if let Some(e) = resource.enterer.as_mut() {
        point(e);
    }
    for item in &mut resource.item {
        if let Some(Value::String(r)) = item.pointer_mut("/extension/0/valueReference/reference")
            && let Some(to) = local.get(r.as_str())
        {
            *r = to.clone();
        }
    }
    resource.contained = contained;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contained_references_become_the_records_they_name() {
        let mut body = json!({
            "resourceType": "Claim",
            "contained": [
                {"resourceType": "Patient", "id": "p1",
                 "identifier": [{"type": {"coding": [{"code": "Code"}]}, "value": "070707070"}]},
                {"resourceType": "Organization", "id": "HF1"},
            ],
            "patient": {"reference": "#p1"},
            "provider": {"reference": "#Organization/HF1"},
            "item": [{"extension": [{"valueReference": {"reference": "Medication/0001"}}]}],
        });
        resolve(&mut body, "Claim").unwrap();
        assert_eq!(body["patient"]["reference"], "Patient/070707070");
        assert_eq!(body["provider"]["reference"], "Organization/HF1");
        assert_eq!(
            body["item"][0]["extension"][0]["valueReference"]["reference"],
            "Medication/0001"
        );
        assert!(body.get("contained").is_none());
    }

    #[test]
    fn a_reference_to_nothing_contained_is_refused() {
        let mut body = json!({
            "resourceType": "Claim",
            "contained": [{"resourceType": "Patient", "id": "p1"}],
            "patient": {"reference": "#p2"},
        });
        let e = resolve(&mut body, "Claim").unwrap_err();
        let Error::Invalid(fields) = e else {
            panic!("{e:?}")
        };
        assert_eq!(fields[0].field, "Claim.patient.reference");
        let mut nameless = json!({"resourceType": "Claim", "contained": [{"id": "x"}]});
        assert!(resolve(&mut nameless, "Claim").is_err());
    }
}
