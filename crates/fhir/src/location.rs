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
        (
            "physicalType",
            "token",
            "si: the health facilities, as sites (openIMIS's facilities as Locations)",
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
    #[serde(rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<CodeableConcept>,
    #[serde(rename = "partOf", skip_serializing_if = "Option::is_none")]
    pub part_of: Option<Reference>,
    #[serde(
        rename = "managingOrganization",
        skip_serializing_if = "Option::is_none"
    )]
    pub managing_organization: Option<Reference>,
}

/// A health facility as a Location (openIMIS's `physicalType=si`): a site in its district,
/// typed hospital (HOSP), health centre (COMM) or dispensary (OF), run by the facility's
/// Organization.
pub fn site(f: &location::model::HealthFacility) -> Location {
    use location::model::{FacilityLevel, FacilityStatus};
    let (code, display) = match f.level {
        FacilityLevel::Hospital => ("HOSP", "Hospital"),
        FacilityLevel::HealthCentre => ("COMM", "Community Location"),
        FacilityLevel::Dispensary => ("OF", "Outpatient facility"),
    };
    Location {
        id: f.id,
        meta: Meta::updated(f.updated_at),
        identifier: vec![Identifier::uuid(f.id), Identifier::code(&f.code)],
        status: if f.status == FacilityStatus::Active {
            "active"
        } else {
            "inactive"
        },
        name: f.name.clone(),
        mode: "instance",
        physical_type: CodeableConcept::of(
            Coding::new(
                "http://terminology.hl7.org/CodeSystem/location-physical-type",
                "si",
            )
            .display("Site"),
        ),
        kind: vec![CodeableConcept::of(
            Coding::new("http://terminology.hl7.org/CodeSystem/v3-RoleCode", code).display(display),
        )],
        part_of: Some(Reference::to("Location", f.location_id, None)),
        managing_organization: Some(Reference::to("Organization", f.id, Some(f.code.clone()))),
    }
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
        kind: Vec::new(),
        part_of: l.parent_id.map(|p| Reference::to("Location", p, None)),
        managing_organization: None,
    }
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Location>> {
    let id = id.trim();
    match location::service::get_location(&state.db, &actor, id).await {
        Ok(place) => Ok(Fhir(location(&place))),
        // A facility, read as the site it is.
        Err(Error::NotFound { .. }) if kernel::parse_uuid(id).is_some() => {
            let f = location::service::get_facility(&state.db, &actor, id)
                .await
                .map_err(|_| Error::not_found("location", id))?;
            Ok(Fhir(site(&f)))
        }
        Err(e) => Err(e),
    }
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
    let url = crate::search::url_of(&headers, "Location");
    if let Some(physical) = params.get("physicalType") {
        if physical != "si" {
            return Err(Error::invalid(
                "physicalType",
                "invalid",
                "physicalType si (the health facilities) is the one served",
            ));
        }
        let filter = location::store::FacilityFilter {
            name: params.get("name").map(str::to_string),
            updated: params.last_updated(now)?,
            ..Default::default()
        };
        let (total, found) = match params.get("identifier") {
            Some(id) => one_or_none(
                location::service::get_facility(&state.db, &actor, id).await,
                |f| filter.updated.iter().all(|r| r.contains(f.updated_at)),
            )?,
            None => {
                let p = location::service::list_facilities(&state.db, &actor, filter, page).await?;
                (p.total, p.items)
            }
        };
        let items = found.iter().map(|f| (f.id.to_string(), site(f))).collect();
        return Ok(Fhir(bundle(&url, &params, page, total, items, now)));
    }
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
