//! Feedback (spec/interop.md §A7). `CommunicationRequest`: a claim whose feedback was asked
//! for (status active while selected, completed once delivered, revoked when bypassed), with
//! openIMIS's five questions. `POST Communication`: the answers (`payload[]`, each named by its
//! `communication-payload-type` extension: CareRendered, PaymentAsked, DrugPrescribed,
//! DrugReceived, Asessment [sic], accepted with either spelling) deliver the claim's feedback and
//! answer `201` with the Communication; `GET Communication/{claim}` reads it again.

use crate::capability::Served;
use crate::datatypes::*;
use crate::input::{bad, reference_id, resource};
use crate::search::{Params, bundle};
use crate::{Fhir, codes};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use claim::model::{Claim, FeedbackInput, ReviewStatus};
use kernel::{Actor, AppState, Error, Result};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub const SERVED_REQUEST: Served = Served {
    kind: "CommunicationRequest",
    interactions: &["read", "search-type"],
    search: &[],
};

pub const SERVED_COMMUNICATION: Served = Served {
    kind: "Communication",
    interactions: &["read", "create"],
    search: &[],
};

/// The questions, by their payload-type code, with the prompt openIMIS shows.
const QUESTIONS: [(&str, &str); 5] = [
    ("CareRendered", "Care Rendered? (yes|no)"),
    ("PaymentAsked", "Payment Asked? (yes|no)"),
    ("DrugPrescribed", "Drug Prescribed? (yes|no)"),
    ("DrugReceived", "Drug Received? (yes|no)"),
    ("Asessment", "Asessment? (0|1|2|3|4|5)"),
];

fn payload_type(code: &str) -> Extension {
    Extension::openimis(
        "communication-payload-type",
        ExtensionValue::CodeableConcept(CodeableConcept::of(Coding::new(
            codes::code_system("feedback-payload"),
            code,
        ))),
    )
}

fn feedback_status(s: ReviewStatus) -> (&'static str, &'static str, &'static str) {
    match s {
        ReviewStatus::Selected => ("active", "4", "Selected"),
        ReviewStatus::Delivered => ("completed", "8", "Delivered"),
        ReviewStatus::Bypassed => ("revoked", "16", "Bypassed"),
        ReviewStatus::Idle | ReviewStatus::NotSelected => ("unknown", "1", "Not selected"),
    }
}

pub fn request(c: &Claim) -> Value {
    let (status, code, display) = feedback_status(c.feedback_status);
    let mut out = json!({
        "resourceType": "CommunicationRequest",
        "id": c.id,
        "meta": Meta::updated(c.updated_at),
        "identifier": [Identifier::uuid(c.id), Identifier::code(&c.code)],
        "status": status,
        "statusReason": CodeableConcept::of(Coding::new(codes::code_system("feedback-status"), code).display(display)),
        "subject": Reference::to("Patient", c.insuree_id, Some(c.chfid.clone())),
        "about": [Reference::to("Claim", c.id, Some(c.code.clone()))],
        "payload": QUESTIONS
            .iter()
            .map(|(code, prompt)| json!({"extension": [payload_type(code)], "contentString": prompt}))
            .collect::<Vec<_>>(),
    });
    if let Some(officer) = c.feedback.as_ref().and_then(|f| f.officer_id) {
        out["recipient"] = json!([Reference::to("Practitioner", officer, None)]);
    }
    out
}

/// The Communication of a claim's delivered feedback.
pub fn communication(c: &Claim) -> Option<Value> {
    let f = c.feedback.as_ref()?;
    let answered = f.answered_at?;
    let yes = |b: Option<bool>| if b == Some(true) { "yes" } else { "no" };
    let answers = [
        yes(f.care_rendered).to_string(),
        yes(f.payment_asked).to_string(),
        yes(f.drug_prescribed).to_string(),
        yes(f.drug_received).to_string(),
        f.assessment.unwrap_or(0).to_string(),
    ];
    Some(json!({
        "resourceType": "Communication",
        "id": c.id,
        "meta": Meta::updated(c.updated_at),
        "status": "completed",
        "subject": Reference::to("Patient", c.insuree_id, Some(c.chfid.clone())),
        "about": [Reference::to("Claim", c.id, Some(c.code.clone()))],
        "received": Meta::updated(answered).last_updated.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "payload": QUESTIONS
            .iter()
            .zip(answers)
            .map(|((code, _), answer)| json!({"extension": [payload_type(code)], "contentString": answer}))
            .collect::<Vec<_>>(),
    }))
}

