//! REST endpoints: `/api/v1/families` and `/api/v1/insurees` (with their photos).

use crate::config::Config;
use crate::model::*;
use crate::service;
use crate::store::{FamilyFilter, InsureeFilter};
use axum::body::Body;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use kernel::export::{self, CsvRow, ListFormat, field};
use kernel::{
    Actor, AppState, Error, PageParams, Paged, Problem, Result, ValidJson, ValidQuery, VersionQuery,
};
use serde::Deserialize;
use std::sync::Arc;
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_families, create_family))
        .routes(routes!(get_family, update_family, delete_family))
        .routes(routes!(set_head))
        .routes(routes!(list_insurees, create_insuree))
        .routes(routes!(get_insuree, update_insuree, delete_insuree))
        .routes(routes!(move_insuree))
        .routes(routes!(put_photo, get_photo))
}

// ---------------------------------------------------------------- families

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FamilyQuery {
    /// The family's village.
    location_id: Option<Uuid>,
    district_id: Option<Uuid>,
    /// Exact insurance number of the head.
    head_chfid: Option<String>,
    /// Prefix of the head's last name (case-insensitive).
    head_last_name: Option<String>,
    poverty: Option<bool>,
    #[param(value_type = Option<String>)]
    family_type: Option<FamilyType>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List families within your districts.
#[utoipa::path(get, path = "/api/v1/families", extensions(("x-bima-rights" = json!({"any_of": [101001]}))), tag = "families", params(FamilyQuery),
    responses((status = 200, body = Paged<FamilyView>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_families(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<FamilyQuery>,
) -> Result<Response> {
    let filter = FamilyFilter {
        location_id: q.location_id,
        district_id: q.district_id,
        head_chfid: q.head_chfid,
        head_last_name: q.head_last_name,
        poverty: q.poverty,
        family_type: q.family_type,
        scope: None,
        updated: Vec::new(),
        count_at_most: None,
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "families",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_families(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Create a family in a village, with its head insuree ("head") in the same request.
#[utoipa::path(post, path = "/api/v1/families", extensions(("x-bima-rights" = json!({"any_of": [101002]}))), tag = "families", request_body = FamilyInput,
    responses((status = 201, body = FamilyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "insurance number already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_family(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<Config>>,
    actor: Actor,
    ValidJson(input): ValidJson<FamilyInput>,
) -> Result<(StatusCode, Json<FamilyDetail>)> {
    let family = service::create_family(&state.db, &actor, &config, input).await?;
    Ok((StatusCode::CREATED, Json(family)))
}

/// One family with its members.
#[utoipa::path(get, path = "/api/v1/families/{id}", extensions(("x-bima-rights" = json!({"any_of": [101001]}))), tag = "families", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = FamilyDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_family(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<FamilyDetail>> {
    Ok(Json(service::get_family(&state.db, &actor, &id).await?))
}

/// Change a family's fields; send the `version` you read. Moving it to a village of another
/// district moves its members' district too.
#[utoipa::path(put, path = "/api/v1/families/{id}", extensions(("x-bima-rights" = json!({"any_of": [101003]}))), tag = "families", params(("id" = String, Path, description = "UUID")),
    request_body = FamilyInput,
    responses((status = 200, body = FamilyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_family(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<FamilyInput>,
) -> Result<Json<FamilyDetail>> {
    Ok(Json(
        service::update_family(&state.db, &actor, &id, input).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteFamilyQuery {
    /// The version you read.
    version: Option<i64>,
    /// true: delete the members too; false (default): they stay, without a family.
    delete_members: Option<bool>,
}

/// Delete a family, with its members or leaving them without a family.
#[utoipa::path(delete, path = "/api/v1/families/{id}", extensions(("x-bima-rights" = json!({"any_of": [101004]}))), tag = "families", params(("id" = String, Path, description = "UUID"), DeleteFamilyQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_family(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<DeleteFamilyQuery>,
) -> Result<StatusCode> {
    service::delete_family(
        &state.db,
        &actor,
        &id,
        q.version,
        q.delete_members.unwrap_or(false),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadInput {
    /// A member of the family.
    pub insuree_id: Uuid,
    /// The family's version you read (optional).
    #[serde(default)]
    pub version: Option<i64>,
}

/// Name another member the head of the family.
#[utoipa::path(post, path = "/api/v1/families/{id}/head", extensions(("x-bima-rights" = json!({"any_of": [101003]}))), tag = "families", params(("id" = String, Path, description = "UUID")),
    request_body = HeadInput,
    responses((status = 200, body = FamilyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn set_head(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<HeadInput>,
) -> Result<Json<FamilyDetail>> {
    Ok(Json(
        service::set_head(&state.db, &actor, &id, input.insuree_id, input.version).await?,
    ))
}

// ---------------------------------------------------------------- insurees

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsureeQuery {
    /// Exact insurance number.
    chfid: Option<String>,
    /// Prefix of the last name, the other names or the insurance number (names case-insensitive;
    /// digits only: the insurance number).
    q: Option<String>,
    /// Born on or after (YYYY-MM-DD).
    #[param(value_type = Option<String>)]
    dob_from: Option<Date>,
    /// Born on or before (YYYY-MM-DD).
    #[param(value_type = Option<String>)]
    dob_to: Option<Date>,
    /// The family's village.
    village_id: Option<Uuid>,
    district_id: Option<Uuid>,
    family_id: Option<Uuid>,
    /// M, F or O.
    #[param(value_type = Option<String>)]
    gender: Option<Gender>,
    /// active, inactive or dead.
    #[param(value_type = Option<String>)]
    status: Option<InsureeStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// Search insurees within your districts.
#[utoipa::path(get, path = "/api/v1/insurees", extensions(("x-bima-rights" = json!({"any_of": [101101]}))), tag = "insurees", params(InsureeQuery),
    responses((status = 200, body = Paged<Insuree>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_insurees(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<InsureeQuery>,
) -> Result<Response> {
    let filter = InsureeFilter {
        chfid: q.chfid,
        q: q.q,
        dob_from: q.dob_from,
        dob_to: q.dob_to,
        village_id: q.village_id,
        district_id: q.district_id,
        family_id: q.family_id,
        gender: q.gender,
        status: q.status,
        scope: None,
        ..InsureeFilter::default()
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "insurees",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_insurees(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Add a member to a family (`family_id`).
#[utoipa::path(post, path = "/api/v1/insurees", extensions(("x-bima-rights" = json!({"any_of": [101102]}))), tag = "insurees", request_body = InsureeInput,
    responses((status = 201, body = Insuree), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "insurance number already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_insuree(
    State(state): State<AppState>,
    Extension(hooks): Extension<service::PolicyHooks>,
    Extension(config): Extension<Arc<Config>>,
    actor: Actor,
    ValidJson(input): ValidJson<InsureeInput>,
) -> Result<(StatusCode, Json<Insuree>)> {
    let insuree = service::create_insuree(&state.db, &actor, &config, hooks, input).await?;
    Ok((StatusCode::CREATED, Json(insuree)))
}

/// One insuree, by UUID or insurance number, with their family and policies.
#[utoipa::path(get, path = "/api/v1/insurees/{id}", extensions(("x-bima-rights" = json!({"any_of": [101105, 101101]}))), tag = "insurees", params(("id" = String, Path, description = "UUID or insurance number (CHFID)")),
    responses((status = 200, body = InsureeDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_insuree(
    State(state): State<AppState>,
    Extension(hooks): Extension<service::PolicyHooks>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<InsureeDetail>> {
    Ok(Json(
        service::get_insuree(&state.db, &actor, hooks, &id).await?,
    ))
}

/// Change an insuree; send the `version` you read.
#[utoipa::path(put, path = "/api/v1/insurees/{id}", extensions(("x-bima-rights" = json!({"any_of": [101103]}))), tag = "insurees", params(("id" = String, Path, description = "UUID or insurance number (CHFID)")),
    request_body = InsureeInput,
    responses((status = 200, body = Insuree), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "stale version or number already used", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_insuree(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<InsureeInput>,
) -> Result<Json<Insuree>> {
    Ok(Json(
        service::update_insuree(&state.db, &actor, &config, &id, input).await?,
    ))
}

/// Delete an insuree (not the head of a family: name another head first, or delete the family).
#[utoipa::path(delete, path = "/api/v1/insurees/{id}", extensions(("x-bima-rights" = json!({"any_of": [101104]}))), tag = "insurees", params(("id" = String, Path, description = "UUID or insurance number (CHFID)"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "head of a family, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_insuree(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_insuree(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The family the insuree joins.
    pub family_id: Uuid,
    /// The insuree's version you read (optional).
    #[serde(default)]
    pub version: Option<i64>,
}

/// Move a member to another family (a head must hand over to another member first).
#[utoipa::path(post, path = "/api/v1/insurees/{id}/move", extensions(("x-bima-rights" = json!({"any_of": [101103]}))), tag = "insurees", params(("id" = String, Path, description = "UUID or insurance number (CHFID)")),
    request_body = MoveInput,
    responses((status = 200, body = Insuree), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "head of the family, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn move_insuree(
    State(state): State<AppState>,
    Extension(hooks): Extension<service::PolicyHooks>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<MoveInput>,
) -> Result<Json<Insuree>> {
    Ok(Json(
        service::move_insuree(
            &state.db,
            &actor,
            hooks,
            &id,
            input.family_id,
            input.version,
        )
        .await?,
    ))
}

/// 413 saying how large the photo was and how large it may be.
fn photo_too_large(size: Option<usize>, max: usize) -> Response {
    let detail = match size {
        Some(size) => format!("the photo has {size} bytes; at most {max} bytes are accepted"),
        None => format!("the photo is larger than the {max} bytes accepted"),
    };
    let problem = Problem {
        r#type: "urn:bima:problem:payload_too_large".into(),
        title: "Payload Too Large".into(),
        status: 413,
        code: "payload_too_large".into(),
        detail,
        errors: Vec::new(),
    };
    let mut response = (StatusCode::PAYLOAD_TOO_LARGE, Json(problem)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Read the photo from a multipart form (its first file) or from the raw body.
async fn read_photo(
    request: Request,
    max: usize,
) -> Result<std::result::Result<(Option<ImageKind>, Vec<u8>), Response>> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("multipart/form-data") {
        let mut form = axum::extract::Multipart::from_request(request, &())
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        // A form over the server's body limit fails while it is read: that is a 413 too.
        let form_error = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge
            } else {
                Error::BadRequest(e.body_text())
            }
        };
        while let Some(mut part) = form.next_field().await.map_err(form_error)? {
            if part.file_name().is_none() && part.content_type().is_none() {
                continue;
            }
            // A form may send a file as octet-stream: its bytes then say what it is.
            let declared = match part.content_type() {
                None | Some("application/octet-stream") => None,
                Some(other) => {
                    Some(ImageKind::from_content_type(other).ok_or_else(|| unsupported(other))?)
                }
            };
            let mut bytes = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(form_error)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > max {
                    return Ok(Err(photo_too_large(None, max)));
                }
            }
            return Ok(Ok((declared, bytes)));
        }
        return Err(Error::invalid(
            "photo",
            "required",
            "the form holds no file: send the photo as a file field",
        ));
    }
    let declared = ImageKind::from_content_type(&content_type);
    if declared.is_none() {
        return Err(unsupported(&content_type));
    }
    if let Some(length) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && length > max
    {
        return Ok(Err(photo_too_large(Some(length), max)));
    }
    match axum::body::to_bytes(request.into_body(), max).await {
        Ok(bytes) => Ok(Ok((declared, bytes.to_vec()))),
        Err(_) => Ok(Err(photo_too_large(None, max))),
    }
}

fn unsupported(content_type: &str) -> Error {
    Error::invalid(
        "photo",
        "unsupported_type",
        format!(
            "a photo is sent as image/jpeg or image/png (or in a multipart form); got \"{content_type}\""
        ),
    )
}

/// Store the insuree's photo: a JPEG or PNG, as the raw body (Content-Type image/jpeg or
/// image/png) or as a file of a multipart form.
#[utoipa::path(put, path = "/api/v1/insurees/{id}/photo", extensions(("x-bima-rights" = json!({"any_of": [101103]}))), tag = "insurees", params(("id" = String, Path, description = "UUID or insurance number (CHFID)"), VersionQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = Insuree), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, description = "larger than the photo limit", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_photo(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
    request: Request,
) -> Result<Response> {
    // Refuse before reading a body the caller may not send.
    actor.require(service::INSUREE_EDIT)?;
    let (declared, bytes) = match read_photo(request, config.photo_max_bytes).await? {
        Ok(photo) => photo,
        Err(too_large) => return Ok(too_large),
    };
    let insuree = service::put_photo(&state.db, &actor, &id, declared, &bytes, q.version).await?;
    Ok(Json(insuree).into_response())
}

/// The insuree's photo, as stored.
#[utoipa::path(get, path = "/api/v1/insurees/{id}/photo", extensions(("x-bima-rights" = json!({"any_of": [101105, 101101]}))), tag = "insurees", params(("id" = String, Path, description = "UUID or insurance number (CHFID)")),
    responses((status = 200, description = "the image (image/jpeg or image/png)"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_photo(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    let photo = service::get_photo(&state.db, &actor, &id).await?;
    let mut response = Body::from(photo.bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&photo.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
}

// ---------------------------------------------------------------- CSV

impl CsvRow for FamilyView {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "head_insuree_id",
            "head_chfid",
            "head_last_name",
            "head_other_names",
            "location_id",
            "district_id",
            "poverty",
            "family_type",
            "address",
            "ethnicity",
            "confirmation_no",
            "confirmation_type",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        let f = &self.family;
        vec![
            f.id.to_string(),
            field(&f.head_insuree_id),
            field(&self.head_chfid),
            field(&self.head_last_name),
            field(&self.head_other_names),
            f.location_id.to_string(),
            f.district_id.to_string(),
            field(&f.poverty),
            field(&f.family_type.map(|t| t.code())),
            field(&f.address),
            field(&f.ethnicity),
            field(&f.confirmation_no),
            field(&f.confirmation_type.map(|t| t.code())),
            f.version.to_string(),
        ]
    }
}

impl CsvRow for Insuree {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "chfid",
            "last_name",
            "other_names",
            "gender",
            "dob",
            "family_id",
            "head",
            "marital",
            "relationship",
            "profession",
            "education",
            "passport",
            "type_of_id",
            "phone",
            "email",
            "current_address",
            "current_village_id",
            "health_facility_id",
            "card_issued",
            "status",
            "status_date",
            "status_reason",
            "photo_date",
            "district_id",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.chfid.clone(),
            self.last_name.clone(),
            self.other_names.clone(),
            self.gender.code().to_string(),
            self.dob.to_string(),
            field(&self.family_id),
            self.head.to_string(),
            field(&self.marital.map(|m| m.code())),
            field(&self.relationship),
            field(&self.profession),
            field(&self.education),
            field(&self.passport),
            field(&self.type_of_id.map(|t| t.code())),
            field(&self.phone),
            field(&self.email),
            field(&self.current_address),
            field(&self.current_village_id),
            field(&self.health_facility_id),
            self.card_issued.to_string(),
            self.status.code().to_string(),
            field(&self.status_date),
            field(&self.status_reason),
            field(&self.photo_date),
            field(&self.district_id),
            self.version.to_string(),
        ]
    }
}
