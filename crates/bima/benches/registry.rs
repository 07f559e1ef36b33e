//! Registry benchmark: builds a demo scheme with the release `bima demo`, then measures insuree
//! search through the running server — by insurance number (CHFID) and by name prefix.
//!
//!     cargo bench -p bima --bench registry                      # 250,000 families on SQLite
//!     BIMA_BENCH_FAMILIES=10000 cargo bench -p bima --bench registry
//!     BIMA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p bima --bench registry
//!
//! With BIMA_BENCH_DATABASE_URL it runs on PostgreSQL too, in a database `bima_bench_registry`
//! that it drops and creates on that server.

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-admin-password";
const SEARCHES: usize = 2_000;
const SURNAME_PREFIXES: &[&str] = &[
    "mwa", "kim", "mas", "sha", "omar", "haj", "tem", "msu", "nyer", "lyi", "bak", "chan",
];

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn bima(data_dir: &std::path::Path, database_url: Option<&str>) -> Command {
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

async fn timed_searches(
    client: &reqwest::Client,
    token: &str,
    urls: &[String],
) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(urls.len());
    let mut found = 0;
    for url in urls {
        let t = Instant::now();
        let response = client.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        times.push(t.elapsed());
        if body["total"].as_i64().unwrap_or(0) > 0 {
            found += 1;
        }
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), found)
}

async fn run(engine: &str, database_url: Option<&str>, families: u64) {
    let dir = tempfile::tempdir().unwrap();
    println!("\n## {engine}, {families} families\n");
    println!("| operation | n | p50 | p99 | result |");
    println!("|---|---|---|---|---|");
    let started = Instant::now();
    let demo = bima(dir.path(), database_url)
        .args(["demo", "--families", &families.to_string()])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    println!(
        "| bima demo --families {families} | 1 | {:.1} s | | {} |",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&demo.stdout).trim()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        bima(dir.path(), database_url)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let total: Value = client
        .get(format!("{base}/api/v1/insurees?per_page=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let insurees = total["total"].as_u64().unwrap_or(0);

    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let chfids: Vec<String> = (0..SEARCHES)
        .map(|_| {
            format!(
                "{base}/api/v1/insurees?chfid={}",
                demo::people::insurance_number(rng.random_range(1..=insurees))
            )
        })
        .collect();
    timed_searches(&client, &token, &chfids[..200]).await;
    let (p50, p99, found) = timed_searches(&client, &token, &chfids).await;
    println!(
        "| GET /api/v1/insurees?chfid= ({insurees} insurees) | {SEARCHES} | {} | {} | {found} found; target p50 < 1 ms |",
        ms(p50),
        ms(p99)
    );

    let names: Vec<String> = (0..SEARCHES)
        .map(|i| {
            format!(
                "{base}/api/v1/insurees?q={}",
                SURNAME_PREFIXES[i % SURNAME_PREFIXES.len()]
            )
        })
        .collect();
    timed_searches(&client, &token, &names[..100]).await;
    let (p50, p99, found) = timed_searches(&client, &token, &names).await;
    println!(
        "| GET /api/v1/insurees?q=<name prefix> (first page of 20) | {SEARCHES} | {} | {} | {found} with results; target p50 < 5 ms |",
        ms(p50),
        ms(p99)
    );
}

async fn fresh_postgres(url: &str) -> String {
    let db = store::Db::open(&store::DbOptions {
        url: Some(url.to_string()),
        data_dir: std::env::temp_dir(),
        max_connections: 2,
    })
    .await
    .expect("PostgreSQL");
    store::on_db!(&db, pool => {
        sqlx::query("DROP DATABASE IF EXISTS bima_bench_registry").execute(pool).await.map(|_| ()).expect("drop");
        sqlx::query("CREATE DATABASE bima_bench_registry").execute(pool).await.map(|_| ()).expect("create");
    });
    db.close().await;
    let (server, _) = url.rsplit_once('/').expect("a database URL");
    format!("{server}/bima_bench_registry")
}

fn main() {
    let families: u64 = std::env::var("BIMA_BENCH_FAMILIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250_000);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        println!("# bima registry benchmark");
        run("SQLite", None, families).await;
        if let Ok(url) = std::env::var("BIMA_BENCH_DATABASE_URL") {
            let bench_url = fresh_postgres(&url).await;
            run("PostgreSQL", Some(&bench_url), families).await;
        }
    });
}
