//! The dashboard: the scheme in figures, each shown to users with the right to see it and
//! counted within their districts (the services apply the scope), counted at most once a
//! minute for each user.

use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use claim::model::ClaimStatus;
use kernel::{AppState, Error, PageParams, Result};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// One figure.
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

/// The counts a dashboard shows, each `None` when the user may not see it.
#[derive(Clone)]
struct Figures {
    insurees: Option<i64>,
    families: Option<i64>,
    active_policies: Option<i64>,
    contributions_month: Option<i64>,
    claims: Vec<(ClaimStatus, i64)>,
    review: Option<(i64, Option<i64>)>,
}

/// How long a user's figures are kept: counting every register on each visit would cost more
/// than the page, and a dashboard a minute old tells the same story.
const FRESH_FOR: Duration = Duration::from_secs(60);

/// The figures last counted for each user (their rights and districts decide what they see).
fn cache() -> &'static Mutex<HashMap<Uuid, (Instant, Figures)>> {
    static CACHE: OnceLock<Mutex<HashMap<Uuid, (Instant, Figures)>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

async fn count(state: &AppState, page: &Page) -> Result<Figures> {
    let (db, actor) = (&state.db, &page.actor);
    let today = time::OffsetDateTime::now_utc().date();
    let insurees = registry::service::list_insurees(db, actor, Default::default(), one())
        .await
        .map(|p| p.total);
    let families = registry::service::list_families(db, actor, Default::default(), one())
        .await
        .map(|p| p.total);
    let active = policy::store::PolicyFilter {
        status: Some(policy::model::PolicyStatus::Active),
        ..Default::default()
    };
    let policies = policy::service::list_policies(db, actor, active, one())
        .await
        .map(|p| p.total);
    let month = policy::store::ContributionFilter {
        paid_from: today.replace_day(1).ok(),
        ..Default::default()
    };
    let contributions = policy::service::list_contributions(db, actor, month, one())
        .await
        .map(|p| p.total);
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
            claims.push((status, n));
        }
    }
    let review = if actor.has(claim::service::CLAIM_REVIEW) {
        let now = time::OffsetDateTime::now_utc();
        let q = claim::service::review_queue(db, actor, None, now).await?;
        Some((q.open, q.oldest_days))
    } else {
        None
    };
    Ok(Figures {
        insurees: allowed(insurees)?,
        families: allowed(families)?,
        active_policies: allowed(policies)?,
        contributions_month: allowed(contributions)?,
        claims,
        review,
    })
}

async fn figures(state: &AppState, page: &Page) -> Result<Dashboard> {
    let user = page.actor.user_id.unwrap_or_default();
    let kept = {
        let cache = cache().lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&user)
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, f)| f.clone())
    };
    let f = match kept {
        Some(f) => f,
        None => {
            let f = count(state, page).await?;
            let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
            cache.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            cache.insert(user, (Instant::now(), f.clone()));
            f
        }
    };
    let tr = &page.tr;
    let tile = |key: &str, n: i64, href: &str| Tile {
        label: tr.t(key),
        value: n.to_string(),
        href: href.to_string(),
    };
    let tiles = [
        ("dashboard-insurees", f.insurees, "/families"),
        ("dashboard-families", f.families, "/families"),
        ("dashboard-active-policies", f.active_policies, ""),
        ("dashboard-contributions-month", f.contributions_month, ""),
    ]
    .into_iter()
    .filter_map(|(key, n, href)| n.map(|n| tile(key, n, href)))
    .collect();
    let claims = f
        .claims
        .iter()
        .map(|(status, n)| Tile {
            label: tr.code("claim-status", status.code()),
            value: n.to_string(),
            href: format!("/claims?status={}", status.code()),
        })
        .collect();
    let review = match f.review {
        Some((open, oldest)) => vec![
            tile("dashboard-review-open", open, "/review"),
            Tile {
                label: tr.t("dashboard-review-oldest"),
                value: oldest
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| tr.t("dashboard-none")),
                href: String::new(),
            },
        ],
        None => Vec::new(),
    };
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
