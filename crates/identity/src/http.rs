//! REST endpoints: `/api/v1/auth/*`, `/api/v1/users`, `/api/v1/roles`, `/api/v1/rights`.

use crate::auth::{self, Auth};
use crate::model::*;
use crate::service;
use crate::store::UserFilter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use kernel::{
    Actor, AppState, PageParams, Paged, Problem, Result, ValidJson, ValidQuery, VersionQuery,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(list_rights))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
}

/// Log in with a username and password; answers a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = Problem), (status = 401, description = "wrong username or password", body = Problem),
        (status = 422, body = Problem), (status = 429, description = "too many failed attempts", body = Problem)))]
async fn login(
    Extension(auth): Extension<Arc<Auth>>,
    ValidJson(body): ValidJson<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    Ok(Json(auth.login(&body.username, &body.password).await?))
}

/// Who you are: your account, rights and districts.
#[utoipa::path(get, path = "/api/v1/auth/me", extensions(("x-bima-rights" = json!({"any_of": []}))), tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn me(State(state): State<AppState>, actor: Actor) -> Result<Json<Me>> {
    Ok(Json(auth::me(&state.db, &actor).await?))
}

/// Change your own password.
#[utoipa::path(post, path = "/api/v1/auth/password", extensions(("x-bima-rights" = json!({"any_of": []}))), tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "changed"), (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem), (status = 429, description = "too many wrong current passwords", body = Problem)), security(("bearer" = [])))]
async fn change_password(
    Extension(auth): Extension<Arc<Auth>>,
    actor: Actor,
    ValidJson(body): ValidJson<PasswordChange>,
) -> Result<StatusCode> {
    auth.change_password(&actor, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RightInfo {
    pub id: u32,
    pub name: &'static str,
}

/// Every openIMIS right, for building roles.
#[utoipa::path(get, path = "/api/v1/rights", extensions(("x-bima-rights" = json!({"any_of": []}))), tag = "roles",
    responses((status = 200, body = Vec<RightInfo>), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn list_rights(_actor: Actor) -> Json<Vec<RightInfo>> {
    Json(
        kernel::rights::CATALOGUE
            .iter()
            .map(|(id, name)| RightInfo { id: *id, name })
            .collect(),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Username prefix.
    username: Option<String>,
    /// Part of the last or other names.
    name: Option<String>,
    #[param(value_type = Option<String>)]
    kind: Option<UserKind>,
    role_id: Option<Uuid>,
    district_id: Option<Uuid>,
    health_facility_id: Option<Uuid>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// List users who share one of your districts (an administrator sees all).
#[utoipa::path(get, path = "/api/v1/users", extensions(("x-bima-rights" = json!({"any_of": [121701]}))), tag = "users", params(UserQuery),
    responses((status = 200, body = Paged<User>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<UserQuery>,
) -> Result<Json<Paged<User>>> {
    let filter = UserFilter {
        username: q.username,
        name: q.name,
        kind: q.kind,
        role_id: q.role_id,
        district_id: q.district_id,
        health_facility_id: q.health_facility_id,
        scope: None,
        updated: Vec::new(),
    };
    let page = PageParams::new(q.page, q.per_page);
    Ok(Json(
        service::list_users(&state.db, &actor, filter, page).await?,
    ))
}

/// Create a user with roles and districts; you can grant only rights and districts you hold.
#[utoipa::path(post, path = "/api/v1/users", extensions(("x-bima-rights" = json!({"any_of": [121702]}))), tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "username taken", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<UserInput>,
) -> Result<(StatusCode, Json<User>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_user(&state.db, &actor, input).await?),
    ))
}

/// One user, by UUID or username.
#[utoipa::path(get, path = "/api/v1/users/{id}", extensions(("x-bima-rights" = json!({"any_of": [121701]}))), tag = "users", params(("id" = String, Path, description = "UUID or username")),
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<User>> {
    Ok(Json(service::get_user(&state.db, &actor, &id).await?))
}

/// Change a user; send the `version` you read. A `password` replaces the old one.
#[utoipa::path(put, path = "/api/v1/users/{id}", extensions(("x-bima-rights" = json!({"any_of": [121703]}))), tag = "users", params(("id" = String, Path, description = "UUID or username")),
    request_body = UserInput,
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<UserInput>,
) -> Result<Json<User>> {
    Ok(Json(
        service::update_user(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a user (they can no longer log in).
#[utoipa::path(delete, path = "/api/v1/users/{id}", extensions(("x-bima-rights" = json!({"any_of": [121704]}))), tag = "users", params(("id" = String, Path, description = "UUID or username"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_user(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleQuery {
    /// Part of the role name.
    name: Option<String>,
    /// true: system roles only; false: custom roles only.
    system: Option<bool>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// List roles: the 12 openIMIS system roles and custom ones.
#[utoipa::path(get, path = "/api/v1/roles", extensions(("x-bima-rights" = json!({"any_of": [122001]}))), tag = "roles", params(RoleQuery),
    responses((status = 200, body = Paged<Role>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn list_roles(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<RoleQuery>,
) -> Result<Json<Paged<Role>>> {
    let page = PageParams::new(q.page, q.per_page);
    Ok(Json(
        service::list_roles(&state.db, &actor, q.name, q.system, page).await?,
    ))
}

/// Create a custom role from rights you hold.
#[utoipa::path(post, path = "/api/v1/roles", extensions(("x-bima-rights" = json!({"any_of": [122002]}))), tag = "roles", request_body = RoleInput,
    responses((status = 201, body = Role), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_role(
    State(state): State<AppState>,
    actor: Actor,
    ValidJson(input): ValidJson<RoleInput>,
) -> Result<(StatusCode, Json<Role>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_role(&state.db, &actor, input).await?),
    ))
}

/// One role.
#[utoipa::path(get, path = "/api/v1/roles/{id}", extensions(("x-bima-rights" = json!({"any_of": [122001]}))), tag = "roles", params(("id" = String, Path, description = "UUID")),
    responses((status = 200, body = Role), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_role(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<Role>> {
    Ok(Json(service::get_role(&state.db, &actor, &id).await?))
}

/// Change a custom role (system roles are read-only).
#[utoipa::path(put, path = "/api/v1/roles/{id}", extensions(("x-bima-rights" = json!({"any_of": [122003]}))), tag = "roles", params(("id" = String, Path, description = "UUID")), request_body = RoleInput,
    responses((status = 200, body = Role), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_role(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidJson(input): ValidJson<RoleInput>,
) -> Result<Json<Role>> {
    Ok(Json(
        service::update_role(&state.db, &actor, &id, input).await?,
    ))
}

/// Delete a custom role no user holds.
#[utoipa::path(delete, path = "/api/v1/roles/{id}", extensions(("x-bima-rights" = json!({"any_of": [122004]}))), tag = "roles", params(("id" = String, Path, description = "UUID"), VersionQuery),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn delete_role(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    ValidQuery(q): ValidQuery<VersionQuery>,
) -> Result<StatusCode> {
    service::delete_role(&state.db, &actor, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}
