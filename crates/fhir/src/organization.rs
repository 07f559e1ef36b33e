//! Organization: a health facility (`type` prov) or the insurer (`type` ins, id
//! `openIMIS-Implementation` as openIMIS's clients know it). Read by UUID or code; search by
//! `identifier`, `name` (part of it), `type`, `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Config, Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Error, Result};
use location::model::{FacilityStatus, HealthFacility};
use location::store::FacilityFilter;
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// The insurer's id, the one openIMIS gives it.
pub const INSURER: &str = "openIMIS-Implementation";

const ORGANIZATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/organization-type";

pub const SERVED: Served = Served {
    kind: "Organization",
    interactions: &["read", "search-type"],
    search: &[
        (
            "identifier",
            "token",
            "the facility's UUID or code, as a raw value",
        ),
        ("code", "token", "the facility's code (as identifier)"),
        ("name", "string", "part of the name"),
        (
            "type",
            "token",
            "prov (health facilities, the default) or ins (the insurer)",
        ),
    ],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Organization")]
pub struct Organization {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    pub active: bool,
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<Address>,
}

fn coded(name: &str, code: &str) -> ExtensionValue {
    ExtensionValue::CodeableConcept(CodeableConcept::of(Coding::new(
        codes::code_system(name),
        code,
    )))
}

pub fn facility(f: &HealthFacility) -> Organization {
    let telecom = ContactPoint::of(
        "work",
        &[("phone", &f.phone), ("fax", &f.fax), ("email", &f.email)],
    );
    Organization {
        id: f.id.to_string(),
        meta: Some(Meta::updated(f.updated_at)),
        extension: vec![
            Extension::openimis(
                "organization-legal-form",
                coded("organization-legal-form", f.legal_form.code()),
            ),
            Extension::openimis(
                "organization-hf-level",
                coded("organization-hf-level", f.level.code()),
            ),
            Extension::openimis(
                "organization-hf-care-type",
                coded("organization-hf-care-type", f.care_type.code()),
            ),
        ],
        identifier: vec![Identifier::uuid(f.id), Identifier::code(&f.code)],
        active: f.status == FacilityStatus::Active,
        kind: vec![CodeableConcept::of(
            Coding::new(ORGANIZATION_TYPE, "prov").display("Healthcare Provider"),
        )],
        name: f.name.clone(),
        telecom,
        address: vec![Address {
            extension: vec![Extension::openimis(
                "address-location-reference",
                ExtensionValue::Reference(Reference::to("Location", f.location_id, None)),
            )],
            usage: Some("work"),
            kind: Some("physical"),
            text: f.address.clone().filter(|a| !a.trim().is_empty()),
        }],
    }
}

pub fn insurer(config: &Config) -> Organization {
    Organization {
        id: INSURER.to_string(),
        meta: None,
        extension: Vec::new(),
        identifier: vec![Identifier::code(INSURER)],
        active: true,
        kind: vec![CodeableConcept::of(
            Coding::new(ORGANIZATION_TYPE, "ins").display("Insurance Company"),
        )],
        name: config.insurer_name.clone(),
        telecom: Vec::new(),
        address: Vec::new(),
    }
}

pub async fn read(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Organization>> {
    if id.trim() == INSURER {
        return Ok(Fhir(insurer(&config)));
    }
    let f = location::service::get_facility(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(facility(&f)))
}

pub async fn search(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Organization>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let url = crate::search::url_of(&headers, "Organization");
    let filter = FacilityFilter {
        name: params.get("name").map(str::to_string),
        updated: params.last_updated(now)?,
        ..FacilityFilter::default()
    };
    let (total, orgs): (i64, Vec<Organization>) = match params.get("type") {
        Some("ins") => (1, vec![insurer(&config)]),
        Some("prov") | None => {
            let (total, found) = match params.named() {
                Some(id) => one_or_none(
                    location::service::get_facility(&state.db, &actor, id).await,
                    |f| filter.updated.iter().all(|r| r.contains(f.updated_at)),
                )?,
                None => {
                    let p =
                        location::service::list_facilities(&state.db, &actor, filter, page).await?;
                    (p.total, p.items)
                }
            };
            (total, found.iter().map(facility).collect())
        }
        Some(_) => {
            return Err(Error::invalid(
                "type",
                "invalid",
                "type must be prov or ins",
            ));
        }
    };
    let items = orgs.into_iter().map(|o| (o.id.clone(), o)).collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
