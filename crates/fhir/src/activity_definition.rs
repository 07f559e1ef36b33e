//! ActivityDefinition: a medical service with its scheme price. Read by UUID or code; search by
//! `identifier`, `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Config, Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Result};
use medical::model::MedicalService;
use medical::store::ServiceFilter;
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "ActivityDefinition",
    interactions: &["read", "search-type"],
    search: &[(
        "identifier",
        "token",
        "the service's UUID or code, as a raw value",
    )],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "ActivityDefinition")]
pub struct ActivityDefinition {
    pub id: Uuid,
    pub meta: Meta,
    pub extension: Vec<Extension>,
    pub identifier: Vec<Identifier>,
    pub name: String,
    pub title: String,
    pub status: &'static str,
    pub code: CodeableConcept,
}

pub fn activity_definition(s: &MedicalService, config: &Config) -> ActivityDefinition {
    ActivityDefinition {
        id: s.id,
        meta: Meta::updated(s.updated_at),
        extension: vec![
            Extension::openimis(
                "unit-price",
                ExtensionValue::Money(Money::of(s.price, &config.currency)),
            ),
            Extension::openimis(
                "activity-definition-level",
                ExtensionValue::CodeableConcept(CodeableConcept::of(Coding::new(
                    codes::code_system("activity-definition-level"),
                    s.level.code(),
                ))),
            ),
        ],
        identifier: vec![Identifier::uuid(s.id), Identifier::code(&s.code)],
        // R4 wants a computer-friendly name: the code is one.
        name: s
            .code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>(),
        title: s.name.clone(),
        status: "active",
        code: CodeableConcept {
            coding: vec![
                Coding::new(codes::code_system("medical-service"), &s.code).display(&s.name),
            ],
            text: Some(s.name.clone()),
        },
    }
}

pub async fn read(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<ActivityDefinition>> {
    let s = medical::service::get_service(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(activity_definition(&s, &config)))
}

pub async fn search(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<ActivityDefinition>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let filter = ServiceFilter {
        updated: params.last_updated(now)?,
        ..ServiceFilter::default()
    };
    let (total, found) = match params.get("identifier") {
        Some(id) => one_or_none(
            medical::service::get_service(&state.db, &actor, id).await,
            |s| filter.updated.iter().all(|r| r.contains(s.updated_at)),
        )?,
        None => {
            let p = medical::service::list_services(&state.db, &actor, filter, page).await?;
            (p.total, p.items)
        }
    };
    let url = crate::search::url_of(&headers, "ActivityDefinition");
    let items = found
        .iter()
        .map(|s| (s.id.to_string(), activity_definition(s, &config)))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
