//! Bad input gets a clear 4xx and changes nothing; no input causes a 500.

use crate::support::*;
use reqwest::Method;

#[tokio::test]
async fn malformed_and_invalid_bodies() {
    each_engine(|app| async move {
        let before = app.count("SELECT COUNT(*) FROM locations").await;
        let (status, body) = app
            .raw(Method::POST, "/api/v1/locations", "{\"code\": ")
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "malformed_json");
        let cases = [
            (r#"{"code": 5, "name": "x", "type": "R"}"#, "code"),
            (
                r#"{"code": "R9", "name": "x", "type": "R", "extra": true}"#,
                "extra",
            ),
            (r#"{"code": "R9", "type": "R"}"#, "name"),
            (
                r#"{"code": "R9", "name": "x", "type": "R", "families": -3}"#,
                "families",
            ),
            (
                r#"{"code": "R9", "name": "x", "type": "R", "families": 1.5}"#,
                "families",
            ),
            (
                r#"{"code": "R9", "name": "x", "type": "R", "parent_id": "not-a-uuid"}"#,
                "parent_id",
            ),
            (
                r#"{"code": "R123456789", "name": "x", "type": "R"}"#,
                "code",
            ),
            (r#"{"code": "R9", "name": "", "type": "R"}"#, "name"),
        ];
        for (json, field) in cases {
            let (status, body) = app.raw(Method::POST, "/api/v1/locations", json).await;
            assert_eq!(status, 422, "{json}: {body}");
            assert_eq!(first_field(&body), field, "{json}: {body}");
        }
        let long_name = format!(
            r#"{{"code": "R9", "name": "{}", "type": "R"}}"#,
            "n".repeat(51)
        );
        let (status, body) = app.raw(Method::POST, "/api/v1/locations", &long_name).await;
        assert_eq!(
            (status.as_u16(), body["errors"][0]["code"].as_str()),
            (422, Some("too_long"))
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM locations").await,
            before,
            "nothing written"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn no_input_causes_a_server_error() {
    each_engine(|app| async move {
        let bodies = [
            "", "null", "[]", "1", "\"x\"", "{}", "{\"code\": null}", "{\"code\": \"\\u0000\", \"name\": \"\\u0000\", \"type\": \"R\"}",
            "{\"code\": \"R1\", \"name\": \"x\", \"type\": \"R\", \"families\": 99999999999999999999999}",
            "{\"code\": \"R1\", \"name\": \"x\", \"type\": \"R\", \"version\": -1}",
            "{\"catchments\": [{}]}", "{\"role_ids\": [1]}", "{\"rights\": [-1]}", "{\"rights\": [4294967296]}",
            "{\"username\": \"a b\", \"last_name\": \"x\", \"other_names\": \"y\"}",
        ];
        let paths = [
            (Method::POST, "/api/v1/locations"),
            (Method::PUT, "/api/v1/locations/R1"),
            (Method::POST, "/api/v1/health-facilities"),
            (Method::PUT, "/api/v1/health-facilities/00000000-0000-0000-0000-000000000000"),
            (Method::POST, "/api/v1/users"),
            (Method::POST, "/api/v1/roles"),
            (Method::PUT, "/api/v1/roles/not-a-uuid"),
            (Method::POST, "/api/v1/auth/login"),
            (Method::POST, "/api/v1/auth/password"),
        ];
        for (method, path) in &paths {
            for body in bodies {
                let (status, answer) = app.raw(method.clone(), path, body).await;
                assert!(status.is_client_error() || status.is_success(), "{method} {path} {body:?} → {status} {answer}");
            }
        }
        for query in ["?page=-1", "?per_page=0", "?id=%ZZ", "?entity=location&id=nope", "?code=%00", "?district_id=1"] {
            for path in ["/api/v1/locations", "/api/v1/health-facilities", "/api/v1/users", "/api/v1/roles", "/api/v1/audit"] {
                let (status, answer) = app.get(&format!("{path}{query}")).await;
                assert!(status.is_client_error() || status.is_success(), "{path}{query} → {status} {answer}");
            }
        }
        let big = format!("{{\"code\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
        let (status, _) = app.raw(Method::POST, "/api/v1/locations", &big).await;
        assert_eq!(status, 413);
        app.finish().await;
    })
    .await;
}
