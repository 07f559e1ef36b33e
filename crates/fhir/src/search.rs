//! Search: openIMIS's parameters (`_count`, `page-offset` as a 1-based page number,
//! `_lastUpdated` with prefixes, `identifier` as a raw value) and the `searchset` Bundle with
//! `total` and paging links. Unknown parameters are ignored, as openIMIS does.

use crate::datatypes::Meta;
use kernel::{Error, PageParams, Result};
use serde::Serialize;
use store::InstantRange;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

/// openIMIS's `default_response_page_size`.
pub const DEFAULT_COUNT: u32 = 10;

/// The query string as pairs, in order (a parameter may repeat: `_lastUpdated=ge…&_lastUpdated=lt…`).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The record a search names: `identifier`, or openIMIS's `code` (Organization,
    /// Practitioner, PractitionerRole), which "behaves as a read".
    pub fn named(&self) -> Option<&str> {
        self.get("identifier").or(self.get("code"))
    }

    /// `_count` and `page-offset` (the page, from 1).
    pub fn page(&self) -> Result<PageParams> {
        let number = |name: &str| -> Result<Option<u32>> {
            self.get(name)
                .map(|v| {
                    v.parse::<u32>().map_err(|_| {
                        Error::invalid(
                            name,
                            "not_a_number",
                            format!("{name} must be a whole number"),
                        )
                    })
                })
                .transpose()
        };
        let count = number("_count")?.unwrap_or(DEFAULT_COUNT).max(1);
        let page = number("page-offset")?.unwrap_or(1).max(1);
        Ok(PageParams::new(Some(page), Some(count)))
    }

    /// Every `_lastUpdated`, ANDed; `now` for the `ap` prefix.
    pub fn last_updated(&self, now: OffsetDateTime) -> Result<Vec<InstantRange>> {
        self.all("_lastUpdated")
            .map(|v| last_updated(v, now).map_err(|m| Error::invalid("_lastUpdated", "invalid", m)))
            .collect()
    }
}

/// One `_lastUpdated` value as a range of instants: `[prefix]YYYY-MM-DD[THH:MM[:SS]]` with
/// prefix `eq` (the default), `ne`, `gt`, `lt`, `ge`, `le`, `sa` (starts after: as `gt`), `eb`
/// (ends before: as `lt`) or `ap` (within 10 % of the distance to `now`). A value names the
/// whole of its precision: `eq2026-12-04` is that day, `gt2026-12-04T10:00` after that minute.
pub fn last_updated(value: &str, now: OffsetDateTime) -> Result<InstantRange, String> {
    let value = value.trim();
    let (prefix, rest) = match value.get(..2) {
        Some(p) if p.chars().all(|c| c.is_ascii_lowercase()) => (p, &value[2..]),
        _ => ("eq", value),
    };
    let (start, length) = instant_of(rest).ok_or_else(|| {
        format!(
            "\"{value}\" is not a date or date-time (like ge2026-01-31 or lt2026-01-31T08:00:00Z)"
        )
    })?;
    let end = start + length;
    let range = |from: Option<OffsetDateTime>, to: Option<OffsetDateTime>| InstantRange {
        from,
        to,
        outside: false,
    };
    Ok(match prefix {
        "eq" => range(Some(start), Some(end)),
        "ne" => InstantRange {
            outside: true,
            ..range(Some(start), Some(end))
        },
        "gt" | "sa" => range(Some(end), None),
        "ge" => range(Some(start), None),
        "lt" | "eb" => range(None, Some(start)),
        "le" => range(None, Some(end)),
        "ap" => {
            let margin = (now - start).abs() / 10;
            range(Some(start - margin), Some(end + margin))
        }
        other => {
            return Err(format!(
                "\"{other}\" is not a search prefix: use eq, ne, gt, lt, ge, le, sa, eb or ap"
            ));
        }
    })
}

