//! Practitioner: a claim administrator (qualification CA) or an enrolment officer (EO), the
//! accounts openIMIS keeps in tblClaimAdmin and tblOfficer. Read by UUID or code (the
//! username); search by `identifier`, `resourceType=ca|eo`, `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use identity::model::{User, UserKind};
use identity::store::UserFilter;
use kernel::{Actor, AppState, Error, Result};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Practitioner",
    interactions: &["read", "search-type"],
    search: ACCOUNT_SEARCH,
};

/// What searches of accounts take ([`found_users`]), as Practitioner and PractitionerRole.
pub(crate) const ACCOUNT_SEARCH: &[(&str, &str, &str)] = &[
    (
        "identifier",
        "token",
        "the account's UUID or code (username), as a raw value",
    ),
    ("code", "token", "the account's code (as identifier)"),
    (
        "resourceType",
        "token",
        "ca (claim administrators) or eo (enrolment officers)",
    ),
];

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Practitioner")]
pub struct Practitioner {
    pub id: Uuid,
    pub meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub identifier: Vec<Identifier>,
    pub active: bool,
    pub name: Vec<HumanName>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub qualification: Vec<Qualification>,
}

#[derive(Debug, Serialize)]
pub struct Qualification {
    pub code: CodeableConcept,
}

/// What a claim administrator (CA) or an enrolment officer (EO) is; nothing for other accounts.
pub(crate) fn qualification(kind: UserKind) -> Option<CodeableConcept> {
    let (code, display) = match kind {
        UserKind::ClaimAdministrator => ("CA", "Claim Administrator"),
        UserKind::EnrolmentOfficer => ("EO", "Enrolment Officer"),
        UserKind::Interactive => return None,
    };
    Some(CodeableConcept::of(
        Coding::new(codes::code_system("practitioner-qualification-type"), code).display(display),
    ))
}

pub fn practitioner(u: &User) -> Practitioner {
    let qualification = qualification(u.kind)
        .map(|code| Qualification { code })
        .into_iter()
        .collect();
    let telecom = ContactPoint::of("work", &[("phone", &u.phone), ("email", &u.email)]);
    Practitioner {
        id: u.id,
        meta: Meta::updated(u.updated_at),
        // A claim administrator works at one facility (openIMIS's `reference` extension).
        extension: u
            .health_facility_id
            .map(|hf| {
                Extension::openimis(
                    "reference",
                    ExtensionValue::Reference(Reference::to("Organization", hf, None)),
                )
            })
            .into_iter()
            .collect(),
        identifier: vec![Identifier::uuid(u.id), Identifier::code(&u.username)],
        active: u.active,
        name: vec![HumanName {
            usage: "usual",
            family: u.last_name.clone(),
            given: vec![u.other_names.clone()]
                .into_iter()
                .filter(|g| !g.trim().is_empty())
                .collect(),
        }],
        telecom,
        qualification,
    }
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Practitioner>> {
    let u = identity::service::get_user(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(practitioner(&u)))
}

/// The accounts a search asks for: `identifier`, `resourceType=ca|eo`, `_lastUpdated`.
pub(crate) async fn found_users(
    state: &AppState,
    actor: &Actor,
    params: &Params,
    page: kernel::PageParams,
    now: OffsetDateTime,
) -> Result<(i64, Vec<User>)> {
    let kind = match params.get("resourceType").map(str::to_lowercase).as_deref() {
        Some("ca") => Some(UserKind::ClaimAdministrator),
        Some("eo") => Some(UserKind::EnrolmentOfficer),
        None => None,
        Some(_) => {
            return Err(Error::invalid(
                "resourceType",
                "invalid",
                "resourceType must be ca or eo",
            ));
        }
    };
    let filter = UserFilter {
        kind,
        updated: params.last_updated(now)?,
        ..UserFilter::default()
    };
    match params.named() {
        Some(id) => one_or_none(
            identity::service::get_user(&state.db, actor, id).await,
            |u| {
                kind.is_none_or(|k| k == u.kind)
                    && filter.updated.iter().all(|r| r.contains(u.updated_at))
            },
        ),
        None => {
            let p = identity::service::list_users(&state.db, actor, filter, page).await?;
            Ok((p.total, p.items))
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Practitioner>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let (total, users) = found_users(&state, &actor, &params, page, now).await?;
    let url = crate::search::url_of(&headers, "Practitioner");
    let items = users
        .iter()
        .map(|u| (u.id.to_string(), practitioner(u)))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
