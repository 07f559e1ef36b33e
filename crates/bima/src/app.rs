//! The composition root: opens the database, applies every module's migrations, bootstraps the
//! administrator and assembles the HTTP surface. Modules are wired here and nowhere else.

use crate::config::Settings;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use identity::auth::Auth;
use identity::service::AdminBootstrap;
use kernel::{Actor, AppState, AuditGuard, Error, PageParams, Paged, Problem, ValidQuery, audit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use store::{Db, DbOptions, Migration};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;
use uuid::Uuid;

/// Every module's migrations, in dependency order.
pub fn migrations() -> Vec<&'static [Migration]> {
    vec![
        kernel::MIGRATIONS,
        location::MIGRATIONS,
        identity::MIGRATIONS,
        medical::MIGRATIONS,
        product::MIGRATIONS,
        registry::MIGRATIONS,
        policy::MIGRATIONS,
        claim::MIGRATIONS,
    ]
}

/// Open the database the way every command does: create it if needed, migrate, and make sure
/// an administrator exists. Returns the bootstrap outcome so the caller can show a password.
pub fn db_options(settings: &Settings) -> DbOptions {
    DbOptions {
        url: settings.database_url.clone(),
        data_dir: settings.data_dir.clone(),
        max_connections: settings.max_connections,
    }
}

pub async fn open_database(settings: &Settings) -> anyhow::Result<(Db, AdminBootstrap)> {
    let db = Db::open(&db_options(settings))
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    prepare(&db, settings.admin_password.as_deref())
        .await
        .map(|b| (db, b))
}

/// Migrate and bootstrap an open database.
pub async fn prepare(db: &Db, admin_password: Option<&str>) -> anyhow::Result<AdminBootstrap> {
    db.migrate(&migrations())
        .await
        .map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))?;
    identity::service::bootstrap_admin(db, admin_password)
        .await
        .map_err(|e| anyhow::anyhow!("creating the administrator failed: {e}"))
}

