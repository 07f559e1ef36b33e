//! The lists that are tables and nothing more: locations, health facilities, products, users,
//! batch runs (with their progress), the review queue and a record's audit history. One
//! template (`register.html`) shows them all.

use super::families::Paging;
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::{AppState, PageParams, Result};
use std::collections::HashMap;

const PER_PAGE: u32 = 20;

/// One cell: its text, a link when it leads somewhere, a progress bar when it is a job's.
#[derive(Default)]
pub struct Cell {
    pub text: String,
    pub href: String,
    /// Per thousand.
    pub progress: Option<i64>,
}

fn text(t: impl ToString) -> Cell {
    Cell {
        text: t.to_string(),
        ..Cell::default()
    }
}

/// The record's code as a link to its change form when the user may change it.
fn editable(t: impl ToString, may: bool, href: String) -> Cell {
    if may { link(t, href) } else { text(t) }
}

/// What a list page adds for its records' forms: "new…" when the user may add, and the notice
/// after a save.
fn form_extras(page: &Page, params: &HashMap<String, String>, add: Option<(&str, &str)>) -> Extras {
    let (add_href, add_label) = match add {
        Some((href, label)) => (href.to_string(), page.tr.t(label)),
        None => (String::new(), String::new()),
    };
    Extras {
        add_href,
        add_label,
        notice: if params.contains_key("saved") {
            page.tr.t("record-saved")
        } else {
            String::new()
        },
        ..Extras::default()
    }
}

