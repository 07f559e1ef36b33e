//! InsurancePlan: a product (spec/interop.md §A4): its code, name, period, cover limits and
//! what a policy of it costs. Read by UUID or code; search by `identifier`, `_lastUpdated`.

use crate::capability::Served;
use crate::datatypes::*;
use crate::search::{Params, bundle, one_or_none};
use crate::{Config, Fhir, codes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kernel::{Actor, AppState, Result};
use product::model::Product;
use product::store::ProductFilter;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SERVED: Served = Served {
    kind: "InsurancePlan",
    interactions: &["read", "search-type"],
    search: &[(
        "identifier",
        "token",
        "the product's UUID or code, as a raw value",
    )],
};

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "InsurancePlan")]
pub struct InsurancePlan {
    pub id: Uuid,
    pub meta: Meta,
    pub identifier: Vec<Identifier>,
    pub status: &'static str,
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub name: String,
    pub period: Value,
    #[serde(rename = "coverageArea", skip_serializing_if = "Vec::is_empty")]
    pub coverage_area: Vec<Reference>,
    pub coverage: Vec<Value>,
    pub plan: Vec<Value>,
}

pub fn insurance_plan(p: &Product, config: &Config, today: time::Date) -> InsurancePlan {
    let t = &p.terms;
    let status = if today > t.date_to {
        "retired"
    } else if today < t.date_from {
        "draft"
    } else {
        "active"
    };
    let cost = |code: &str, amount: Option<i64>| {
        amount.filter(|a| *a > 0).map(|a| {
            json!({
                "type": {"coding": [{"system": codes::code_system("insurance-plan-general-cost-type"), "code": code}]},
                "cost": Money::of(a, &config.currency),
            })
        })
    };
    let general_cost: Vec<Value> = [
        cost("lumpsum", Some(t.premium.lump_sum)),
        cost("premiumAdult", t.premium.adult),
        cost("premiumChild", t.premium.child),
        cost("registrationLumpsum", t.premium.registration_lump_sum),
        cost("registrationFee", t.premium.registration_fee),
        cost(
            "generalAssemblyLumpSum",
            t.premium.general_assembly_lump_sum,
        ),
        cost("generalAssemblyFee", t.premium.general_assembly_fee),
    ]
    .into_iter()
    .flatten()
    .collect();
    let limit = |code: &str, value: i64, unit: Option<&str>| {
        let mut quantity = json!({"value": value});
        if let Some(unit) = unit {
            quantity["unit"] = json!(unit);
        }
        json!({
            "value": quantity,
            "code": {"coding": [{"system": codes::code_system("insurance-plan-coverage-benefit-limit"), "code": code}]},
        })
    };
    InsurancePlan {
        id: p.id,
        meta: Meta::updated(p.updated_at),
        identifier: vec![Identifier::uuid(p.id), Identifier::code(&t.code)],
        status,
        kind: vec![CodeableConcept::of(Coding::new(
            "http://terminology.hl7.org/CodeSystem/insurance-plan-type",
            "medical",
        ))],
        name: t.name.clone(),
        period: json!({"start": t.date_from.to_string(), "end": t.date_to.to_string()}),
        coverage_area: t
            .location_id
            .map(|l| Reference::to("Location", l, None))
            .into_iter()
            .collect(),
        coverage: vec![json!({
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/insurance-plan-type", "code": "medical"}]},
            "benefit": [{
                "type": {"text": "the product's medical items and services"},
                "limit": [
                    limit("period", t.periods.insurance_period, Some("month")),
                    limit("memberCount", t.premium.max_members, None),
                ],
            }],
        })],
        plan: if general_cost.is_empty() {
            vec![json!({"type": {"text": "contribution"}})]
        } else {
            vec![json!({"generalCost": general_cost})]
        },
    }
}

pub async fn read(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<InsurancePlan>> {
    let p = product::service::get_product(&state.db, &actor, id.trim()).await?;
    let today = OffsetDateTime::now_utc().date();
    Ok(Fhir(insurance_plan(&p, &config, today)))
}

pub async fn search(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<InsurancePlan>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let filter = ProductFilter {
        updated: params.last_updated(now)?,
        ..ProductFilter::default()
    };
    let (total, found) = match params.get("identifier") {
        Some(id) => one_or_none(
            product::service::get_product(&state.db, &actor, id).await,
            |p| filter.updated.iter().all(|r| r.contains(p.updated_at)),
        )?,
        None => {
            let p = product::service::list_products(&state.db, &actor, filter, page, false).await?;
            (p.total, p.items)
        }
    };
    let url = crate::search::url_of(&headers, "InsurancePlan");
    let items = found
        .iter()
        .map(|p| (p.id.to_string(), insurance_plan(p, &config, now.date())))
        .collect();
    Ok(Fhir(bundle(&url, &params, page, total, items, now)))
}