/// Tell the operator about a new administrator account, once.
pub fn announce(bootstrap: &AdminBootstrap) {
    match bootstrap {
        AdminBootstrap::Present => {}
        AdminBootstrap::Created => {
            eprintln!(
                "Created the administrator account \"admin\" with the password from BIMA_ADMIN_PASSWORD."
            );
        }
        AdminBootstrap::CreatedWithPassword(password) => {
            eprintln!(
                "Created the administrator account \"admin\". Its password, shown only this once:\n\n    {password}\n"
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bima API", description = "Insurance and social-protection schemes. Errors are RFC 9457 problem+json with a stable `code`.", license(name = "MPL-2.0")),
    modifiers(&BearerAuth),
    components(schemas(Problem))
)]
struct ApiDoc;

struct BearerAuth;

/// Error responses are served as `application/problem+json` (RFC 9457); say so in the document,
/// for every response whose body is a `Problem`. Applied once every module's routes are in.
struct ProblemContentType;

impl utoipa::Modify for ProblemContentType {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    let utoipa::openapi::RefOr::T(response) = response else {
                        continue;
                    };
                    let is_problem = response.content.get("application/json").is_some_and(|c| {
                        matches!(c, utoipa::openapi::RefOr::T(content)
                            if matches!(&content.schema, Some(utoipa::openapi::RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
                    });
                    if is_problem
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert("application/problem+json".to_string(), content);
                    }
                }
            }
        }
    }
}

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // In tests several apps share one process; the first recorder serves them all.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The whole HTTP surface over an open, migrated database.
pub async fn router(db: Db, settings: &Settings) -> anyhow::Result<Router> {
    let auth = Auth::new(db.clone(), time::Duration::minutes(settings.token_minutes))
        .await
        .map_err(|e| anyhow::anyhow!("starting authentication failed: {e}"))?;
    let mut guards: HashMap<&'static str, AuditGuard> = HashMap::new();
    guards.extend(location::service::audit_guards());
    guards.extend(identity::service::audit_guards());
    guards.extend(medical::service::audit_guards());
    guards.extend(product::service::audit_guards());
    guards.extend(registry::service::audit_guards());
    guards.extend(policy::service::audit_guards());
    guards.extend(claim::service::audit_guards());
    let state = AppState {
        db: db.clone(),
        audit_guards: Arc::new(guards),
    };
    let (api, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(identity::http::router())
        .merge(location::http::router())
        .merge(medical::http::router())
        .merge(product::http::router())
        .merge(registry::http::router())
        .merge(policy::http::router())
        .merge(claim::http::router())
        .routes(routes!(audit_history))
        .routes(routes!(health))
        .split_for_parts();
    utoipa::Modify::modify(&ProblemContentType, &mut openapi);
    let handle = metrics_handle();
    let router =
        Router::new()
            .merge(api)
            .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
            .merge(fhir::router())
            .merge(web::router(web::session::Sessions {
                auth: auth.clone(),
                config: settings.web.clone(),
            }))
            .route(
                "/metrics",
                get(move |State(state): State<AppState>| async move {
                    render_metrics(&state.db, &handle)
                }),
            )
            .fallback(|| async { Error::not_found("page", "this address") })
            .layer(middleware::from_fn_with_state(
                auth.clone(),
                identity::auth::authenticate,
            ))
            .layer(Extension(auth))
            .layer(Extension(Arc::new(settings.registry.clone())))
            .layer(Extension(Arc::new(settings.policy)))
            .layer(Extension(Arc::new(settings.claim)))
            .layer(Extension(Arc::new(settings.fhir.clone())))
            .layer(Extension(policy::service::ClaimsUsage(
                claim::service::claims_usage_hook,
            )))
            .layer(Extension(registry::service::PolicyHooks {
                insuree_policies: policy::service::insuree_policies_hook,
                member_joined: policy::service::member_joined_hook,
            }))
            .layer(Extension(
                medical::service::facility_pricelists as location::service::PriceListCheck,
            ))
            .layer(DefaultBodyLimit::max(settings.max_body_bytes))
            .layer(middleware::from_fn(record_metrics))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
                Error::Internal("a request handler panicked".into()).into_response()
            }))
            // Outside every other layer, so that their errors too reach a FHIR client as
            // OperationOutcome.
            .layer(middleware::from_fn(fhir::outcome::as_operation_outcome))
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .with_state(state);
    Ok(router)
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("path", path), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

fn render_metrics(db: &Db, handle: &PrometheusHandle) -> Response {
    let (size, idle) = db.pool_stats();
    metrics::gauge!("db_pool_connections", "engine" => db.engine().name()).set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections", "engine" => db.engine().name()).set(idle as f64);
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    pub version: &'static str,
}

/// Liveness: the server answers and its database too.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, description = "database unreachable", body = Health)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let ok = state.db.ping().await.is_ok();
    let health = Health {
        status: if ok { "ok" } else { "database unreachable" },
        database: state.db.engine().name(),
        version: env!("CARGO_PKG_VERSION"),
    };
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(health),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `location`, `health_facility`, `user` or `role`.
    entity: String,
    /// The entity's UUID.
    id: Uuid,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The history of one record: who changed what and when, newest first.
#[utoipa::path(get, path = "/api/v1/audit", extensions(("x-bima-rights" = json!({"any_of": "the right to see the entity named in the query"}))), tag = "audit", params(AuditQuery),
    responses((status = 200, body = Paged<audit::AuditEntry>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn audit_history(
    State(state): State<AppState>,
    actor: Actor,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> kernel::Result<Json<Paged<audit::AuditEntry>>> {
    let page = PageParams::new(q.page, q.per_page);
    Ok(Json(
        state.record_history(&actor, &q.entity, q.id, page).await?,
    ))
}
