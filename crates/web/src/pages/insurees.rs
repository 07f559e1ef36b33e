//! An insuree's card, to print: name, number, birth date, photo and a QR code of the insurance
//! number (what openIMIS's mobile apps scan). The photo is shown and changed here too.

use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::AppState;
use registry::model::InsureeDetail;
use std::collections::HashMap;
use std::sync::Arc;

/// The QR code of `text` as inline SVG (no XML prolog), `size` pixels at least.
pub fn qr_svg(text: &str, size: u32) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size, size)
        .build();
    svg.find("<svg").map(|at| svg[at..].to_string())
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    chrome: Chrome,
    detail: InsureeDetail,
    /// Trusted markup: made by `qr_svg` from the insurance number, no user text in it.
    qr: String,
    gender: String,
    can_change_photo: bool,
    notice: String,
    refusal: String,
}

async fn card_page(
    state: &AppState,
    hooks: registry::service::PolicyHooks,
    page: &Page,
    id: &str,
    notice: String,
    refusal: String,
) -> Response {
    let detail = match registry::service::get_insuree(&state.db, &page.actor, hooks, id).await {
        Ok(d) => d,
        Err(e) => return super::error_page(page, e),
    };
    let name = format!(
        "{} {}",
        detail.insuree.other_names, detail.insuree.last_name
    );
    CardPage {
        chrome: Chrome::of(page, page.tr.t1("card-title", "name", &name), "/families"),
        qr: qr_svg(&detail.insuree.chfid, 160).unwrap_or_default(),
        gender: page.tr.code("insuree-gender", detail.insuree.gender.code()),
        can_change_photo: page.actor.has(registry::service::INSUREE_EDIT),
        detail,
        notice,
        refusal,
    }
    .with_status()
}

impl CardPage {
    fn with_status(self) -> Response {
        let status = if self.refusal.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        html(status, self.render())
    }
}

pub async fn card(
    State(state): State<AppState>,
    Extension(hooks): Extension<registry::service::PolicyHooks>,
    page: Page,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let notice = if params.contains_key("photo") {
        page.tr.t("photo-changed")
    } else if params.contains_key("saved") {
        page.tr.t("insuree-saved")
    } else {
        String::new()
    };
    card_page(&state, hooks, &page, &id, notice, String::new()).await
}

/// The insuree's photo, for the card.
pub async fn photo(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    match registry::service::get_photo(&state.db, &page.actor, &id).await {
        Ok(p) => {
            let mut r = p.bytes.into_response();
            if let Ok(v) = HeaderValue::from_str(&p.content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            r
        }
        Err(e) => super::error_page(&page, e),
    }
}

/// `POST /insurees/{id}/photo`: a new photo (a JPEG or PNG file of at most the registry's size).
pub async fn change_photo(
    State(state): State<AppState>,
    Extension(hooks): Extension<registry::service::PolicyHooks>,
    Extension(config): Extension<Arc<registry::config::Config>>,
    page: Page,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let (mut csrf, mut file) = (None, None);
    let max = config.photo_max_bytes;
    let mut too_large = false;
    while let Ok(Some(mut field)) = form.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("photo") => {
                let mut bytes = Vec::new();
                while let Ok(Some(chunk)) = field.chunk().await {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > max {
                        too_large = true;
                        break;
                    }
                }
                file = Some(bytes);
            }
            _ => {}
        }
    }
    if !page.csrf_ok(csrf.as_deref()) {
        let r = page.tr.t("csrf-failed");
        return card_page(&state, hooks, &page, &id, String::new(), r).await;
    }
    if too_large {
        let r = page
            .tr
            .t1("photo-too-large", "max", &(max / 1024).to_string());
        return card_page(&state, hooks, &page, &id, String::new(), r).await;
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let r = page.tr.t("photo-missing");
        return card_page(&state, hooks, &page, &id, String::new(), r).await;
    };
    match registry::service::put_photo(&state.db, &page.actor, &id, None, &bytes, None).await {
        Ok(i) => super::see_other(&format!("/insurees/{}/card?photo=1", i.id)),
        Err(e @ kernel::Error::Invalid(_)) => {
            let r = super::refusal(&e).unwrap_or_default();
            card_page(&state, hooks, &page, &id, String::new(), r).await
        }
        Err(e) => super::error_page(&page, e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = super::qr_svg("070707070", 160).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("viewBox"));
        assert!(!svg.contains("070707070"), "no text in the markup");
    }
}

// ---------------------------------------------------------------- editing

/// The fields the edit form changes; the others keep what the record holds.
const EDITED: [&str; 7] = [
    "last_name",
    "other_names",
    "gender",
    "dob",
    "phone",
    "email",
    "current_address",
];

