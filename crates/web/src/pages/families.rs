//! Families and insurees: search, a family with its members, a new family with its head.

use super::{error_of, field_errors, form_fields};
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::{AppState, Error, PageParams};
use registry::model::FamilyView;
use registry::store::FamilyFilter;
use std::collections::HashMap;
use std::sync::Arc;

const PER_PAGE: u32 = 20;

/// A list's paging: the current page, and the links to the pages around it.
pub struct Paging {
    pub page: u32,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// How many records a list screen counts beyond the rows before its page: a national register
/// is not counted to the last row for every page ("more than 1,000").
pub const COUNTED: i64 = 1_000;

/// The most a list's page counts: its offset and `COUNTED` more.
pub fn count_cap(page: u32, per_page: u32) -> i64 {
    i64::from(page.saturating_sub(1)) * i64::from(per_page) + COUNTED
}

/// A list's total in words: the number, or "more than" the cap it reached.
pub fn total_words(tr: &crate::i18n::Tr, key: &'static str, total: i64, cap: i64) -> String {
    if total > cap {
        tr.t1(
            "list-more-than",
            "what",
            &tr.t1(key, "count", &super::grouped(cap.max(0) as u64)),
        )
    } else {
        tr.t1(key, "count", &total.to_string())
    }
}

impl Paging {
    /// `base` is the list's address with its filters, ending in `?` or `&`.
    pub fn of(base: &str, page: u32, per_page: u32, total: i64) -> Paging {
        let last = ((total.max(1) as u64).div_ceil(per_page as u64)) as u32;
        Paging {
            page,
            previous: (page > 1).then(|| format!("{base}page={}", page - 1)),
            next: (page < last).then(|| format!("{base}page={}", page + 1)),
        }
    }
}

#[derive(Template)]
#[template(path = "families.html")]
struct FamiliesPage {
    chrome: Chrome,
    q: String,
    families: Vec<FamilyView>,
    total: String,
    paging: Paging,
    can_add: bool,
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let q = params
        .get("q")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let number: u32 = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let cap = count_cap(number, PER_PAGE);
    let mut filter = FamilyFilter {
        count_at_most: Some(cap),
        ..FamilyFilter::default()
    };
    if !q.is_empty() {
        if q.chars().all(|c| c.is_ascii_digit()) {
            filter.head_chfid = Some(q.clone());
        } else {
            filter.head_last_name = Some(q.clone());
        }
    }
    let found = match registry::service::list_families(
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
    let base = format!(
        "/families?q={}&",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let body = FamiliesPage {
        chrome: Chrome::of(&page, page.tr.t("families-title"), "/families"),
        total: total_words(&page.tr, "families-total", found.total, cap),
        paging: Paging::of(&base, number, PER_PAGE, found.total),
        families: found.items,
        q,
        can_add: page.actor.has(registry::service::FAMILY_ADD),
    };
    html(StatusCode::OK, body.render())
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let notice = if params.contains_key("created") {
        page.tr.t("family-created")
    } else if params.contains_key("enrolled") {
        page.tr.t("policy-enrolled")
    } else if params.contains_key("paid") {
        page.tr.t("policy-paid")
    } else if params.contains_key("renewed") {
        page.tr.t("policy-renewed")
    } else if params.contains_key("member") {
        page.tr.t("member-added")
    } else if params.contains_key("saved") {
        page.tr.t("record-saved")
    } else {
        String::new()
    };
    super::policies::family_page(
        &state,
        &page,
        &id,
        notice,
        super::policies::Refused::default(),
    )
    .await
}

#[derive(Template)]
#[template(path = "family_new.html")]
struct NewFamilyPage {
    chrome: Chrome,
    /// What the user typed, kept on a refused save.
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl NewFamilyPage {
    fn value(&self, field: &str) -> String {
        self.form.get(field).cloned().unwrap_or_default()
    }

    fn error(&self, field: &str) -> String {
        error_of(&self.errors, field)
    }

    fn checked(&self, field: &str, value: &str) -> bool {
        self.form.get(field).is_some_and(|v| v == value)
    }
}

fn new_family_page(
    page: &Page,
    status: StatusCode,
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
) -> Response {
    let body = NewFamilyPage {
        chrome: Chrome::of(page, page.tr.t("family-new-title"), "/families"),
        form,
        errors,
    };
    html(status, body.render())
}

pub async fn new_form(page: Page) -> Response {
    if let Err(e) = page.actor.require(registry::service::FAMILY_ADD) {
        return super::error_page(&page, e);
    }
    new_family_page(&page, StatusCode::OK, HashMap::new(), HashMap::new())
}

/// The form's fields as the registry names them.
const FIELDS: &[(&str, &str)] = &[
    ("location_id", "village"),
    ("head.chfid", "chfid"),
    ("head.last_name", "last_name"),
    ("head.other_names", "other_names"),
    ("head.gender", "gender"),
    ("head.dob", "dob"),
    ("head.phone", "phone"),
];

pub async fn create(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<registry::config::Config>>,
    page: Page,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = HashMap::new();
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        errors.insert("form".to_string(), page.tr.t("csrf-failed"));
        return new_family_page(&page, StatusCode::FORBIDDEN, form, errors);
    }
    for field in [
        "village",
        "chfid",
        "last_name",
        "other_names",
        "gender",
        "dob",
    ] {
        if get(field).is_empty() {
            errors.insert(field.to_string(), page.tr.t("form-required"));
        }
    }
    let dob = super::day(&get("dob"));
    if dob.is_none() && !errors.contains_key("dob") {
        errors.insert("dob".into(), page.tr.t("error-invalid"));
    }
    let village = if errors.contains_key("village") {
        None
    } else {
        match location::service::get_location(&state.db, &page.actor, &get("village")).await {
            Ok(l) => Some(l.id),
            Err(Error::NotFound { .. }) => {
                errors.insert("village".into(), page.tr.t("error-not_found"));
                None
            }
            Err(e) => return super::error_page(&page, e),
        }
    };
    let (Some(village), Some(dob), true) = (village, dob, errors.is_empty()) else {
        return new_family_page(&page, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    };
    let phone = Some(get("phone")).filter(|p| !p.is_empty());
    let head = serde_json::json!({
        "chfid": get("chfid"),
        "last_name": get("last_name"),
        "other_names": get("other_names"),
        "gender": get("gender"),
        "dob": dob.to_string(),
        "phone": phone,
    });
    let input = serde_json::json!({
        "location_id": village,
        "poverty": form.get("poverty").map(|v| v == "yes"),
        "head": head,
    });
    let input: registry::model::FamilyInput = match serde_json::from_value(input) {
        Ok(i) => i,
        Err(_) => {
            errors.insert("gender".into(), page.tr.t("error-invalid"));
            return new_family_page(&page, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
        }
    };
    match registry::service::create_family(&state.db, &page.actor, &config, input).await {
        Ok(created) => {
            super::see_other(&format!("/families/{}?created=1", created.family.family.id))
        }
        Err(e) => match field_errors(&page.tr, &e, FIELDS) {
            Some(found) => new_family_page(&page, StatusCode::UNPROCESSABLE_ENTITY, form, found),
            None => match e {
                Error::Conflict { message, .. } => {
                    let errors = HashMap::from([("chfid".to_string(), message)]);
                    new_family_page(&page, StatusCode::CONFLICT, form, errors)
                }
                e => super::error_page(&page, e),
            },
        },
    }
}
