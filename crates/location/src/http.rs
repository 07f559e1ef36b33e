//! REST endpoints: `/api/v1/locations` and `/api/v1/health-facilities`.

use crate::model::*;
use crate::service;
use crate::store::{FacilityFilter, LocationFilter};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
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
        .routes(routes!(list_locations, create_location))
        .routes(routes!(get_location, update_location, delete_location))
        .routes(routes!(list_facilities, create_facility))
        .routes(routes!(get_facility, update_facility, delete_facility))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocationQuery {
    /// Code prefix (case-insensitive).
    code: Option<String>,
    /// Part of the name (case-insensitive).
    name: Option<String>,
    /// R, D, W or V.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<String>)]
    kind: Option<LocationType>,
    parent_id: Option<Uuid>,
    district_id: Option<Uuid>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List locations within your districts.
#[utoipa::path(get, path = "/api/v1/locations", extensions(("x-bima-rights" = json!({"any_of": [121901]}))), tag = "locations", params(LocationQuery),
    responses((status = 200, body = Paged<Location>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_locations(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<LocationQuery>,
) -> Result<Response> {
    let filter = LocationFilter {
        code: q.code,
        name: q.name,
        kind: q.kind,
        parent_id: q.parent_id,
        district_id: q.district_id,
        scope: None,
        updated: Vec::new(),
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "locations",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_locations(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Create a location under a parent of the level above (a region has none).
#[utoipa::path(post, path = "/api/v1/locations", extensions(("x-bima-rights" = json!({"any_of": [121902]}))), tag = "locations", request_body = LocationInput,
    responses((status = 201, body = Location), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_location(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<LocationInput>,
) -> Result<(StatusCode, Json<Location>)> {
    let location = service::create_location(&state.db, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(location)))
}

/// One location, by UUID or code.
#[utoipa::path(get, path = "/api/v1/locations/{id}", extensions(("x-bima-rights" = json!({"any_of": [121901]}))), tag = "locations", params(("id" = String, Path, description = "UUID or code")),
    responses((status = 200, body = Location), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_location(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Location>> {
    Ok(Json(service::get_location(&state.db, &actor, &id).await?))
}

/// Change a location; send the `version` you read. Changing the parent moves it (right 121905).
#[utoipa::path(put, path = "/api/v1/locations/{id}", extensions(("x-bima-rights" = json!({"any_of": [121903]}))), tag = "locations", params(("id" = String, Path, description = "UUID or code")),
    request_body = LocationInput,
    responses((status = 200, body = Location), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "stale version or code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_location(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<LocationInput>,
) -> Result<Json<Location>> {
    Ok(Json(
        service::update_location(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a location that nothing belongs to any more.
#[utoipa::path(delete, path = "/api/v1/locations/{id}", extensions(("x-bima-rights" = json!({"any_of": [121904]}))), tag = "locations", params(("id" = String, Path, description = "UUID or code"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "still in use, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_location(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_location(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FacilityQuery {
    /// Code prefix (case-insensitive).
    code: Option<String>,
    /// Part of the name (case-insensitive).
    name: Option<String>,
    /// The facility's district.
    district_id: Option<Uuid>,
    /// The region of the facility's district.
    region_id: Option<Uuid>,
    #[param(value_type = Option<String>)]
    level: Option<FacilityLevel>,
    #[param(value_type = Option<String>)]
    legal_form: Option<LegalForm>,
    #[param(value_type = Option<String>)]
    status: Option<FacilityStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List health facilities within your districts.
#[utoipa::path(get, path = "/api/v1/health-facilities", extensions(("x-bima-rights" = json!({"any_of": [121101]}))), tag = "health facilities", params(FacilityQuery),
    responses((status = 200, body = Paged<HealthFacility>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_facilities(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<FacilityQuery>,
) -> Result<Response> {
    let filter = FacilityFilter {
        code: q.code,
        name: q.name,
        district_id: q.district_id,
        region_id: q.region_id,
        level: q.level,
        legal_form: q.legal_form,
        status: q.status,
        scope: None,
        updated: Vec::new(),
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "health-facilities",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_facilities(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Create a health facility in a district, with its catchment villages.
#[utoipa::path(post, path = "/api/v1/health-facilities", extensions(("x-bima-rights" = json!({"any_of": [121102]}))), tag = "health facilities", request_body = HealthFacilityInput,
    responses((status = 201, body = HealthFacility), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "code already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_facility(
    State(state): State<AppState>,
    actor: Actor,
    Extension(pricelists): Extension<service::PriceListCheck>,
    ValidJson(input): ValidJson<HealthFacilityInput>,
) -> Result<(StatusCode, Json<HealthFacility>)> {
    let facility = service::create_facility(&state.db, &actor, input, pricelists).await?;
    Ok((StatusCode::CREATED, Json(facility)))
}

/// One health facility, by UUID or code.
#[utoipa::path(get, path = "/api/v1/health-facilities/{id}", extensions(("x-bima-rights" = json!({"any_of": [121101]}))), tag = "health facilities", params(("id" = String, Path, description = "UUID or code")),
    responses((status = 200, body = HealthFacility), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_facility(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<HealthFacility>> {
    Ok(Json(service::get_facility(&state.db, &actor, &id).await?))
}

/// Change a health facility; send the `version` you read.
#[utoipa::path(put, path = "/api/v1/health-facilities/{id}", extensions(("x-bima-rights" = json!({"any_of": [121103]}))), tag = "health facilities", params(("id" = String, Path, description = "UUID or code")),
    request_body = HealthFacilityInput,
    responses((status = 200, body = HealthFacility), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_facility(
    State(state): State<AppState>,
    actor: Actor,
    Extension(pricelists): Extension<service::PriceListCheck>,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<HealthFacilityInput>,
) -> Result<Json<HealthFacility>> {
    Ok(Json(
        service::update_facility(&state.db, &actor, &id, input, pricelists).await?,
    ))
}

/// Delete a health facility.
#[utoipa::path(delete, path = "/api/v1/health-facilities/{id}", extensions(("x-bima-rights" = json!({"any_of": [121104]}))), tag = "health facilities", params(("id" = String, Path, description = "UUID or code"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_facility(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_facility(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl CsvRow for Location {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "code",
            "name",
            "type",
            "parent_id",
            "district_id",
            "male_population",
            "female_population",
            "other_population",
            "families",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            self.name.clone(),
            self.kind.code().to_string(),
            field(&self.parent_id),
            field(&self.district_id),
            field(&self.male_population),
            field(&self.female_population),
            field(&self.other_population),
            field(&self.families),
            self.version.to_string(),
        ]
    }
}

impl CsvRow for HealthFacility {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "code",
            "name",
            "acc_code",
            "legal_form",
            "level",
            "sub_level",
            "location_id",
            "address",
            "phone",
            "fax",
            "email",
            "care_type",
            "items_pricelist_id",
            "services_pricelist_id",
            "offline",
            "contract_start_date",
            "contract_end_date",
            "status",
            "catchments",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        let catchments: Vec<String> = self
            .catchments
            .iter()
            .map(|c| format!("{}:{}", c.location_id, c.catchment))
            .collect();
        vec![
            self.id.to_string(),
            self.code.clone(),
            self.name.clone(),
            field(&self.acc_code),
            self.legal_form.code().to_string(),
            self.level.code().to_string(),
            field(&self.sub_level.map(|s| s.code())),
            self.location_id.to_string(),
            field(&self.address),
            field(&self.phone),
            field(&self.fax),
            field(&self.email),
            self.care_type.code().to_string(),
            field(&self.items_pricelist_id),
            field(&self.services_pricelist_id),
            self.offline.to_string(),
            field(&self.contract_start_date),
            field(&self.contract_end_date),
            self.status.code().to_string(),
            catchments.join(";"),
            self.version.to_string(),
        ]
    }
}
