//! Creating and changing the registers' records through `forms`: locations, health facilities,
//! roles, users (changed; a new one has its own page) and products (their names, dates and
//! accounting codes; the rest of a product's terms through the API).

use super::forms::{self, Field, FormPage, Kind, Values};
use crate::session::Page;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::{AppState, Error, PageParams, Result, Right};
use serde_json::{Value, json};

/// The keys of `record` that its input takes.
fn input_of(record: &Value, keys: &[&str]) -> Value {
    let mut input = serde_json::Map::new();
    for k in keys {
        if let Some(v) = record.get(*k) {
            input.insert(k.to_string(), v.clone());
        }
    }
    Value::Object(input)
}

fn to_json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn coded(page: &Page, kind: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), page.tr.code(kind, c)))
        .collect()
}

/// Put the locations the form names by code in `field` into `merged[key]` (an id or null, or
/// with `many` a list), and drop `field`, which the input does not take.
async fn put_locations(
    state: &AppState,
    page: &Page,
    merged: &mut Value,
    typed: &Values,
    (field, key): (&str, &str),
    many: bool,
) -> std::result::Result<(), super::Unnamed> {
    let ids = super::locations_named(state, page, &forms::one(typed, field), many).await?;
    merged[key] = if many { json!(ids) } else { json!(ids.first()) };
    if let Some(o) = merged.as_object_mut() {
        o.remove(field);
    }
    Ok(())
}

/// A refusal of the input's `key` (or of an element of it: `key[0]`) told beside the form's
/// `field` that names it by code.
fn told_as(error: Error, key: &str, field: &str) -> Error {
    match error {
        Error::Invalid(mut found) => {
            for f in &mut found {
                if f.field == key || f.field.starts_with(&format!("{key}[")) {
                    f.field = field.to_string();
                }
            }
            Error::Invalid(found)
        }
        other => other,
    }
}

/// The form again when a code it names is no location, beside that field.
fn unnamed(
    page: &Page,
    form: FormPage,
    typed: Values,
    field: &str,
    why: super::Unnamed,
) -> Response {
    match why {
        super::Unnamed::Missing(code) => {
            let message = page.tr.t1("edit-no-location", "code", &code);
            with_errors(form, typed, [(field.to_string(), message)].into(), page)
        }
        super::Unnamed::Failed(e) => super::error_page(page, e),
    }
}

/// The form's answer once its fields are merged: the page again with the errors, or the input.
fn with_errors(
    mut form: FormPage,
    typed: Values,
    errors: std::collections::HashMap<String, String>,
    page: &Page,
) -> Response {
    form.values = typed;
    form.message = page.tr.t("form-errors");
    form.errors = errors;
    form.respond(StatusCode::UNPROCESSABLE_ENTITY)
}

fn csrf_refused(page: &Page, mut form: FormPage, typed: Values) -> Response {
    form.values = typed;
    form.message = page.tr.t("csrf-failed");
    form.respond(StatusCode::FORBIDDEN)
}

// ---------------------------------------------------------------- locations

const LOCATION_KEYS: &[&str] = &[
    "code",
    "name",
    "type",
    "parent_id",
    "male_population",
    "female_population",
    "other_population",
    "families",
    "version",
];

fn location_fields(page: &Page) -> Vec<Field> {
    let tr = &page.tr;
    vec![
        Field::new("code", tr.t("register-code"), Kind::Text).required(),
        Field::new("name", tr.t("register-name"), Kind::Text).required(),
        Field::new(
            "type",
            tr.t("register-type"),
            Kind::Choice(coded(page, "location-type", &["R", "D", "W", "V"])),
        )
        .required(),
        Field::new("parent", tr.t("edit-parent"), Kind::Text).help(tr.t("edit-parent-help")),
        Field::new("male_population", tr.t("edit-male"), Kind::Number),
        Field::new("female_population", tr.t("edit-female"), Kind::Number),
        Field::new("other_population", tr.t("edit-other"), Kind::Number),
        Field::new("families", tr.t("edit-families"), Kind::Number),
    ]
}

async fn location_values(state: &AppState, page: &Page, l: &location::model::Location) -> Values {
    let mut values = forms::values_of(&location_fields(page), &to_json(l));
    if let Some(parent) = l.parent_id
        && let Ok(p) =
            location::service::get_location(&state.db, &page.actor, &parent.to_string()).await
    {
        values.insert("parent".into(), vec![p.code]);
    }
    values
}

