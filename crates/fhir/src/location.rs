//! Location: regions, districts, wards and villages (spec/interop.md §A4). Read by UUID or
//! code; search by `identifier` (either), `name` (part of it), `type` (R, D, W, V), `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Error, Result};
use location::model::{Location as Place, LocationType};
use location::store::LocationFilter;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Location",
    interactions: &["read", "search-type"],
    search: &[
        (
            "identifier",
            "token",
            "the location's UUID or code, as a raw value",
        ),
        ("name", "string", "part of the name"),
        (
            "type",
            "token",
            "R region, D district, W ward or municipality, V village",
        ),
    ],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Location")]
pub struct Location {
    pub id: Uuid,
    pub meta: Meta,
    pub identifier: Vec<Identifier>,
    pub status: &'static str,
    pub name: String,
    pub mode: &'static str,
    #[serde(rename = "physicalType")]
    pub physical_type: CodeableConcept,
    #[serde(rename = "partOf", skip_serializing_if = "Option::is_none")]
    pub part_of: Option<Reference>,
}

fn type_name(kind: LocationType) -> &'static str {
    match kind {
        LocationType::Region => "Region",
        LocationType::District => "District",
        LocationType::Ward => "Municipality",
        LocationType::Village => "Village",
    }
}

pub fn location(l: &Place) -> Location {
    Location {
        id: l.id,
        meta: Meta::updated(l.updated_at),
        identifier: vec![Identifier::uuid(l.id), Identifier::code(&l.code)],
        status: "active",
        name: l.name.clone(),
        mode: "instance",
        physical_type: CodeableConcept::of(
            Coding::new(codes::code_system("location-type"), l.kind.code())
                .display(type_name(l.kind)),
        ),
        part_of: l.parent_id.map(|p| Reference::to("Location", p, None)),
    }
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Location>> {
    let place = location::service::get_location(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(location(&place)))
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Location>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let kind = params
        .get("type")
        .map(|t| {
            LocationType::from_code(&t.to_uppercase())
                .ok_or_else(|| Error::invalid("type", "invalid", "type must be R, D, W or V"))
        })
        .transpose()?;
    let filter = LocationFilter {
        name: params.get("name").map(str::to_string),
        kind,
        updated: params.last_updated(now)?,
        ..LocationFilter::default()
    };
    let url = crate::search::url_of(&headers, "Location");
    let (total, places) = match params.get("identifier") {
        Some(id) => one_or_none(
            location::service::get_location(&state.db, &actor, id).await,
            |p| filter_allows(&filter, p),
        )?,
        None => {
            let found = location::service::list_locations(&state.db, &actor, filter, page).await?;
            (found.total, found.items)
        }
    };
    let items = places
        .iter()
        .map(|p| (p.id.to_string(), location(p)))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}

/// The other filters, for a search that named one location.
fn filter_allows(filter: &LocationFilter, p: &Place) -> bool {
    filter.kind.is_none_or(|k| k == p.kind)
        && filter.updated.iter().all(|r| r.contains(p.updated_at))
        && filter
            .name
            .as_deref()
            .is_none_or(|n| p.name.to_lowercase().contains(&n.trim().to_lowercase()))
}