fn link(t: impl ToString, href: String) -> Cell {
    Cell {
        text: t.to_string(),
        href,
        progress: None,
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    chrome: Chrome,
    /// The search box's label; empty: no search.
    search: String,
    q: String,
    /// Figures above the table (label, value).
    figures: Vec<(String, String)>,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
    empty: String,
    total: String,
    paging: Paging,
    /// Reload the table every 2 s (a job is running).
    poll: bool,
    extra: Extras,
    status: StatusCode,
}

/// What a list page adds: a notice, a link to add a record, and on the batch runs' page the
/// form that starts one and what it said.
#[derive(Default)]
struct Extras {
    /// Show the batch run form.
    show: bool,
    /// A link to a new record's form (href, label); empty: none.
    add_href: String,
    add_label: String,
    notice: String,
    refusal: String,
    /// The month offered (`YYYY-MM`): the last one over, or what was typed.
    month: String,
    location: String,
}

struct Listing {
    search: &'static str,
    figures: Vec<(String, String)>,
    columns: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
    total: i64,
    poll: bool,
}

fn page_number(params: &HashMap<String, String>) -> u32 {
    params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn render(
    page: &Page,
    title: &str,
    path: &str,
    q: String,
    number: u32,
    found: Result<Listing>,
) -> Response {
    render_with(page, title, path, q, number, found, Extras::default())
}

fn render_with(
    page: &Page,
    title: &str,
    path: &str,
    q: String,
    number: u32,
    found: Result<Listing>,
    extra: Extras,
) -> Response {
    let l = match found {
        Ok(l) => l,
        Err(e) => return super::error_page(page, e),
    };
    let tr = &page.tr;
    let base = format!(
        "{path}?q={}&",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let body = RegisterPage {
        chrome: Chrome::of(page, tr.t(title), path),
        search: if l.search.is_empty() {
            String::new()
        } else {
            tr.t(l.search)
        },
        q,
        figures: l.figures,
        columns: l.columns.iter().map(|c| tr.t(c)).collect(),
        rows: l.rows,
        empty: tr.t("register-empty"),
        total: tr.t1("register-total", "count", &l.total.to_string()),
        paging: Paging::of(&base, number, PER_PAGE, l.total),
        poll: l.poll,
        status: if extra.refusal.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        extra,
    };
    html(body.status, body.render())
}

fn q_of(params: &HashMap<String, String>) -> Option<String> {
    params
        .get("q")
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty())
}

pub async fn locations(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let number = page_number(&params);
    let may_edit = page.actor.has(kernel::Right::LOCATION_EDIT);
    let filter = location::store::LocationFilter {
        name: q_of(&params),
        ..Default::default()
    };
    let found = location::service::list_locations(
        &state.db,
        &page.actor,
        filter,
        PageParams::new(Some(number), Some(PER_PAGE)),
    )
    .await
    .map(|p| Listing {
        search: "register-search-name",
        figures: Vec::new(),
        columns: &["register-code", "register-name", "register-type"],
        rows: p
            .items
            .iter()
            .map(|l| {
                vec![
                    editable(&l.code, may_edit, format!("/locations/{}/edit", l.id)),
                    text(&l.name),
                    text(page.tr.code("location-type", l.kind.code())),
                ]
            })
            .collect(),
        total: p.total,
        poll: false,
    });
    let q = q_of(&params).unwrap_or_default();
    let add = page
        .actor
        .has(kernel::Right::LOCATION_ADD)
        .then_some(("/locations/new", "location-new"));
    let extra = form_extras(&page, &params, add);
    render_with(
        &page,
        "nav-locations",
        "/locations",
        q,
        number,
        found,
        extra,
    )
}

pub async fn facilities(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let number = page_number(&params);
    let may_edit = page.actor.has(kernel::Right::HF_EDIT);
    let filter = location::store::FacilityFilter {
        name: q_of(&params),
        ..Default::default()
    };
    let found = location::service::list_facilities(
        &state.db,
        &page.actor,
        filter,
        PageParams::new(Some(number), Some(PER_PAGE)),
    )
    .await
    .map(|p| Listing {
        search: "register-search-name",
        figures: Vec::new(),
        columns: &[
            "register-code",
            "register-name",
            "register-level",
            "register-care",
        ],
        rows: p
            .items
            .iter()
            .map(|f| {
                vec![
                    editable(
                        &f.code,
                        may_edit,
                        format!("/health-facilities/{}/edit", f.id),
                    ),
                    text(&f.name),
                    text(page.tr.code("facility-level", f.level.code())),
                    text(page.tr.code("care-type", f.care_type.code())),
                ]
            })
            .collect(),
        total: p.total,
        poll: false,
    });
    let q = q_of(&params).unwrap_or_default();
    let add = page
        .actor
        .has(kernel::Right::HF_ADD)
        .then_some(("/health-facilities/new", "facility-new"));
    let extra = form_extras(&page, &params, add);
    render_with(
        &page,
        "nav-facilities",
        "/health-facilities",
        q,
        number,
        found,
        extra,
    )
}

pub async fn products(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let number = page_number(&params);
    let may_edit = page.actor.has(product::service::PRODUCT_EDIT);
    let filter = product::store::ProductFilter {
        name: q_of(&params),
        ..Default::default()
    };
    let found = product::service::list_products(
        &state.db,
        &page.actor,
        filter,
        PageParams::new(Some(number), Some(PER_PAGE)),
        false,
    )
    .await
    .map(|p| Listing {
        search: "register-search-name",
        figures: Vec::new(),
        columns: &[
            "register-code",
            "register-name",
            "register-from",
            "register-to",
        ],
        rows: p
            .items
            .iter()
            .map(|p| {
                vec![
                    editable(&p.terms.code, may_edit, format!("/products/{}/edit", p.id)),
                    text(&p.terms.name),
                    text(p.terms.date_from),
                    text(p.terms.date_to),
                ]
            })
            .collect(),
        total: p.total,
        poll: false,
    });
    let q = q_of(&params).unwrap_or_default();
    let extra = form_extras(&page, &params, None);
    render_with(&page, "nav-products", "/products", q, number, found, extra)
}

pub async fn users(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let number = page_number(&params);
    let may_edit = page.actor.has(kernel::Right::USER_EDIT);
    let filter = identity::store::UserFilter {
        name: q_of(&params),
        ..Default::default()
    };
    let found = identity::service::list_users(
        &state.db,
        &page.actor,
        filter,
        PageParams::new(Some(number), Some(PER_PAGE)),
    )
    .await
    .map(|p| Listing {
        search: "register-search-name",
        figures: Vec::new(),
        columns: &[
            "register-username",
            "register-name",
            "register-kind",
            "register-active",
        ],
        rows: p
            .items
            .iter()
            .map(|u| {
                vec![
                    link(&u.username, format!("/history/user/{}", u.id)),
                    editable(
                        format!("{} {}", u.other_names, u.last_name),
                        may_edit,
                        format!("/users/{}/edit", u.id),
                    ),
                    text(page.tr.code("user-kind", u.kind.code())),
                    text(page.tr.t(if u.active { "yes" } else { "no" })),
                ]
            })
            .collect(),
        total: p.total,
        poll: false,
    });
    let q = q_of(&params).unwrap_or_default();
    let extra = Extras {
        add_href: if page.actor.has(kernel::Right::USER_ADD) {
            "/users/new".into()
        } else {
            String::new()
        },
        add_label: page.tr.t("users-new"),
        notice: if params.contains_key("created") {
            page.tr.t("user-created")
        } else if params.contains_key("saved") {
            page.tr.t("record-saved")
        } else {
            String::new()
        },
        ..Extras::default()
    };
    render_with(&page, "nav-users", "/users", q, number, found, extra)
}

pub async fn roles(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let number = page_number(&params);
    let may_edit = page.actor.has(kernel::Right::ROLE_EDIT);
    let found = identity::service::list_roles(
        &state.db,
        &page.actor,
        q_of(&params),
        None,
        PageParams::new(Some(number), Some(PER_PAGE)),
    )
    .await
    .map(|p| Listing {
        search: "register-search-name",
        figures: Vec::new(),
        columns: &[
            "register-name",
            "register-rights",
            "register-system",
            "register-active",
        ],
        rows: p
            .items
            .iter()
            .map(|r| {
                vec![
                    link(&r.name, format!("/history/role/{}", r.id)),
                    editable(
                        r.rights.len(),
                        may_edit && !r.is_system,
                        format!("/roles/{}/edit", r.id),
                    ),
                    text(page.tr.t(if r.is_system { "yes" } else { "no" })),
                    text(page.tr.t(if r.blocked { "no" } else { "yes" })),
                ]
            })
            .collect(),
        total: p.total,
        poll: false,
    });
    let q = q_of(&params).unwrap_or_default();
    let add = page
        .actor
        .has(kernel::Right::ROLE_ADD)
        .then_some(("/roles/new", "role-new"));
    let extra = form_extras(&page, &params, add);
    render_with(&page, "nav-roles", "/roles", q, number, found, extra)
}

pub async fn batch_runs(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let notice = if params.contains_key("started") {
        page.tr.t("batch-started")
    } else {
        String::new()
    };
    let today = time::OffsetDateTime::now_utc().date();
    let last = today
        .replace_day(1)
        .ok()
        .and_then(|d| d.previous_day())
        .unwrap_or(today);
    let form = Extras {
        show: page.actor.has(claim::service::BATCH_PROCESS),
        notice,
        refusal: String::new(),
        month: format!("{}-{:02}", last.year(), u8::from(last.month())),
        ..Extras::default()
    };
    batch_runs_page(&state, &page, form).await
}

/// `POST /batch-runs`: start the batch run of a month, for a region or district or nationally.
pub async fn start_batch_run(
    State(state): State<AppState>,
    page: Page,
    body: axum::body::Bytes,
) -> Response {
    let form = super::form_fields(&body);
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut batch = Extras {
        show: true,
        notice: String::new(),
        refusal: String::new(),
        month: get("month"),
        location: get("location"),
        ..Extras::default()
    };
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        batch.refusal = page.tr.t("csrf-failed");
        return batch_runs_page(&state, &page, batch).await;
    }
    let month = get("month");
    let parsed = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u8>().ok()?)));
    let Some((year, month)) = parsed else {
        batch.refusal = page.tr.t("form-errors");
        return batch_runs_page(&state, &page, batch).await;
    };
    let location_id = match get("location").as_str() {
        "" => None,
        code => match location::service::get_location(&state.db, &page.actor, code).await {
            Ok(l) => Some(l.id),
            Err(kernel::Error::NotFound { .. }) => {
                batch.refusal = page.tr.t("error-not_found");
                return batch_runs_page(&state, &page, batch).await;
            }
            Err(e) => return super::error_page(&page, e),
        },
    };
    let input = claim::model::BatchRunInput {
        year,
        month,
        location_id,
    };
    let today = time::OffsetDateTime::now_utc().date();
    match claim::service::create_batch_run(&state.db, &page.actor, input, today).await {
        Ok(_) => super::see_other("/batch-runs?started=1"),
        Err(e) => match super::refusal(&e) {
            Some(m) => {
                batch.refusal = m;
                batch_runs_page(&state, &page, batch).await
            }
            None => super::error_page(&page, e),
        },
    }
}

