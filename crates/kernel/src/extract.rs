//! Request extractors that turn bad input into the API's errors: unparsable JSON → 400,
//! well-formed but wrong (types, unknown fields) → 422 naming the field, too large → 413.

use crate::error::{Error, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body; see the module doc for how failures are answered.
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge
            } else {
                Error::BadRequest(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(ValidJson)
    }
}

/// Parse a JSON document with the error split the API promises. The syntax is checked first
/// (serde_json reports some type errors, such as a number for an enum, as syntax errors).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::BadRequest(e.to_string()))?;
    if let Some(path) = find_nul(&value, String::new()) {
        return Err(nul_error(path));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        json_error(path, e.into_inner())
    })
}

/// Text may not hold the NUL character: PostgreSQL cannot store it, and no person types it.
fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(path.clone());
            }
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            find_nul(v, field)
        }),
        _ => None,
    }
}

fn nul_error(path: String) -> Error {
    let field = if path.is_empty() {
        ".".to_string()
    } else {
        path
    };
    Error::invalid(
        field,
        "invalid_character",
        "text cannot contain the NUL character",
    )
}

fn json_error(path: String, error: serde_json::Error) -> Error {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::BadRequest(error.to_string()),
        Category::Data => {
            let message = strip_position(&error.to_string());
            let (field, code) = match message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                // The path already ends with the unknown field's name.
                Some(name) if path == "." => (name.to_string(), "unknown_field"),
                Some(_) => (path, "unknown_field"),
                None => match message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next())
                {
                    Some(name) if path == "." => (name.to_string(), "required"),
                    Some(name) => (format!("{path}.{name}"), "required"),
                    None => (path, "invalid_type"),
                },
            };
            Error::Invalid(vec![FieldError::new(field, code, message)])
        }
    }
}

/// serde_json appends " at line 1 column 12", which means nothing to a form user.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Query-string parameters; a value of the wrong type is a 422 naming the parameter.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_error(name.replace('\0', "")));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ValidQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                let field = if field == "." {
                    message
                        .split('`')
                        .nth(1)
                        .map(str::to_string)
                        .unwrap_or(field)
                } else {
                    field
                };
                Error::Invalid(vec![FieldError::new(field, "invalid_parameter", message)])
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        code: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    #[test]
    fn syntax_is_400_and_types_are_422() {
        assert!(matches!(
            parse_json::<Body>(b"{"),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"code": "a"} x"#),
            Err(Error::BadRequest(_))
        ));
        match parse_json::<Body>(br#"{"code": 5}"#) {
            Err(Error::Invalid(f)) => assert_eq!(f[0].field, "code"),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{"code": "a", "inner": {"n": "x"}}"#) {
            Err(Error::Invalid(f)) => assert_eq!(f[0].field, "inner.n"),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{"code": "a", "bogus": 1}"#) {
            Err(Error::Invalid(f)) => assert_eq!(
                (f[0].field.as_str(), f[0].code.as_str()),
                ("bogus", "unknown_field")
            ),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{"code": "a", "inner": {"n": 1}, "x": ["\u0000"]}"#) {
            Err(Error::Invalid(f)) => assert_eq!(
                (f[0].field.as_str(), f[0].code.as_str()),
                ("x[0]", "invalid_character")
            ),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{}"#) {
            Err(Error::Invalid(f)) => assert_eq!(
                (f[0].field.as_str(), f[0].code.as_str()),
                ("code", "required")
            ),
            other => panic!("{other:?}"),
        }
    }
}
