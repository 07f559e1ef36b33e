//! The dashboard: the scheme in figures, each shown to users with the right to see it and
//! counted within their districts (the services apply the scope).

use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use claim::model::ClaimStatus;
use kernel::{AppState, Error, PageParams, Result};

/// One figure; `None` when the user may not see it.
pub struct Tile {
    pub label: String,
    pub value: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    tiles: Vec<Tile>,
    claims: Vec<Tile>,
    review: Vec<Tile>,
}

/// A count the user may not make is left out, not an error.
fn allowed(found: Result<i64>) -> Result<Option<i64>> {
    match found {
        Ok(n) => Ok(Some(n)),
        Err(Error::Forbidden { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn one() -> PageParams {
    PageParams::new(Some(1), Some(1))
}

async fn figures(state: &AppState, page: &Page) -> Result<Dashboard> {
    let (db, actor, tr) = (&state.db, &page.actor, &page.tr);
    let today = time::OffsetDateTime::now_utc().date();
    let mut tiles = Vec::new();
    let mut push = |key: &str, n: Option<i64>, href: &str| {
        if let Some(n) = n {
            tiles.push(Tile {
                label: tr.t(key),
                value: n.to_string(),
                href: href.to_string(),
            });
        }
    };
    let insurees = registry::service::list_insurees(db, actor, Default::default(), one())
        .await
        .map(|p| p.total);
    push("dashboard-insurees", allowed(insurees)?, "/families");
    let families = registry::service::list_families(db, actor, Default::default(), one())
        .await
        .map(|p| p.total);
    push("dashboard-families", allowed(families)?, "/families");
    let active = policy::store::PolicyFilter {
        status: Some(policy::model::PolicyStatus::Active),
        ..Default::default()
    };
    let policies = policy::service::list_policies(db, actor, active, one())
        .await
        .map(|p| p.total);
    push("dashboard-active-policies", allowed(policies)?, "");
    let month = policy::store::ContributionFilter {
        paid_from: today.replace_day(1).ok(),
        ..Default::default()
    };
    let contributions = policy::service::list_contributions(db, actor, month, one())
        .await
        .map(|p| p.total);
    push("dashboard-contributions-month", allowed(contributions)?, "");
    let mut claims = Vec::new();
    if actor.has(claim::service::CLAIM_SEARCH) {
        for status in [
            ClaimStatus::Entered,
            ClaimStatus::Checked,
            ClaimStatus::Rejected,
            ClaimStatus::Processed,
            ClaimStatus::Valuated,
        ] {
            let filter = claim::store::ClaimFilter {
                status: Some(status),
                ..Default::default()
            };
            let n = claim::service::list_claims(db, actor, filter, one())
                .await?
                .total;
            claims.push(Tile {
                label: tr.code("claim-status", status.code()),
                value: n.to_string(),
                href: format!("/claims?status={}", status.code()),
            });
        }
    }
    let mut review = Vec::new();
    if actor.has(claim::service::CLAIM_REVIEW) {
        let now = time::OffsetDateTime::now_utc();
        let q = claim::service::review_queue(db, actor, None, now).await?;
        review.push(Tile {
            label: tr.t("dashboard-review-open"),
            value: q.open.to_string(),
            href: "/claims?review=selected".into(),
        });
        review.push(Tile {
            label: tr.t("dashboard-review-oldest"),
            value: q
                .oldest_days
                .map(|d| d.to_string())
                .unwrap_or_else(|| tr.t("dashboard-none")),
            href: String::new(),
        });
    }
    Ok(Dashboard {
        chrome: Chrome::of(page, tr.t("dashboard-title"), "/"),
        tiles,
        claims,
        review,
    })
}

pub async fn show(State(state): State<AppState>, page: Page) -> Response {
    match figures(&state, &page).await {
        Ok(d) => html(StatusCode::OK, d.render()),
        Err(e) => super::error_page(&page, e),
    }
}
