//! A running Bima on a random port over a fresh database, and a small HTTP client for it.

use bima::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::{Db, Engine};

pub const ADMIN_PASSWORD: &str = "admin-test-password";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub engine: Engine,
    pub token: String,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

/// Run `test` once per engine under test, each on a fresh app.
pub async fn each_engine<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in store::testing::engines() {
        let app = TestApp::spawn(engine).await;
        test(app).await;
    }
}

impl TestApp {
    /// The folder of this test's SQLite database (`bima.db`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn spawn(engine: Engine) -> TestApp {
        Self::spawn_with(engine, Settings::default()).await
    }

    pub async fn spawn_with(engine: Engine, settings: Settings) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = store::testing::fresh(engine, dir.path())
            .await
            .expect("test database");
        bima::app::prepare(&db, Some(ADMIN_PASSWORD))
            .await
            .expect("prepare");
        let router = bima::app::router(db.clone(), &settings)
            .await
            .expect("router");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        let mut app = TestApp {
            base,
            client: reqwest::Client::new(),
            db,
            engine,
            token: String::new(),
            _dir: dir,
            server,
        };
        app.token = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// Log in and return the token; panics unless 200.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "[{:?}] login {username}: {body}",
            self.engine
        );
        body["token"].as_str().expect("token").to_string()
    }

    /// One request; answers the status and the JSON body (or `Null`).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn raw(&self, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status();
        let value = response.json().await.unwrap_or(Value::Null);
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(&self.token), None)
            .await
    }

    /// Create a location as admin; panics unless 201. Returns its id.
    pub async fn location(&self, code: &str, kind: &str, parent: Option<&str>) -> String {
        let (status, body) = self
            .post("/api/v1/locations", json!({"code": code, "name": format!("{code} name"), "type": kind, "parent_id": parent}))
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "[{:?}] location {code}: {body}",
            self.engine
        );
        body["id"].as_str().expect("id").to_string()
    }

    /// Region R, districts D1 and D2, a ward and a village under each district.
    pub async fn small_tree(&self) -> Tree {
        let region = self.location("R", "R", None).await;
        let d1 = self.location("D1", "D", Some(&region)).await;
        let d2 = self.location("D2", "D", Some(&region)).await;
        let w1 = self.location("W1", "W", Some(&d1)).await;
        let w2 = self.location("W2", "W", Some(&d2)).await;
        let v1 = self.location("V1", "V", Some(&w1)).await;
        let v2 = self.location("V2", "V", Some(&w2)).await;
        Tree {
            region,
            d1,
            d2,
            w1,
            w2,
            v1,
            v2,
        }
    }

    /// A custom role with `rights`, and a user holding it in `districts`; returns the user's token.
    pub async fn user_with(&self, username: &str, rights: &[u32], districts: &[&str]) -> String {
        let (status, role) = self
            .post(
                "/api/v1/roles",
                json!({"name": format!("role of {username}"), "rights": rights}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{role}");
        let (status, user) = self
            .post(
                "/api/v1/users",
                json!({"username": username, "password": "a-good-password", "last_name": "Test", "other_names": username,
                       "role_ids": [role["id"]], "district_ids": districts}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        self.login(username, "a-good-password").await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = store::on_db!(&self.db, pool => sqlx::query_as(sql).fetch_one(pool).await.expect("count"));
        n
    }

    /// [`count`](Self::count) of a query with one text parameter, `$1`.
    pub async fn count_with(&self, sql: &'static str, value: &str) -> i64 {
        let (n,): (i64,) = store::on_db!(&self.db, pool => sqlx::query_as(sql).bind(value).fetch_one(pool).await.expect("count"));
        n
    }

    pub async fn finish(self) {
        self.server.abort();
        store::testing::drop_schema(&self.db).await;
    }
}

#[allow(dead_code)]
pub struct Tree {
    pub region: String,
    pub d1: String,
    pub d2: String,
    pub w1: String,
    pub w2: String,
    pub v1: String,
    pub v2: String,
}

/// Assert a problem+json answer with this status and code.
#[track_caller]
pub fn assert_problem(
    engine: Engine,
    (status, body): &(StatusCode, Value),
    want_status: u16,
    want_code: &str,
) {
    assert_eq!(status.as_u16(), want_status, "[{engine:?}] {body}");
    assert_eq!(body["code"], want_code, "[{engine:?}] {body}");
    assert_eq!(body["status"], want_status, "[{engine:?}] {body}");
}

/// The field named by the first error of a 422.
pub fn first_field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or("")
}

/// Run a statement directly on the database (to tamper, or to set up a state the API refuses).
pub async fn exec(db: &Db, sql: &'static str) {
    store::on_db!(db, pool => sqlx::query(sql).execute(pool).await.map(|_| ())).expect("statement");
}

/// Every row of a CSV file with a header row, as column → trimmed value.
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect()
        })
        .collect()
}

