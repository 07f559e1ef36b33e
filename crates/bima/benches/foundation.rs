//! Foundation benchmark: runs the release `bima` binary as a user would and measures
//! cold start to first 200, idle memory, single-location reads, and concurrent location writes
//! (then checks the audit chain). Prints a table; BENCHMARKS.md records the figures.
//!
//!     cargo bench -p bima --bench foundation
//!     BIMA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p bima --bench foundation
//!
//! With BIMA_BENCH_DATABASE_URL the same runs on PostgreSQL, in a database `bima_bench` that the
//! benchmark drops and creates on that server.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

const READS: usize = 5_000;
const WRITERS: usize = 8;
const WRITES_PER_WRITER: usize = 125;

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn run(engine: &str, database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    println!("\n## {engine}\n");
    println!("| operation | n | p50 | p99 | throughput | result |");
    println!("|---|---|---|---|---|---|");

    let (server, first) = start(&client, dir.path(), database_url).await;
    drop(server);
    let (server, cold) = start(&client, dir.path(), database_url).await;
    println!(
        "| first start (create + migrate), to first 200 | 1 | {} | | | |",
        ms(first)
    );
    println!(
        "| cold start of an existing database, to first 200 | 1 | {} | | | target < 1 s |",
        ms(cold)
    );

    let login: Value = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let region: Value = client
        .post(format!("{}/api/v1/locations", server.base))
        .bearer_auth(&token)
        .json(&json!({"code": "BR", "name": "Bench region", "type": "R"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let region_id = region["id"].as_str().unwrap().to_string();

    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = server.child.id();
    println!(
        "| idle RSS after start and login | 1 | {:.1} MiB | | | target < 50 MiB |",
        rss_mib(pid)
    );

    // Reads: one client, keep-alive, the same location by id.
    let url = format!("{}/api/v1/locations/{region_id}", server.base);
    for _ in 0..200 {
        client.get(&url).bearer_auth(&token).send().await.unwrap();
    }
    let mut times = Vec::with_capacity(READS);
    let all = Instant::now();
    for _ in 0..READS {
        let t = Instant::now();
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    let total = all.elapsed();
    times.sort();
    println!(
        "| GET /api/v1/locations/{{id}} (1 client) | {READS} | {} | {} | {:.0} req/s | target p50 < 1 ms |",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        READS as f64 / total.as_secs_f64()
    );

    // Writes: 8 clients creating districts at once.
    let all = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = client.clone();
            let base = server.base.clone();
            let token = token.clone();
            let region_id = region_id.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut failures = Vec::new();
                for i in 0..WRITES_PER_WRITER {
                    let t = Instant::now();
                    let r = client
                        .post(format!("{base}/api/v1/locations"))
                        .bearer_auth(&token)
                        .json(&json!({"code": format!("B{w}_{i}"), "name": "Bench district", "type": "D", "parent_id": region_id}))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    let body = r.text().await.unwrap();
                    times.push(t.elapsed());
                    if status != 201 {
                        failures.push(format!("{status} {body}"));
                    }
                }
                (times, failures)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        let (t, f) = task.await.unwrap();
        times.extend(t);
        failures.extend(f);
    }
    let total = all.elapsed();
    times.sort();
    let locked = failures.iter().filter(|f| f.contains("locked")).count();
    println!(
        "| POST /api/v1/locations ({WRITERS} clients) | {} | {} | {} | {:.0} writes/s | {} failed, {locked} \"database is locked\" |",
        WRITERS * WRITES_PER_WRITER,
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        times.len() as f64 / total.as_secs_f64(),
        failures.len()
    );
    for f in failures.iter().take(3) {
        println!("  failure: {f}");
    }

    // Stop the server gracefully (it seals the chain), then verify from the command line.
    sigterm(pid);
    let mut server = server;
    let _ = server.child.wait();
    let verify = bima(dir.path(), database_url)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    println!(
        "| bima audit verify after the writes | 1 | | | | {} |",
        String::from_utf8_lossy(&verify.stdout).trim()
    );
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        println!(
            "# bima foundation benchmark ({} cores)",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        run("SQLite", None).await;
        if let Ok(url) = std::env::var("BIMA_BENCH_DATABASE_URL") {
            let bench_url = fresh_postgres(&url, "bima_bench").await;
            run("PostgreSQL", Some(&bench_url)).await;
        }
    });
}
