//! REST endpoints: `/api/v1/products` and `/api/v1/products/{id}/duplicate`.
//!
//! A product's body groups its header terms in nested objects (`periods`, `premium`,
//! `deductibles`, `ceilings`, `limits`, `capitation`); money is in minor units (12.50 → 1250),
//! percentages are whole percents 0–100, periods are months. Items, services and the relative
//! distribution are lists inside the body and are replaced as a whole on every change.

use crate::model::*;
use crate::service;
use crate::store::{ProductFilter, term_columns, term_values};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::export::{self, CsvRow, ListFormat, field};
use kernel::{
    Actor, AppState, PageParams, Paged, Problem, Result, ValidJson, ValidQuery, VersionQuery,
};
use serde::Deserialize;
use std::sync::LazyLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product, delete_product))
        .routes(routes!(duplicate_product))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Code prefix (case-insensitive).
    code: Option<String>,
    /// Part of the name (case-insensitive).
    name: Option<String>,
    /// The region or district of the product.
    location_id: Option<Uuid>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row as a flat row of the header fields (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List products: national ones and those of your districts and their regions.
#[utoipa::path(get, path = "/api/v1/products", extensions(("x-bima-rights" = json!({"any_of": [121001]}))), tag = "products", params(ProductQuery),
    responses((status = 200, body = Paged<Product>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_products(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<ProductQuery>,
) -> Result<Response> {
    let filter = ProductFilter {
        code: q.code,
        name: q.name,
        location_id: q.location_id,
        scope: None,
        updated: Vec::new(),
    };
    let with_lines = q.format != Some(ListFormat::Csv);
    let db = state.db.clone();
    export::respond(
        q.format,
        "products",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_products(&db, &actor, filter, page, with_lines).await }
        },
    )
    .await
}

/// Create a product with its items, services and relative distribution.
#[utoipa::path(post, path = "/api/v1/products", extensions(("x-bima-rights" = json!({"any_of": [121002]}))), tag = "products", request_body = ProductInput,
    responses((status = 201, body = Product), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_product(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<ProductInput>,
) -> Result<(StatusCode, Json<Product>)> {
    let product = service::create_product(&state.db, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(product)))
}

/// One product, by UUID or code.
#[utoipa::path(get, path = "/api/v1/products/{id}", extensions(("x-bima-rights" = json!({"any_of": [121001]}))), tag = "products", params(("id" = String, Path, description = "UUID or code")),
    responses((status = 200, body = Product), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_product(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Product>> {
    Ok(Json(service::get_product(&state.db, &actor, &id).await?))
}

/// Change a product (the whole body, lists included); send the `version` you read.
#[utoipa::path(put, path = "/api/v1/products/{id}", extensions(("x-bima-rights" = json!({"any_of": [121003]}))), tag = "products", params(("id" = String, Path, description = "UUID or code")),
    request_body = ProductInput,
    responses((status = 200, body = Product), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "stale version or code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_product(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<ProductInput>,
) -> Result<Json<Product>> {
    Ok(Json(
        service::update_product(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a product.
#[utoipa::path(delete, path = "/api/v1/products/{id}", extensions(("x-bima-rights" = json!({"any_of": [121004]}))), tag = "products", params(("id" = String, Path, description = "UUID or code"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_product(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_product(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Copy a product, with its items, services and distribution, under a new code and name (right 121005).
#[utoipa::path(post, path = "/api/v1/products/{id}/duplicate", extensions(("x-bima-rights" = json!({"any_of": [121005]}))), tag = "products", params(("id" = String, Path, description = "UUID or code of the product to copy")),
    request_body = DuplicateInput,
    responses((status = 201, body = Product), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn duplicate_product(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<DuplicateInput>,
) -> Result<(StatusCode, Json<Product>)> {
    let product = service::duplicate_product(&state.db, &actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json(product)))
}

const CSV_FIXED: &[&str] = &[
    "id",
    "code",
    "name",
    "location_id",
    "date_from",
    "date_to",
    "conversion_product_id",
    "start_cycle_1",
    "start_cycle_2",
    "start_cycle_3",
    "start_cycle_4",
    "ceiling_type",
    "ceiling_interpretation",
    "capitation_level_1",
    "capitation_sublevel_1",
    "capitation_level_2",
    "capitation_sublevel_2",
    "capitation_level_3",
    "capitation_sublevel_3",
    "capitation_level_4",
    "capitation_sublevel_4",
    "acc_code_premiums",
    "acc_code_remuneration",
    "period_rel_prices",
    "period_rel_prices_ip",
    "period_rel_prices_op",
];

static CSV_HEADER: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    CSV_FIXED
        .iter()
        .copied()
        .chain(term_columns())
        .chain(["version"])
        .collect()
});

impl CsvRow for Product {
    fn header() -> &'static [&'static str] {
        &CSV_HEADER
    }

    fn record(&self) -> Vec<String> {
        let t = &self.terms;
        let cycle = |i: usize| t.start_cycles.get(i).cloned().unwrap_or_default();
        let level = |i: usize| field(&t.capitation_levels.get(i).map(|l| l.level));
        let sublevel = |i: usize| field(&t.capitation_levels.get(i).and_then(|l| l.sublevel));
        let mut row = vec![
            self.id.to_string(),
            t.code.clone(),
            t.name.clone(),
            field(&t.location_id),
            t.date_from.to_string(),
            t.date_to.to_string(),
            field(&t.conversion_product_id),
            cycle(0),
            cycle(1),
            cycle(2),
            cycle(3),
            field(&t.ceiling_type),
            t.ceiling_interpretation.to_string(),
            level(0),
            sublevel(0),
            level(1),
            sublevel(1),
            level(2),
            sublevel(2),
            level(3),
            sublevel(3),
            field(&t.acc_code_premiums),
            field(&t.acc_code_remuneration),
            field(&self.period_rel_prices),
            field(&self.period_rel_prices_ip),
            field(&self.period_rel_prices_op),
        ];
        row.extend(term_values(t).iter().map(field));
        row.push(self.version.to_string());
        row
    }
}
