//! What a medical officer does on a claim's page: review it (reject a line, approve fewer
//! units, with a justification), and ask for the patient's feedback; and what an enrolment
//! officer does on a family's: renew a policy.

use super::{form_fields, refusal, see_other};
use crate::session::Page;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use claim::model::{ClaimLine, LineReviewInput, ReviewInput};
use kernel::{AppState, Error};
use std::collections::HashMap;

/// What the form says of one line: `line-<id>-reject`, `-qty`, `-justification`.
fn line_review(form: &HashMap<String, String>, line: &ClaimLine) -> Option<LineReviewInput> {
    let field = |name: &str| {
        form.get(&format!("line-{}-{name}", line.id))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let reject = field("reject").is_some();
    let qty = field("qty").and_then(|q| q.parse::<i64>().ok());
    let qty = qty.filter(|q| Some(*q) != line.qty_approved.or(Some(line.qty)));
    let justification = field("justification");
    if !reject && qty.is_none() && justification.is_none() {
        return None;
    }
    Some(LineReviewInput {
        id: line.id,
        reject,
        qty_approved: qty,
        price_approved: None,
        justification,
    })
}

/// The review a form sends, for a claim's lines as read.
pub fn review_input(form: &HashMap<String, String>, claim: &claim::model::Claim) -> ReviewInput {
    ReviewInput {
        items: claim
            .items
            .iter()
            .filter_map(|l| line_review(form, l))
            .collect(),
        services: claim
            .services
            .iter()
            .filter_map(|l| line_review(form, l))
            .collect(),
        adjustment: form
            .get("adjustment")
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty()),
        version: form.get("version").and_then(|v| v.parse().ok()),
    }
}

/// `POST /claims/{id}/review`.
pub async fn review(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        return super::error_page(&page, Error::forbidden(page.tr.t("csrf-failed")));
    }
    let claim = match claim::service::get_claim(&state.db, &page.actor, &id).await {
        Ok(c) => c,
        Err(e) => return super::error_page(&page, e),
    };
    let input = review_input(&form, &claim);
    match claim::service::review_claim(&state.db, &page.actor, &id, input).await {
        Ok(_) => see_other(&format!("/claims/{id}?reviewed=1")),
        Err(e) => match refusal(&e) {
            Some(m) => super::claims::claim_page(&state, &page, &id, String::new(), m).await,
            None => super::error_page(&page, e),
        },
    }
}

/// `POST /claims/{id}/feedback`: ask the patient's feedback (an enrolment officer will visit).
pub async fn ask_feedback(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        return super::error_page(&page, Error::forbidden(page.tr.t("csrf-failed")));
    }
    let input = claim::model::FeedbackRequestInput { officer_id: None };
    match claim::service::request_feedback(&state.db, &page.actor, &id, input).await {
        Ok(_) => see_other(&format!("/claims/{id}?feedback=1")),
        Err(Error::Conflict { message, .. }) => {
            super::claims::claim_page(&state, &page, &id, String::new(), message).await
        }
        Err(e) => super::error_page(&page, e),
    }
}

/// `POST /claims/{id}/feedback/answers`: what the patient said (four yes/no questions and an
/// assessment from 0 to 5).
pub async fn deliver_feedback(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        return super::error_page(&page, Error::forbidden(page.tr.t("csrf-failed")));
    }
    let yes = |k: &str| form.get(k).is_some_and(|v| v == "yes");
    let assessment = form
        .get("assessment")
        .and_then(|a| a.trim().parse::<i64>().ok());
    let Some(assessment) = assessment else {
        let m = page.tr.t("feedback-assessment-required");
        return super::claims::claim_page(&state, &page, &id, String::new(), m).await;
    };
    let input = claim::model::FeedbackInput {
        care_rendered: yes("care_rendered"),
        payment_asked: yes("payment_asked"),
        drug_prescribed: yes("drug_prescribed"),
        drug_received: yes("drug_received"),
        assessment,
        feedback_date: None,
        officer_id: None,
    };
    let today = time::OffsetDateTime::now_utc().date();
    match claim::service::deliver_feedback(&state.db, &page.actor, &id, input, today).await {
        Ok(_) => see_other(&format!("/claims/{id}?answered=1")),
        Err(e) => match refusal(&e) {
            Some(m) => super::claims::claim_page(&state, &page, &id, String::new(), m).await,
            None => super::error_page(&page, e),
        },
    }
}

/// `POST /policies/{id}/renew`: a new policy continuing this one, enrolled today.
pub async fn renew(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let detail = match policy::service::get_policy(&state.db, &page.actor, &id).await {
        Ok(d) => d,
        Err(e) => return super::error_page(&page, e),
    };
    let family = detail.policy.family_id.to_string();
    let refuse = |message: String| super::policies::Refused {
        form: detail.policy.id.to_string(),
        values: form.clone(),
        message,
        errors: HashMap::new(),
    };
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        let r = refuse(page.tr.t("csrf-failed"));
        return super::policies::family_page(&state, &page, &family, String::new(), r).await;
    }
    let today = time::OffsetDateTime::now_utc().date();
    let input = policy::model::RenewInput {
        enroll_date: today,
        officer_id: None,
        product_id: None,
    };
    match policy::service::renew_policy(&state.db, &page.actor, &id, input, today).await {
        Ok(_) => see_other(&format!("/families/{family}?renewed=1")),
        Err(e) => match refusal(&e) {
            Some(m) => {
                super::policies::family_page(&state, &page, &family, String::new(), refuse(m)).await
            }
            None => super::error_page(&page, e),
        },
    }
}
