//! REST endpoints: `/api/v1/policies`, `/api/v1/contributions`, `/api/v1/payers` and
//! `/api/v1/insurees/{id}/eligibility`.

use crate::model::*;
use crate::service::{self, Config, StatusAction};
use crate::store::{ContributionFilter, PolicyFilter};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use kernel::export::{self, CsvRow, ListFormat, field};
use kernel::{
    Actor, AppState, PageParams, Paged, Problem, Result, ValidJson, ValidQuery, VersionQuery,
};
use serde::Deserialize;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(quote_policy))
        .routes(routes!(get_policy, update_policy, delete_policy))
        .routes(routes!(renew_policy))
        .routes(routes!(suspend_policy))
        .routes(routes!(reinstate_policy))
        .routes(routes!(cancel_policy))
        .routes(routes!(list_contributions, create_contribution))
        .routes(routes!(get_contribution, delete_contribution))
        .routes(routes!(list_payers, create_payer))
        .routes(routes!(get_payer, update_payer, delete_payer))
        .routes(routes!(eligibility))
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

// ---------------------------------------------------------------- policies

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyQuery {
    family_id: Option<Uuid>,
    product_id: Option<Uuid>,
    /// Policies covering this insuree.
    insuree_id: Option<Uuid>,
    #[param(value_type = Option<String>)]
    status: Option<PolicyStatus>,
    district_id: Option<Uuid>,
    page: Option<u32>,
    per_page: Option<u32>,
    /// `csv` exports every matching row (paging ignored).
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List policies within your districts.
#[utoipa::path(get, path = "/api/v1/policies", extensions(("x-bima-rights" = json!({"any_of": [101201]}))), tag = "policies", params(PolicyQuery),
    responses((status = 200, body = Paged<Policy>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_policies(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<PolicyQuery>,
) -> Result<Response> {
    let filter = PolicyFilter {
        family_id: q.family_id,
        product_id: q.product_id,
        insuree_id: q.insuree_id,
        status: q.status,
        district_id: q.district_id,
        scope: None,
        updated: Vec::new(),
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "policies",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_policies(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Enrol a family in a product: a new idle policy, with its dates and value computed from the
/// product, covering the family's members up to the product's maximum.
#[utoipa::path(post, path = "/api/v1/policies", extensions(("x-bima-rights" = json!({"any_of": [101202]}))), tag = "policies", request_body = PolicyInput,
    responses((status = 201, body = PolicyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_policy(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<PolicyInput>,
) -> Result<(StatusCode, Json<PolicyDetail>)> {
    let policy = service::create_policy(&state.db, &actor, input, today()).await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    family_id: Uuid,
    product_id: Uuid,
    /// Default: today.
    enroll_date: Option<Date>,
}

/// What a new policy would be (dates, value, last date for payment), without creating it.
#[utoipa::path(get, path = "/api/v1/policies/quote", extensions(("x-bima-rights" = json!({"any_of": [101201]}))), tag = "policies", params(QuoteQuery),
    responses((status = 200, body = Quote), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn quote_policy(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<QuoteQuery>,
) -> Result<Json<Quote>> {
    let today = today();
    Ok(Json(
        service::quote(
            &state.db,
            &actor,
            q.family_id,
            q.product_id,
            q.enroll_date.unwrap_or(today),
            today,
        )
        .await?,
    ))
}

/// One policy with what was paid and whom it covers.
#[utoipa::path(get, path = "/api/v1/policies/{id}", extensions(("x-bima-rights" = json!({"any_of": [101201]}))), tag = "policies", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = PolicyDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<PolicyDetail>> {
    Ok(Json(service::get_policy(&state.db, &actor, &id).await?))
}

/// Change an idle policy's enrolment date or officer (dates and value follow).
#[utoipa::path(put, path = "/api/v1/policies/{id}", extensions(("x-bima-rights" = json!({"any_of": [101203]}))), tag = "policies", params(("id" = String, Path, description = "UUID")),
    request_body = PolicyChange,
    responses((status = 200, body = PolicyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "not idle, or stale version", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<PolicyChange>,
) -> Result<Json<PolicyDetail>> {
    Ok(Json(
        service::update_policy(&state.db, &actor, &id, input, today()).await?,
    ))
}

/// Delete a policy no contribution has been paid for.
#[utoipa::path(delete, path = "/api/v1/policies/{id}", extensions(("x-bima-rights" = json!({"any_of": [101204]}))), tag = "policies", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_policy(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renew an active or expired policy: a new policy (stage R) continuing it.
#[utoipa::path(post, path = "/api/v1/policies/{id}/renew", extensions(("x-bima-rights" = json!({"any_of": [101205]}))), tag = "policies", params(("id" = String, Path, description = "UUID")),
    request_body = RenewInput,
    responses((status = 201, body = PolicyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn renew_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<RenewInput>,
) -> Result<(StatusCode, Json<PolicyDetail>)> {
    let policy = service::renew_policy(&state.db, &actor, &id, input, today()).await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

async fn status_change(
    state: AppState,
    actor: Actor,
    id: String,
    action: StatusAction,
    input: StatusChange,
) -> Result<Json<PolicyDetail>> {
    Ok(Json(
        service::change_status(&state.db, &actor, &id, action, input, today()).await?,
    ))
}

/// Suspend a policy: it covers nobody until reinstated.
#[utoipa::path(post, path = "/api/v1/policies/{id}/suspend", extensions(("x-bima-rights" = json!({"any_of": [101203]}))), tag = "policies", params(("id" = String, Path, description = "UUID")),
    request_body = StatusChange,
    responses((status = 200, body = PolicyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn suspend_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<StatusChange>,
) -> Result<Json<PolicyDetail>> {
    status_change(state, actor, id, StatusAction::Suspend, input).await
}

/// Reinstate a suspended policy (active again if it was paid, idle otherwise).
#[utoipa::path(post, path = "/api/v1/policies/{id}/reinstate", extensions(("x-bima-rights" = json!({"any_of": [101203]}))), tag = "policies", params(("id" = String, Path, description = "UUID")),
    request_body = StatusChange,
    responses((status = 200, body = PolicyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn reinstate_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<StatusChange>,
) -> Result<Json<PolicyDetail>> {
    status_change(state, actor, id, StatusAction::Reinstate, input).await
}

/// Cancel a policy: its coverage ends on `date` (default today) and it expires.
#[utoipa::path(post, path = "/api/v1/policies/{id}/cancel", extensions(("x-bima-rights" = json!({"any_of": [101203]}))), tag = "policies", params(("id" = String, Path, description = "UUID")),
    request_body = StatusChange,
    responses((status = 200, body = PolicyDetail), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn cancel_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<StatusChange>,
) -> Result<Json<PolicyDetail>> {
    status_change(state, actor, id, StatusAction::Cancel, input).await
}

// ---------------------------------------------------------------- contributions

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContributionQuery {
    policy_id: Option<Uuid>,
    payer_id: Option<Uuid>,
    receipt: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

/// List contributions within your districts.
#[utoipa::path(get, path = "/api/v1/contributions", extensions(("x-bima-rights" = json!({"any_of": [101301]}))), tag = "contributions", params(ContributionQuery),
    responses((status = 200, body = Paged<Contribution>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_contributions(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<ContributionQuery>,
) -> Result<Response> {
    let filter = ContributionFilter {
        policy_id: q.policy_id,
        payer_id: q.payer_id,
        receipt: q.receipt,
        scope: None,
        ..ContributionFilter::default()
    };
    let db = state.db.clone();
    export::respond(
        q.format,
        "contributions",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, filter) = (db.clone(), actor.clone(), filter.clone());
            async move { service::list_contributions(&db, &actor, filter, page).await }
        },
    )
    .await
}

/// Record a contribution. When the policy's contributions reach its value it becomes active
/// (or ready, by configuration) and so does every member's coverage; the answer says what
/// happened and why.
#[utoipa::path(post, path = "/api/v1/contributions", extensions(("x-bima-rights" = json!({"any_of": [101302]}))), tag = "contributions", request_body = ContributionInput,
    responses((status = 201, body = ContributionReceipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "overpayment, receipt reused, paid before enrolment…", body = Problem)),
    security(("bearer" = [])))]
async fn create_contribution(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<Config>>,
    actor: Actor,
    ValidJson(input): ValidJson<ContributionInput>,
) -> Result<(StatusCode, Json<ContributionReceipt>)> {
    let receipt = service::create_contribution(&state.db, &actor, &config, input, today()).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

#[utoipa::path(get, path = "/api/v1/contributions/{id}", extensions(("x-bima-rights" = json!({"any_of": [101301]}))), tag = "contributions", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Contribution), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_contribution(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Contribution>> {
    Ok(Json(
        service::get_contribution(&state.db, &actor, &id).await?,
    ))
}

/// Delete a contribution of a policy that is still idle.
#[utoipa::path(delete, path = "/api/v1/contributions/{id}", extensions(("x-bima-rights" = json!({"any_of": [101304]}))), tag = "contributions", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_contribution(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_contribution(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- payers

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayerQuery {
    /// Part of the name.
    q: Option<String>,
    #[param(value_type = Option<String>)]
    payer_type: Option<PayerType>,
    page: Option<u32>,
    per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    format: Option<ListFormat>,
}

#[utoipa::path(get, path = "/api/v1/payers", extensions(("x-bima-rights" = json!({"any_of": [121801]}))), tag = "payers", params(PayerQuery),
    responses((status = 200, body = Paged<Payer>, description = "a page as JSON, or every row as CSV with ?format=csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_payers(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<PayerQuery>,
) -> Result<Response> {
    let db = state.db.clone();
    let (text, kind) = (q.q, q.payer_type);
    export::respond(
        q.format,
        "payers",
        PageParams::new(q.page, q.per_page),
        move |page| {
            let (db, actor, text) = (db.clone(), actor.clone(), text.clone());
            async move { service::list_payers(&db, &actor, text, kind, page).await }
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/payers", extensions(("x-bima-rights" = json!({"any_of": [121802]}))), tag = "payers", request_body = PayerInput,
    responses((status = 201, body = Payer), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_payer(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<PayerInput>,
) -> Result<(StatusCode, Json<Payer>)> {
    let payer = service::create_payer(&state.db, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(payer)))
}

#[utoipa::path(get, path = "/api/v1/payers/{id}", extensions(("x-bima-rights" = json!({"any_of": [121801]}))), tag = "payers", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Payer), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_payer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Payer>> {
    Ok(Json(service::get_payer(&state.db, &actor, &id).await?))
}

/// Change a payer; send the `version` you read.
#[utoipa::path(put, path = "/api/v1/payers/{id}", extensions(("x-bima-rights" = json!({"any_of": [121803]}))), tag = "payers", params(("id" = String, Path, description = "UUID")),
    request_body = PayerInput,
    responses((status = 200, body = Payer), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_payer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<PayerInput>,
) -> Result<Json<Payer>> {
    Ok(Json(
        service::update_payer(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a payer no contribution names.
#[utoipa::path(delete, path = "/api/v1/payers/{id}", extensions(("x-bima-rights" = json!({"any_of": [121804]}))), tag = "payers", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_payer(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_payer(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- eligibility

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EligibilityQuery {
    /// A medical item's code.
    item: Option<String>,
    /// A medical service's code.
    service: Option<String>,
    /// Default: today.
    date: Option<Date>,
}

/// Is this insuree covered on a date, and for an item or service? For each covering product:
/// the status letter, what remains of deductibles, ceilings and limits, and for the item or
/// service whether it is covered now and from when.
#[utoipa::path(get, path = "/api/v1/insurees/{id}/eligibility", extensions(("x-bima-rights" = json!({"any_of": [101105, 101201]}))), tag = "policies",
    params(("id" = String, Path, description = "UUID or insurance number (CHFID)"), EligibilityQuery),
    responses((status = 200, body = Eligibility), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn eligibility(
    State(state): State<AppState>,
    actor: Actor,
    Extension(used): Extension<service::ClaimsUsage>,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<EligibilityQuery>,
) -> Result<Json<Eligibility>> {
    Ok(Json(
        service::eligibility(
            &state.db,
            &actor,
            used,
            &id,
            q.item.as_deref(),
            q.service.as_deref(),
            q.date.unwrap_or_else(today),
        )
        .await?,
    ))
}

// ---------------------------------------------------------------- CSV

impl CsvRow for Policy {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "family_id",
            "product_id",
            "officer_id",
            "previous_policy_id",
            "stage",
            "status",
            "value",
            "enroll_date",
            "start_date",
            "effective_date",
            "expiry_date",
            "district_id",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.family_id.to_string(),
            self.product_id.to_string(),
            field(&self.officer_id),
            field(&self.previous_policy_id),
            self.stage.code().to_string(),
            self.status.name().to_string(),
            self.value.to_string(),
            self.enroll_date.to_string(),
            self.start_date.to_string(),
            field(&self.effective_date),
            self.expiry_date.to_string(),
            self.district_id.to_string(),
            self.version.to_string(),
        ]
    }
}

impl CsvRow for Contribution {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "policy_id",
            "product_id",
            "payer_id",
            "amount",
            "receipt",
            "pay_date",
            "pay_type",
            "is_photo_fee",
            "district_id",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.policy_id.to_string(),
            self.product_id.to_string(),
            field(&self.payer_id),
            self.amount.to_string(),
            self.receipt.clone(),
            self.pay_date.to_string(),
            self.pay_type.code().to_string(),
            self.is_photo_fee.to_string(),
            self.district_id.to_string(),
            self.version.to_string(),
        ]
    }
}

impl CsvRow for Payer {
    fn header() -> &'static [&'static str] {
        &[
            "id",
            "payer_type",
            "name",
            "address",
            "location_id",
            "phone",
            "fax",
            "email",
            "version",
        ]
    }

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.payer_type.code().to_string(),
            self.name.clone(),
            field(&self.address),
            field(&self.location_id),
            field(&self.phone),
            field(&self.fax),
            field(&self.email),
            self.version.to_string(),
        ]
    }
}
