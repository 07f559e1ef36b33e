//! The FHIR R4 API at `/api/api_fhir_r4/`, path- and payload-compatible with openIMIS's FHIR
//! module (spec/interop.md Part A), over the same services as the REST API: every read checks
//! the caller's rights and districts there.
//!
//! Lenient on input (openIMIS's legacy quirks, §A9), strict on output: what this crate emits is
//! valid R4 with absolute code systems and references to resources this API serves. Every error
//! under the base path is an `OperationOutcome` ([`outcome::as_operation_outcome`]).

pub mod activity_definition;
pub mod capability;
pub mod claim;
pub mod codes;
pub mod communication;
pub mod contained;
pub mod coverage;
pub mod datatypes;
pub mod eligibility;
pub mod fuzz;
pub mod group;
pub mod input;
pub mod insurance_plan;
pub mod location;
pub mod login;
pub mod medication;
pub mod organization;
pub mod outcome;
pub mod patient;
pub mod patient_write;
pub mod practitioner;
pub mod practitioner_role;
pub mod search;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use kernel::AppState;

/// Where the API is served (openIMIS docker deployments: `SITE_ROOT=api`).
pub const BASE: &str = "/api/api_fhir_r4";

/// What a country sets for its FHIR API (`[fhir]` in bima.toml).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// The ISO 4217 code of the scheme's money (openIMIS emits "$").
    pub currency: String,
    /// The insurer's name, on the `Organization` openIMIS clients know as
    /// `Organization/openIMIS-Implementation`.
    pub insurer_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            currency: "TZS".into(),
            insurer_name: "National Health Insurance".into(),
        }
    }
}

/// A read that found nothing current: when the record is there but deleted (in Bima or, imported,
/// in openIMIS) and within the caller's districts, FHIR's answer is 410 Gone, not 404, so that a
/// reference to it (a claim of a deleted insuree names its Patient) is seen to have been true.
pub(crate) async fn gone_if_deleted(
    state: &AppState,
    actor: &kernel::Actor,
    table: &'static str,
    id: &str,
    error: kernel::Error,
) -> kernel::Error {
    let (kernel::Error::NotFound { entity, .. }, Some(uuid)) = (&error, kernel::parse_uuid(id))
    else {
        return error;
    };
    let Ok(mut tx) = state.db.read_one().await else {
        return error;
    };
    match store::deleted_district(&mut tx, table, uuid).await {
        Ok(Some(district)) if actor.sees_district(district) => kernel::Error::gone(entity, id),
        _ => error,
    }
}

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
        ("Patient", get(patient::search).post(patient_write::create)),
        (
            "Patient/{id}",
            get(patient::read).put(patient_write::update),
        ),
        ("Location", get(location::search)),
        ("Location/{id}", get(location::read)),
        ("Organization", get(organization::search)),
        ("Organization/{id}", get(organization::read)),
        ("Practitioner", get(practitioner::search)),
        ("Practitioner/{id}", get(practitioner::read)),
        ("PractitionerRole", get(practitioner_role::search)),
        ("PractitionerRole/{id}", get(practitioner_role::read)),
        ("Medication", get(medication::search)),
        ("Medication/{id}", get(medication::read)),
        ("ActivityDefinition", get(activity_definition::search)),
        ("ActivityDefinition/{id}", get(activity_definition::read)),
        ("Group", get(group::search).post(group::create)),
        ("Group/{id}", get(group::read)),
        ("InsurancePlan", get(insurance_plan::search)),
        ("InsurancePlan/{id}", get(insurance_plan::read)),
        ("Coverage", get(coverage::search)),
        ("Coverage/{id}", get(coverage::read)),
        ("CoverageEligibilityRequest", post(eligibility::create)),
        ("Claim", post(claim::create).get(claim::search_claims)),
        ("Claim/{id}", get(claim::read_claim)),
        ("ClaimResponse", get(claim::search_responses)),
        (
            "ClaimResponse/{id}",
            get(claim::read_response).put(claim::review),
        ),
        ("CommunicationRequest", get(communication::search_requests)),
        (
            "CommunicationRequest/{id}",
            get(communication::read_request),
        ),
        ("Communication", post(communication::create)),
        ("Communication/{id}", get(communication::read)),
    ]
}

#[cfg(test)]
mod tests {
    /// The CapabilityStatement lists exactly the resource types the router serves.
    #[test]
    fn the_statement_lists_what_is_routed() {
        let mut routed: Vec<&str> = super::routes()
            .iter()
            .map(|(path, _)| path.split('/').next().unwrap_or(path))
            .filter(|p| p.chars().next().is_some_and(char::is_uppercase))
            .collect();
        routed.dedup();
        let stated: Vec<&str> = crate::capability::SERVED.iter().map(|s| s.kind).collect();
        assert_eq!(routed, stated);
    }
}
