//! `GET metadata`: the CapabilityStatement (openIMIS serves none). Made from [`SERVED`], the
//! same list the router is built from, so it states exactly what is served.

use crate::Fhir;
use serde_json::{Value, json};

/// A resource type this API serves: its interactions and search parameters.
pub struct Served {
    pub kind: &'static str,
    pub interactions: &'static [&'static str],
    /// (name, FHIR search parameter type, what it matches)
    pub search: &'static [(&'static str, &'static str, &'static str)],
}

/// The parameters every search takes.
pub const COMMON_SEARCH: &[(&str, &str, &str)] = &[
    (
        "_lastUpdated",
        "date",
        "when the record last changed, with the prefixes eq, ne, gt, lt, ge, le, sa, eb, ap",
    ),
    (
        "_count",
        "number",
        "entries per page (default 10, at most 100)",
    ),
    ("page-offset", "number", "the page, from 1"),
];

pub const SERVED: &[Served] = &[
    crate::patient::SERVED,
    crate::location::SERVED,
    crate::organization::SERVED,
    crate::practitioner::SERVED,
    crate::practitioner_role::SERVED,
    crate::medication::SERVED,
    crate::activity_definition::SERVED,
    crate::group::SERVED,
    crate::insurance_plan::SERVED,
    crate::coverage::SERVED,
    crate::eligibility::SERVED,
    crate::claim::SERVED_CLAIM,
    crate::claim::SERVED_RESPONSE,
    crate::communication::SERVED_REQUEST,
    crate::communication::SERVED_COMMUNICATION,
];

pub async fn metadata() -> Fhir<Value> {
    Fhir(statement())
}

pub fn statement() -> Value {
    let resources: Vec<Value> = SERVED
        .iter()
        .map(|r| {
            let params: Vec<Value> = r
                .search
                .iter()
                .chain(COMMON_SEARCH)
                .map(|(name, kind, doc)| json!({"name": name, "type": kind, "documentation": doc}))
                .collect();
            json!({
                "type": r.kind,
                "interaction": r.interactions.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
                "searchParam": params,
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-04",
        "publisher": "Bima",
        "kind": "instance",
        "software": {"name": "Bima", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "Bima's FHIR R4 API, compatible with openIMIS's FHIR module"},
        // R4. The official R4 JSON schema's list of versions ends at 4.0.0 (4.0.1, a technical
        // correction, came after it), so the version validators accept is stated.
        "fhirVersion": "4.0.0",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "Log in with POST login/ ({\"username\", \"password\"} → {\"token\", \"exp\"}) and send \"Authorization: Bearer <token>\". Every path answers with or without a trailing slash.",
            "security": {"description": "A Bearer JWT from POST login/; each read checks the user's rights and districts."},
            "resource": resources,
        }],
    })
}
