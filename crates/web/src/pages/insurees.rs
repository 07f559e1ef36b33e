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
