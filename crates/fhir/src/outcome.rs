//! Errors under the FHIR base path as `OperationOutcome`, whatever produced them: a service's
//! `kernel::Error` (rendered as problem+json by the rest of the system), an extractor's
//! rejection, the authentication middleware, axum's 405, the fallback's 404. One middleware
//! rewrites them all, so that a FHIR client never sees another error format (openIMIS does the
//! same for every path containing `api_fhir_r4`).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const FHIR_JSON: &str = "application/fhir+json";

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "resourceType", rename = "OperationOutcome")]
pub struct OperationOutcome {
    pub issue: Vec<Issue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    pub severity: &'static str,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<IssueDetails>,
    /// The element at fault (FHIRPath), when a field was named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssueDetails {
    pub text: String,
}

impl OperationOutcome {
    pub fn error(code: &'static str, text: impl Into<String>) -> Self {
        OperationOutcome {
            issue: vec![Issue {
                severity: "error",
                code,
                details: Some(IssueDetails { text: text.into() }),
                expression: Vec::new(),
            }],
        }
    }

    pub fn respond(self, status: StatusCode) -> Response {
        let mut response = (status, axum::Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        response
    }
}

/// The FHIR issue type for an HTTP status (and, for a conflict, the problem's code).
pub fn issue_code(status: StatusCode, problem_code: &str) -> &'static str {
    match status.as_u16() {
        400 | 422 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        410 => "deleted",
        405 => "not-supported",
        409 if problem_code.starts_with("duplicate") => "duplicate",
        409 => "conflict",
        413 => "too-costly",
        429 => "throttled",
        _ => "exception",
    }
}

/// The outcome for an error response of the rest of the system: a problem+json body (its
/// detail and each field error), or a bare status.
pub fn from_problem(status: StatusCode, body: &[u8]) -> OperationOutcome {
    #[derive(serde::Deserialize, Default)]
    struct Field {
        field: String,
        message: String,
    }
    #[derive(serde::Deserialize, Default)]
    struct Problem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        detail: String,
        #[serde(default)]
        errors: Vec<Field>,
    }
    let problem: Problem = serde_json::from_slice(body).unwrap_or_default();
    let code = issue_code(status, &problem.code);
    let general = if !problem.detail.is_empty() {
        problem.detail.clone()
    } else {
        let text = String::from_utf8_lossy(body).trim().to_string();
        if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("the request failed")
                .to_string()
        } else {
            text
        }
    };
    let mut outcome = OperationOutcome::error(code, general);
    for f in problem.errors {
        outcome.issue.push(Issue {
            severity: "error",
            code,
            details: Some(IssueDetails {
                text: format!("{}: {}", f.field, f.message),
            }),
            expression: vec![f.field],
        });
    }
    outcome
}

/// Middleware for the whole app: an error response under the FHIR base path that is not an
/// `OperationOutcome` already becomes one, with its status and headers (Retry-After…) kept.
pub async fn as_operation_outcome(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(crate::BASE) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_fhir = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(FHIR_JSON));
    if status.as_u16() < 400 || is_fhir {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are small; a larger one is not read.
    let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let outcome = from_problem(status, &bytes);
    // openIMIS (and FHIR for an invalid resource) answers 400 where the REST API says 422.
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        parts.status = StatusCode::BAD_REQUEST;
    }
    let json = serde_json::to_vec(&outcome).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    Response::from_parts(parts, Body::from(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_keeps_its_detail_and_names_its_fields() {
        let body = br#"{"type":"about:blank","title":"Unprocessable","status":422,"code":"validation_failed","detail":"some fields are invalid","errors":[{"field":"birthDate","code":"required","message":"is required"}]}"#;
        let o = from_problem(StatusCode::UNPROCESSABLE_ENTITY, body);
        assert_eq!(o.issue.len(), 2);
        assert_eq!(o.issue[0].code, "invalid");
        assert_eq!(o.issue[1].expression, ["birthDate"]);
        assert_eq!(
            o.issue[1].details.as_ref().unwrap().text,
            "birthDate: is required"
        );
    }

    #[test]
    fn a_bare_status_still_says_what_happened() {
        let o = from_problem(StatusCode::METHOD_NOT_ALLOWED, b"");
        assert_eq!(o.issue[0].code, "not-supported");
        assert_eq!(
            o.issue[0].details.as_ref().unwrap().text,
            "Method Not Allowed"
        );
        let dup = from_problem(
            StatusCode::CONFLICT,
            br#"{"code":"duplicate_code","detail":"x"}"#,
        );
        assert_eq!(dup.issue[0].code, "duplicate");
    }
}