pub async fn read_request(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Value>> {
    let c = claim::service::get_claim(&state.db, &actor, id.trim()).await?;
    if matches!(
        c.feedback_status,
        ReviewStatus::Idle | ReviewStatus::NotSelected
    ) {
        return Err(Error::not_found("feedback request", id));
    }
    Ok(Fhir(request(&c)))
}

pub async fn search_requests(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<Value>>> {
    let params = Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let filter = claim::store::ClaimFilter {
        feedback_requested: true,
        updated: params.last_updated(now)?,
        ..Default::default()
    };
    let listed = claim::service::list_claims(&state.db, &actor, filter, page).await?;
    let mut items = Vec::with_capacity(listed.items.len());
    for s in &listed.items {
        let c = claim::service::get_claim(&state.db, &actor, &s.id.to_string()).await?;
        items.push((c.id.to_string(), request(&c)));
    }
    let url = crate::search::url_of(&headers, "CommunicationRequest");
    Ok(Fhir(bundle(&url, &params, page, listed.total, items, now)))
}

pub async fn read(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<Value>> {
    let c = claim::service::get_claim(&state.db, &actor, id.trim()).await?;
    communication(&c)
        .map(Fhir)
        .ok_or_else(|| Error::not_found("feedback", id))
}

pub async fn create(State(state): State<AppState>, actor: Actor, body: Bytes) -> Result<Response> {
    let body = resource(&body, "Communication")?;
    let claim = body
        .pointer("/about/0")
        .and_then(reference_id)
        .ok_or_else(|| {
            bad(
                "Communication.about",
                "the claim (Claim/<UUID>) is required",
            )
        })?
        .to_string();
    let mut answers = std::collections::HashMap::new();
    for (i, p) in body
        .get("payload")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let code = p
            .pointer("/extension/0/valueCodeableConcept/coding/0/code")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                bad(
                    &format!("Communication.payload[{i}].extension"),
                    "name the question (communication-payload-type)",
                )
            })?;
        let answer = p
            .get("contentString")
            .and_then(Value::as_str)
            .map(|a| a.trim().to_lowercase())
            .ok_or_else(|| {
                bad(
                    &format!("Communication.payload[{i}].contentString"),
                    "the answer is required",
                )
            })?;
        answers.insert(
            code.to_lowercase().replace("assessment", "asessment"),
            (i, answer),
        );
    }
    let yes_no = |code: &str| -> Result<bool> {
        match answers.get(&code.to_lowercase()) {
            Some((_, a)) if a == "yes" || a == "true" => Ok(true),
            Some((_, a)) if a == "no" || a == "false" => Ok(false),
            Some((i, a)) => Err(bad(
                &format!("Communication.payload[{i}].contentString"),
                format!("\"{a}\" is not yes or no"),
            )),
            None => Err(bad(
                "Communication.payload",
                format!("the answer to {code} is missing"),
            )),
        }
    };
    let assessment = match answers.get("asessment") {
        Some((i, a)) => a
            .parse::<i64>()
            .ok()
            .filter(|v| (0..=5).contains(v))
            .ok_or_else(|| {
                bad(
                    &format!("Communication.payload[{i}].contentString"),
                    "the assessment is 0 to 5",
                )
            })?,
        None => {
            return Err(bad(
                "Communication.payload",
                "the answer to Asessment is missing",
            ));
        }
    };
    let input = FeedbackInput {
        care_rendered: yes_no("CareRendered")?,
        payment_asked: yes_no("PaymentAsked")?,
        drug_prescribed: yes_no("DrugPrescribed")?,
        drug_received: yes_no("DrugReceived")?,
        assessment,
        feedback_date: None,
        officer_id: None,
    };
    let today = OffsetDateTime::now_utc().date();
    let c = claim::service::deliver_feedback(&state.db, &actor, &claim, input, today).await?;
    let out =
        communication(&c).ok_or_else(|| Error::Internal("the feedback was not recorded".into()))?;
    Ok((StatusCode::CREATED, Fhir(out)).into_response())
}
