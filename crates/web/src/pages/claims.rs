//! Claims: the list by status, and a claim with each line's decision and the reason in words.

use super::families::Paging;
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use claim::model::{Claim, ClaimLine, ClaimStatus, ClaimSummary, ReviewStatus};
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
    let filter = claim::store::ClaimFilter {
        status,
        review_status: review,
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
        total: tr.t1("claims-total", "count", &found.total.to_string()),
        paging: Paging::of(&base, number, PER_PAGE, found.total),
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
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    chrome: Chrome,
    claim: Claim,
    status: String,
    review: String,
    claimed: String,
    approved: String,
    lines: Vec<LineView>,
}

pub async fn show(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    let tr = &page.tr;
    let claim = match claim::service::get_claim(&state.db, &page.actor, &id).await {
        Ok(c) => c,
        Err(e) => return super::error_page(&page, e),
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
            line: l.clone(),
        }
    };
    let lines = claim
        .items
        .iter()
        .map(|l| view("claim-line-item", l))
        .chain(claim.services.iter().map(|l| view("claim-line-service", l)))
        .collect();
    let body = ClaimPage {
        chrome: Chrome::of(&page, tr.t1("claim-title", "code", &claim.code), "/claims"),
        status: tr.code("claim-status", claim.status.code()),
        review: tr.code("review-status", claim.review_status.code()),
        claimed: super::money(claim.claimed),
        approved: claim.approved.map(super::money).unwrap_or_default(),
        lines,
        claim,
    };
    html(StatusCode::OK, body.render())
}
