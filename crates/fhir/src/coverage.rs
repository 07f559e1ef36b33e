//! Coverage: a policy (spec/interop.md §A4): its family's head as beneficiary and payor, the
//! product as its plan, its period and status. Read by UUID; search by `patient` (an insuree's
//! UUID or insurance number: the policies that cover them), `_lastUpdated`.

use crate::Fhir;
use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Result};
use policy::model::{Policy, PolicyStatus};
use policy::store::PolicyFilter;
use serde::Serialize;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "Coverage",
    interactions: &["read", "search-type"],
    search: &[
        ("identifier", "token", "the policy's UUID"),
        (
            "patient",
            "reference",
            "an insuree's UUID or insurance number: the policies covering them",
        ),
        (
            "refDate",
            "date",
            "changed on or after this day (YYYY-MM-DD)",
        ),
        (
            "refEndDate",
            "date",
            "changed on or before this day (YYYY-MM-DD)",
        ),
    ],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Coverage")]
pub struct Coverage {
    pub id: Uuid,
    pub meta: Meta,
    pub identifier: Vec<Identifier>,
    pub status: &'static str,
    #[serde(rename = "policyHolder", skip_serializing_if = "Option::is_none")]
    pub policy_holder: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Reference>,
    pub payor: Vec<Value>,
    pub period: Period,
    pub class: Vec<CoverageClass>,
}

type Value = serde_json::Value;

#[derive(Debug, Serialize)]
pub struct Period {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Serialize)]
pub struct CoverageClass {
    #[serde(rename = "type")]
    pub kind: CodeableConcept,
    pub value: String,
    pub name: String,
}

/// What a Coverage says beside the policy: its product (code, name) and its family's head.
pub struct Around {
    pub product: Option<(String, String)>,
    pub head: Option<Uuid>,
}

pub fn coverage(p: &Policy, around: &Around) -> Coverage {
    let head = around.head.map(|h| Reference::to("Patient", h, None));
    let (code, name) = around
        .product
        .clone()
        .unwrap_or_else(|| (p.product_id.to_string(), String::new()));
    Coverage {
        id: p.id,
        meta: Meta::updated(p.updated_at),
        identifier: vec![Identifier::uuid(p.id)],
        status: match p.status {
            PolicyStatus::Idle | PolicyStatus::Ready => "draft",
            PolicyStatus::Suspended => "cancelled",
            // Expired: still a true record of cover; its period says until when.
            PolicyStatus::Active | PolicyStatus::Expired => "active",
        },
        policy_holder: head.clone(),
        beneficiary: head.clone(),
        payor: vec![match head {
            Some(h) => serde_json::to_value(h).unwrap_or_default(),
            None => serde_json::json!({"display": "the insured family"}),
        }],
        period: Period {
            start: p.effective_date.unwrap_or(p.start_date).to_string(),
            end: p.expiry_date.to_string(),
        },
        class: vec![CoverageClass {
            kind: CodeableConcept::of(Coding::new(
                "http://terminology.hl7.org/CodeSystem/coverage-class",
                "plan",
            )),
            value: code,
            name,
        }],
    }
}

/// Products and family heads of these policies, each read once.
pub async fn around(state: &AppState, actor: &Actor, policies: &[Policy]) -> Result<Vec<Around>> {
    let mut products: HashMap<Uuid, Option<(String, String)>> = HashMap::new();
    for p in policies {
        if let std::collections::hash_map::Entry::Vacant(slot) = products.entry(p.product_id) {
            let id = p.product_id.to_string();
            let found = product::service::get_product(&state.db, actor, &id)
                .await
                .ok()
                .map(|pr| (pr.terms.code, pr.terms.name));
            slot.insert(found);
        }
    }
    let families: Vec<Uuid> = policies.iter().map(|p| p.family_id).collect();
    let heads = registry::service::family_summaries(&state.db, actor, &families).await?;
    Ok(policies
        .iter()
        .map(|p| Around {
            product: products.get(&p.product_id).cloned().flatten(),
            head: heads.get(&p.family_id).and_then(|s| s.head),
        })
        .collect())
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Coverage>> {
    let id = id.trim();
    let p = match policy::service::get_policy(&state.db, &actor, id).await {
        Ok(d) => d.policy,
        Err(e) => return Err(crate::gone_if_deleted(&state, &actor, "policies", id, e).await),
    };
    let around = around(&state, &actor, std::slice::from_ref(&p)).await?;
    Ok(Fhir(coverage(&p, &around[0])))
}

pub async fn search(
    State(state): State<AppState>,
    axum::Extension(hooks): axum::Extension<registry::service::PolicyHooks>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Coverage>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let mut filter = PolicyFilter {
        updated: params.last_updated(now)?,
        ..PolicyFilter::default()
    };
    // openIMIS's window on when the policy's current version began.
    for (name, prefix) in [("refDate", "ge"), ("refEndDate", "le")] {
        if let Some(day) = params.get(name) {
            let range = crate::search::last_updated(&format!("{prefix}{day}"), now)
                .map_err(|m| kernel::Error::invalid(name, "invalid", m))?;
            filter.updated.push(range);
        }
    }
    let url = crate::search::url_of(&headers, "Coverage");
    if let Some(patient) = params.get("patient") {
        let patient = patient.rsplit('/').next().unwrap_or(patient);
        match registry::service::get_insuree(&state.db, &actor, hooks, patient).await {
            Ok(insuree) => filter.insuree_id = Some(insuree.insuree.id),
            // Nobody the caller may see: no policies.
            Err(kernel::Error::NotFound { .. }) => {
                return Ok(Fhir(bundle(&url, &params, page, 0, Vec::new(), now)));
            }
            Err(e) => return Err(e),
        }
    }
    let (total, policies) = match params.get("identifier") {
        Some(id) => one_or_none(
            policy::service::get_policy(&state.db, &actor, id)
                .await
                .map(|d| d.policy),
            |p| filter.updated.iter().all(|r| r.contains(p.updated_at)),
        )?,
        None => {
            let found = policy::service::list_policies(&state.db, &actor, filter, page).await?;
            (found.total, found.items)
        }
    };
    let arounds = around(&state, &actor, &policies).await?;
    let items = policies
        .iter()
        .zip(&arounds)
        .map(|(p, a)| (p.id.to_string(), coverage(p, a)))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