async fn batch_runs_page(state: &AppState, page: &Page, extra: Extras) -> Response {
    let found = claim::service::list_batch_runs(&state.db, &page.actor)
        .await
        .map(|runs| Listing {
            search: "",
            figures: Vec::new(),
            columns: &[
                "register-period",
                "register-status",
                "register-progress",
                "register-valuated",
                "register-run-date",
            ],
            poll: runs
                .iter()
                .any(|r| r.status == claim::model::BatchStatus::Running),
            total: runs.len() as i64,
            rows: runs
                .iter()
                .map(|r| {
                    vec![
                        text(format!("{}-{:02}", r.year, r.month)),
                        text(page.tr.code("batch-status", r.status.code())),
                        Cell {
                            text: format!("{:.1} %", r.progress as f64 / 10.0),
                            href: String::new(),
                            progress: Some(r.progress.clamp(0, 1000)),
                        },
                        text(r.claims_valuated),
                        text(r.run_date.date()),
                    ]
                })
                .collect(),
        });
    render_with(
        page,
        "nav-batch-runs",
        "/batch-runs",
        String::new(),
        1,
        found,
        extra,
    )
}

pub async fn review(State(state): State<AppState>, page: Page) -> Response {
    let tr = &page.tr;
    let now = time::OffsetDateTime::now_utc();
    let found = claim::service::review_queue(&state.db, &page.actor, None, now)
        .await
        .map(|q| Listing {
            search: "",
            figures: vec![
                (tr.t("dashboard-review-open"), q.open.to_string()),
                (
                    tr.t("dashboard-review-oldest"),
                    q.oldest_days
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| tr.t("dashboard-none")),
                ),
                (
                    tr.t("review-turnaround"),
                    q.average_turnaround_days
                        .map(|d| format!("{d:.1}"))
                        .unwrap_or_else(|| tr.t("dashboard-none")),
                ),
            ],
            columns: &[
                "claims-code",
                "claims-patient",
                "claims-visit",
                "claims-claimed",
            ],
            total: q.claims.len() as i64,
            rows: q
                .claims
                .iter()
                .map(|c| {
                    vec![
                        link(&c.code, format!("/claims/{}", c.id)),
                        text(&c.chfid),
                        text(c.date_from),
                        text(super::money(c.claimed)),
                    ]
                })
                .collect(),
            poll: false,
        });
    render(&page, "nav-review", "/review", String::new(), 1, found)
}

/// `/history/{entity}/{id}`: who changed a record, what and when.
pub async fn history(
    State(state): State<AppState>,
    page: Page,
    Path((entity, id)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let number = page_number(&params);
    let Some(uuid) = kernel::parse_uuid(&id) else {
        return super::error_page(&page, kernel::Error::not_found("record", &id));
    };
    let found = state
        .record_history(
            &page.actor,
            &entity,
            uuid,
            PageParams::new(Some(number), Some(PER_PAGE)),
        )
        .await
        .map(|p| Listing {
            search: "",
            figures: Vec::new(),
            columns: &["history-at", "history-who", "history-action"],
            rows: p
                .items
                .iter()
                .map(|e| {
                    vec![
                        text(
                            e.record
                                .at
                                .replace_nanosecond(0)
                                .unwrap_or(e.record.at)
                                .to_string(),
                        ),
                        text(&e.record.actor_name),
                        text(page.tr.code("history-action", &e.record.action)),
                    ]
                })
                .collect(),
            total: p.total,
            poll: false,
        });
    let path = format!("/history/{entity}/{id}");
    render(&page, "nav-history", &path, String::new(), number, found)
}
