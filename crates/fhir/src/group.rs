//! Group: a family (spec/interop.md §A4): `type` person, its current members, its head's
//! insurance number as its `Code`. Read by UUID or the head's insurance number; search by
//! `identifier`, `_lastUpdated`; create from insurees already registered (openIMIS's
//! `GroupConverter`: the head is the member whose insurance number is the `Code` identifier).

use crate::capability::Served;
use crate::datatypes::*;
use crate::input::{bad, extension, reference_id, resource, text};
use crate::search::{Params, bundle, one_or_none};
use crate::{Fhir, codes};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kernel::{Actor, AppState, Error, Result};
use registry::model::{ConfirmationType, FamilyDetail, FamilyInput, FamilyType, FamilyView};
use registry::service::PolicyHooks;
use registry::store::FamilyFilter;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Group",
    interactions: &["read", "search-type", "create"],
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

/// What a posted Group says, in the registry's words.
pub(crate) struct Posted {
    head: String,
    members: Vec<String>,
    /// The village named by `group-address`'s location reference.
    village: Option<String>,
    input: FamilyInput,
}

pub(crate) fn posted(body: &Value) -> Result<Posted> {
    let head = body
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| text(i, "/type/coding/0/code").is_some_and(codes::is_code_type))
        .and_then(|i| text(i, "/value"))
        .ok_or_else(|| {
            bad(
                "Group.identifier",
                "the head's insurance number is required (an identifier of type Code)",
            )
        })?
        .to_string();
    let mut members = Vec::new();
    for (i, m) in body
        .get("member")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let named = m.get("entity").and_then(reference_id).ok_or_else(|| {
            bad(
                &format!("Group.member[{i}].entity"),
                "a member is a reference to a Patient (Patient/<UUID or insurance number>)",
            )
        })?;
        members.push(named.to_string());
    }
    let address = extension(body, "group-address").and_then(|e| e.get("valueAddress"));
    let village = address
        .and_then(|a| extension(a, "address-location-reference"))
        .and_then(|e| e.get("valueReference"))
        .and_then(reference_id)
        .map(str::to_string);
    let poverty = match extension(body, "group-poverty-status") {
        None => None,
        Some(e) => Some(
            e.get("valueBoolean")
                .and_then(Value::as_bool)
                .ok_or_else(|| bad("Group.extension", "group-poverty-status is a valueBoolean"))?,
        ),
    };
    let family_type = match extension(body, "group-type")
        .and_then(|e| text(e, "/valueCodeableConcept/coding/0/code"))
    {
        None => None,
        Some(code) => Some(FamilyType::from_code(code).ok_or_else(|| {
            bad(
                "Group.extension",
                format!("{code} is not a family type (group-type)"),
            )
        })?),
    };
    let confirmation = extension(body, "group-confirmation");
    let part = |name: &str| {
        confirmation
            .and_then(|c| c.get("extension"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(name))
    };
    let confirmation_no = part("number")
        .and_then(|e| text(e, "/valueString"))
        .map(str::to_string);
    let confirmation_type =
        match part("type").and_then(|e| text(e, "/valueCodeableConcept/coding/0/code")) {
            None => None,
            Some(code) => Some(ConfirmationType::from_code(code).ok_or_else(|| {
                bad(
                    "Group.extension",
                    format!("{code} is not a confirmation type (group-confirmation)"),
                )
            })?),
        };
    Ok(Posted {
        head,
        members,
        village,
        input: FamilyInput {
            location_id: Uuid::nil(),
            poverty,
            family_type,
            address: address.and_then(|a| text(a, "/text")).map(str::to_string),
            ethnicity: None,
            confirmation_no,
            confirmation_type,
            is_offline: false,
            head: None,
            version: None,
        },
    })
}

/// The registry's field names as the Group's elements.
fn as_elements(error: Error) -> Error {
    let Error::Invalid(fields) = error else {
        return error;
    };
    let element = |field: &str| {
        if let Some(i) = field
            .strip_prefix("members[")
            .and_then(|r| r.strip_suffix(']'))
        {
            return format!("Group.member[{i}].entity");
        }
        match field {
            "head" => "Group.identifier",
            "location_id" => "Group.extension",
            _ => "Group",
        }
        .to_string()
    };
    Error::Invalid(
        fields
            .into_iter()
            .map(|f| kernel::FieldError {
                field: element(&f.field),
                ..f
            })
            .collect(),
    )
}

/// `POST Group`: a family gathered from registered insurees, the head named by the `Code`
/// identifier and the members by `member[].entity`, moved into it in one transaction. 201 with
/// the new Group; when the head already heads a family, 200 with that family's Group and the
/// members moved into it (FHIR's answer to a conditional create that matched).
pub async fn create(
    State(state): State<AppState>,
    axum::Extension(hooks): axum::Extension<PolicyHooks>,
    actor: Actor,
    body: Bytes,
) -> Result<Response> {
    let body = resource(&body, "Group")?;
    let Posted {
        head,
        members,
        village,
        mut input,
    } = posted(&body)?;
    // The family lives where the Group's address says, else where the head lives now.
    input.location_id = match &village {
        Some(named) => match location::service::get_location(&state.db, &actor, named).await {
            Ok(l) => l.id,
            Err(Error::NotFound { .. }) => {
                return Err(bad("Group.extension", format!("{named} is not a village")));
            }
            Err(e) => return Err(e),
        },
        None => match registry::service::get_insuree_and_village(&state.db, &actor, &head).await {
            Ok((_, Some(v))) => v,
            Ok((_, None)) | Err(Error::NotFound { .. }) => Uuid::nil(),
            Err(e) => return Err(e),
        },
    };
    let (family, created) =
        registry::service::gather_family(&state.db, &actor, hooks, input, &head, &members)
            .await
            .map_err(as_elements)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Fhir(detail(&family))).into_response())
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
