//! The UI's languages: Fluent files under `locales/<language>/`, embedded in the binary. A
//! language pack is one more folder with a `main.ftl` (and its name in `LANGUAGES`). The browser's
//! `Accept-Language` picks the default; the switch in the header sets the `lang` cookie, which
//! wins from then on.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use fluent_templates::{LanguageIdentifier, Loader};
use std::collections::HashMap;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: these pages are left to right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages offered: (code, name in that language).
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("fr", "Français")];

/// The cookie that remembers the language chosen.
pub const COOKIE: &str = "bima_lang";

/// Translations in one language, for a page.
#[derive(Debug, Clone)]
pub struct Tr {
    pub code: &'static str,
    id: LanguageIdentifier,
}

impl Tr {
    pub fn new(code: &str) -> Tr {
        let code = LANGUAGES
            .iter()
            .map(|(c, _)| *c)
            .find(|c| *c == code)
            .unwrap_or("en");
        Tr {
            code,
            id: code.parse().unwrap_or_default(),
        }
    }

    /// The text of `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.id, key)
    }

    /// The text of `key` with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args = HashMap::new();
        args.insert(std::borrow::Cow::Borrowed(name), value.to_string().into());
        LOCALES.lookup_with_args(&self.id, key, &args)
    }

    /// A coded value in words: `kind-code` (`claim-status-checked`), else the code itself.
    pub fn code(&self, kind: &str, code: &str) -> String {
        let key = format!("{kind}-{}", code.to_lowercase());
        LOCALES
            .try_lookup(&self.id, &key)
            .unwrap_or_else(|| code.to_string())
    }

    /// The other languages, for the switch.
    pub fn others(&self) -> Vec<(&'static str, &'static str)> {
        LANGUAGES
            .iter()
            .copied()
            .filter(|(c, _)| *c != self.code)
            .collect()
    }
}

/// The language of a request: the cookie, else the first of `Accept-Language` offered here.
pub fn negotiate(headers: &HeaderMap) -> Tr {
    if let Some(chosen) = crate::session::cookie(headers, COOKIE) {
        return Tr::new(&chosen);
    }
    let accepted = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut ranked: Vec<(f32, &str)> = accepted
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            Some((q, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, tag) in ranked {
        let primary = tag.split('-').next().unwrap_or(tag).to_lowercase();
        if LANGUAGES.iter().any(|(c, _)| *c == primary) {
            return Tr::new(&primary);
        }
    }
    Tr::new("en")
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(negotiate(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn the_browser_picks_the_default_and_the_cookie_wins() {
        assert_eq!(negotiate(&HeaderMap::new()).code, "en");
        assert_eq!(
            negotiate(&with("accept-language", "fr-FR,fr;q=0.9")).code,
            "fr"
        );
        assert_eq!(
            negotiate(&with("accept-language", "de;q=1, fr;q=0.5, en;q=0.8")).code,
            "en"
        );
        assert_eq!(negotiate(&with("accept-language", "sw, de")).code, "en");
        assert_eq!(negotiate(&with("cookie", "a=b; bima_lang=fr")).code, "fr");
        assert_eq!(negotiate(&with("cookie", "bima_lang=xx")).code, "en");
    }

    /// Every key of the English file is in every other language: nothing shows in English by
    /// accident.
    #[test]
    fn every_language_has_every_key() {
        let keys = |lang: &str| -> Vec<String> {
            let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
                .filter(|k| !k.starts_with('#') && !k.is_empty() && !k.starts_with(' '))
                .collect()
        };
        let english = keys("en");
        assert!(english.len() > 50, "{}", english.len());
        for (lang, _) in LANGUAGES.iter().filter(|(c, _)| *c != "en") {
            let theirs = keys(lang);
            let missing: Vec<&String> = english.iter().filter(|k| !theirs.contains(k)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
        let fr = Tr::new("fr");
        assert_eq!(fr.t("nav-families"), "Familles et assurés");
        assert_eq!(fr.t1("claims-total", "count", "3"), "3 demandes");
        assert_eq!(fr.code("claim-status", "rejected"), "Rejetée");
        assert_eq!(
            Tr::new("en").code("claim-status", "unknown-thing"),
            "unknown-thing"
        );
    }
}
