//! Logging in, tokens, throttling, the bootstrap administrator.

use crate::support::*;
use bima::config::Settings;
use identity::service::AdminBootstrap;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn wrong_passwords_are_401_then_429() {
    each_engine(|app| async move {
        let login = |pw: &'static str| {
            let app = &app;
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/auth/login",
                    None,
                    Some(json!({"username": "admin", "password": pw})),
                )
                .await
            }
        };
        for _ in 0..5 {
            assert_problem(
                app.engine,
                &login("wrong-password").await,
                401,
                "invalid_credentials",
            );
        }
        // Locked now, even with the right password.
        let locked = login(ADMIN_PASSWORD).await;
        assert_problem(app.engine, &locked, 429, "too_many_attempts");
        // Another account is not locked by it; an unknown one answers like a wrong password.
        let unknown = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "nobody", "password": "whatever-it-is"})),
            )
            .await;
        assert_problem(app.engine, &unknown, 401, "invalid_credentials");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn every_call_needs_a_valid_token() {
    each_engine(|app| async move {
        let none = app.call(Method::GET, "/api/v1/locations", None, None).await;
        assert_problem(app.engine, &none, 401, "unauthenticated");
        let forged = app
            .call(Method::GET, "/api/v1/locations", Some("not.a.token"), None)
            .await;
        assert_problem(app.engine, &forged, 401, "invalid_token");
        let (status, me) = app.get("/api/v1/auth/me").await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["user"]["username"], "admin");
        assert_eq!(me["is_admin"], true);
        let login = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
            )
            .await;
        assert!(
            login.1["expires_at"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z')),
            "{}",
            login.1
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    for engine in store::testing::engines() {
        let settings = Settings {
            token_minutes: -1,
            ..Settings::default()
        };
        // Logging in works; the token it answers is already past its expiry.
        let dir = tempfile::tempdir().unwrap();
        let db = store::testing::fresh(engine, dir.path()).await.unwrap();
        bima::app::prepare(&db, Some(ADMIN_PASSWORD)).await.unwrap();
        let router = bima::app::router(db.clone(), &settings).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let client = reqwest::Client::new();
        let login: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = client
            .get(format!("{base}/api/v1/locations"))
            .bearer_auth(login["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "token_expired", "[{engine:?}] {body}");
        server.abort();
        store::testing::drop_schema(&db).await;
    }
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_at_once() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let token = app.user_with("clerk", &[121901], &[&tree.d1]).await;
        let (status, _) = app.call(Method::GET, "/api/v1/locations", Some(&token), None).await;
        assert_eq!(status, 200);
        let (_, user) = app.get("/api/v1/users/clerk").await;
        let mut change = json!({
            "username": "clerk", "last_name": "Test", "other_names": "clerk", "role_ids": user["role_ids"],
            "district_ids": user["district_ids"], "active": false, "version": user["version"]
        });
        let (status, body) = app.put("/api/v1/users/clerk", change.clone()).await;
        assert_eq!(status, 200, "{body}");
        let refused = app.call(Method::GET, "/api/v1/locations", Some(&token), None).await;
        assert_problem(app.engine, &refused, 401, "account_disabled");
        change["active"] = json!(true);
        change["version"] = body["version"].clone();
        assert_eq!(app.put("/api/v1/users/clerk", change).await.0, 200);
        assert_eq!(app.call(Method::GET, "/api/v1/locations", Some(&token), None).await.0, 200);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn bootstrap_creates_admin_only_when_none_is_active() {
    for engine in store::testing::engines() {
        let dir = tempfile::tempdir().unwrap();
        let db = store::testing::fresh(engine, dir.path()).await.unwrap();
        assert_eq!(
            bima::app::prepare(&db, Some("first-password"))
                .await
                .unwrap(),
            AdminBootstrap::Created
        );
        assert_eq!(
            bima::app::prepare(&db, None).await.unwrap(),
            AdminBootstrap::Present
        );
        // Imported accounts never count as the administrator.
        let report = openimis_import::run(&db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        assert_eq!(report.skipped(), 0);
        exec(
            &db,
            "UPDATE users SET active = FALSE WHERE username = 'admin'",
        )
        .await;
        match bima::app::prepare(&db, None).await.unwrap() {
            AdminBootstrap::CreatedWithPassword(password) => {
                assert!(password.len() >= 16);
                let auth = identity::auth::Auth::new(db.clone(), time::Duration::minutes(5))
                    .await
                    .unwrap();
                auth.login("admin", &password)
                    .await
                    .expect("the printed password works");
            }
            other => panic!("[{engine:?}] expected a new password, got {other:?}"),
        }
        assert_eq!(
            bima::app::prepare(&db, None).await.unwrap(),
            AdminBootstrap::Present
        );
        store::testing::drop_schema(&db).await;
    }
}

#[tokio::test]
async fn users_change_their_own_password() {
    each_engine(|app| async move {
        let bad = app
            .post(
                "/api/v1/auth/password",
                json!({"current_password": "wrong", "new_password": "a-new-password"}),
            )
            .await;
        assert_problem(app.engine, &bad, 422, "validation_failed");
        let short = app
            .post(
                "/api/v1/auth/password",
                json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}),
            )
            .await;
        assert_eq!(first_field(&short.1), "new_password");
        let ok = app
            .post(
                "/api/v1/auth/password",
                json!({"current_password": ADMIN_PASSWORD, "new_password": "a-new-password"}),
            )
            .await;
        assert_eq!(ok.0, 204, "{}", ok.1);
        app.login("admin", "a-new-password").await;
        app.finish().await;
    })
    .await;
}

pub fn demo_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/openimis-demo")
}

#[tokio::test]
async fn no_password_or_token_reaches_the_log() {
    // The server at its most talkative (every module at trace level), through logins right and
    // wrong, a new user, a password change and calls with the token: none of it is in the log.
    let site = Installation::new(store::Engine::Sqlite).await;
    let server = site.serve(&[("BIMA_LOG", "trace")]).await;
    let client = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{}{path}", server.base)).json(&body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    let wrong = post(
        "/api/v1/auth/login",
        None,
        json!({"username": "admin", "password": "Wrong-Guess-4711"}),
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), 401);
    let token = server.login().await;
    let created = post(
        "/api/v1/users",
        Some(&token),
        json!({"username": "clerk1", "password": "Clerk-Secret-0815",
        "last_name": "Clerk", "other_names": "One", "role_ids": [], "district_ids": []}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let login: Value = post(
        "/api/v1/auth/login",
        None,
        json!({"username": "clerk1", "password": "Clerk-Secret-0815"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let clerk = login["token"].as_str().unwrap().to_string();
    let changed = post(
        "/api/v1/auth/password",
        Some(&clerk),
        json!({"current_password": "Clerk-Secret-0815", "new_password": "New-Clerk-Secret-2026"}),
    )
    .await
    .unwrap();
    assert!(changed.status().is_success(), "{changed:?}");
    let me = client
        .get(format!("{}/api/v1/auth/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    server.kill();
    let log = std::fs::read_to_string(site.dir.path().join("serve.log")).unwrap();
    assert!(log.lines().count() > 10, "the log says something: {log}");
    assert!(log.contains("failed login"), "{log}");
    for secret in [
        ADMIN_PASSWORD,
        "Wrong-Guess-4711",
        "Clerk-Secret-0815",
        "New-Clerk-Secret-2026",
        token.as_str(),
        clerk.as_str(),
        token.split('.').nth(2).unwrap(),
    ] {
        assert!(!log.contains(secret), "the log holds a secret ({secret})");
    }
    site.finish().await;
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_too() {
    // A stolen session cannot try current passwords forever to take the account over.
    each_engine(|app| async move {
        let token = app.user_with("clerk9", &[101001], &[]).await;
        let change = |current: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/auth/password",
                    Some(&token),
                    Some(
                        json!({"current_password": current, "new_password": "Another-Good-One-7"}),
                    ),
                )
                .await
            }
        };
        for _ in 0..5 {
            let (status, body) = change("not-my-password").await;
            assert_eq!(status, 422, "[{:?}] {body}", app.engine);
            assert_eq!(body["errors"][0]["code"], "wrong_password", "{body}");
        }
        let locked = change("a-good-password").await;
        assert_problem(app.engine, &locked, 429, "too_many_attempts");
        // Nothing changed: the old password still logs in.
        app.login("clerk9", "a-good-password").await;
        app.finish().await;
    })
    .await;
}
