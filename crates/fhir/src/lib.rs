//! The FHIR R4 API at `/api/api_fhir_r4/`, path- and payload-compatible with openIMIS's FHIR
//! module (spec/interop.md Part A), over the same services as the REST API: every read checks
//! the caller's rights and districts there.
//!
//! Lenient on input (openIMIS's legacy quirks, §A9), strict on output: what this crate emits is
//! valid R4 with absolute code systems and references to resources this API serves. Every error
//! under the base path is an `OperationOutcome` ([`outcome::as_operation_outcome`]).

pub mod capability;
pub mod codes;
pub mod datatypes;
pub mod location;
pub mod login;
pub mod outcome;
pub mod patient;
pub mod search;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use kernel::AppState;

/// Where the API is served (openIMIS docker deployments: `SITE_ROOT=api`).
pub const BASE: &str = "/api/api_fhir_r4";

/// A resource or Bundle as `application/fhir+json`.
pub struct Fhir<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Fhir<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.0).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(outcome::FHIR_JSON),
        );
        response
    }
}

/// Every route of the API, each with and without its trailing slash (openIMIS's router wants
/// the slash; FHIR clients usually send none).
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (path, route) in routes() {
        router = router
            .route(&format!("{BASE}/{path}"), route.clone())
            .route(&format!("{BASE}/{path}/"), route);
    }
    router
}

fn routes() -> Vec<(&'static str, axum::routing::MethodRouter<AppState>)> {
    use axum::routing::{get, post};
    vec![
        ("login", post(login::login)),
        ("metadata", get(capability::metadata)),
        ("Patient", get(patient::search)),
        ("Patient/{id}", get(patient::read)),
        ("Location", get(location::search)),
        ("Location/{id}", get(location::read)),
    ]
}
