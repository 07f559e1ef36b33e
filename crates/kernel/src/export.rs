//! `?format=csv` on a list: every matching row, paging ignored, streamed in chunks so that a
//! million rows never sit in memory at once.

use crate::{PageParams, Paged, Result};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::future::Future;

/// Rows fetched per query while exporting.
pub const EXPORT_CHUNK: u32 = 1000;

/// The representation a list answers in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    #[default]
    Json,
    Csv,
}

/// A flat row of a CSV export.
pub trait CsvRow {
    fn header() -> &'static [&'static str];
    fn record(&self) -> Vec<String>;
}

/// An optional value as a CSV field (empty when absent).
pub fn field<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn encode<T: CsvRow>(rows: &[T], with_header: bool) -> Bytes {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if with_header {
        let _ = writer.write_record(T::header());
    }
    for row in rows {
        let _ = writer.write_record(row.record());
    }
    Bytes::from(writer.into_inner().unwrap_or_default())
}

/// Answer every row that `fetch` pages through as `filename.csv`. The first page is fetched
/// before answering, so that a refusal (403, 422) is still a proper problem response.
pub async fn csv<T, F, Fut>(filename: &str, fetch: F) -> Result<Response>
where
    T: CsvRow + Send + 'static,
    F: Fn(PageParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Paged<T>>> + Send + 'static,
{
    let first = fetch(PageParams::bulk(1)).await?;
    let more = first.items.len() as u32 == EXPORT_CHUNK;
    let head = encode(&first.items, true);
    let stream = futures::stream::unfold((2u32, more, fetch), |(page, more, fetch)| async move {
        if !more {
            return None;
        }
        match fetch(PageParams::bulk(page)).await {
            Ok(next) => {
                let more = next.items.len() as u32 == EXPORT_CHUNK;
                Some((
                    Ok::<Bytes, std::io::Error>(encode(&next.items, false)),
                    (page + 1, more, fetch),
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "CSV export stopped");
                Some((
                    Err(std::io::Error::other(e.to_string())),
                    (page, false, fetch),
                ))
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(
        futures::stream::once(async move { Ok(head) }),
        stream,
    ));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Answer a list as JSON (one page) or, with `?format=csv`, as CSV (every row).
pub async fn respond<T, F, Fut>(
    format: Option<ListFormat>,
    filename: &str,
    page: PageParams,
    fetch: F,
) -> Result<Response>
where
    T: CsvRow + serde::Serialize + Send + 'static,
    F: Fn(PageParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Paged<T>>> + Send + 'static,
{
    match format.unwrap_or_default() {
        ListFormat::Csv => csv(filename, fetch).await,
        ListFormat::Json => Ok(axum::Json(fetch(page).await?).into_response()),
    }
}