pub async fn new_location(page: Page) -> Response {
    if let Err(e) = page.actor.require(Right::LOCATION_ADD) {
        return super::error_page(&page, e);
    }
    let title = page.tr.t("location-new");
    FormPage::new(
        &page,
        title,
        "/locations",
        "/locations".into(),
        location_fields(&page),
    )
    .respond(StatusCode::OK)
}

pub async fn edit_location(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(Right::LOCATION_EDIT) {
        return super::error_page(&page, e);
    }
    let l = match location::service::get_location(&state.db, &page.actor, &id).await {
        Ok(l) => l,
        Err(e) => return super::error_page(&page, e),
    };
    let title = page.tr.t1("edit-title", "name", &l.name);
    let mut form = FormPage::new(
        &page,
        title,
        "/locations",
        format!("/locations/{}/edit", l.id),
        location_fields(&page),
    );
    form.values = location_values(&state, &page, &l).await;
    form.version = Some(l.version);
    form.respond(StatusCode::OK)
}

/// `POST /locations` (new) and `POST /locations/{id}/edit`.
async fn save_location(state: AppState, page: Page, id: Option<String>, body: Bytes) -> Response {
    let typed = forms::parse(&body);
    let current = match &id {
        Some(id) => match location::service::get_location(&state.db, &page.actor, id).await {
            Ok(l) => Some(l),
            Err(e) => return super::error_page(&page, e),
        },
        None => None,
    };
    let (title, action) = match &current {
        Some(l) => (
            page.tr.t1("edit-title", "name", &l.name),
            format!("/locations/{}/edit", l.id),
        ),
        None => (page.tr.t("location-new"), "/locations".to_string()),
    };
    let form = FormPage::new(&page, title, "/locations", action, location_fields(&page));
    if !forms::csrf_ok(&page, &typed) {
        return csrf_refused(&page, form, typed);
    }
    let base = current
        .as_ref()
        .map(|l| input_of(&to_json(l), LOCATION_KEYS))
        .unwrap_or_else(|| json!({}));
    let mut merged = match forms::merged(&page, &form.fields, &typed, base) {
        Ok(v) => v,
        Err(errors) => return with_errors(form, typed, errors, &page),
    };
    let named = put_locations(
        &state,
        &page,
        &mut merged,
        &typed,
        ("parent", "parent_id"),
        false,
    );
    if let Err(why) = named.await {
        return unnamed(&page, form, typed, "parent", why);
    }
    let saved = match forms::decode::<location::model::LocationInput>(&merged) {
        Ok(input) => match &current {
            Some(l) => {
                location::service::update_location(&state.db, &page.actor, &l.id.to_string(), input)
                    .await
            }
            None => location::service::create_location(&state.db, &page.actor, input).await,
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => super::see_other("/locations?saved=1"),
        Err(e) => {
            let now = match &current {
                Some(l) => {
                    location::service::get_location(&state.db, &page.actor, &l.id.to_string())
                        .await
                        .ok()
                }
                None => None,
            };
            let values = match &now {
                Some(l) => Some((location_values(&state, &page, l).await, l.version)),
                None => None,
            };
            forms::refused(&page, form, typed, e, values)
        }
    }
}

pub async fn create_location(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    save_location(state, page, None, body).await
}

pub async fn update_location(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    save_location(state, page, Some(id), body).await
}

// ---------------------------------------------------------------- health facilities

const FACILITY_KEYS: &[&str] = &[
    "code",
    "name",
    "acc_code",
    "legal_form",
    "level",
    "sub_level",
    "location_id",
    "address",
    "phone",
    "fax",
    "email",
    "care_type",
    "items_pricelist_id",
    "services_pricelist_id",
    "offline",
    "contract_start_date",
    "contract_end_date",
    "status",
    "catchments",
    "version",
];

async fn facility_fields(state: &AppState, page: &Page) -> Result<Vec<Field>> {
    let tr = &page.tr;
    let lists = |kind| async move {
        medical::service::list_pricelists(
            &state.db,
            &page.actor,
            kind,
            medical::store::PriceListFilter::default(),
            PageParams::new(Some(1), Some(100)),
        )
        .await
        .map(|p| {
            p.items
                .into_iter()
                .map(|l| (l.id.to_string(), l.name))
                .collect::<Vec<_>>()
        })
    };
    let items = lists(medical::model::PriceListKind::Items)
        .await
        .unwrap_or_default();
    let services = lists(medical::model::PriceListKind::Services)
        .await
        .unwrap_or_default();
    Ok(vec![
        Field::new("code", tr.t("register-code"), Kind::Text).required(),
        Field::new("name", tr.t("register-name"), Kind::Text).required(),
        Field::new(
            "legal_form",
            tr.t("edit-legal-form"),
            Kind::Choice(coded(page, "legal-form", &["C", "D", "G", "P"])),
        )
        .required(),
        Field::new(
            "level",
            tr.t("edit-level"),
            Kind::Choice(coded(page, "facility-level", &["D", "C", "H"])),
        )
        .required(),
        Field::new(
            "care_type",
            tr.t("edit-care-type"),
            Kind::Choice(coded(page, "care-type", &["B", "I", "O"])),
        )
        .required(),
        Field::new("district", tr.t("edit-district"), Kind::Text)
            .required()
            .help(tr.t("edit-district-help")),
        Field::new("address", tr.t("insuree-address"), Kind::Text),
        Field::new("phone", tr.t("family-new-phone"), Kind::Text),
        Field::new("email", tr.t("insuree-email"), Kind::Email),
        Field::new(
            "status",
            tr.t("edit-status"),
            Kind::Choice(coded(
                page,
                "facility-status",
                &["active", "inactive", "delisted", "idle"],
            )),
        ),
        Field::new(
            "items_pricelist_id",
            tr.t("edit-item-list"),
            Kind::Choice(items),
        ),
        Field::new(
            "services_pricelist_id",
            tr.t("edit-service-list"),
            Kind::Choice(services),
        ),
    ])
}

async fn facility_values(
    state: &AppState,
    page: &Page,
    fields: &[Field],
    f: &location::model::HealthFacility,
) -> Values {
    let mut values = forms::values_of(fields, &to_json(f));
    if let Ok(d) =
        location::service::get_location(&state.db, &page.actor, &f.location_id.to_string()).await
    {
        values.insert("district".into(), vec![d.code]);
    }
    values
}

pub async fn new_facility(State(state): State<AppState>, page: Page) -> Response {
    if let Err(e) = page.actor.require(Right::HF_ADD) {
        return super::error_page(&page, e);
    }
    let fields = match facility_fields(&state, &page).await {
        Ok(f) => f,
        Err(e) => return super::error_page(&page, e),
    };
    let title = page.tr.t("facility-new");
    let mut form = FormPage::new(
        &page,
        title,
        "/health-facilities",
        "/health-facilities".into(),
        fields,
    );
    form.values.insert("status".into(), vec!["active".into()]);
    form.respond(StatusCode::OK)
}

pub async fn edit_facility(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(Right::HF_EDIT) {
        return super::error_page(&page, e);
    }
    let (f, fields) = match (
        location::service::get_facility(&state.db, &page.actor, &id).await,
        facility_fields(&state, &page).await,
    ) {
        (Ok(f), Ok(fields)) => (f, fields),
        (Err(e), _) | (_, Err(e)) => return super::error_page(&page, e),
    };
    let values = facility_values(&state, &page, &fields, &f).await;
    let title = page.tr.t1("edit-title", "name", &f.name);
    let action = format!("/health-facilities/{}/edit", f.id);
    let mut form = FormPage::new(&page, title, "/health-facilities", action, fields);
    form.values = values;
    form.version = Some(f.version);
    form.respond(StatusCode::OK)
}

async fn save_facility(
    state: AppState,
    pricelists: location::service::PriceListCheck,
    page: Page,
    id: Option<String>,
    body: Bytes,
) -> Response {
    let typed = forms::parse(&body);
    let current = match &id {
        Some(id) => match location::service::get_facility(&state.db, &page.actor, id).await {
            Ok(f) => Some(f),
            Err(e) => return super::error_page(&page, e),
        },
        None => None,
    };
    let fields = match facility_fields(&state, &page).await {
        Ok(f) => f,
        Err(e) => return super::error_page(&page, e),
    };
    let (title, action) = match &current {
        Some(f) => (
            page.tr.t1("edit-title", "name", &f.name),
            format!("/health-facilities/{}/edit", f.id),
        ),
        None => (page.tr.t("facility-new"), "/health-facilities".to_string()),
    };
    let form = FormPage::new(&page, title, "/health-facilities", action, fields);
    if !forms::csrf_ok(&page, &typed) {
        return csrf_refused(&page, form, typed);
    }
    let base = current
        .as_ref()
        .map(|f| input_of(&to_json(f), FACILITY_KEYS))
        .unwrap_or_else(|| json!({"offline": false, "catchments": []}));
    let mut merged = match forms::merged(&page, &form.fields, &typed, base) {
        Ok(v) => v,
        Err(errors) => return with_errors(form, typed, errors, &page),
    };
    let named = put_locations(
        &state,
        &page,
        &mut merged,
        &typed,
        ("district", "location_id"),
        false,
    );
    if let Err(why) = named.await {
        return unnamed(&page, form, typed, "district", why);
    }
    let saved = match forms::decode::<location::model::HealthFacilityInput>(&merged) {
        Ok(input) => match &current {
            Some(f) => {
                location::service::update_facility(
                    &state.db,
                    &page.actor,
                    &f.id.to_string(),
                    input,
                    pricelists,
                )
                .await
            }
            None => {
                location::service::create_facility(&state.db, &page.actor, input, pricelists).await
            }
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => super::see_other("/health-facilities?saved=1"),
        Err(e) => {
            let now = match &current {
                Some(f) => {
                    location::service::get_facility(&state.db, &page.actor, &f.id.to_string())
                        .await
                        .ok()
                }
                None => None,
            };
            let values = match &now {
                Some(f) => Some((
                    facility_values(&state, &page, &form.fields, f).await,
                    f.version,
                )),
                None => None,
            };
            let e = told_as(e, "location_id", "district");
            forms::refused(&page, form, typed, e, values)
        }
    }
}

pub async fn create_facility(
    State(state): State<AppState>,
    Extension(pricelists): Extension<location::service::PriceListCheck>,
    page: Page,
    body: Bytes,
) -> Response {
    save_facility(state, pricelists, page, None, body).await
}

pub async fn update_facility(
    State(state): State<AppState>,
    Extension(pricelists): Extension<location::service::PriceListCheck>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    save_facility(state, pricelists, page, Some(id), body).await
}

// ---------------------------------------------------------------- roles

const ROLE_KEYS: &[&str] = &["name", "alt_language", "blocked", "rights", "version"];

fn role_fields(page: &Page) -> Vec<Field> {
    let rights = kernel::rights::CATALOGUE
        .iter()
        .map(|(code, name)| (code.to_string(), format!("{code} {name}")))
        .collect();
    vec![
        Field::new("name", page.tr.t("register-name"), Kind::Text).required(),
        Field::new("blocked", page.tr.t("edit-blocked"), Kind::Check),
        Field::new(
            "rights",
            page.tr.t("register-rights"),
            Kind::Many {
                options: rights,
                numbers: true,
            },
        ),
    ]
}

pub async fn new_role(page: Page) -> Response {
    if let Err(e) = page.actor.require(Right::ROLE_ADD) {
        return super::error_page(&page, e);
    }
    let title = page.tr.t("role-new");
    FormPage::new(&page, title, "/roles", "/roles".into(), role_fields(&page))
        .respond(StatusCode::OK)
}

pub async fn edit_role(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(Right::ROLE_EDIT) {
        return super::error_page(&page, e);
    }
    let r = match identity::service::get_role(&state.db, &page.actor, &id).await {
        Ok(r) => r,
        Err(e) => return super::error_page(&page, e),
    };
    let title = page.tr.t1("edit-title", "name", &r.name);
    let mut form = FormPage::new(
        &page,
        title,
        "/roles",
        format!("/roles/{}/edit", r.id),
        role_fields(&page),
    );
    form.values = forms::values_of(&form.fields, &to_json(&r));
    form.version = Some(r.version);
    form.respond(StatusCode::OK)
}

async fn save_role(state: AppState, page: Page, id: Option<String>, body: Bytes) -> Response {
    let typed = forms::parse(&body);
    let current = match &id {
        Some(id) => match identity::service::get_role(&state.db, &page.actor, id).await {
            Ok(r) => Some(r),
            Err(e) => return super::error_page(&page, e),
        },
        None => None,
    };
    let (title, action) = match &current {
        Some(r) => (
            page.tr.t1("edit-title", "name", &r.name),
            format!("/roles/{}/edit", r.id),
        ),
        None => (page.tr.t("role-new"), "/roles".to_string()),
    };
    let form = FormPage::new(&page, title, "/roles", action, role_fields(&page));
    if !forms::csrf_ok(&page, &typed) {
        return csrf_refused(&page, form, typed);
    }
    let base = current
        .as_ref()
        .map(|r| input_of(&to_json(r), ROLE_KEYS))
        .unwrap_or_else(|| json!({}));
    let merged = match forms::merged(&page, &form.fields, &typed, base) {
        Ok(v) => v,
        Err(errors) => return with_errors(form, typed, errors, &page),
    };
    let saved = match forms::decode::<identity::model::RoleInput>(&merged) {
        Ok(input) => match &current {
            Some(r) => {
                identity::service::update_role(&state.db, &page.actor, &r.id.to_string(), input)
                    .await
            }
            None => identity::service::create_role(&state.db, &page.actor, input).await,
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => super::see_other("/roles?saved=1"),
        Err(e) => {
            let now = match &current {
                Some(r) => identity::service::get_role(&state.db, &page.actor, &r.id.to_string())
                    .await
                    .ok(),
                None => None,
            };
            let values = now.map(|r| (forms::values_of(&form.fields, &to_json(&r)), r.version));
            forms::refused(&page, form, typed, e, values)
        }
    }
}

pub async fn create_role(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    save_role(state, page, None, body).await
}

pub async fn update_role(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    save_role(state, page, Some(id), body).await
}

// ---------------------------------------------------------------- users

const USER_KEYS: &[&str] = &[
    "username",
    "last_name",
    "other_names",
    "email",
    "phone",
    "language",
    "health_facility_id",
    "role_ids",
    "district_ids",
    "active",
    "version",
];

async fn user_fields(state: &AppState, page: &Page) -> Result<Vec<Field>> {
    let roles = identity::service::list_roles(
        &state.db,
        &page.actor,
        None,
        None,
        PageParams::new(Some(1), Some(100)),
    )
    .await?
    .items
    .into_iter()
    .map(|r| (r.id.to_string(), r.name))
    .collect();
    let tr = &page.tr;
    let languages = crate::i18n::languages()
        .into_iter()
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    Ok(vec![
        Field::new("last_name", tr.t("family-new-last-name"), Kind::Text).required(),
        Field::new("other_names", tr.t("family-new-other-names"), Kind::Text).required(),
        Field::new("email", tr.t("insuree-email"), Kind::Email),
        Field::new("phone", tr.t("family-new-phone"), Kind::Text),
        Field::new("language", tr.t("nav-language"), Kind::Choice(languages)),
        Field::new(
            "role_ids",
            tr.t("user-new-role"),
            Kind::Many {
                options: roles,
                numbers: false,
            },
        ),
        Field::new("districts", tr.t("user-new-districts"), Kind::Text)
            .help(tr.t("user-new-districts-help")),
        Field::new("active", tr.t("register-active"), Kind::Check),
    ])
}

async fn user_values(
    state: &AppState,
    page: &Page,
    fields: &[Field],
    u: &identity::model::User,
) -> Values {
    let mut values = forms::values_of(fields, &to_json(u));
    let mut codes = Vec::new();
    for d in &u.district_ids {
        if let Ok(l) = location::service::get_location(&state.db, &page.actor, &d.to_string()).await
        {
            codes.push(l.code);
        }
    }
    values.insert("districts".into(), vec![codes.join(", ")]);
    values
}

pub async fn edit_user(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(Right::USER_EDIT) {
        return super::error_page(&page, e);
    }
    let (u, fields) = match (
        identity::service::get_user(&state.db, &page.actor, &id).await,
        user_fields(&state, &page).await,
    ) {
        (Ok(u), Ok(f)) => (u, f),
        (Err(e), _) | (_, Err(e)) => return super::error_page(&page, e),
    };
    let values = user_values(&state, &page, &fields, &u).await;
    let title = page.tr.t1("edit-title", "name", &u.username);
    let mut form = FormPage::new(
        &page,
        title,
        "/users",
        format!("/users/{}/edit", u.id),
        fields,
    );
    form.values = values;
    form.version = Some(u.version);
    form.respond(StatusCode::OK)
}

/// `POST /users/{id}/edit`: the names, contacts, language, roles, districts and whether the
/// account may log in (its password is the user's own, or reset through the API).
pub async fn update_user(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let typed = forms::parse(&body);
    let (u, fields) = match (
        identity::service::get_user(&state.db, &page.actor, &id).await,
        user_fields(&state, &page).await,
    ) {
        (Ok(u), Ok(f)) => (u, f),
        (Err(e), _) | (_, Err(e)) => return super::error_page(&page, e),
    };
    let title = page.tr.t1("edit-title", "name", &u.username);
    let form = FormPage::new(
        &page,
        title,
        "/users",
        format!("/users/{}/edit", u.id),
        fields,
    );
    if !forms::csrf_ok(&page, &typed) {
        return csrf_refused(&page, form, typed);
    }
    let base = input_of(&to_json(&u), USER_KEYS);
    let mut merged = match forms::merged(&page, &form.fields, &typed, base) {
        Ok(v) => v,
        Err(errors) => return with_errors(form, typed, errors, &page),
    };
    let named = put_locations(
        &state,
        &page,
        &mut merged,
        &typed,
        ("districts", "district_ids"),
        true,
    );
    if let Err(why) = named.await {
        return unnamed(&page, form, typed, "districts", why);
    }
    let saved = match forms::decode::<identity::model::UserInput>(&merged) {
        Ok(input) => {
            identity::service::update_user(&state.db, &page.actor, &u.id.to_string(), input).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => super::see_other("/users?saved=1"),
        Err(e) => {
            let now = identity::service::get_user(&state.db, &page.actor, &u.id.to_string())
                .await
                .ok();
            let values = match &now {
                Some(n) => Some((user_values(&state, &page, &form.fields, n).await, n.version)),
                None => None,
            };
            let e = told_as(e, "district_ids", "districts");
            forms::refused(&page, form, typed, e, values)
        }
    }
}

// ---------------------------------------------------------------- products

/// What a stored product carries beside its terms.
const PRODUCT_NOT_INPUT: &[&str] = &[
    "id",
    "period_rel_prices",
    "period_rel_prices_ip",
    "period_rel_prices_op",
    "created_at",
    "updated_at",
];

fn product_fields(page: &Page) -> Vec<Field> {
    let tr = &page.tr;
    vec![
        Field::new("name", tr.t("register-name"), Kind::Text).required(),
        Field::new("date_from", tr.t("edit-date-from"), Kind::Date).required(),
        Field::new("date_to", tr.t("edit-date-to"), Kind::Date).required(),
        Field::new("acc_code_premiums", tr.t("edit-acc-premiums"), Kind::Text),
        Field::new(
            "acc_code_remuneration",
            tr.t("edit-acc-remuneration"),
            Kind::Text,
        ),
    ]
}

fn product_input(p: &product::model::Product) -> Value {
    let mut v = to_json(p);
    if let Some(o) = v.as_object_mut() {
        for k in PRODUCT_NOT_INPUT {
            o.remove(*k);
        }
    }
    v
}

pub async fn edit_product(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(product::service::PRODUCT_EDIT) {
        return super::error_page(&page, e);
    }
    let p = match product::service::get_product(&state.db, &page.actor, &id).await {
        Ok(p) => p,
        Err(e) => return super::error_page(&page, e),
    };
    let title = page.tr.t1("edit-title", "name", &p.terms.name);
    let mut form = FormPage::new(
        &page,
        title,
        "/products",
        format!("/products/{}/edit", p.id),
        product_fields(&page),
    );
    form.values = forms::values_of(&form.fields, &to_json(&p));
    form.version = Some(p.version);
    form.respond(StatusCode::OK)
}

/// `POST /products/{id}/edit`: the product's name, dates and accounting codes; its other
/// terms stay as they are.
pub async fn update_product(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let typed = forms::parse(&body);
    let p = match product::service::get_product(&state.db, &page.actor, &id).await {
        Ok(p) => p,
        Err(e) => return super::error_page(&page, e),
    };
    let title = page.tr.t1("edit-title", "name", &p.terms.name);
    let form = FormPage::new(
        &page,
        title,
        "/products",
        format!("/products/{}/edit", p.id),
        product_fields(&page),
    );
    if !forms::csrf_ok(&page, &typed) {
        return csrf_refused(&page, form, typed);
    }
    let merged = match forms::merged(&page, &form.fields, &typed, product_input(&p)) {
        Ok(v) => v,
        Err(errors) => return with_errors(form, typed, errors, &page),
    };
    let saved = match forms::decode::<product::model::ProductInput>(&merged) {
        Ok(input) => {
            product::service::update_product(&state.db, &page.actor, &p.id.to_string(), input).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => super::see_other("/products?saved=1"),
        Err(e) => {
            let now = product::service::get_product(&state.db, &page.actor, &p.id.to_string())
                .await
                .ok();
            let values = now.map(|n| (forms::values_of(&form.fields, &to_json(&n)), n.version));
            forms::refused(&page, form, typed, e, values)
        }
    }
}

// ---------------------------------------------------------------- families

const FAMILY_KEYS: &[&str] = &[
    "location_id",
    "poverty",
    "family_type",
    "address",
    "ethnicity",
    "confirmation_no",
    "confirmation_type",
    "is_offline",
    "version",
];

fn family_fields(page: &Page) -> Vec<Field> {
    let tr = &page.tr;
    vec![
        Field::new("address", tr.t("family-address"), Kind::Text),
        Field::new("poverty", tr.t("family-poverty"), Kind::Check),
        Field::new(
            "family_type",
            tr.t("family-type"),
            Kind::Choice(coded(
                page,
                "family-type",
                &["H", "C", "G", "O", "P", "S", "T"],
            )),
        ),
        Field::new("confirmation_no", tr.t("edit-confirmation-no"), Kind::Text),
    ]
}

pub async fn edit_family(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(registry::service::FAMILY_EDIT) {
        return super::error_page(&page, e);
    }
    let d = match registry::service::get_family(&state.db, &page.actor, &id).await {
        Ok(d) => d,
        Err(e) => return super::error_page(&page, e),
    };
    let f = &d.family.family;
    let name = d.family.head_last_name.clone().unwrap_or_default();
    let title = page.tr.t1("edit-title", "name", &name);
    let back = format!("/families/{}", f.id);
    let mut form = FormPage::new(
        &page,
        title,
        &back,
        format!("/families/{}/edit", f.id),
        family_fields(&page),
    );
    form.values = forms::values_of(&form.fields, &to_json(f));
    form.version = Some(f.version);
    form.respond(StatusCode::OK)
}

/// `POST /families/{id}/edit`: the family's address, poverty, type and confirmation number
/// (its village and head change through their own actions).
pub async fn update_family(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let typed = forms::parse(&body);
    let d = match registry::service::get_family(&state.db, &page.actor, &id).await {
        Ok(d) => d,
        Err(e) => return super::error_page(&page, e),
    };
    let f = &d.family.family;
    let name = d.family.head_last_name.clone().unwrap_or_default();
    let title = page.tr.t1("edit-title", "name", &name);
    let back = format!("/families/{}", f.id);
    let form = FormPage::new(
        &page,
        title,
        &back,
        format!("/families/{}/edit", f.id),
        family_fields(&page),
    );
    if !forms::csrf_ok(&page, &typed) {
        return csrf_refused(&page, form, typed);
    }
    let merged = match forms::merged(
        &page,
        &form.fields,
        &typed,
        input_of(&to_json(f), FAMILY_KEYS),
    ) {
        Ok(v) => v,
        Err(errors) => return with_errors(form, typed, errors, &page),
    };
    let saved = match forms::decode::<registry::model::FamilyInput>(&merged) {
        Ok(input) => {
            registry::service::update_family(&state.db, &page.actor, &f.id.to_string(), input).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => super::see_other(&format!("/families/{}?saved=1", f.id)),
        Err(e) => {
            let now = registry::service::get_family(&state.db, &page.actor, &f.id.to_string())
                .await
                .ok();
            let values = now.map(|n| {
                (
                    forms::values_of(&form.fields, &to_json(&n.family.family)),
                    n.family.family.version,
                )
            });
            forms::refused(&page, form, typed, e, values)
        }
    }
}
