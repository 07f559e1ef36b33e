//! Registry benchmark: builds a demo scheme with the release `bima demo`, then measures insuree
//! search through the running server — by insurance number (CHFID) and by name prefix.
//!
//!     cargo bench -p bima --bench registry                      # 250,000 families on SQLite
//!     BIMA_BENCH_FAMILIES=10000 cargo bench -p bima --bench registry
//!     BIMA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p bima --bench registry
//!
//! With BIMA_BENCH_DATABASE_URL it runs on PostgreSQL too, in a database `bima_bench_registry`
//! that it drops and creates on that server.

mod support;

use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::*;

const SEARCHES: usize = 2_000;
const SURNAME_PREFIXES: &[&str] = &[
    "mwa", "kim", "mas", "sha", "omar", "haj", "tem", "msu", "nyer", "lyi", "bak", "chan",
];

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
    let (took, built) = demo(dir.path(), database_url, families);
    println!(
        "| bima demo --families {families} | 1 | {:.1} s | | {built} |",
        took.as_secs_f64()
    );
    let client = reqwest::Client::new();
    let (server, _) = start(&client, dir.path(), database_url).await;
    let base = server.base.clone();
    let token = login(&client, &base).await;
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

fn main() {
    let families: u64 = std::env::var("BIMA_BENCH_FAMILIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250_000);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        println!("# bima registry benchmark");
        run("SQLite", None, families).await;
        if let Ok(url) = std::env::var("BIMA_BENCH_DATABASE_URL") {
            let bench_url = fresh_postgres(&url, "bima_bench_registry").await;
            run("PostgreSQL", Some(&bench_url), families).await;
        }
    });
}