/// The instant a value starts at (UTC unless it says otherwise) and how long its precision is.
fn instant_of(text: &str) -> Option<(OffsetDateTime, Duration)> {
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(text, day) {
        return Some((d.midnight().assume_utc(), Duration::days(1)));
    }
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some((at, Duration::seconds(1)));
    }
    let (date, time) = text.split_once('T')?;
    let date = Date::parse(date, day).ok()?;
    let (time, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let (t, length) = if let Ok(t) = Time::parse(
        time,
        time::macros::format_description!("[hour]:[minute]:[second]"),
    ) {
        (t, Duration::seconds(1))
    } else {
        let t = Time::parse(time, time::macros::format_description!("[hour]:[minute]")).ok()?;
        (t, Duration::minutes(1))
    };
    let local = PrimitiveDateTime::new(date, t);
    let at = match offset {
        None | Some("Z") => local.assume_utc(),
        Some(o) => {
            let o = time::UtcOffset::parse(
                o,
                time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
            )
            .ok()?;
            local.assume_offset(o)
        }
    };
    Some((at, length))
}

/// A `searchset` Bundle.
#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Bundle")]
pub struct Bundle<T> {
    pub meta: Meta,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total: i64,
    pub link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<Entry<T>>,
}

#[derive(Debug, Serialize)]
pub struct Link {
    pub relation: &'static str,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct Entry<T> {
    #[serde(rename = "fullUrl")]
    pub full_url: String,
    pub resource: T,
    pub search: EntrySearch,
}

#[derive(Debug, Serialize)]
pub struct EntrySearch {
    pub mode: &'static str,
}

/// The Bundle of one page of `total` matches: entries at `{url}/{id}`, links to this page and
/// its neighbours with the request's other parameters kept (raw, not percent-encoded twice).
pub fn bundle<T>(
    url: &str,
    params: &Params,
    page: PageParams,
    total: i64,
    items: Vec<(String, T)>,
    now: OffsetDateTime,
) -> Bundle<T> {
    let per_page = page.limit();
    let number = page.page() as i64;
    let last = ((total + per_page - 1) / per_page).max(1);
    let link_to = |n: i64| {
        let mut query: Vec<String> = params
            .0
            .iter()
            .filter(|(k, _)| k != "page-offset" && k != "_count")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        query.push(format!("_count={per_page}"));
        query.push(format!("page-offset={n}"));
        format!("{url}?{}", query.join("&"))
    };
    let mut link = vec![Link {
        relation: "self",
        url: link_to(number),
    }];
    if number < last {
        link.push(Link {
            relation: "next",
            url: link_to(number + 1),
        });
    }
    if number > 1 {
        link.push(Link {
            relation: "previous",
            url: link_to((number - 1).min(last)),
        });
    }
    Bundle {
        meta: Meta::updated(now),
        kind: "searchset",
        total,
        link,
        entry: items
            .into_iter()
            .map(|(id, resource)| Entry {
                full_url: format!("{url}/{id}"),
                resource,
                search: EntrySearch { mode: "match" },
            })
            .collect(),
    }
}

/// Percent-encode what a query value cannot hold as it is.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The absolute URL of a resource type here, from the request's Host (and the scheme a proxy
/// in front says it was reached by).
pub fn url_of(headers: &axum::http::HeaderMap, kind: &str) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let host = header("host").unwrap_or("localhost");
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}{}/{kind}", crate::BASE)
}

