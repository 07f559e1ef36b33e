//! CoverageEligibilityRequest: `POST` answers `201` with a CoverageEligibilityResponse (nothing is
//! stored), the policy module's eligibility enquiry in FHIR words (spec/interop.md §A5): per policy
//! of the patient, its period, what is left of its benefits, and for the item and the service
//! asked about (`item[].category` item|service, the code in `productOrService`) whether they are
//! covered, from when and how many are left. openIMIS's swap of the item's and the service's
//! figures is not reproduced; an unknown patient is a 404 OperationOutcome.

use crate::capability::Served;
use crate::datatypes::*;
use crate::input::{bad, reference_id, resource, text};
use crate::{Config, Fhir, codes};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::{Actor, AppState, Result};
use policy::model::ProductEligibility;
use policy::rules::eligibility::{LineEligibility, StatusLetter};
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

pub const SERVED: Served = Served {
    kind: "CoverageEligibilityRequest",
    interactions: &["create"],
    search: &[],
};

pub async fn create(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    axum::Extension(used): axum::Extension<policy::service::ClaimsUsage>,
    actor: Actor,
    body: Bytes,
) -> Result<Response> {
    let body = resource(&body, "CoverageEligibilityRequest")?;
    let patient = body
        .get("patient")
        .and_then(reference_id)
        .ok_or_else(|| {
            bad(
                "CoverageEligibilityRequest.patient",
                "the patient (Patient/<insurance number or UUID>) is required",
            )
        })?
        .to_string();
    let (mut item, mut service) = (None, None);
    for (i, line) in body
        .get("item")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let category = text(line, "/category/coding/0/code")
            .or(text(line, "/category/text"))
            .map(str::to_lowercase);
        let code = text(line, "/productOrService/text")
            .or(text(line, "/productOrService/coding/0/code"))
            .map(str::to_string);
        match category.as_deref() {
            Some("item") => item = code,
            Some("service") => service = code,
            _ => {
                return Err(bad(
                    &format!("CoverageEligibilityRequest.item[{i}].category"),
                    "the category must be item or service",
                ));
            }
        }
    }
    let today = OffsetDateTime::now_utc().date();
    let date = crate::input::day(
        &body,
        "/servicedDate",
        "CoverageEligibilityRequest.servicedDate",
    )?
    .unwrap_or(today);
    let answer = policy::service::eligibility(
        &state.db,
        &actor,
        used,
        &patient,
        item.as_deref(),
        service.as_deref(),
        date,
    )
    .await?;
    let insurance: Vec<Value> = answer
        .products
        .iter()
        .map(|p| insurance(p, item.as_deref(), service.as_deref(), &config))
        .collect();
    let mut response = json!({
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": ["benefits"],
        "patient": Reference::to("Patient", answer.insuree_id, Some(answer.chfid.clone())),
        "servicedDate": answer.date.to_string(),
        "created": today.to_string(),
        // Nothing is stored: the request is named by what the client gave it, if anything.
        "request": {"type": "CoverageEligibilityRequest", "display": text(&body, "/id").unwrap_or("the request")},
        "outcome": "complete",
        "insurer": {"reference": format!("Organization/{}", crate::organization::INSURER), "type": "Organization"},
    });
    if !insurance.is_empty() {
        response["insurance"] = json!(insurance);
    }
    Ok((StatusCode::CREATED, Fhir(response)).into_response())
}

fn benefit_type(code: &str) -> Value {
    json!({"coding": [{"system": codes::code_system("coverage-item-benefit-type"), "code": code}]})
}

fn category(code: &str) -> Value {
    json!({"coding": [{"system": codes::code_system("coverage-item-category"), "code": code}]})
}

/// What is left of one policy, and the item and service asked about.
fn insurance(
    p: &ProductEligibility,
    item: Option<&str>,
    service: Option<&str>,
    config: &Config,
) -> Value {
    let r = &p.remaining;
    let mut benefits = Vec::new();
    for (code, left) in [
        ("admissions_left", r.hospitalizations),
        ("consultations_left", r.consultations),
        ("surgeries_left", r.surgeries),
        ("deliveries_left", r.deliveries),
        ("visits_left", r.visits),
        ("antenatal_left", r.antenatal),
    ] {
        if let Some(left) = left.filter(|l| *l >= 0) {
            benefits.push(json!({"type": benefit_type(code), "allowedUnsignedInt": left}));
        }
    }
    for (code, amount) in [
        ("hospitalization_amount", r.amount_hospitalization),
        ("delivery_amount", r.amount_delivery),
        ("surgery_amount", r.amount_surgery),
        ("consultation_amount", r.amount_consultation),
        ("antenatal_amount", r.amount_antenatal),
    ] {
        if let Some(amount) = amount.filter(|a| *a > 0) {
            benefits.push(json!({"type": benefit_type(code), "allowedMoney": Money::of(amount, &config.currency)}));
        }
    }
    let mut package = json!({
        "category": category("benefit"),
        "name": p.product_name,
        "description": p.product_code,
    });
    if !benefits.is_empty() {
        package["benefit"] = json!(benefits);
    }
    let mut items = vec![package];
    for (kind, code, line) in [("item", item, &p.item), ("service", service, &p.service)] {
        if let (Some(code), Some(line)) = (code, line) {
            items.push(line_item(kind, code, line));
        }
    }
    let mut period = json!({"end": p.expiry_date.to_string()});
    if let Some(start) = p.effective_date {
        period["start"] = json!(start.to_string());
    }
    json!({
        "coverage": Reference::to("Coverage", p.policy_id, Some(p.product_code.clone())),
        "inforce": p.status == StatusLetter::A,
        "benefitPeriod": period,
        "item": items,
    })
}

fn line_item(kind: &str, code: &str, l: &LineEligibility) -> Value {
    let mut benefits = Vec::new();
    if let Some(day) = l.earliest_date {
        benefits.push(json!({"type": benefit_type(&format!("min_date_{kind}")), "allowedString": day.to_string()}));
    }
    if let Some(left) = l.left.filter(|l| *l >= 0) {
        benefits.push(
            json!({"type": benefit_type(&format!("{kind}_left")), "allowedUnsignedInt": left}),
        );
    }
    let mut out = json!({
        "category": category(kind),
        "productOrService": {"text": code},
        "excluded": !l.covered_now,
    });
    if let Some(reason) = &l.reason {
        out["description"] = json!(reason);
    }
    if !benefits.is_empty() {
        out["benefit"] = json!(benefits);
    }
    out
}
