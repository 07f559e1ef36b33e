//! The screens, one file each.

pub mod claims;
pub mod dashboard;
pub mod edit;
pub mod families;
pub mod forms;
pub mod insurees;
pub mod login;
pub mod policies;
pub mod registers;
pub mod review;
pub mod users;

use crate::i18n::Tr;
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kernel::Error;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    message: String,
}

/// A service's refusal as a page in the user's language.
pub(crate) fn error_page(page: &Page, error: Error) -> Response {
    let (status, message) = match &error {
        Error::NotFound { .. } | Error::Gone { .. } => {
            (StatusCode::NOT_FOUND, page.tr.t("not-found"))
        }
        Error::Forbidden { .. } => (StatusCode::FORBIDDEN, page.tr.t("forbidden")),
        // An address the user typed wrong: what is wrong with it, in the service's words.
        Error::Invalid(_) => (StatusCode::BAD_REQUEST, refusal(&error).unwrap_or_default()),
        Error::Conflict { .. } => (StatusCode::CONFLICT, refusal(&error).unwrap_or_default()),
        _ => {
            tracing::error!(error = %error, "a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, page.tr.t("error-title"))
        }
    };
    let chrome = Chrome::of(page, page.tr.t("error-title"), "");
    html(status, ErrorPage { chrome, message }.render())
}

/// A service's refusal of a form as one sentence: the invalid fields' messages, or a conflict's;
/// `None` for any other error (shown as an error page).
pub(crate) fn refusal(error: &Error) -> Option<String> {
    match error {
        Error::Invalid(fields) => Some(
            fields
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::Conflict { message, .. } => Some(message.clone()),
        _ => None,
    }
}

/// Why codes typed in a form do not give locations.
pub(crate) enum Unnamed {
    /// No location (the user may see) has this code.
    Missing(String),
    Failed(Error),
}

/// The locations a form names by their codes (or ids): the whole text as one code, or with
/// `many` several separated by commas or spaces. Empty text names none.
pub(crate) async fn locations_named(
    state: &kernel::AppState,
    page: &Page,
    text: &str,
    many: bool,
) -> Result<Vec<uuid::Uuid>, Unnamed> {
    let text = text.trim();
    let codes: Vec<&str> = if many {
        text.split([',', ' ']).filter(|c| !c.is_empty()).collect()
    } else {
        Some(text).filter(|t| !t.is_empty()).into_iter().collect()
    };
    let mut ids = Vec::with_capacity(codes.len());
    for code in codes {
        match location::service::get_location(&state.db, &page.actor, code).await {
            Ok(l) => ids.push(l.id),
            Err(Error::NotFound { .. }) => return Err(Unnamed::Missing(code.to_string())),
            Err(e) => return Err(Unnamed::Failed(e)),
        }
    }
    Ok(ids)
}

/// After a saved form: `303 See Other` to the page that shows the result.
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    *r.status_mut() = StatusCode::SEE_OTHER;
    r
}

/// A day as a form's date field sends it (`YYYY-MM-DD`).
pub(crate) fn day(text: &str) -> Option<time::Date> {
    time::Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The errors of a refused form, by form field: each in the user's language where its code has
/// words, else the service's own sentence. `fields` maps the service's field names to the
/// form's.
pub(crate) fn field_errors(
    tr: &Tr,
    error: &Error,
    fields: &[(&str, &str)],
) -> Option<HashMap<String, String>> {
    let Error::Invalid(found) = error else {
        return None;
    };
    let mut out = HashMap::new();
    for f in found {
        let field = fields
            .iter()
            .find(|(service, _)| *service == f.field)
            .map(|(_, form)| form.to_string())
            .unwrap_or_else(|| "form".to_string());
        let text = match tr.code("error", &f.code) {
            t if t == f.code => f.message.clone(),
            t => t,
        };
        out.entry(field).or_insert(text);
    }
    Some(out)
}

/// The error of one field, for a template (empty when none).
pub(crate) fn error_of(errors: &HashMap<String, String>, field: &str) -> String {
    errors.get(field).cloned().unwrap_or_default()
}

/// A form's fields as sent.
pub(crate) fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A whole number with its thousands grouped: 12345 → "12,345".
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Money in minor units as the scheme writes it: 1234567 → "12,345.67".
pub(crate) fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:02}", grouped(minor / 100), minor % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_is_grouped_with_two_decimals() {
        assert_eq!(super::money(0), "0.00");
        assert_eq!(super::money(1234567), "12,345.67");
        assert_eq!(super::money(-500), "-5.00");
        assert_eq!(super::money(100_000_000), "1,000,000.00");
    }
}
