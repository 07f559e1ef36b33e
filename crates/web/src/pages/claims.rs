//! Claims: the list by status, and a claim with each line's decision and the reason in words.

use super::families::Paging;
use super::{day, see_other};
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use claim::model::{
    Claim, ClaimInput, ClaimLine, ClaimStatus, ClaimSummary, LineInput, ReviewStatus, VisitType,
};
use kernel::{AppState, PageParams};
use std::collections::HashMap;

const PER_PAGE: u32 = 20;

/// A claim of the list, with what the template shows in words.
pub struct Row {
    pub summary: ClaimSummary,
    pub status: String,
    pub claimed: String,
    pub approved: String,
}

#[derive(Template)]
#[template(path = "claims.html")]
struct ClaimsPage {
    chrome: Chrome,
    /// (code, words, chosen) of each status, for the filter.
    statuses: Vec<(String, String, bool)>,
    rows: Vec<Row>,
    total: String,
    paging: Paging,
    can_add: bool,
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let tr = &page.tr;
    let status = params.get("status").and_then(|s| ClaimStatus::from_code(s));
    let review = params
        .get("review")
        .and_then(|s| ReviewStatus::from_code(s));
    let number: u32 = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let cap = super::families::count_cap(number, PER_PAGE);
    let filter = claim::store::ClaimFilter {
        status,
        review_status: review,
        count_at_most: Some(cap),
        ..Default::default()
    };
    let found = match claim::service::list_claims(
        &state.db,
        &page.actor,
        filter,
        PageParams::new(Some(number), Some(PER_PAGE)),
    )
    .await
    {
        Ok(f) => f,
        Err(e) => return super::error_page(&page, e),
    };
    let statuses = [
        ClaimStatus::Entered,
        ClaimStatus::Checked,
        ClaimStatus::Rejected,
        ClaimStatus::Processed,
        ClaimStatus::Valuated,
    ]
    .iter()
    .map(|s| {
        (
            s.code().to_string(),
            tr.code("claim-status", s.code()),
            Some(*s) == status,
        )
    })
    .collect();
    let base = format!(
        "/claims?status={}&{}",
        status.map(|s| s.code()).unwrap_or(""),
        review
            .map(|r| format!("review={}&", r.code()))
            .unwrap_or_default()
    );
    let rows = found
        .items
        .into_iter()
        .map(|s| Row {
            status: tr.code("claim-status", s.status.code()),
            claimed: super::money(s.claimed),
            approved: s.approved.map(super::money).unwrap_or_default(),
            summary: s,
        })
        .collect();
    let body = ClaimsPage {
        chrome: Chrome::of(&page, tr.t("claims-title"), "/claims"),
        statuses,
        rows,
        total: super::families::total_words(tr, "claims-total", found.total, cap),
        paging: Paging::of(&base, number, PER_PAGE, found.total),
        can_add: page.actor.has(claim::service::CLAIM_ADD),
    };
    html(StatusCode::OK, body.render())
}

/// A line as the claim page shows it.
pub struct LineView {
    pub kind: String,
    pub line: ClaimLine,
    pub price: String,
    pub status: String,
    pub rejected: bool,
    /// The reason code's words, and the engine's sentence about this line.
    pub reason: String,
    pub sentence: String,
    /// The units approved so far (the review form's default).
    pub approved_qty: String,
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    chrome: Chrome,
    status_code: StatusCode,
    notice: String,
    refusal: String,
    can_submit: bool,
    can_review: bool,
    can_ask_feedback: bool,
    can_answer_feedback: bool,
    claim: Claim,
    status: String,
    review: String,
    claimed: String,
    approved: String,
    lines: Vec<LineView>,
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let tr = &page.tr;
    let notice = if params.contains_key("saved") {
        tr.t("claim-saved")
    } else if params.contains_key("submitted") {
        tr.t("claim-submitted")
    } else if params.contains_key("reviewed") {
        tr.t("claim-reviewed")
    } else if params.contains_key("feedback") {
        tr.t("claim-feedback-asked")
    } else if params.contains_key("answered") {
        tr.t("claim-feedback-delivered")
    } else {
        String::new()
    };
    claim_page(&state, &page, &id, notice, String::new()).await
}

