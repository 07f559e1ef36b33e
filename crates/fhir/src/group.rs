//! Group: a family (spec/interop.md §A4): `type` person, its current members, its head's
//! insurance number as its `Code`. Read by UUID or the head's insurance number; search by
//! `identifier`, `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Error, Result};
use registry::model::{FamilyDetail, FamilyView};
use registry::store::FamilyFilter;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Group",
    interactions: &["read", "search-type"],
    search: &[(
        "identifier",
        "token",
        "the family's UUID or its head's insurance number, as a raw value",
    )],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Group")]
pub struct Group {
    pub id: Uuid,
    pub meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub identifier: Vec<Identifier>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub actual: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub member: Vec<Member>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub entity: Reference,
}

/// A family's Group, with its current members.
pub fn group(f: &FamilyView, members: &[registry::model::Insuree]) -> Group {
    let mut identifier = vec![Identifier::uuid(f.family.id)];
    if let Some(chfid) = &f.head_chfid {
        identifier.push(Identifier::code(chfid));
    }
    let mut extension = Vec::new();
    if let Some(poverty) = f.family.poverty {
        extension.push(Extension::openimis(
            "group-poverty-status",
            ExtensionValue::Boolean(poverty),
        ));
    }
    if let Some(kind) = f.family.family_type {
        extension.push(Extension::openimis(
            "group-type",
            ExtensionValue::CodeableConcept(CodeableConcept::of(Coding::new(
                codes::code_system("group-type"),
                kind.code(),
            ))),
        ));
    }
    Group {
        id: f.family.id,
        meta: Meta::updated(f.family.updated_at),
        extension,
        identifier,
        kind: "person",
        actual: true,
        name: f.head_last_name.clone(),
        quantity: Some(members.len()),
        member: members
            .iter()
            .map(|i| Member {
                entity: Reference::to("Patient", i.id, Some(i.chfid.clone())),
            })
            .collect(),
    }
}

fn detail(d: &FamilyDetail) -> Group {
    group(&d.family, &d.members)
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Group>> {
    Ok(Fhir(detail(&family(&state, &actor, id.trim()).await?)))
}

/// A family by UUID or by its head's insurance number.
pub(crate) async fn family(state: &AppState, actor: &Actor, id: &str) -> Result<FamilyDetail> {
    if Uuid::parse_str(id).is_ok() {
        return registry::service::get_family(&state.db, actor, id).await;
    }
    let filter = FamilyFilter {
        head_chfid: Some(id.to_string()),
        ..FamilyFilter::default()
    };
    let found = registry::service::list_families(
        &state.db,
        actor,
        filter,
        kernel::PageParams::new(None, Some(1)),
    )
    .await?;
    let first = found
        .items
        .first()
        .ok_or_else(|| Error::not_found("family", id))?;
    registry::service::get_family(&state.db, actor, &first.family.id.to_string()).await
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Group>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let filter = FamilyFilter {
        updated: params.last_updated(now)?,
        ..FamilyFilter::default()
    };
    let url = crate::search::url_of(&headers, "Group");
    let groups: (i64, Vec<Group>) = match params.get("identifier") {
        Some(id) => {
            let (total, found) = one_or_none(family(&state, &actor, id).await, |d| {
                filter
                    .updated
                    .iter()
                    .all(|r| r.contains(d.family.family.updated_at))
            })?;
            (total, found.iter().map(detail).collect())
        }
        None => {
            let found = registry::service::list_families(&state.db, &actor, filter, page).await?;
            let mut groups = Vec::with_capacity(found.items.len());
            for f in &found.items {
                let id = f.family.id.to_string();
                groups.push(detail(
                    &registry::service::get_family(&state.db, &actor, &id).await?,
                ));
            }
            (found.total, groups)
        }
    };
    let items = groups
        .1
        .into_iter()
        .map(|g| (g.id.to_string(), g))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, groups.0, items, now)))
}
