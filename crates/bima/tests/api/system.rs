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
        // Errors are documented with the media type they are served with.
        let post = &doc["paths"]["/api/v1/locations"]["post"]["responses"];
        assert!(
            post["422"]["content"]["application/problem+json"].is_object(),
            "{post}"
        );
        assert!(
            post["422"]["content"]["application/json"].is_null(),
            "{post}"
        );
        assert!(
            post["201"]["content"]["application/json"].is_object(),
            "{post}"
        );

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

#[tokio::test]
async fn bima_serve_starts_on_a_fresh_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bima-data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bima"))
        .arg("serve")
        .arg("--demo")
        .arg("--demo-families")
        .arg("25")
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(&data)
        .env_remove("BIMA_DATABASE_URL")
        .env_remove("BIMA_ADMIN_PASSWORD")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..300 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            && r.status() == StatusCode::OK
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(healthy, "{stderr}");
    assert!(data.join("bima.db").exists());
    // Without BIMA_ADMIN_PASSWORD a random password is printed once.
    assert!(stderr.contains("shown only this once"), "{stderr}");
    assert!(
        stderr.contains("25 families"),
        "the demo scheme was built: {stderr}"
    );
}
