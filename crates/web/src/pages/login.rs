//! Log in, log out, change password, choose the language.

use super::{error_of, field_errors, form_fields};
use crate::i18n::{self, Tr};
use crate::session::{self, CSRF, Page, SESSION, Sessions, cookie, safe_next};
use crate::{Chrome, html};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::Error;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    csrf: String,
    username: String,
    next: String,
    error: String,
    info: String,
}

fn login_page(
    status: StatusCode,
    tr: Tr,
    csrf: String,
    username: String,
    next: String,
    error: String,
    info: String,
) -> Response {
    html(
        status,
        LoginPage {
            tr,
            csrf,
            username,
            next,
            error,
            info,
        }
        .render(),
    )
}

/// The CSRF token of this browser, made when it has none (the login page sets it).
fn csrf_of(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, CSRF) {
        Some(c) => (c, false),
        None => (session::new_csrf(), true),
    }
}

pub async fn form(
    Extension(sessions): Extension<Sessions>,
    tr: Tr,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    let info = if q.contains_key("lapsed") {
        tr.t("login-expired")
    } else if q.contains_key("out") {
        tr.t("logged-out")
    } else if q.contains_key("next") {
        tr.t("login-needed")
    } else {
        String::new()
    };
    let next = safe_next(q.get("next").map(String::as_str));
    let mut r = login_page(
        StatusCode::OK,
        tr,
        csrf.clone(),
        String::new(),
        next,
        String::new(),
        info,
    );
    if fresh {
        r.headers_mut()
            .append(header::SET_COOKIE, sessions.cookie(CSRF, &csrf, true));
    }
    r
}

pub async fn submit(
    Extension(sessions): Extension<Sessions>,
    tr: Tr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (username, next) = (
        get("username"),
        safe_next(form.get("next").map(String::as_str)),
    );
    let (csrf, fresh) = csrf_of(&headers);
    if fresh || form.get("csrf") != Some(&csrf) {
        let mut r = login_page(
            StatusCode::FORBIDDEN,
            tr.clone(),
            csrf.clone(),
            username,
            next,
            tr.t("csrf-failed"),
            String::new(),
        );
        r.headers_mut()
            .append(header::SET_COOKIE, sessions.cookie(CSRF, &csrf, true));
        return r;
    }
    match sessions.auth.login(&username, &get("password")).await {
        Ok(login) => {
            // A new CSRF token for the new session; the session lapses after the idle time.
            let user = sessions
                .auth
                .actor(&login.token)
                .await
                .ok()
                .and_then(|a| a.user_id);
            let Some(token) = user.and_then(|u| sessions.token(u).ok()) else {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the session could not start",
                )
                    .into_response();
            };
            let mut r = super::see_other(&next);
            let h = r.headers_mut();
            h.append(header::SET_COOKIE, sessions.cookie(SESSION, &token, true));
            h.append(
                header::SET_COOKIE,
                sessions.cookie(CSRF, &session::new_csrf(), true),
            );
            r
        }
        Err(e) => {
            let (status, message) = match e {
                Error::TooManyRequests { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, tr.t("login-throttled"))
                }
                _ => (StatusCode::UNAUTHORIZED, tr.t("login-failed")),
            };
            login_page(status, tr, csrf, username, next, message, String::new())
        }
    }
}

pub async fn logout(page: Result<Page, Response>, body: Bytes) -> Response {
    let form = form_fields(&body);
    if let Ok(page) = &page
        && !page.csrf_ok(form.get("csrf").map(String::as_str))
    {
        return (StatusCode::FORBIDDEN, page.tr.t("csrf-failed")).into_response();
    }
    let mut r = super::see_other("/login?out=1");
    r.headers_mut()
        .append(header::SET_COOKIE, Sessions::expired(SESSION));
    r
}

/// `GET /language?to=fr&next=/families`: remember the language (a year) and go back.
pub async fn language(Query(q): Query<HashMap<String, String>>) -> Response {
    let to = Tr::new(q.get("to").map(String::as_str).unwrap_or("en")).code;
    let mut r = Redirect::to(&safe_next(q.get("next").map(String::as_str))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}={to}; Path=/; SameSite=Lax; Max-Age=31536000",
        i18n::COOKIE
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    errors: HashMap<String, String>,
    done: bool,
}

impl PasswordPage {
    fn error(&self, field: &str) -> String {
        error_of(&self.errors, field)
    }
}

pub async fn password_form(page: Page) -> Response {
    let chrome = Chrome::of(&page, page.tr.t("password-title"), "");
    html(
        StatusCode::OK,
        PasswordPage {
            chrome,
            errors: HashMap::new(),
            done: false,
        }
        .render(),
    )
}

pub async fn password_submit(
    Extension(auth): Extension<Arc<identity::auth::Auth>>,
    page: Page,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut errors = HashMap::new();
    let mut status = StatusCode::OK;
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        errors.insert("form".to_string(), page.tr.t("csrf-failed"));
    } else if get("new_password") != get("repeat_password") {
        errors.insert(
            "repeat_password".to_string(),
            page.tr.t("password-mismatch"),
        );
    } else {
        let change = identity::model::PasswordChange {
            current_password: get("current_password"),
            new_password: get("new_password"),
        };
        if let Err(e) = auth.change_password(&page.actor, change).await {
            if let Error::TooManyRequests { .. } = e {
                errors.insert("form".to_string(), page.tr.t("login-throttled"));
                status = StatusCode::TOO_MANY_REQUESTS;
            } else {
                match field_errors(
                    &page.tr,
                    &e,
                    &[
                        ("current_password", "current_password"),
                        ("new_password", "new_password"),
                    ],
                ) {
                    Some(found) => errors = found,
                    None => return super::error_page(&page, e),
                }
            }
        }
    }
    if !errors.is_empty() && status == StatusCode::OK {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let chrome = Chrome::of(&page, page.tr.t("password-title"), "");
    let done = errors.is_empty();
    html(
        status,
        PasswordPage {
            chrome,
            errors,
            done,
        }
        .render(),
    )
}
