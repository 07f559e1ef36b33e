//! REST endpoints: `/api/v1/claims` and `/api/v1/claims/submit`.

use crate::model::*;
use crate::service::{self, Config};
use crate::store::ClaimFilter;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::{Extension, Json};
use kernel::export::{self, ListFormat};
use kernel::{
    Actor, AppState, Error, PageParams, Problem, Result, ValidJson, ValidQuery, VersionQuery,
};
use serde::Deserialize;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_claims, create_claim))
        .routes(routes!(submit_claims))
        .routes(routes!(process_claims))
        .routes(routes!(get_claim, update_claim, delete_claim))
        .routes(routes!(select_for_review))
        .routes(routes!(draw_for_review))
        .routes(routes!(review_queue))
        .routes(routes!(review_claim))
        .routes(routes!(request_feedback))
        .routes(routes!(deliver_feedback))
        .routes(routes!(list_batch_runs, create_batch_run))
        .routes(routes!(get_batch_run))
        .routes(routes!(batch_statement))
        .routes(routes!(batch_capitation))
        .routes(routes!(list_attachments, add_attachment))
        .routes(routes!(get_attachment, delete_attachment))
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    #[param(value_type = Option<String>)]
    status: Option<ClaimStatus>,
    #[param(value_type = Option<String>)]
    review_status: Option<ReviewStatus>,
    health_facility_id: Option<Uuid>,
    insuree_id: Option<Uuid>,
    /// Exact claim code.
    code: Option<String>,
    /// Visits on or after this day.
    date_from: Option<Date>,
    /// Visits on or before this day.
    date_to: Option<Date>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List claims of the facilities in your districts (your own facility, if you work for one).