/// A saved record's value of an edited field, as the form shows it.
fn shown(i: &registry::model::Insuree, field: &str) -> String {
    match field {
        "last_name" => i.last_name.clone(),
        "other_names" => i.other_names.clone(),
        "gender" => i.gender.code().to_string(),
        "dob" => i.dob.to_string(),
        "phone" => i.phone.clone().unwrap_or_default(),
        "email" => i.email.clone().unwrap_or_default(),
        "current_address" => i.current_address.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

#[derive(Template)]
#[template(path = "insuree_edit.html")]
struct EditPage {
    chrome: Chrome,
    insuree: registry::model::Insuree,
    /// What the form shows: the record, or what the user typed when a save was refused.
    values: HashMap<String, String>,
    /// The version the next save is made against.
    version: i64,
    message: String,
    errors: HashMap<String, String>,
    /// After a conflict: the values saved meanwhile by someone else, where they differ.
    theirs: HashMap<String, String>,
}

impl EditPage {
    fn value(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }
    fn error(&self, field: &str) -> String {
        super::error_of(&self.errors, field)
    }
    fn saved_meanwhile(&self, field: &str) -> String {
        self.theirs.get(field).cloned().unwrap_or_default()
    }
}

fn edit_page(
    page: &Page,
    insuree: registry::model::Insuree,
    values: Option<HashMap<String, String>>,
    status: StatusCode,
    message: String,
    errors: HashMap<String, String>,
    theirs: HashMap<String, String>,
) -> Response {
    let name = format!("{} {}", insuree.other_names, insuree.last_name);
    let values = values.unwrap_or_else(|| {
        EDITED
            .iter()
            .map(|f| (f.to_string(), shown(&insuree, f)))
            .collect()
    });
    let body = EditPage {
        chrome: Chrome::of(
            page,
            page.tr.t1("insuree-edit-title", "name", &name),
            "/families",
        ),
        version: insuree.version,
        insuree,
        values,
        message,
        errors,
        theirs,
    }
    .render();
    html(status, body)
}

/// `GET /insurees/{id}/edit`: the person's details, to change.
pub async fn edit_form(
    State(state): State<AppState>,
    Extension(hooks): Extension<registry::service::PolicyHooks>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = page.actor.require(registry::service::INSUREE_EDIT) {
        return super::error_page(&page, e);
    }
    match registry::service::get_insuree(&state.db, &page.actor, hooks, &id).await {
        Ok(d) => edit_page(
            &page,
            d.insuree,
            None,
            StatusCode::OK,
            String::new(),
            HashMap::new(),
            HashMap::new(),
        ),
        Err(e) => super::error_page(&page, e),
    }
}

/// `POST /insurees/{id}/edit`: save the changes at the version the form was loaded with. If
/// someone saved the person meanwhile, nothing is overwritten: the form comes back with what
/// this user typed, what the other saved beside each field that differs, and the new version,
/// so that saving again is a choice made knowingly.
pub async fn save(
    State(state): State<AppState>,
    Extension(hooks): Extension<registry::service::PolicyHooks>,
    Extension(config): Extension<Arc<registry::config::Config>>,
    page: Page,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = super::form_fields(&body);
    let typed: HashMap<String, String> = EDITED
        .iter()
        .map(|f| {
            let v = form
                .get(*f)
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            (f.to_string(), v)
        })
        .collect();
    let current = match registry::service::get_insuree(&state.db, &page.actor, hooks, &id).await {
        Ok(d) => d.insuree,
        Err(e) => return super::error_page(&page, e),
    };
    let refuse = |insuree, status, message, errors, theirs| {
        edit_page(
            &page,
            insuree,
            Some(typed.clone()),
            status,
            message,
            errors,
            theirs,
        )
    };
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        let m = page.tr.t("csrf-failed");
        return refuse(
            current,
            StatusCode::FORBIDDEN,
            m,
            HashMap::new(),
            HashMap::new(),
        );
    }
    let loaded: Option<i64> = form.get("version").and_then(|v| v.trim().parse().ok());
    let mut errors = HashMap::new();
    for field in ["last_name", "other_names", "gender", "dob"] {
        if typed[field].is_empty() {
            errors.insert(field.to_string(), page.tr.t("form-required"));
        }
    }
    let dob = super::day(&typed["dob"]);
    if dob.is_none() && !errors.contains_key("dob") {
        errors.insert("dob".into(), page.tr.t("error-invalid"));
    }
    let gender = registry::model::Gender::from_code(&typed["gender"]);
    if gender.is_none() && !errors.contains_key("gender") {
        errors.insert("gender".into(), page.tr.t("error-invalid"));
    }
    let (Some(dob), Some(gender), Some(loaded), true) = (dob, gender, loaded, errors.is_empty())
    else {
        let m = page.tr.t("form-errors");
        return refuse(
            current,
            StatusCode::UNPROCESSABLE_ENTITY,
            m,
            errors,
            HashMap::new(),
        );
    };
    let optional = |f: &str| Some(typed[f].clone()).filter(|v| !v.is_empty());
    let mut input = current.as_input();
    input.last_name = typed["last_name"].clone();
    input.other_names = typed["other_names"].clone();
    input.gender = gender;
    input.dob = dob;
    input.phone = optional("phone");
    input.email = optional("email");
    input.current_address = optional("current_address");
    input.version = Some(loaded);
    match registry::service::update_insuree(&state.db, &page.actor, &config, &id, input).await {
        Ok(saved) => super::see_other(&format!("/insurees/{}/card?saved=1", saved.id)),
        Err(kernel::Error::Conflict {
            code: "stale_version",
            ..
        }) => {
            // Another officer saved first: show what they saved, keep what this one typed.
            let theirs = EDITED
                .iter()
                .filter(|f| shown(&current, f) != typed[**f])
                .map(|f| (f.to_string(), shown(&current, f)))
                .collect();
            let m = page.tr.t("edit-stale");
            refuse(current, StatusCode::CONFLICT, m, HashMap::new(), theirs)
        }
        Err(e) => {
            let fields = EDITED.map(|f| (f, f));
            match super::field_errors(&page.tr, &e, &fields) {
                Some(found) => {
                    let m = page.tr.t("form-errors");
                    refuse(
                        current,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        m,
                        found,
                        HashMap::new(),
                    )
                }
                None => match super::refusal(&e) {
                    Some(m) => refuse(
                        current,
                        StatusCode::CONFLICT,
                        m,
                        HashMap::new(),
                        HashMap::new(),
                    ),
                    None => super::error_page(&page, e),
                },
            }
        }
    }
}
