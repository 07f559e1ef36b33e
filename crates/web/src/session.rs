//! The UI's session: the same signed token the API answers at login, kept in an HttpOnly,
//! SameSite=Strict cookie and renewed on every page, so that it lapses after `idle_minutes`
//! without a request (the idle timeout). The account is checked on every request as for the
//! API: a disabled user is out at the next click. Forms carry a CSRF token that must equal the
//! `bima_csrf` cookie (double submit); with SameSite=Strict a page of another site can neither
//! read nor send it.

use crate::i18n::Tr;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use identity::auth::Auth;
use kernel::Actor;
use std::sync::Arc;

pub const SESSION: &str = "bima_session";
pub const CSRF: &str = "bima_csrf";

/// What the UI is configured with (`[web]` in bima.toml).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: i64,
    /// Send cookies only over HTTPS (set behind a TLS proxy).
    pub secure_cookies: bool,
    /// A folder of language packs read at start (`sw/main.ftl`…; see `i18n`).
    pub locales_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_minutes: 30,
            secure_cookies: false,
            locales_dir: None,
        }
    }
}

/// What the session middleware needs.
#[derive(Clone)]
pub struct Sessions {
    pub auth: Arc<Auth>,
    pub config: Config,
}

impl Sessions {
    fn idle(&self) -> time::Duration {
        time::Duration::minutes(self.config.idle_minutes.max(1))
    }

    /// A `Set-Cookie` value.
    pub fn cookie(&self, name: &str, value: &str, http_only: bool) -> HeaderValue {
        let max_age = self.idle().whole_seconds();
        let mut c = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={max_age}");
        if http_only {
            c.push_str("; HttpOnly");
        }
        if self.config.secure_cookies {
            c.push_str("; Secure");
        }
        HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The `Set-Cookie` that ends a cookie.
    pub fn expired(name: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("{name}=; Path=/; SameSite=Strict; Max-Age=0"))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// A new session token for `user`, valid for the idle time.
    pub fn token(&self, user: uuid::Uuid) -> kernel::Result<String> {
        Ok(self.auth.issue_for(user, self.idle())?.token)
    }
}

/// The value of cookie `name` in a request's headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Why a request has no session (shown on the login page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapsed {
    /// The token ran out: idle too long.
    Expired,
    /// The account was disabled, or the token is not ours.
    Refused,
}

/// Middleware on the UI's routes: the session cookie's account becomes the request's `Actor`
/// (unless a bearer token already made one), and the response renews the cookie.
pub async fn from_cookie(
    State(sessions): State<Sessions>,
    mut request: Request,
    next: Next,
) -> Response {
    let mut renew = None;
    if request.extensions().get::<Actor>().is_none()
        && let Some(token) = cookie(request.headers(), SESSION)
    {
        match sessions.auth.actor(&token).await {
            Ok(actor) => {
                renew = actor.user_id;
                request.extensions_mut().insert(actor);
            }
            Err(kernel::Error::Unauthorized { code, .. }) => {
                request.extensions_mut().insert(if code == "token_expired" {
                    Lapsed::Expired
                } else {
                    Lapsed::Refused
                });
            }
            Err(e) => return e.into_response(),
        }
    }
    let mut response = next.run(request).await;
    // A response that set the session itself (login, logout) keeps what it set.
    let set_by_page = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(SESSION)));
    if let Some(user) = renew.filter(|_| !set_by_page)
        && let Ok(token) = sessions.token(user)
    {
        response
            .headers_mut()
            .append(header::SET_COOKIE, sessions.cookie(SESSION, &token, true));
    }
    response
}

/// A page for a logged-in user: the actor, the language, the CSRF token for its forms and the
/// path asked for. Without a session, the browser is sent to the login page (with the path to
/// come back to).
pub struct Page {
    pub actor: Actor,
    pub tr: Tr,
    pub csrf: String,
    /// The path and query, for the language switch to come back to.
    pub here: String,
}

impl Page {
    /// Is `sent` this session's CSRF token? (Compared in constant time.)
    pub fn csrf_ok(&self, sent: Option<&str>) -> bool {
        let Some(sent) = sent else { return false };
        let (a, b) = (sent.as_bytes(), self.csrf.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Where to come back to after logging in: a path of this site only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_redirect(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let lapsed = match parts.extensions.get::<Lapsed>() {
        Some(Lapsed::Expired) => "&lapsed=1",
        _ => "",
    };
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    let to = format!("/login?next={next}{lapsed}");
    if parts.headers.contains_key("hx-request") {
        // htmx follows this header with a full page load.
        let mut r = Response::new(axum::body::Body::empty());
        if let Ok(v) = HeaderValue::from_str(&to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        return r;
    }
    Redirect::to(&to).into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(actor) = parts.extensions.get::<Actor>().cloned() else {
            return Err(login_redirect(parts));
        };
        let Some(csrf) = cookie(&parts.headers, CSRF) else {
            return Err(login_redirect(parts));
        };
        Ok(Page {
            actor,
            tr: crate::i18n::negotiate(&parts.headers),
            csrf,
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
        })
    }
}

/// A fresh CSRF token.
pub fn new_csrf() -> String {
    use rand::Rng;
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_come_back_to() {
        assert_eq!(
            safe_next(Some("/claims?status=checked")),
            "/claims?status=checked"
        );
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("bima_lang=fr; bima_csrf=abc; empty="),
        );
        assert_eq!(cookie(&h, CSRF).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "bima_lang").as_deref(), Some("fr"));
        assert_eq!(cookie(&h, "empty"), None);
        assert_eq!(cookie(&h, SESSION), None);
    }
}
