//! The web UI for a scheme's staff at `/`: server-rendered pages (askama) over the same services
//! as the REST API, so every page checks the user's rights and districts there. htmx (vendored)
//! swaps list results in place; every page also works without it. English and French
//! ([`i18n`]); a cookie session with CSRF protection and an idle timeout ([`session`]).
//!
//! Layout: `pages/<screen>.rs` holds a screen's handlers and its template structs;
//! `templates/<screen>.html` its markup; `locales/<language>/main.ftl` every word shown.

pub mod i18n;
pub mod pages;
pub mod session;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use kernel::{AppState, Right};

pub use session::Config;

/// htmx, as published on npm (`htmx.org`, see `assets/README.md`).
const HTMX: &[u8] = include_bytes!("../assets/htmx-2.0.11.min.js");
const CSS: &[u8] = include_bytes!("../assets/bima.css");

/// The UI's routes, with the session middleware on them.
pub fn router(sessions: session::Sessions) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard::show))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route(
            "/password",
            get(pages::login::password_form).post(pages::login::password_submit),
        )
        .route("/language", get(pages::login::language))
        .route(
            "/families",
            get(pages::families::list).post(pages::families::create),
        )
        .route("/families/new", get(pages::families::new_form))
        .route("/families/{id}", get(pages::families::show))
        .route(
            "/families/{id}/edit",
            get(pages::edit::edit_family).post(pages::edit::update_family),
        )
        .route("/families/{id}/policies", post(pages::policies::enrol))
        .route("/families/{id}/members", post(pages::policies::add_member))
        .route("/insurees/{id}/card", get(pages::insurees::card))
        .route(
            "/insurees/{id}/edit",
            get(pages::insurees::edit_form).post(pages::insurees::save),
        )
        .route(
            "/insurees/{id}/photo",
            get(pages::insurees::photo).post(pages::insurees::change_photo),
        )
        .route("/policies/{id}/contributions", post(pages::policies::pay))
        .route(
            "/claims",
            get(pages::claims::list).post(pages::claims::create),
        )
        .route("/claims/new", get(pages::claims::new_form))
        .route("/claims/{id}", get(pages::claims::show))
        .route("/claims/{id}/submit", post(pages::claims::submit))
        .route("/claims/{id}/review", post(pages::review::review))
        .route("/claims/{id}/feedback", post(pages::review::ask_feedback))
        .route(
            "/claims/{id}/feedback/answers",
            post(pages::review::deliver_feedback),
        )
        .route("/policies/{id}/renew", post(pages::review::renew))
        .route(
            "/static/htmx-2.0.11.min.js",
            get(|| asset(HTMX, "text/javascript")),
        )
        .route("/static/bima.css", get(|| asset(CSS, "text/css")))
        .route(
            "/locations",
            get(pages::registers::locations).post(pages::edit::create_location),
        )
        .route("/locations/new", get(pages::edit::new_location))
        .route(
            "/locations/{id}/edit",
            get(pages::edit::edit_location).post(pages::edit::update_location),
        )
        .route(
            "/health-facilities",
            get(pages::registers::facilities).post(pages::edit::create_facility),
        )
        .route("/health-facilities/new", get(pages::edit::new_facility))
        .route(
            "/health-facilities/{id}/edit",
            get(pages::edit::edit_facility).post(pages::edit::update_facility),
        )
        .route("/products", get(pages::registers::products))
        .route(
            "/products/{id}/edit",
            get(pages::edit::edit_product).post(pages::edit::update_product),
        )
        .route("/roles/new", get(pages::edit::new_role))
        .route(
            "/roles/{id}/edit",
            get(pages::edit::edit_role).post(pages::edit::update_role),
        )
        .route(
            "/users/{id}/edit",
            get(pages::edit::edit_user).post(pages::edit::update_user),
        )
        .route(
            "/users",
            get(pages::registers::users).post(pages::users::create),
        )
        .route("/users/new", get(pages::users::new_form))
        .route(
            "/roles",
            get(pages::registers::roles).post(pages::edit::create_role),
        )
        .route(
            "/batch-runs",
            get(pages::registers::batch_runs).post(pages::registers::start_batch_run),
        )
        .route("/review", get(pages::registers::review))
        .route("/history/{entity}/{id}", get(pages::registers::history))
        .layer(axum::middleware::from_fn_with_state(
            sessions.clone(),
            session::from_cookie,
        ))
        .layer(axum::Extension(sessions))
        // Slow links: pages and assets travel gzipped.
        .layer(tower_http::compression::CompressionLayer::new())
}

/// An embedded asset, cached for a day (its name changes with its version).
async fn asset(bytes: &'static [u8], kind: &'static str) -> Response {
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

/// A rendered template as an HTML response.
pub(crate) fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            // Pages hold personal data: never kept by a shared cache.
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// One entry of the menu.
pub struct MenuItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// What every page's frame shows: the menu the user's rights allow, the user, the language
/// switch, the CSRF token.
pub struct Chrome {
    pub tr: i18n::Tr,
    pub title: String,
    pub menu: Vec<MenuItem>,
    pub username: String,
    pub csrf: String,
    pub here: String,
}

/// The screens, each shown to users holding its right.
const SCREENS: &[(&str, &str, Option<Right>)] = &[
    ("/", "nav-dashboard", None),
    (
        "/families",
        "nav-families",
        Some(registry::service::FAMILY_SEARCH),
    ),
    ("/claims", "nav-claims", Some(claim::service::CLAIM_SEARCH)),
    ("/review", "nav-review", Some(claim::service::CLAIM_REVIEW)),
    (
        "/batch-runs",
        "nav-batch-runs",
        Some(claim::service::BATCH_SEARCH),
    ),
    ("/locations", "nav-locations", Some(Right::LOCATION_SEARCH)),
    (
        "/health-facilities",
        "nav-facilities",
        Some(Right::HF_SEARCH),
    ),
    (
        "/products",
        "nav-products",
        Some(product::service::PRODUCT_SEARCH),
    ),
    ("/users", "nav-users", Some(Right::USER_SEARCH)),
    ("/roles", "nav-roles", Some(Right::ROLE_SEARCH)),
];

impl Chrome {
    pub fn of(page: &session::Page, title: String, current: &str) -> Chrome {
        let menu = SCREENS
            .iter()
            .filter(|(_, _, right)| right.is_none_or(|r| page.actor.has(r)))
            .map(|(href, key, _)| MenuItem {
                href,
                label: page.tr.t(key),
                current: *href == current,
            })
            .collect();
        Chrome {
            tr: page.tr.clone(),
            title,
            menu,
            username: page.actor.username.clone(),
            csrf: page.csrf.clone(),
            here: page.here.clone(),
        }
    }
}
