//! Eligibility benchmark: builds a demo scheme (every family holds a policy) with the release
//! `bima demo`, starts `bima serve` on it, and asks
//! `GET /api/v1/insurees/{chfid}/eligibility?service=…` for random insurees through HTTP
//! (authentication included) — first from 8 concurrent clients (latency), then from 64
//! (throughput).
//!
//!     BIMA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p bima --bench eligibility
//!     BIMA_BENCH_FAMILIES=10000 cargo bench -p bima --bench eligibility     # SQLite, smaller
//!
//! With BIMA_BENCH_DATABASE_URL it runs on PostgreSQL only (the target), in a database
//! `bima_bench_eligibility` that it drops and creates; without it, on SQLite.

mod support;

use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// Requests of the latency run, per client.
const PER_CLIENT: usize = 1_000;
/// Length of the throughput run.
const THROUGHPUT_FOR: Duration = Duration::from_secs(15);

/// `clients` keep-alive clients, each asking for its share of `urls` in turn (or, with `until`,
/// round and round until then). Answers every latency, sorted, and the wall time.
async fn hammer(
    urls: Arc<Vec<String>>,
    token: &str,
    clients: usize,
    until: Option<Instant>,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (urls, token) = (urls.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut times = Vec::new();
            let mut i = c;
            loop {
                match until {
                    Some(end) if Instant::now() >= end => break,
                    None if i >= urls.len() => break,
                    _ => {}
                }
                let url = &urls[i % urls.len()];
                let t = Instant::now();
                let response = client.get(url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(response.status(), 200, "{url}");
                let _ = response.bytes().await.unwrap();
                times.push(t.elapsed());
                i += clients;
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    (all, started.elapsed())
}

async fn run(engine: &str, database_url: Option<&str>, families: u64) {
    let dir = tempfile::tempdir().unwrap();
    println!("\n## {engine}, {families} families\n");
    println!("| operation | clients | requests | p50 | p99 | throughput | target |");
    println!("|---|---|---|---|---|---|---|");
    let (took, built) = demo(dir.path(), database_url, families);
    println!(
        "| bima demo --families {families} | | | {:.1} s | | | {built} |",
        took.as_secs_f64()
    );
    let client = reqwest::Client::new();
    let (server, _) = start(&client, dir.path(), database_url).await;
    let token = login(&client, &server.base).await;
    let total: serde_json::Value = client
        .get(format!("{}/api/v1/insurees?per_page=1", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let insurees = total["total"].as_u64().unwrap_or(0);
    let services: serde_json::Value = client
        .get(format!(
            "{}/api/v1/medical-services?per_page=20",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<String> = services["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let urls: Arc<Vec<String>> = Arc::new(
        (0..PER_CLIENT * 8)
            .map(|_| {
                let chfid = demo::people::insurance_number(rng.random_range(1..=insurees));
                let service = &codes[rng.random_range(0..codes.len().max(1)) % codes.len().max(1)];
                format!(
                    "{}/api/v1/insurees/{chfid}/eligibility?service={service}",
                    server.base
                )
            })
            .collect(),
    );
    // Warm up: connections, caches.
    hammer(Arc::new(urls[..400].to_vec()), &token, 8, None).await;
    let (times, wall) = hammer(urls.clone(), &token, 8, None).await;
    println!(
        "| eligibility by CHFID with a service ({insurees} insurees) | 8 | {} | {} | {} | {:.0}/s | p99 < 5 ms |",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        times.len() as f64 / wall.as_secs_f64()
    );
    let (times, wall) = hammer(
        urls.clone(),
        &token,
        64,
        Some(Instant::now() + THROUGHPUT_FOR),
    )
    .await;
    println!(
        "| the same, for {} s | 64 | {} | {} | {} | {:.0}/s | ≥ 2,000/s |",
        THROUGHPUT_FOR.as_secs(),
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        times.len() as f64 / wall.as_secs_f64()
    );
    drop(server);
}

fn main() {
    let families: u64 = std::env::var("BIMA_BENCH_FAMILIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250_000);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        println!("# bima eligibility benchmark");
        match std::env::var("BIMA_BENCH_DATABASE_URL") {
            Ok(url) => {
                let bench_url = fresh_postgres(&url, "bima_bench_eligibility").await;
                run("PostgreSQL", Some(&bench_url), families).await;
            }
            Err(_) => run("SQLite", None, families).await,
        }
    });
}