/// A search by `identifier` is a read: the record it names (when the other filters allow it),
/// or none. A record the caller may not see is "not found" there, so it is simply absent.
pub fn one_or_none<T>(found: Result<T>, allowed: impl Fn(&T) -> bool) -> Result<(i64, Vec<T>)> {
    match found {
        Ok(t) if allowed(&t) => Ok((1, vec![t])),
        Ok(_) | Err(Error::NotFound { .. }) => Ok((0, Vec::new())),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 12:00:00 UTC);

    fn r(v: &str) -> InstantRange {
        last_updated(v, NOW).unwrap()
    }

    #[test]
    fn each_prefix_is_a_range_of_its_precision() {
        let day = r("2026-12-01");
        assert_eq!(day.from, Some(datetime!(2026-12-01 0:00 UTC)));
        assert_eq!(day.to, Some(datetime!(2026-12-02 0:00 UTC)));
        assert!(!day.outside);
        assert_eq!(r("eq2026-12-01"), day);
        assert!(r("ne2026-12-01").outside);
        assert_eq!(r("gt2026-12-01").from, Some(datetime!(2026-12-02 0:00 UTC)));
        assert_eq!(r("sa2026-12-01"), r("gt2026-12-01"));
        assert_eq!(r("ge2026-12-01").from, Some(datetime!(2026-12-01 0:00 UTC)));
        assert_eq!(r("lt2026-12-01").to, Some(datetime!(2026-12-01 0:00 UTC)));
        assert_eq!(r("eb2026-12-01"), r("lt2026-12-01"));
        assert_eq!(r("le2026-12-01").to, Some(datetime!(2026-12-02 0:00 UTC)));
        let second = r("ge2026-12-01T08:30:15");
        assert_eq!(second.from, Some(datetime!(2026-12-01 8:30:15 UTC)));
        assert_eq!(
            r("gt2026-12-01T08:30").from,
            Some(datetime!(2026-12-01 8:31 UTC))
        );
        assert_eq!(
            r("ge2026-12-01T10:30:00+02:00").from,
            Some(datetime!(2026-12-01 8:30 UTC))
        );
        // ap: ±10 % of the distance to now (10 days → 1 day each way).
        let ap = r("ap2026-11-24T12:00:00Z");
        assert_eq!(ap.from, Some(datetime!(2026-11-23 12:00 UTC)));
        assert_eq!(ap.to, Some(datetime!(2026-11-25 12:00:01 UTC)));
    }

    #[test]
    fn a_bad_value_says_what_is_expected() {
        for bad in ["yesterday", "xx2026-12-01", "ge2026-13-01", "ge"] {
            assert!(last_updated(bad, NOW).is_err(), "{bad}");
        }
        assert!(
            last_updated("zz2026-12-01", NOW)
                .unwrap_err()
                .contains("not a search prefix")
        );
    }

    #[test]
    fn links_page_through_and_keep_the_query() {
        let params = Params(vec![
            ("identifier".into(), "A B".into()),
            ("page-offset".into(), "2".into()),
            ("_count".into(), "10".into()),
        ]);
        let page = params.page().unwrap();
        let b = bundle(
            "http://h/api/api_fhir_r4/Patient",
            &params,
            page,
            25,
            vec![("x".to_string(), 1)],
            NOW,
        );
        let rel: Vec<(&str, &str)> = b
            .link
            .iter()
            .map(|l| (l.relation, l.url.as_str()))
            .collect();
        assert_eq!(
            rel,
            [
                (
                    "self",
                    "http://h/api/api_fhir_r4/Patient?identifier=A%20B&_count=10&page-offset=2"
                ),
                (
                    "next",
                    "http://h/api/api_fhir_r4/Patient?identifier=A%20B&_count=10&page-offset=3"
                ),
                (
                    "previous",
                    "http://h/api/api_fhir_r4/Patient?identifier=A%20B&_count=10&page-offset=1"
                ),
            ]
        );
        assert_eq!(b.entry[0].full_url, "http://h/api/api_fhir_r4/Patient/x");
        let last = bundle(
            "u",
            &params,
            Params(vec![("page-offset".into(), "3".into())])
                .page()
                .unwrap(),
            25,
            Vec::<(String, ())>::new(),
            NOW,
        );
        assert!(last.link.iter().all(|l| l.relation != "next"));
    }

    proptest::proptest! {
        /// Whatever the prefix, a range is never inverted and `ap` always holds its value.
        #[test]
        fn ranges_are_never_inverted(secs in 0i64..4_000_000_000, prefix in proptest::sample::select(vec!["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"])) {
            let at = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let text = format!("{prefix}{}", at.format(&Rfc3339).unwrap());
            let range = last_updated(&text, NOW).unwrap();
            if let (Some(from), Some(to)) = (range.from, range.to) {
                proptest::prop_assert!(from < to);
            }
            if prefix == "ap" || prefix == "eq" {
                proptest::prop_assert!(range.contains(at));
            }
        }
    }
}
