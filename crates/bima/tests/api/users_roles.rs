//! Users and roles: the openIMIS system roles, custom roles, granting, scope.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn the_twelve_system_roles_hold_openimis_grants() {
    each_engine(|app| async move {
        let (_, roles) = app.get("/api/v1/roles?system=true&per_page=100").await;
        assert_eq!(roles["total"], 12);
        let items = roles["items"].as_array().unwrap();
        let grants: usize = items
            .iter()
            .map(|r| r["rights"].as_array().unwrap().len())
            .sum();
        assert_eq!(grants, 183);
        let codes: Vec<i64> = items
            .iter()
            .map(|r| r["system_code"].as_i64().unwrap())
            .collect();
        assert_eq!(
            codes,
            vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 524288, 1048576]
        );
        let eo = &items[0];
        assert_eq!(eo["name"], "Enrolment Officer");
        assert_eq!(
            eo["id"], "fe17fee9-a501-48c2-966e-091b765f3718",
            "openIMIS's UUID is kept"
        );
        let change = app
            .put(
                &format!("/api/v1/roles/{}", eo["id"].as_str().unwrap()),
                json!({"name": "EO", "rights": [], "version": 1}),
            )
            .await;
        assert_problem(app.engine, &change, 409, "system_role");
        let (_, rights) = app.get("/api/v1/rights").await;
        assert!(rights.as_array().unwrap().iter().any(|r| r["id"] == 121901));
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn custom_roles_are_managed() {
    each_engine(|app| async move {
        let (status, role) = app.post("/api/v1/roles", json!({"name": "Auditor", "rights": [121901, 121101, 121901]})).await;
        assert_eq!(status, 201, "{role}");
        assert_eq!(role["rights"], json!([121101, 121901]));
        let unknown = app.post("/api/v1/roles", json!({"name": "Odd", "rights": [999999]})).await;
        assert_eq!(first_field(&unknown.1), "rights[0]");
        assert_problem(app.engine, &app.post("/api/v1/roles", json!({"name": "Auditor"})).await, 409, "duplicate_name");
        let path = format!("/api/v1/roles/{}", role["id"].as_str().unwrap());
        let (status, changed) = app.put(&path, json!({"name": "Auditor", "rights": [121901], "blocked": true, "version": 1})).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["blocked"], true);
        let (status, user) = app
            .post("/api/v1/users", json!({"username": "aud", "last_name": "A", "other_names": "B", "role_ids": [role["id"]]}))
            .await;
        assert_eq!(status, 201, "{user}");
        assert_eq!(user["has_password"], false);
        assert_problem(app.engine, &app.delete(&format!("{path}?version=2")).await, 409, "in_use");
        assert_eq!(app.delete(&format!("/api/v1/users/aud?version={}", user["version"])).await.0, 204);
        assert_eq!(app.delete(&format!("{path}?version=2")).await.0, 204);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn users_grant_only_what_they_hold() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let manager = app.user_with("manager", &[121701, 121702, 121703, 122001, 122002, 121901], &[&tree.d1]).await;
        let call = |method: Method, path: &str, body: Option<serde_json::Value>| {
            let app = &app;
            let manager = manager.clone();
            let path = path.to_string();
            async move { app.call(method, &path, Some(&manager), body).await }
        };
        // A role with rights the manager lacks cannot be made by them.
        let bigger = call(Method::POST, "/api/v1/roles", Some(json!({"name": "Big", "rights": [121904]}))).await;
        assert_problem(app.engine, &bigger, 403, "forbidden");
        let (status, small) = call(Method::POST, "/api/v1/roles", Some(json!({"name": "Small", "rights": [121901]}))).await;
        assert_eq!(status, 201, "{small}");
        // Districts outside theirs cannot be granted.
        let outside = call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "u2", "password": "a-good-password", "last_name": "L", "other_names": "O", "role_ids": [small["id"]], "district_ids": [tree.d2]})),
        )
        .await;
        assert_eq!(outside.0, 422, "{}", outside.1);
        assert_eq!(first_field(&outside.1), "district_ids[0]");
        // The administrator role cannot be granted by a non-administrator.
        let (_, admin_role) = app.get("/api/v1/roles?system=true&name=IMIS").await;
        let escalate = call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "u3", "last_name": "L", "other_names": "O", "role_ids": [admin_role["items"][0]["id"]], "district_ids": [tree.d1]})),
        )
        .await;
        assert_problem(app.engine, &escalate, 403, "forbidden");
        let (status, ok) = call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "u4", "password": "a-good-password", "last_name": "L", "other_names": "O", "role_ids": [small["id"]], "district_ids": [tree.d1]})),
        )
        .await;
        assert_eq!(status, 201, "{ok}");
        // The manager sees users of D1 only.
        let d2user = app.user_with("d2user", &[121901], &[&tree.d2]).await;
        drop(d2user);
        let (_, list) = call(Method::GET, "/api/v1/users?per_page=100", None).await;
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["manager", "u4"]);
        assert_problem(app.engine, &call(Method::GET, "/api/v1/users/d2user", None).await, 404, "not_found");
        let dup = app
            .post("/api/v1/users", json!({"username": "U4", "last_name": "L", "other_names": "O"}))
            .await;
        assert_problem(app.engine, &dup, 409, "duplicate_username");
        let weak = app.post("/api/v1/users", json!({"username": "u5", "password": "short", "last_name": "L", "other_names": "O"})).await;
        assert_eq!(first_field(&weak.1), "password");
        let (_, me) = app.get("/api/v1/auth/me").await;
        let self_delete = app.delete(&format!("/api/v1/users/{}?version={}", me["user"]["id"].as_str().unwrap(), me["user"]["version"])).await;
        assert_problem(app.engine, &self_delete, 409, "cannot_delete_self");
        app.finish().await;
    })
    .await;
}

/// Grants are cached per server and read again whenever anyone's roles, rights or districts
/// change: a change takes effect on the very next request.
#[tokio::test]
async fn a_change_to_a_role_or_a_user_takes_effect_on_the_next_request() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let token = app.user_with("cached", &[121901], &[&tree.d1]).await;
        let get = |path: &'static str| {
            let (app, token) = (&app, token.clone());
            async move { app.call(Method::GET, path, Some(&token), None).await }
        };
        assert_eq!(get("/api/v1/locations").await.0, 200);
        assert_eq!(get("/api/v1/locations").await.0, 200, "served from the cache");
        let (_, roles) = app.get("/api/v1/roles?per_page=100").await;
        let role = roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "role of cached")
            .cloned()
            .unwrap();
        let path = format!("/api/v1/roles/{}", role["id"].as_str().unwrap());
        let (status, changed) = app
            .put(&path, json!({"name": "role of cached", "rights": [121101], "version": role["version"]}))
            .await;
        assert_eq!(status, 200, "{changed}");
        assert_problem(app.engine, &get("/api/v1/locations").await, 403, "missing_right");
        let (status, _) = app
            .put(&path, json!({"name": "role of cached", "rights": [121901], "blocked": true, "version": changed["version"]}))
            .await;
        assert_eq!(status, 200);
        assert_problem(app.engine, &get("/api/v1/locations").await, 403, "missing_right");
        app.finish().await;
    })
    .await;
}