/// A Bima installation for the `bima` binary itself: a data folder (SQLite) or a fresh
/// PostgreSQL schema named in the database URL, so that commands and `bima serve` run as an
/// operator runs them.
pub struct Installation {
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL URL with this installation's schema; `None` on SQLite.
    pub url: Option<String>,
    /// Kept to drop the PostgreSQL schema at the end.
    admin: Option<Db>,
}

impl Installation {
    pub async fn new(engine: Engine) -> Installation {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, admin) = match engine {
            Engine::Sqlite => (None, None),
            Engine::Postgres => {
                let db = store::testing::fresh(engine, dir.path())
                    .await
                    .expect("schema");
                let (schema,): (String,) = store::on_db!(&db, pool =>
                    sqlx::query_as("SELECT current_schema()::text").fetch_one(pool).await.expect("schema"));
                let base = store::testing::postgres_url().expect("url");
                let glue = if base.contains('?') { '&' } else { '?' };
                (
                    Some(format!("{base}{glue}options=-csearch_path%3D{schema}")),
                    Some(db),
                )
            }
        };
        Installation {
            engine,
            dir,
            url,
            admin,
        }
    }

    /// `bima ARGS` for this installation, ready to run or spawn.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bima"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .env("BIMA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BIMA_LOG", "warn");
        match &self.url {
            Some(url) => command.env("BIMA_DATABASE_URL", url),
            None => command.env_remove("BIMA_DATABASE_URL"),
        };
        command
    }

    /// Run `bima ARGS` to the end; answers success and what it printed (stdout then stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self.command(args).output().expect("run bima");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Open the installation's database directly (to look, not through the product).
    pub async fn open(&self) -> Db {
        match &self.url {
            None => store::Db::open_sqlite(&self.dir.path().join("data/bima.db"), 2)
                .await
                .expect("open"),
            Some(url) => store::Db::open(&store::DbOptions {
                url: Some(url.clone()),
                data_dir: self.dir.path().into(),
                max_connections: 2,
            })
            .await
            .expect("open"),
        }
    }

    /// Every table's row count.
    pub async fn counts(&self) -> Vec<(String, i64)> {
        let db = self.open().await;
        let list = match self.engine {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Engine::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
            }
        };
        let tables: Vec<(String,)> = store::on_db!(&db, pool =>
            sqlx::query_as(list).fetch_all(pool).await.expect("tables"));
        let mut counts = Vec::new();
        for (table,) in tables {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let (n,): (i64,) = store::on_db!(&db, pool =>
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.expect("count"));
            counts.push((table, n));
        }
        db.close().await;
        counts
    }

    /// [`counts`](Self::counts) and the last seal of the audit chain: equal fingerprints are
    /// the same data as far as counts and the hash chain (which covers every audited change)
    /// tell.
    pub async fn fingerprint(&self) -> Vec<(String, i64)> {
        let mut print = self.counts().await;
        let db = self.open().await;
        let (seal,): (Option<String>,) = store::on_db!(&db, pool => sqlx::query_as(
            "SELECT MAX(hash) FROM audit_log WHERE chain_pos = (SELECT MAX(chain_pos) FROM audit_log)")
            .fetch_one(pool).await.expect("seal"));
        print.push((format!("seal {}", seal.unwrap_or_default()), 0));
        db.close().await;
        print
    }

    pub async fn finish(self) {
        if let Some(db) = self.admin {
            store::testing::drop_schema(&db).await;
        }
    }
}

/// `bima serve` as a child process of the test, on a free port, killed with SIGKILL on drop.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
}

impl Installation {
    /// Start `bima serve` with extra `env` and wait until `/health` answers.
    pub async fn serve(&self, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = self.command(&["serve", "--addr", &addr]);
        command.envs(env.iter().copied());
        // What it logs goes to `serve.log` in the installation's folder, run after run.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("serve.log"))
            .expect("serve.log");
        command.stdout(std::process::Stdio::null()).stderr(log);
        let child = command.spawn().expect("spawn bima serve");
        let server = Server {
            child,
            base: format!("http://{addr}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{}/health", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "[{:?}] bima serve did not answer /health in 30 s",
            self.engine
        );
    }
}

impl Server {
    /// SIGKILL: no shutdown hook, no flush, no goodbye.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn login(&self) -> String {
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("token");
        answer["token"].as_str().expect("token").to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
