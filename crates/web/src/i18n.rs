//! The UI's languages: Fluent files under `locales/<language>/`, embedded in the binary, and
//! language packs added without a rebuild: `[web] locales_dir` (`BIMA_WEB__LOCALES_DIR`), one
//! folder per language (`sw/main.ftl`) whose `language-name` says its name, read when the
//! server starts. A pack may also override an embedded language; a key it lacks falls back to
//! the embedded language, then to English. The browser's `Accept-Language` picks the default;
//! the switch in the header sets the `lang` cookie, which wins from then on.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use fluent_templates::{ArcLoader, LanguageIdentifier, Loader};
use std::collections::HashMap;
use std::sync::OnceLock;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: these pages are left to right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages embedded in the binary: (code, name in that language).
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("fr", "Français")];

/// The language packs read at start, once.
struct Packs {
    loader: ArcLoader,
    /// The packs' languages not embedded: (code, name), for the switch.
    added: Vec<(&'static str, &'static str)>,
    /// Every language a pack holds (added or overriding).
    codes: Vec<&'static str>,
}

static PACKS: OnceLock<Packs> = OnceLock::new();

/// Read the language packs of `dir` (once per process; later calls change nothing). Answers
/// the languages read, or why the folder could not be.
pub fn load_packs(dir: &std::path::Path) -> Result<Vec<String>, String> {
    let loader = ArcLoader::builder(dir, fluent_templates::langid!("en"))
        .customize(|bundle| bundle.set_use_isolating(false))
        .build()
        .map_err(|e| {
            format!(
                "the language packs in {} cannot be read: {e}",
                dir.display()
            )
        })?;
    let mut codes: Vec<&'static str> = Vec::new();
    let mut added = Vec::new();
    let mut found: Vec<LanguageIdentifier> = loader.locales().cloned().collect();
    found.sort_by_key(|l| l.to_string());
    for lang in found {
        let code: &'static str = Box::leak(lang.to_string().into_boxed_str());
        codes.push(code);
        if !LANGUAGES.iter().any(|(c, _)| *c == code) {
            let name = loader
                .lookup_single_language::<&str>(&lang, "language-name", None)
                .unwrap_or_else(|_| code.to_string());
            added.push((code, &*Box::leak(name.into_boxed_str())));
        }
    }
    let read = codes.iter().map(|c| c.to_string()).collect();
    let _ = PACKS.set(Packs {
        loader,
        added,
        codes,
    });
    Ok(read)
}

/// Every language offered: the embedded ones, then the packs'.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    let mut all = LANGUAGES.to_vec();
    if let Some(p) = PACKS.get() {
        all.extend(p.added.iter().copied());
    }
    all
}

/// The pack holding `code`, if any.
fn pack(code: &str) -> Option<&'static ArcLoader> {
    PACKS
        .get()
        .filter(|p| p.codes.contains(&code))
        .map(|p| &p.loader)
}

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
        let code = languages()
            .into_iter()
            .map(|(c, _)| c)
            .find(|c| *c == code)
            .unwrap_or("en");
        Tr {
            code,
            id: code.parse().unwrap_or_default(),
        }
    }

    /// A key in this language's pack, if it has one that holds the key.
    fn in_pack(
        &self,
        key: &str,
        args: Option<
            &HashMap<std::borrow::Cow<'static, str>, fluent_templates::fluent_bundle::FluentValue>,
        >,
    ) -> Option<String> {
        pack(self.code)?
            .lookup_single_language(&self.id, key, args)
            .ok()
    }

    /// The text of `key`.
    pub fn t(&self, key: &str) -> String {
        self.in_pack(key, None)
            .unwrap_or_else(|| LOCALES.lookup(&self.id, key))
    }

    /// The text of `key` with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args = HashMap::new();
        args.insert(std::borrow::Cow::Borrowed(name), value.to_string().into());
        self.in_pack(key, Some(&args))
            .unwrap_or_else(|| LOCALES.lookup_with_args(&self.id, key, &args))
    }

    /// A coded value in words: `kind-code` (`claim-status-checked`), else the code itself.
    pub fn code(&self, kind: &str, code: &str) -> String {
        let key = format!("{kind}-{}", code.to_lowercase());
        self.in_pack(&key, None)
            .or_else(|| LOCALES.try_lookup(&self.id, &key))
            .unwrap_or_else(|| code.to_string())
    }

    /// The other languages, for the switch.
    pub fn others(&self) -> Vec<(&'static str, &'static str)> {
        languages()
            .into_iter()
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
        if languages().iter().any(|(c, _)| *c == primary) {
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
