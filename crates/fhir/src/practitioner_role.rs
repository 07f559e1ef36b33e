//! PractitionerRole: what a claim administrator (CA) or enrolment officer (EO) does and where:
//! the facility a claim administrator works for, the districts an officer serves. Same ids and
//! searches as Practitioner (`identifier`, `resourceType=ca|eo`, `_lastUpdated`).

use crate::Fhir;
use crate::capability::Served;
use crate::datatypes::*;
use crate::practitioner::{found_users, qualification};
use crate::search::{Params, bundle};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use identity::model::User;
use kernel::{Actor, AppState, Result};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "PractitionerRole",
    interactions: &["read", "search-type"],
    search: crate::practitioner::ACCOUNT_SEARCH,
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "PractitionerRole")]
pub struct PractitionerRole {
    pub id: Uuid,
    pub meta: Meta,
    pub identifier: Vec<Identifier>,
    pub active: bool,
    pub practitioner: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<Reference>,
}

pub fn role(u: &User) -> PractitionerRole {
    let code = qualification(u.kind).into_iter().collect();
    PractitionerRole {
        id: u.id,
        meta: Meta::updated(u.updated_at),
        identifier: vec![Identifier::uuid(u.id), Identifier::code(&u.username)],
        active: u.active,
        practitioner: Reference::to("Practitioner", u.id, Some(u.username.clone())),
        organization: u
            .health_facility_id
            .map(|hf| Reference::to("Organization", hf, None)),
        code,
        location: u
            .district_ids
            .iter()
            .map(|d| Reference::to("Location", *d, None))
            .collect(),
    }
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<PractitionerRole>> {
    let u = identity::service::get_user(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(role(&u)))
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<PractitionerRole>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let (total, users) = found_users(&state, &actor, &params, page, now).await?;
    let url = crate::search::url_of(&headers, "PractitionerRole");
    let items = users.iter().map(|u| (u.id.to_string(), role(u))).collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