/// A claim's page, with what a save just said (`notice`) or why it was refused (`refusal`).
pub async fn claim_page(
    state: &AppState,
    page: &Page,
    id: &str,
    notice: String,
    refusal: String,
) -> Response {
    let tr = &page.tr;
    let claim = match claim::service::get_claim(&state.db, &page.actor, id).await {
        Ok(c) => c,
        Err(e) => return super::error_page(page, e),
    };
    let view = |kind: &str, l: &ClaimLine| {
        let reason = l.rejection_reason.map(|r| r.code());
        LineView {
            kind: tr.t(kind),
            price: super::money(l.price_asked),
            status: match reason {
                None => String::new(),
                Some(_) => tr.code("line-status", l.status.code()),
            },
            rejected: reason.is_some_and(|r| r != 0),
            reason: reason
                .map(|r| tr.code("reason", &r.to_string()))
                .unwrap_or_default(),
            sentence: l.decision.clone().unwrap_or_default(),
            approved_qty: l.qty_approved.unwrap_or(l.qty).to_string(),
            line: l.clone(),
        }
    };
    let lines = claim
        .items
        .iter()
        .map(|l| view("claim-line-item", l))
        .chain(claim.services.iter().map(|l| view("claim-line-service", l)))
        .collect();
    let decided = matches!(
        claim.status,
        ClaimStatus::Checked | ClaimStatus::Processed | ClaimStatus::Valuated
    );
    let body = ClaimPage {
        chrome: Chrome::of(page, tr.t1("claim-title", "code", &claim.code), "/claims"),
        status_code: if refusal.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        notice,
        refusal,
        can_submit: claim.status == ClaimStatus::Entered
            && page.actor.has(claim::service::CLAIM_SUBMIT),
        can_review: claim.status == ClaimStatus::Checked
            && claim.review_status != ReviewStatus::Delivered
            && page.actor.has(claim::service::CLAIM_REVIEW),
        can_ask_feedback: decided
            && claim.feedback_status == ReviewStatus::Idle
            && page.actor.has(claim::service::CLAIM_SELECT),
        can_answer_feedback: claim.feedback_status == ReviewStatus::Selected
            && page.actor.has(claim::service::CLAIM_FEEDBACK),
        status: tr.code("claim-status", claim.status.code()),
        review: tr.code("review-status", claim.review_status.code()),
        claimed: super::money(claim.claimed),
        approved: claim.approved.map(super::money).unwrap_or_default(),
        lines,
        claim,
    };
    html(body.status_code, body.render())
}

