//! What every benchmark needs: the release `bima` run as a user runs it, a fresh PostgreSQL
//! database, a login, and percentiles.

#![allow(dead_code)] // each benchmark uses part of it

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "bench-admin-password";

/// A running `bima serve`, stopped (SIGTERM, then wait) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        sigterm(self.child.id());
        let _ = self.child.wait();
    }
}

pub fn sigterm(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The release binary with a data folder, the bench administrator's password and, for
/// PostgreSQL, the database URL.
pub fn bima(data_dir: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bima"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("BIMA_ADMIN_PASSWORD", PASSWORD)
        .env("BIMA_LOG", "warn")
        .env_remove("BIMA_DATABASE_URL");
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    command
}

/// Start `bima serve` and wait for the first 200 from /health; answers the time it took.
pub async fn start(
    client: &reqwest::Client,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> (Server, Duration) {
    let port = free_port();
    let started = Instant::now();
    let child = bima(data_dir, database_url)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bima");
    let base = format!("http://127.0.0.1:{port}");
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "bima did not start"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (Server { child, base }, started.elapsed())
}

/// Build a demo scheme with `bima demo --families N`; answers the time and what it printed.
pub fn demo(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    families: u64,
) -> (Duration, String) {
    demo_with_claims(data_dir, database_url, families, 0)
}

/// `bima demo --families N --claims M`.
pub fn demo_with_claims(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    families: u64,
    claims: u64,
) -> (Duration, String) {
    let started = Instant::now();
    let out = bima(data_dir, database_url)
        .args([
            "demo",
            "--families",
            &families.to_string(),
            "--claims",
            &claims.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        started.elapsed(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

/// Seal every pending audit record (`bima audit verify`): after a bulk load the server's
/// sealer would otherwise do it while the first measurements run.
pub fn seal_audit(data_dir: &std::path::Path, database_url: Option<&str>) {
    let out = bima(data_dir, database_url)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The administrator's token.
pub async fn login(client: &reqwest::Client, base: &str) -> String {
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().unwrap().to_string()
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Drop and create the database `name` on the server of `url`; answers its URL.
pub async fn fresh_postgres(url: &str, name: &str) -> String {
    let db = store::Db::open(&store::DbOptions {
        url: Some(url.to_string()),
        data_dir: std::env::temp_dir(),
        max_connections: 2,
    })
    .await
    .expect("PostgreSQL");
    let drop = format!("DROP DATABASE IF EXISTS {name}");
    let create = format!("CREATE DATABASE {name}");
    store::on_db!(&db, pool => {
        sqlx::query(sqlx::AssertSqlSafe(drop)).execute(pool).await.map(|_| ()).expect("drop");
        sqlx::query(sqlx::AssertSqlSafe(create)).execute(pool).await.map(|_| ()).expect("create");
    });
    db.close().await;
    // Keep the URL's options (`?sslmode=disable`…) on the new database's URL.
    let (base, options) = match url.split_once('?') {
        Some((base, options)) => (base, format!("?{options}")),
        None => (url, String::new()),
    };
    let (server, _) = base.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}{options}")
}

/// A number from the environment (`_` and `,` allowed as separators), else `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

/// How a figure stands against its target.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}
