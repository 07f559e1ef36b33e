//! Patient: an insuree (spec/interop.md §A4). Read by UUID or insurance number (CHF ID: a
//! number always means the insuree's current record); search by `identifier` (either),
//! `_lastUpdated`, `refDate` (changed since that day), `_count`, `page-offset`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Result};
use registry::model::{Gender, Insuree, InsureeStatus, Marital};
use registry::store::InsureeFilter;
use serde::Serialize;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Patient",
    interactions: &["read", "search-type"],
    search: &[
        (
            "identifier",
            "token",
            "the insuree's UUID or insurance number (CHF ID), as a raw value",
        ),
        (
            "refDate",
            "date",
            "changed on or after this day (YYYY-MM-DD)",
        ),
        (
            "claimDateFrom",
            "date",
            "has a claim claimed on or after this day (YYYY-MM-DD)",
        ),
    ],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Patient")]
pub struct Patient {
    pub id: Uuid,
    pub meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub identifier: Vec<Identifier>,
    pub active: bool,
    pub name: Vec<HumanName>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    pub gender: &'static str,
    #[serde(rename = "birthDate")]
    pub birth_date: String,
    #[serde(rename = "deceasedBoolean", skip_serializing_if = "Option::is_none")]
    pub deceased: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<Address>,
    #[serde(rename = "maritalStatus", skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<CodeableConcept>,
}

/// The Patient of an insuree whose family lives in `family_village`.
pub fn patient(i: &Insuree, family_village: Option<Uuid>) -> Patient {
    let mut identifier = vec![Identifier::uuid(i.id), Identifier::code(&i.chfid)];
    if let Some(passport) = i.passport.as_deref().filter(|p| !p.trim().is_empty()) {
        identifier.push(Identifier {
            kind: Some(CodeableConcept::of(Coding::new(
                codes::IDENTIFIER_TYPE_V2,
                "PPN",
            ))),
            value: passport.to_string(),
        });
    }
    let telecom = ContactPoint::of("home", &[("phone", &i.phone), ("email", &i.email)]);
    // Where the insuree lives now, else the family's village (openIMIS: temp, else home).
    let address = match (i.current_village_id, family_village) {
        (Some(village), _) => Some((village, "temp")),
        (None, Some(village)) => Some((village, "home")),
        (None, None) => None,
    }
    .map(|(village, usage)| Address {
        extension: vec![Extension::openimis(
            "address-location-reference",
            ExtensionValue::Reference(Reference::to("Location", village, None)),
        )],
        usage: Some(usage),
        kind: Some("physical"),
        text: i.current_address.clone().filter(|a| !a.trim().is_empty()),
    })
    .into_iter()
    .collect();
    let marital_status = i.marital.map(|m| {
        let coding = match m {
            Marital::Married => Coding::new(codes::MARITAL_STATUS, "M").display("Married"),
            Marital::Single => Coding::new(codes::MARITAL_STATUS, "S").display("Never Married"),
            Marital::Divorced => Coding::new(codes::MARITAL_STATUS, "D").display("Divorced"),
            Marital::Widowed => Coding::new(codes::MARITAL_STATUS, "W").display("Widowed"),
            Marital::NotSpecified => Coding::new(codes::NULL_FLAVOR, "UNK").display("unknown"),
        };
        CodeableConcept::of(coding)
    });
    Patient {
        id: i.id,
        meta: Meta::versioned(i.version, i.updated_at),
        extension: vec![
            Extension::openimis("patient-is-head", ExtensionValue::Boolean(i.head)),
            Extension::openimis(
                "patient-card-issued",
                ExtensionValue::Boolean(i.card_issued),
            ),
        ],
        identifier,
        active: i.status == InsureeStatus::Active,
        name: vec![HumanName {
            usage: "usual",
            family: i.last_name.clone(),
            given: vec![i.other_names.clone()]
                .into_iter()
                .filter(|g| !g.trim().is_empty())
                .collect(),
        }],
        telecom,
        gender: match i.gender {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
        },
        birth_date: i.dob.to_string(),
        deceased: (i.status == InsureeStatus::Dead).then_some(true),
        address,
        marital_status,
    }
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Patient>> {
    let id = id.trim();
    let (insuree, village) =
        match registry::service::get_insuree_and_village(&state.db, &actor, id).await {
            Ok(found) => found,
            Err(e) => return Err(crate::gone_if_deleted(&state, &actor, "insurees", id, e).await),
        };
    Ok(Fhir(patient(&insuree, village)))
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Patient>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let mut filter = InsureeFilter {
        updated: params.last_updated(now)?,
        ..InsureeFilter::default()
    };
    if let Some(day) = params.get("refDate") {
        let range = crate::search::last_updated(&format!("ge{day}"), now)
            .map_err(|m| kernel::Error::invalid("refDate", "invalid", m))?;
        filter.updated.push(range);
    }
    if let Some(day) = params.get("claimDateFrom") {
        filter.claimed_since = Some(crate::input::day_of(day).ok_or_else(|| {
            kernel::Error::invalid(
                "claimDateFrom",
                "invalid",
                format!("{day} is not a date (YYYY-MM-DD)"),
            )
        })?);
    }
    let url = crate::search::url_of(&headers, "Patient");
    let (total, insurees) = match params.get("identifier") {
        // A UUID names one insuree: the search is a read.
        Some(id) if Uuid::parse_str(id).is_ok() => {
            let found = registry::service::get_insuree_and_village(&state.db, &actor, id)
                .await
                .map(|(i, _)| i);
            one_or_none(found, |i| {
                filter.updated.iter().all(|r| r.contains(i.updated_at))
            })?
        }
        chfid => {
            filter.chfid = chfid.map(str::to_string);
            let found = registry::service::list_insurees(&state.db, &actor, filter, page).await?;
            (found.total, found.items)
        }
    };
    let families: Vec<Uuid> = insurees.iter().filter_map(|i| i.family_id).collect();
    let villages: HashMap<Uuid, Uuid> =
        registry::service::family_summaries(&state.db, &actor, &families)
            .await?
            .into_iter()
            .map(|(family, s)| (family, s.village))
            .collect();
    let items = insurees
        .iter()
        .map(|i| {
            let village = i.family_id.and_then(|f| villages.get(&f).copied());
            (i.id.to_string(), patient(i, village))
        })
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