#[derive(Template)]
#[template(path = "claim_new.html")]
struct NewClaimPage {
    chrome: Chrome,
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl NewClaimPage {
    fn value(&self, field: &str) -> String {
        self.form.get(field).cloned().unwrap_or_default()
    }

    fn error(&self, field: &str) -> String {
        super::error_of(&self.errors, field)
    }
}

fn new_claim_page(
    page: &Page,
    status: StatusCode,
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
) -> Response {
    let body = NewClaimPage {
        chrome: Chrome::of(page, page.tr.t("claim-new-title"), "/claims"),
        form,
        errors,
    };
    html(status, body.render())
}

pub async fn new_form(page: Page) -> Response {
    if let Err(e) = page.actor.require(claim::service::CLAIM_ADD) {
        return super::error_page(&page, e);
    }
    new_claim_page(&page, StatusCode::OK, HashMap::new(), HashMap::new())
}

/// Rows of the form in use: (kind, row) of every line with a code.
const ROWS: usize = 3;

/// `POST /claims`: enter a claim as the form has it.
pub async fn create(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    let tr = &page.tr;
    let form = super::form_fields(&body);
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = HashMap::new();
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        errors.insert("form".to_string(), tr.t("csrf-failed"));
        return new_claim_page(&page, StatusCode::FORBIDDEN, form, errors);
    }
    for field in ["facility", "insuree", "code", "date_from", "icd"] {
        if get(field).is_empty() {
            errors.insert(field.to_string(), tr.t("form-required"));
        }
    }
    let date_from = day(&get("date_from"));
    if date_from.is_none() && !errors.contains_key("date_from") {
        errors.insert("date_from".into(), tr.t("error-invalid"));
    }
    let date_to = match get("date_to").as_str() {
        "" => None,
        d => match day(d) {
            Some(d) => Some(d),
            None => {
                errors.insert("date_to".into(), tr.t("error-invalid"));
                None
            }
        },
    };
    // The lines typed, and the form row of each (for errors by the field).
    let mut lines: [Vec<LineInput>; 2] = [Vec::new(), Vec::new()];
    let mut rows: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (k, kind) in ["item", "service"].iter().enumerate() {
        for i in 0..ROWS {
            let code = get(&format!("{kind}_code_{i}"));
            if code.is_empty() {
                continue;
            }
            let qty_field = format!("{kind}_qty_{i}");
            let qty = match get(&qty_field).as_str() {
                "" => 1,
                q => match q.parse::<i64>() {
                    Ok(q) => q,
                    Err(_) => {
                        errors.insert(qty_field, tr.t("error-invalid"));
                        continue;
                    }
                },
            };
            lines[k].push(LineInput {
                code,
                qty,
                price_asked: None,
                explanation: None,
            });
            rows[k].push(i);
        }
    }
    let facility = if errors.contains_key("facility") {
        None
    } else {
        match location::service::get_facility(&state.db, &page.actor, &get("facility")).await {
            Ok(f) => Some(f.id),
            Err(kernel::Error::NotFound { .. }) => {
                errors.insert("facility".into(), tr.t("error-not_found"));
                None
            }
            Err(e) => return super::error_page(&page, e),
        }
    };
    let (Some(health_facility_id), Some(date_from), true) =
        (facility, date_from, errors.is_empty())
    else {
        return new_claim_page(&page, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    };
    let [items, services] = lines;
    let input = ClaimInput {
        code: get("code"),
        health_facility_id,
        insuree: get("insuree"),
        admin_id: None,
        date_claimed: None,
        date_from,
        date_to,
        visit_type: VisitType::from_code(&get("visit_type")),
        icd: get("icd"),
        secondary_icd: Vec::new(),
        explanation: None,
        guarantee_no: None,
        refer_from_id: None,
        refer_to_id: None,
        referral_code: None,
        items,
        services,
        version: None,
    };
    let today = time::OffsetDateTime::now_utc().date();
    match claim::service::create_claim(&state.db, &page.actor, input, today).await {
        Ok(c) => see_other(&format!("/claims/{}?saved=1", c.id)),
        Err(kernel::Error::Invalid(found)) => {
            let mut errors = HashMap::new();
            for f in found {
                let field = form_field(&f.field, &rows);
                let text = match tr.code("error", &f.code) {
                    t if t == f.code => f.message.clone(),
                    t => t,
                };
                errors.entry(field).or_insert(text);
            }
            new_claim_page(&page, StatusCode::UNPROCESSABLE_ENTITY, form, errors)
        }
        Err(kernel::Error::Conflict { message, .. }) => {
            let errors = HashMap::from([("code".to_string(), message)]);
            new_claim_page(&page, StatusCode::CONFLICT, form, errors)
        }
        Err(e) => super::error_page(&page, e),
    }
}

/// The form field of a claim service's field: `items[1].code` is the item row it came from.
fn form_field(service: &str, rows: &[Vec<usize>; 2]) -> String {
    let simple = [
        ("code", "code"),
        ("health_facility_id", "facility"),
        ("insuree", "insuree"),
        ("date_from", "date_from"),
        ("date_to", "date_to"),
        ("icd", "icd"),
    ];
    if let Some((_, form)) = simple.iter().find(|(s, _)| *s == service) {
        return form.to_string();
    }
    for (k, (list, kind)) in [("items[", "item"), ("services[", "service")]
        .iter()
        .enumerate()
    {
        if let Some(rest) = service.strip_prefix(list)
            && let Some((i, part)) = rest.split_once("].")
            && let Ok(i) = i.parse::<usize>()
            && let Some(row) = rows[k].get(i)
        {
            let part = if part == "qty" { "qty" } else { "code" };
            return format!("{kind}_{part}_{row}");
        }
    }
    "form".to_string()
}

/// `POST /claims/{id}/submit`: have an entered claim checked.
pub async fn submit(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<std::sync::Arc<claim::service::Config>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = super::form_fields(&body);
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        return super::error_page(&page, kernel::Error::forbidden(page.tr.t("csrf-failed")));
    }
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return super::error_page(&page, kernel::Error::not_found("claim", &id));
    };
    match claim::service::run_step(
        &state.db,
        &page.actor,
        &config,
        claim::service::Step::Submit,
        &[uuid],
    )
    .await
    {
        Ok(_) => see_other(&format!("/claims/{id}?submitted=1")),
        Err(e) => super::error_page(&page, e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_error_lands_on_its_form_row() {
        let rows = [vec![0, 2], vec![1]];
        assert_eq!(super::form_field("items[1].code", &rows), "item_code_2");
        assert_eq!(super::form_field("items[0].qty", &rows), "item_qty_0");
        assert_eq!(
            super::form_field("services[0].explanation", &rows),
            "service_code_1"
        );
        assert_eq!(super::form_field("health_facility_id", &rows), "facility");
        assert_eq!(super::form_field("items", &rows), "form");
        assert_eq!(super::form_field("items[5].code", &rows), "form");
    }
}