#[utoipa::path(get, path = "/api/v1/claims", extensions(("x-bima-rights" = json!({"any_of": [111001]}))), tag = "claims", params(ClaimQuery),
    responses((status = 200, body = kernel::Paged<ClaimSummary>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_claims(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<ClaimQuery>,
) -> Result<Response> {
    let filter = ClaimFilter {
        status: q.status,
        review_status: q.review_status,
        health_facility_id: q.health_facility_id,
        insuree_id: q.insuree_id,
        code: q.code,
        date_from: q.date_from,
        date_to: q.date_to,
        scope: None,
        updated: Vec::new(),
        feedback_requested: false,
        count_at_most: None,
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "claims",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_claims(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Enter a claim: saved as entered, to be changed or submitted. Lines name items and services
/// by code; a price not asked is the facility's price-list price. A code the facility already
/// used is a 409.
#[utoipa::path(post, path = "/api/v1/claims", extensions(("x-bima-rights" = json!({"any_of": [111002]}))), tag = "claims", request_body = ClaimInput,
    responses((status = 201, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_claim(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<ClaimInput>,
) -> Result<(StatusCode, Json<Claim>)> {
    let claim = service::create_claim(&state.db, &actor, input, today()).await?;
    Ok((StatusCode::CREATED, Json(claim)))
}

/// A claim with its lines and, once submitted, each line's decision and reason.
#[utoipa::path(get, path = "/api/v1/claims/{id}", extensions(("x-bima-rights" = json!({"any_of": [111001]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Claim), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_claim(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Claim>> {
    Ok(Json(service::get_claim(&state.db, &actor, &id).await?))
}

/// Change an entered claim (the whole claim, with the `version` you read).
#[utoipa::path(put, path = "/api/v1/claims/{id}", extensions(("x-bima-rights" = json!({"any_of": [111003, 111002]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    request_body = ClaimInput,
    responses((status = 200, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_claim(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<ClaimInput>,
) -> Result<Json<Claim>> {
    Ok(Json(
        service::update_claim(&state.db, &actor, &id, input, today()).await?,
    ))
}

/// Delete an entered or rejected claim.
#[utoipa::path(delete, path = "/api/v1/claims/{id}", extensions(("x-bima-rights" = json!({"any_of": [111004]}))), tag = "claims", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_claim(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_claim(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit entered claims for adjudication: each comes back checked or rejected with every
/// line's reason code, a sentence saying why, and the figures compared. Unknown ids are a 404
/// naming them, and nothing is submitted.
#[utoipa::path(post, path = "/api/v1/claims/submit", extensions(("x-bima-rights" = json!({"any_of": [111007]}))), tag = "claims", request_body = SubmitInput,
    responses((status = 200, body = SubmitResults), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn submit_claims(
    State(state): State<AppState>,
    actor: Actor,
    Extension(config): Extension<Arc<Config>>,
    ValidJson(input): ValidJson<SubmitInput>,
) -> Result<Json<SubmitResults>> {
    Ok(Json(
        service::run_step(
            &state.db,
            &actor,
            &config,
            service::Step::Submit,
            &input.claims,
        )
        .await?,
    ))
}

/// Process checked claims: each accepted line is valued under the policy that pays it
/// (deductibles, co-insurance or fixed amounts, category and general ceilings, against the
/// running ledger of the insuree and the policy). The claim becomes valuated, or processed
/// while lines at relative prices wait for the batch run. Unknown ids are a 404 naming them,
/// and nothing changes.
#[utoipa::path(post, path = "/api/v1/claims/process", extensions(("x-bima-rights" = json!({"any_of": [111011]}))), tag = "claims", request_body = SubmitInput,
    responses((status = 200, body = SubmitResults), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn process_claims(
    State(state): State<AppState>,
    actor: Actor,
    Extension(config): Extension<Arc<Config>>,
    ValidJson(input): ValidJson<SubmitInput>,
) -> Result<Json<SubmitResults>> {
    Ok(Json(
        service::run_step(
            &state.db,
            &actor,
            &config,
            service::Step::Process,
            &input.claims,
        )
        .await?,
    ))
}

// ---------------------------------------------------------------- review and feedback

/// Select checked claims for review by hand, optionally for one medical officer.
#[utoipa::path(post, path = "/api/v1/claims/review/select", extensions(("x-bima-rights" = json!({"any_of": [111010]}))), tag = "claims", request_body = SelectInput,
    responses((status = 200, body = Vec<Claim>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn select_for_review(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<SelectInput>,
) -> Result<Json<Vec<Claim>>> {
    Ok(Json(
        service::select_for_review(&state.db, &actor, input).await?,
    ))
}

/// Select for review the checked claims not yet selected that meet any of the criteria: a
/// random share, an approved amount, a risk score (see `claim::rules::review`), a flag.
#[utoipa::path(post, path = "/api/v1/claims/review/draw", extensions(("x-bima-rights" = json!({"any_of": [111010]}))), tag = "claims", request_body = DrawInput,
    responses((status = 200, body = DrawResult), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn draw_for_review(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<DrawInput>,
) -> Result<Json<DrawResult>> {
    Ok(Json(
        service::draw_for_review(&state.db, &actor, input).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Default: you.
    officer_id: Option<Uuid>,
}

/// A medical officer's review queue (claims selected for them or for nobody in particular) with
/// its open count, ages and turnaround over the last 30 days.
#[utoipa::path(get, path = "/api/v1/claims/review/queue", extensions(("x-bima-rights" = json!({"any_of": [111008]}))), tag = "claims", params(QueueQuery),
    responses((status = 200, body = ReviewQueue), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn review_queue(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<QueueQuery>,
) -> Result<Json<ReviewQueue>> {
    Ok(Json(
        service::review_queue(&state.db, &actor, q.officer_id, OffsetDateTime::now_utc()).await?,
    ))
}

/// Review a checked claim: reject lines (reason −1), approve fewer units or another price, each
/// with a justification; send the `version` you read.
#[utoipa::path(post, path = "/api/v1/claims/{id}/review", extensions(("x-bima-rights" = json!({"any_of": [111008]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    request_body = ReviewInput,
    responses((status = 200, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn review_claim(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<ReviewInput>,
) -> Result<Json<Claim>> {
    Ok(Json(
        service::review_claim(&state.db, &actor, &id, input).await?,
    ))
}

/// Ask for feedback on a submitted claim: an officer will ask the patient.
#[utoipa::path(post, path = "/api/v1/claims/{id}/feedback/request", extensions(("x-bima-rights" = json!({"any_of": [111010]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    request_body = FeedbackRequestInput,
    responses((status = 200, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn request_feedback(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<FeedbackRequestInput>,
) -> Result<Json<Claim>> {
    Ok(Json(
        service::request_feedback(&state.db, &actor, &id, input).await?,
    ))
}

/// Record the patient's feedback on a claim whose feedback was asked.
#[utoipa::path(post, path = "/api/v1/claims/{id}/feedback", extensions(("x-bima-rights" = json!({"any_of": [111009]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    request_body = FeedbackInput,
    responses((status = 200, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn deliver_feedback(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<FeedbackInput>,
) -> Result<Json<Claim>> {
    Ok(Json(
        service::deliver_feedback(&state.db, &actor, &id, input, today()).await?,
    ))
}

// ---------------------------------------------------------------- batch runs

/// Batch runs, latest first.
#[utoipa::path(get, path = "/api/v1/batch-runs", extensions(("x-bima-rights" = json!({"any_of": [111102]}))), tag = "claims",
    responses((status = 200, body = Vec<BatchRun>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_batch_runs(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<BatchRun>>> {
    Ok(Json(service::list_batch_runs(&state.db, &actor).await?))
}

/// Run the batch of a month that is over for a region, a district or the nation (once only):
/// the relative-price index of each product and the month's processed claims valued at it. It
/// runs in the background (202); follow its `progress` at `/api/v1/batch-runs/{id}`. A run cut
/// short by a stop or a crash resumes when the server starts again.
#[utoipa::path(post, path = "/api/v1/batch-runs", extensions(("x-bima-rights" = json!({"any_of": [111101]}))), tag = "claims", request_body = BatchRunInput,
    responses((status = 202, body = BatchRun), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_batch_run(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<BatchRunInput>,
) -> Result<(StatusCode, Json<BatchRun>)> {
    let run = service::create_batch_run(&state.db, &actor, input, today()).await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// A batch run with its progress and relative-price indexes.
#[utoipa::path(get, path = "/api/v1/batch-runs/{id}", extensions(("x-bima-rights" = json!({"any_of": [111102]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = BatchRun), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_batch_run(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<BatchRun>> {
    Ok(Json(service::get_batch_run(&state.db, &actor, &id).await?))
}

/// What a batch run paid each health facility: claims, approved, valuated and remunerated.
#[utoipa::path(get, path = "/api/v1/batch-runs/{id}/statement", extensions(("x-bima-rights" = json!({"any_of": [111102]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Vec<FacilityStatement>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn batch_statement(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Vec<FacilityStatement>>> {
    Ok(Json(
        service::batch_statement(&state.db, &actor, &id).await?,
    ))
}

/// What a batch run pays each health facility in capitation, per product: the six factors'
/// quantities and amounts.
#[utoipa::path(get, path = "/api/v1/batch-runs/{id}/capitation", extensions(("x-bima-rights" = json!({"any_of": [111102]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Vec<CapitationPayment>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn batch_capitation(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Vec<CapitationPayment>>> {
    Ok(Json(
        service::batch_capitation(&state.db, &actor, &id).await?,
    ))
}

// ---------------------------------------------------------------- attachments

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachmentQuery {
    /// What the document is, e.g. "Referral letter".
    title: String,
    filename: Option<String>,
}

/// Attach a document to a claim not yet processed: the file as the body (Content-Type
/// application/pdf, image/jpeg or image/png), at most `[claim] attachment_max_bytes`.
#[utoipa::path(post, path = "/api/v1/claims/{id}/attachments", extensions(("x-bima-rights" = json!({"any_of": [111003, 111002]}))), tag = "claims", params(("id" = String, Path, description = "UUID"), AttachmentQuery),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses((status = 201, body = Attachment), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_attachment(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<AttachmentQuery>,
    request: Request,
) -> Result<(StatusCode, Json<Attachment>)> {
    if !actor.has(service::CLAIM_EDIT) {
        actor.require(service::CLAIM_ADD)?;
    }
    let declared = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let max = config.attachment_max_bytes;
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|l| l > max) {
        return Err(Error::TooLarge);
    }
    let bytes = axum::body::to_bytes(request.into_body(), max)
        .await
        .map_err(|_| Error::TooLarge)?;
    let attachment = service::add_attachment(
        &state.db,
        &actor,
        &id,
        &q.title,
        q.filename.as_deref(),
        &declared,
        &bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(attachment)))
}

/// The documents attached to a claim.
#[utoipa::path(get, path = "/api/v1/claims/{id}/attachments", extensions(("x-bima-rights" = json!({"any_of": [111001]}))), tag = "claims", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Vec<Attachment>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_attachments(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Vec<Attachment>>> {
    Ok(Json(
        service::list_attachments(&state.db, &actor, &id).await?,
    ))
}

/// One document, as it was attached.
#[utoipa::path(get, path = "/api/v1/claims/{id}/attachments/{attachment}", extensions(("x-bima-rights" = json!({"any_of": [111001]}))), tag = "claims",
    params(("id" = String, Path, description = "UUID"), ("attachment" = String, Path, description = "UUID")),
    responses((status = 200, description = "the document"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response> {
    let (a, bytes) = service::get_attachment(&state.db, &actor, &id, &attachment).await?;
    let mut response = Body::from(bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&a.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
}

/// Remove a document from an entered claim.
#[utoipa::path(delete, path = "/api/v1/claims/{id}/attachments/{attachment}", extensions(("x-bima-rights" = json!({"any_of": [111003, 111002]}))), tag = "claims",
    params(("id" = String, Path, description = "UUID"), ("attachment" = String, Path, description = "UUID")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn delete_attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<StatusCode> {
    service::delete_attachment(&state.db, &actor, &id, &attachment).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl export::CsvRow for ClaimSummary {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "code",
            "health_facility_id",
            "insuree_id",
            "chfid",
            "date_claimed",
            "date_from",
            "date_to",
            "status",
            "review_status",
            "rejection_reason",
            "claimed",
            "approved",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            self.health_facility_id.to_string(),
            self.insuree_id.to_string(),
            self.chfid.clone(),
            self.date_claimed.to_string(),
            self.date_from.to_string(),
            export::field(&self.date_to),
            self.status.code().to_string(),
            self.review_status.code().to_string(),
            export::field(&self.rejection_reason.map(|r| r.code())),
            self.claimed.to_string(),
            export::field(&self.approved),
            self.version.to_string(),
        ]
    }
}
