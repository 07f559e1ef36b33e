//! REST endpoints: `/api/v1/diagnoses`, `/api/v1/medical-items`, `/api/v1/medical-services`,
//! `/api/v1/item-price-lists` and `/api/v1/service-price-lists`.

use crate::model::*;
use crate::service;
use crate::store::{DiagnosisFilter, ItemFilter, PriceListFilter, ServiceFilter};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::export::{self, CsvRow, ListFormat, field};
use kernel::{
    Actor, AppState, PageParams, Paged, Problem, Result, ValidJson, ValidQuery, VersionQuery,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_diagnoses, create_diagnosis))
        .routes(routes!(get_diagnosis, update_diagnosis, delete_diagnosis))
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, update_item, delete_item))
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service, delete_service))
        .routes(routes!(list_item_pricelists, create_item_pricelist))
        .routes(routes!(
            get_item_pricelist,
            update_item_pricelist,
            delete_item_pricelist
        ))
        .routes(routes!(duplicate_item_pricelist))
        .routes(routes!(list_service_pricelists, create_service_pricelist))
        .routes(routes!(
            get_service_pricelist,
            update_service_pricelist,
            delete_service_pricelist
        ))
        .routes(routes!(duplicate_service_pricelist))
}

// ---------------------------------------------------------------- diagnoses

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiagnosisQuery {
    /// Code prefix (case-insensitive).
    code: Option<String>,
    /// Part of the name (case-insensitive).
    q: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List the diagnoses (ICD codes); anyone logged in may read them.
#[utoipa::path(get, path = "/api/v1/diagnoses", extensions(("x-bima-rights" = json!({"any_of": []}))), tag = "medical", params(DiagnosisQuery),
    responses((status = 200, body = Paged<Diagnosis>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_diagnoses(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<DiagnosisQuery>,
) -> Result<Response> {
    let filter = DiagnosisFilter {
        code: q.code,
        q: q.q,
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "diagnoses",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_diagnoses(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Add a diagnosis (right 131001).
#[utoipa::path(post, path = "/api/v1/diagnoses", extensions(("x-bima-rights" = json!({"any_of": [131001]}))), tag = "medical", request_body = DiagnosisInput,
    responses((status = 201, body = Diagnosis), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_diagnosis(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<DiagnosisInput>,
) -> Result<(StatusCode, Json<Diagnosis>)> {
    let d = service::create_diagnosis(&state.db, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// One diagnosis, by UUID or code.
#[utoipa::path(get, path = "/api/v1/diagnoses/{id}", extensions(("x-bima-rights" = json!({"any_of": []}))), tag = "medical", params(("id" = String, Path, description = "UUID or code")),
    responses((status = 200, body = Diagnosis), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_diagnosis(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Diagnosis>> {
    Ok(Json(service::get_diagnosis(&state.db, &actor, &id).await?))
}

/// Change a diagnosis; send the `version` you read.
#[utoipa::path(put, path = "/api/v1/diagnoses/{id}", extensions(("x-bima-rights" = json!({"any_of": [131001]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code")),
    request_body = DiagnosisInput,
    responses((status = 200, body = Diagnosis), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_diagnosis(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<DiagnosisInput>,
) -> Result<Json<Diagnosis>> {
    Ok(Json(
        service::update_diagnosis(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a diagnosis.
#[utoipa::path(delete, path = "/api/v1/diagnoses/{id}", extensions(("x-bima-rights" = json!({"any_of": [131001]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_diagnosis(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_diagnosis(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- items

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Code prefix (case-insensitive).
    code: Option<String>,
    /// Part of the name (case-insensitive).
    name: Option<String>,
    /// D (drug) or M (medical consumable).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<String>)]
    kind: Option<ItemType>,
    #[param(value_type = Option<String>)]
    care_type: Option<CareType>,
    page: Option<u32>,
    per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List medical items (right 122101).
#[utoipa::path(get, path = "/api/v1/medical-items", extensions(("x-bima-rights" = json!({"any_of": [122101]}))), tag = "medical", params(ItemQuery),
    responses((status = 200, body = Paged<MedicalItem>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_items(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<ItemQuery>,
) -> Result<Response> {
    let filter = ItemFilter {
        code: q.code,
        name: q.name,
        kind: q.kind,
        care_type: q.care_type,
        updated: Vec::new(),
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "medical-items",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_items(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Add a medical item (right 122102).
#[utoipa::path(post, path = "/api/v1/medical-items", extensions(("x-bima-rights" = json!({"any_of": [122102]}))), tag = "medical", request_body = MedicalItemInput,
    responses((status = 201, body = MedicalItem), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_item(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<MedicalItemInput>,
) -> Result<(StatusCode, Json<MedicalItem>)> {
    let item = service::create_item(&state.db, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// One medical item, by UUID or code.
#[utoipa::path(get, path = "/api/v1/medical-items/{id}", extensions(("x-bima-rights" = json!({"any_of": [122101]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code")),
    responses((status = 200, body = MedicalItem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_item(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<MedicalItem>> {
    Ok(Json(service::get_item(&state.db, &actor, &id).await?))
}

/// Change a medical item (right 122103); send the `version` you read.
#[utoipa::path(put, path = "/api/v1/medical-items/{id}", extensions(("x-bima-rights" = json!({"any_of": [122103]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code")),
    request_body = MedicalItemInput,
    responses((status = 200, body = MedicalItem), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_item(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<MedicalItemInput>,
) -> Result<Json<MedicalItem>> {
    Ok(Json(
        service::update_item(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a medical item that no price list holds (right 122104).
#[utoipa::path(delete, path = "/api/v1/medical-items/{id}", extensions(("x-bima-rights" = json!({"any_of": [122104]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "still in a price list, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_item(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_item(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- services

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// Code prefix (case-insensitive).
    code: Option<String>,
    /// Part of the name (case-insensitive).
    name: Option<String>,
    /// P (preventive) or C (curative).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<String>)]
    kind: Option<ServiceType>,
    #[param(value_type = Option<String>)]
    category: Option<ServiceCategory>,
    #[param(value_type = Option<String>)]
    level: Option<ServiceLevel>,
    #[param(value_type = Option<String>)]
    care_type: Option<CareType>,
    page: Option<u32>,
    per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List medical services (right 121401).
#[utoipa::path(get, path = "/api/v1/medical-services", extensions(("x-bima-rights" = json!({"any_of": [121401]}))), tag = "medical", params(ServiceQuery),
    responses((status = 200, body = Paged<MedicalService>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_services(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<ServiceQuery>,
) -> Result<Response> {
    let filter = ServiceFilter {
        code: q.code,
        name: q.name,
        kind: q.kind,
        category: q.category,
        level: q.level,
        care_type: q.care_type,
        updated: Vec::new(),
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "medical-services",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_services(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Add a medical service (right 121402).
#[utoipa::path(post, path = "/api/v1/medical-services", extensions(("x-bima-rights" = json!({"any_of": [121402]}))), tag = "medical", request_body = MedicalServiceInput,
    responses((status = 201, body = MedicalService), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_service(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<MedicalServiceInput>,
) -> Result<(StatusCode, Json<MedicalService>)> {
    let s = service::create_service(&state.db, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// One medical service, by UUID or code.
#[utoipa::path(get, path = "/api/v1/medical-services/{id}", extensions(("x-bima-rights" = json!({"any_of": [121401]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code")),
    responses((status = 200, body = MedicalService), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_service(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<MedicalService>> {
    Ok(Json(service::get_service(&state.db, &actor, &id).await?))
}

/// Change a medical service (right 121403); send the `version` you read.
#[utoipa::path(put, path = "/api/v1/medical-services/{id}", extensions(("x-bima-rights" = json!({"any_of": [121403]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code")),
    request_body = MedicalServiceInput,
    responses((status = 200, body = MedicalService), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_service(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<MedicalServiceInput>,
) -> Result<Json<MedicalService>> {
    Ok(Json(
        service::update_service(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a medical service that no price list holds (right 121404).
#[utoipa::path(delete, path = "/api/v1/medical-services/{id}", extensions(("x-bima-rights" = json!({"any_of": [121404]}))), tag = "medical", params(("id" = String, Path, description = "UUID or code"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "still in a price list, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_service(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_service(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- price lists

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceListQuery {
    /// Part of the name (case-insensitive).
    name: Option<String>,
    /// The region or district of the list.
    location_id: Option<Uuid>,
    page: Option<u32>,
    per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

async fn list_pricelists<T>(
    state: AppState,
    actor: Actor,
    kind: PriceListKind,
    q: PriceListQuery,
    filename: &str,
) -> Result<Response>
where
    T: From<PriceList> + CsvRow + serde::Serialize + Send + 'static,
{
    let filter = PriceListFilter {
        name: q.name,
        location_id: q.location_id,
        scope: None,
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        filename,
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move {
                let paged = service::list_pricelists(&db, &actor, kind, filter, page).await?;
                Ok(Paged {
                    items: paged.items.into_iter().map(T::from).collect(),
                    total: paged.total,
                    page: paged.page,
                    per_page: paged.per_page,
                })
            }
        },
    )
    .await
}

/// List item price lists: national ones and those of your districts and their regions (right 121301).
#[utoipa::path(get, path = "/api/v1/item-price-lists", extensions(("x-bima-rights" = json!({"any_of": [121301]}))), tag = "medical", params(PriceListQuery),
    responses((status = 200, body = Paged<ItemPriceList>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_item_pricelists(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<PriceListQuery>,
) -> Result<Response> {
    list_pricelists::<ItemPriceList>(state, actor, PriceListKind::Items, q, "item-price-lists")
        .await
}

/// Create an item price list (right 121302).
#[utoipa::path(post, path = "/api/v1/item-price-lists", extensions(("x-bima-rights" = json!({"any_of": [121302]}))), tag = "medical", request_body = ItemPriceListInput,
    responses((status = 201, body = ItemPriceList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_item_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<ItemPriceListInput>,
) -> Result<(StatusCode, Json<ItemPriceList>)> {
    let list =
        service::create_pricelist(&state.db, &actor, PriceListKind::Items, input.into()).await?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

/// One item price list, with each line's price-list price.
#[utoipa::path(get, path = "/api/v1/item-price-lists/{id}", extensions(("x-bima-rights" = json!({"any_of": [121301]}))), tag = "medical", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = ItemPriceList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_item_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<ItemPriceList>> {
    let list = service::get_pricelist(&state.db, &actor, PriceListKind::Items, &id).await?;
    Ok(Json(list.into()))
}

/// Change an item price list (right 121303); the lines are replaced. Send the `version` you read.
#[utoipa::path(put, path = "/api/v1/item-price-lists/{id}", extensions(("x-bima-rights" = json!({"any_of": [121303]}))), tag = "medical", params(("id" = String, Path, description = "UUID")),
    request_body = ItemPriceListInput,
    responses((status = 200, body = ItemPriceList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_item_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<ItemPriceListInput>,
) -> Result<Json<ItemPriceList>> {
    let list =
        service::update_pricelist(&state.db, &actor, PriceListKind::Items, &id, input.into())
            .await?;
    Ok(Json(list.into()))
}

/// Delete an item price list no facility uses (right 121304).
#[utoipa::path(delete, path = "/api/v1/item-price-lists/{id}", extensions(("x-bima-rights" = json!({"any_of": [121304]}))), tag = "medical", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "used by a facility, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_item_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_pricelist(&state.db, &actor, PriceListKind::Items, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Copy an item price list under a new name (right 121305).
#[utoipa::path(post, path = "/api/v1/item-price-lists/{id}/duplicate", extensions(("x-bima-rights" = json!({"any_of": [121305]}))), tag = "medical", params(("id" = String, Path, description = "UUID")),
    request_body = DuplicateInput,
    responses((status = 201, body = ItemPriceList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn duplicate_item_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<DuplicateInput>,
) -> Result<(StatusCode, Json<ItemPriceList>)> {
    let list =
        service::duplicate_pricelist(&state.db, &actor, PriceListKind::Items, &id, input).await?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

/// List service price lists: national ones and those of your districts and their regions (right 121201).
#[utoipa::path(get, path = "/api/v1/service-price-lists", extensions(("x-bima-rights" = json!({"any_of": [121201]}))), tag = "medical", params(PriceListQuery),
    responses((status = 200, body = Paged<ServicePriceList>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_service_pricelists(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<PriceListQuery>,
) -> Result<Response> {
    list_pricelists::<ServicePriceList>(
        state,
        actor,
        PriceListKind::Services,
        q,
        "service-price-lists",
    )
    .await
}

/// Create a service price list (right 121202).
#[utoipa::path(post, path = "/api/v1/service-price-lists", extensions(("x-bima-rights" = json!({"any_of": [121202]}))), tag = "medical", request_body = ServicePriceListInput,
    responses((status = 201, body = ServicePriceList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_service_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<ServicePriceListInput>,
) -> Result<(StatusCode, Json<ServicePriceList>)> {
    let list =
        service::create_pricelist(&state.db, &actor, PriceListKind::Services, input.into()).await?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

/// One service price list, with each line's price-list price.
#[utoipa::path(get, path = "/api/v1/service-price-lists/{id}", extensions(("x-bima-rights" = json!({"any_of": [121201]}))), tag = "medical", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = ServicePriceList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_service_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<ServicePriceList>> {
    let list = service::get_pricelist(&state.db, &actor, PriceListKind::Services, &id).await?;
    Ok(Json(list.into()))
}

/// Change a service price list (right 121203); the lines are replaced. Send the `version` you read.
#[utoipa::path(put, path = "/api/v1/service-price-lists/{id}", extensions(("x-bima-rights" = json!({"any_of": [121203]}))), tag = "medical", params(("id" = String, Path, description = "UUID")),
    request_body = ServicePriceListInput,
    responses((status = 200, body = ServicePriceList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_service_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<ServicePriceListInput>,
) -> Result<Json<ServicePriceList>> {
    let list = service::update_pricelist(
        &state.db,
        &actor,
        PriceListKind::Services,
        &id,
        input.into(),
    )
    .await?;
    Ok(Json(list.into()))
}

/// Delete a service price list no facility uses (right 121204).
#[utoipa::path(delete, path = "/api/v1/service-price-lists/{id}", extensions(("x-bima-rights" = json!({"any_of": [121204]}))), tag = "medical", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "used by a facility, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_service_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_pricelist(&state.db, &actor, PriceListKind::Services, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Copy a service price list under a new name (right 121205).
#[utoipa::path(post, path = "/api/v1/service-price-lists/{id}/duplicate", extensions(("x-bima-rights" = json!({"any_of": [121205]}))), tag = "medical", params(("id" = String, Path, description = "UUID")),
    request_body = DuplicateInput,
    responses((status = 201, body = ServicePriceList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn duplicate_service_pricelist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<DuplicateInput>,
) -> Result<(StatusCode, Json<ServicePriceList>)> {
    let list = service::duplicate_pricelist(&state.db, &actor, PriceListKind::Services, &id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

// ---------------------------------------------------------------- CSV rows

impl CsvRow for Diagnosis {
    fn header() -> &'static [&'static str] {
        &["id", "code", "name", "version"]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            self.name.clone(),
            self.version.to_string(),
        ]
    }
}

impl CsvRow for MedicalItem {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "code",
            "name",
            "type",
            "package",
            "price",
            "quantity",
            "maximum_amount",
            "care_type",
            "frequency",
            "patient_category",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            self.name.clone(),
            self.kind.code().to_string(),
            field(&self.package),
            self.price.to_string(),
            field(&self.quantity),
            field(&self.maximum_amount),
            self.care_type.code().to_string(),
            field(&self.frequency),
            self.patient_category.to_string(),
            self.version.to_string(),
        ]
    }
}

impl CsvRow for MedicalService {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "code",
            "name",
            "category",
            "type",
            "level",
            "package_type",
            "manual_price",
            "price",
            "maximum_amount",
            "care_type",
            "frequency",
            "patient_category",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            self.name.clone(),
            field(&self.category.map(|c| c.code())),
            self.kind.code().to_string(),
            self.level.code().to_string(),
            self.package_type.code().to_string(),
            self.manual_price.to_string(),
            self.price.to_string(),
            field(&self.maximum_amount),
            self.care_type.code().to_string(),
            field(&self.frequency),
            self.patient_category.to_string(),
            self.version.to_string(),
        ]
    }
}

/// Lines as `id:price` (`id:price:overrule` when overruled), `;`-separated.
fn lines_field<'a>(lines: impl Iterator<Item = (&'a Uuid, Option<i64>, i64)>) -> String {
    lines
        .map(|(id, overrule, price)| match overrule {
            Some(o) => format!("{id}:{price}:{o}"),
            None => format!("{id}:{price}"),
        })
        .collect::<Vec<_>>()
        .join(";")
}

const PRICELIST_HEADER: &[&str] = &["id", "name", "location_id", "lines", "version"];

impl CsvRow for ItemPriceList {
    fn header() -> &'static [&'static str] {
        PRICELIST_HEADER
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            field(&self.location_id),
            lines_field(
                self.lines
                    .iter()
                    .map(|l| (&l.item_id, l.price_overrule, l.price)),
            ),
            self.version.to_string(),
        ]
    }
}

impl CsvRow for ServicePriceList {
    fn header() -> &'static [&'static str] {
        PRICELIST_HEADER
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            field(&self.location_id),
            lines_field(
                self.lines
                    .iter()
                    .map(|l| (&l.service_id, l.price_overrule, l.price)),
            ),
            self.version.to_string(),
        ]
    }
}
