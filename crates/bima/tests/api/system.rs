//! /health, /metrics, the API document and the docs page.

use crate::support::*;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn health_metrics_and_docs_answer() {
    each_engine(|app| async move {
        let (status, health) = app.call(Method::GET, "/health", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(health["status"], "ok");
        assert_eq!(health["database"], app.engine.name());

        let (status, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        for path in [
            "/api/v1/auth/login",
            "/api/v1/locations",
            "/api/v1/locations/{id}",
            "/api/v1/health-facilities",
            "/api/v1/health-facilities/{id}",
            "/api/v1/users",
            "/api/v1/roles",
            "/api/v1/audit",
            "/health",
        ] {
            assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

        let docs = app
            .client
            .get(format!("{}/api/docs/", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(docs.status(), StatusCode::OK);
        assert!(
            docs.text().await.unwrap().contains("swagger"),
            "the docs page is Swagger UI"
        );

        app.get("/api/v1/locations").await;
        let metrics = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(metrics.contains("http_requests_total"), "{metrics}");
        assert!(
            metrics.contains("http_request_duration_seconds"),
            "{metrics}"
        );
        assert!(metrics.contains("db_pool_connections"), "{metrics}");

        let unknown = app.get("/api/v1/nothing-here").await;
        assert_problem(app.engine, &unknown, 404, "not_found");
        app.finish().await;
    })
    .await;
}
