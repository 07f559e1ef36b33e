//! Medication: a medical item (drug or consumable) with its scheme price. Read by UUID or code;
//! search by `identifier`, `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Config, Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Result};
use medical::model::{ItemType, MedicalItem};
use medical::store::ItemFilter;
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Medication",
    interactions: &["read", "search-type"],
    search: &[(
        "identifier",
        "token",
        "the item's UUID or code, as a raw value",
    )],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Medication")]
pub struct Medication {
    pub id: Uuid,
    pub meta: Meta,
    pub extension: Vec<Extension>,
    pub identifier: Vec<Identifier>,
    pub code: CodeableConcept,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<CodeableConcept>,
}

pub fn medication(i: &MedicalItem, config: &Config) -> Medication {
    let kind = match i.kind {
        ItemType::Drug => ("D", "Drug"),
        ItemType::Consumable => ("M", "Medical consumable"),
    };
    Medication {
        id: i.id,
        meta: Meta::updated(i.updated_at),
        extension: vec![
            Extension::openimis(
                "unit-price",
                ExtensionValue::Money(Money::of(i.price, &config.currency)),
            ),
            Extension::openimis(
                "medication-type",
                ExtensionValue::CodeableConcept(CodeableConcept::of(
                    Coding::new(codes::code_system("medication-item-type"), kind.0).display(kind.1),
                )),
            ),
        ],
        identifier: vec![Identifier::uuid(i.id), Identifier::code(&i.code)],
        code: CodeableConcept {
            coding: vec![Coding::new(codes::code_system("medical-item"), &i.code).display(&i.name)],
            text: Some(i.name.clone()),
        },
        status: "active",
        form: i
            .package
            .as_ref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| CodeableConcept {
                coding: Vec::new(),
                text: Some(p.clone()),
            }),
    }
}

pub async fn read(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Medication>> {
    let i = medical::service::get_item(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(medication(&i, &config)))
}

pub async fn search(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Medication>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let filter = ItemFilter {
        updated: params.last_updated(now)?,
        ..ItemFilter::default()
    };
    let (total, found) = match params.get("identifier") {
        Some(id) => one_or_none(
            medical::service::get_item(&state.db, &actor, id).await,
            |i| filter.updated.iter().all(|r| r.contains(i.updated_at)),
        )?,
        None => {
            let p = medical::service::list_items(&state.db, &actor, filter, page).await?;
            (p.total, p.items)
        }
    };
    let url = crate::search::url_of(&headers, "Medication");
    let items = found
        .iter()
        .map(|i| (i.id.to_string(), medication(i, &config)))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
