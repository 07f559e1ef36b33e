//! A new user: their names, a first password, a role and the districts they work in.

use super::{error_of, field_errors, form_fields};
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kernel::{AppState, Error, PageParams, Right};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage {
    chrome: Chrome,
    roles: Vec<(Uuid, String)>,
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl NewUserPage {
    fn value(&self, field: &str) -> String {
        self.form.get(field).cloned().unwrap_or_default()
    }

    fn error(&self, field: &str) -> String {
        error_of(&self.errors, field)
    }
}

async fn new_user_page(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
) -> Response {
    let roles = match identity::service::list_roles(
        &state.db,
        &page.actor,
        None,
        None,
        PageParams::new(Some(1), Some(100)),
    )
    .await
    {
        Ok(r) => r.items.into_iter().map(|r| (r.id, r.name)).collect(),
        Err(e) => return super::error_page(page, e),
    };
    let body = NewUserPage {
        chrome: Chrome::of(page, page.tr.t("user-new-title"), "/users"),
        roles,
        form,
        errors,
    };
    html(status, body.render())
}

pub async fn new_form(State(state): State<AppState>, page: Page) -> Response {
    if let Err(e) = page.actor.require(Right::USER_ADD) {
        return super::error_page(&page, e);
    }
    new_user_page(
        &state,
        &page,
        StatusCode::OK,
        HashMap::new(),
        HashMap::new(),
    )
    .await
}

/// `POST /users`.
pub async fn create(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    let form = form_fields(&body);
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = HashMap::new();
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        errors.insert("form".to_string(), page.tr.t("csrf-failed"));
        return new_user_page(&state, &page, StatusCode::FORBIDDEN, form, errors).await;
    }
    // The districts by their codes.
    let districts = match super::locations_named(&state, &page, &get("districts"), true).await {
        Ok(ids) => ids,
        Err(super::Unnamed::Missing(code)) => {
            errors.insert(
                "districts".into(),
                page.tr.t1("user-new-no-district", "code", &code),
            );
            Vec::new()
        }
        Err(super::Unnamed::Failed(e)) => return super::error_page(&page, e),
    };
    if !errors.is_empty() {
        return new_user_page(
            &state,
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            errors,
        )
        .await;
    }
    let input = identity::model::UserInput {
        username: get("username"),
        password: Some(get("password")).filter(|p| !p.is_empty()),
        last_name: get("last_name"),
        other_names: get("other_names"),
        email: None,
        phone: None,
        language: Some(get("language")).filter(|l| !l.is_empty()),
        health_facility_id: None,
        role_ids: Uuid::parse_str(&get("role_id")).into_iter().collect(),
        district_ids: districts,
        active: Some(true),
        version: None,
    };
    match identity::service::create_user(&state.db, &page.actor, input).await {
        Ok(u) => {
            let to = format!(
                "/users?q={}&created=1",
                form_urlencoded::byte_serialize(u.last_name.as_bytes()).collect::<String>()
            );
            super::see_other(&to)
        }
        Err(e) => {
            let fields = [
                ("username", "username"),
                ("password", "password"),
                ("last_name", "last_name"),
                ("other_names", "other_names"),
                ("role_ids", "role_id"),
                ("district_ids", "districts"),
                ("language", "language"),
            ];
            match field_errors(&page.tr, &e, &fields) {
                Some(found) => {
                    new_user_page(&state, &page, StatusCode::UNPROCESSABLE_ENTITY, form, found)
                        .await
                }
                None => match e {
                    Error::Conflict { message, .. } => {
                        let errors = HashMap::from([("username".to_string(), message)]);
                        new_user_page(&state, &page, StatusCode::CONFLICT, form, errors).await
                    }
                    e => super::error_page(&page, e),
                },
            }
        }
    }
}
