//! FHIR API benchmark (issue 7): the release `bima serve` on a demo scheme, called as a hospital
//! system calls openIMIS's FHIR module, over loopback with a new TCP connection per request:
//!
//!     cargo bench -p bima --bench fhir                          # SQLite
//!     BIMA_BENCH_DATABASE_URL="postgres://postgres@localhost/postgres?host=/var/run/postgresql" cargo bench -p bima --bench fhir
//!     BIMA_BENCH_FAMILIES=20000 BIMA_BENCH_ENGINES=sqlite ...   # size, one engine
//!
//! Three measurements, each on SQLite and (with BIMA_BENCH_DATABASE_URL) PostgreSQL, in a
//! database `bima_bench_fhir` that it drops and creates:
//! - `GET Patient/{insurance number}` of random insurees, one client (after 100 untimed);
//! - `POST Claim` of a claim with 2 lines (an item and a service), one client: entered,
//!   adjudicated and answered with its ClaimResponse;
//! - `POST Claim` from 8 concurrent clients: claims per second.
//!
//! The demo (`bima demo --families N`, default 20,000) enrols families relative to today, so
//! its active policies cover the claims, dated in the last week.

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

const BASE: &str = "/api/api_fhir_r4";
const READS: usize = 2_000;
const POSTS: usize = 1_000;
const WARM_UP: usize = 100;
const CLIENTS: usize = 8;
const CONCURRENT_POSTS: usize = 4_000;
const TARGET_READ: Duration = Duration::from_micros(1_000);
const TARGET_POST: Duration = Duration::from_micros(2_500);
const TARGET_RATE: f64 = 667.0;

/// A client that opens a new connection for every request.
fn fresh_connections() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn get(client: &reqwest::Client, token: &str, url: &str) -> Value {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

fn codes(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[field].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// What claims are made of: facilities, items, services, diagnoses, the number of insurees.
struct Scheme {
    hospitals: Vec<String>,
    items: Vec<String>,
    services: Vec<String>,
    diagnoses: Vec<String>,
    insurees: u64,
}

async fn scheme(client: &reqwest::Client, token: &str, base: &str) -> Scheme {
    let page = |path: &str| format!("{base}/api/v1/{path}");
    let s = Scheme {
        hospitals: codes(
            &get(
                client,
                token,
                &page("health-facilities?level=H&per_page=100"),
            )
            .await,
            "id",
        ),
        items: codes(
            &get(client, token, &page("medical-items?per_page=100")).await,
            "code",
        ),
        services: codes(
            &get(client, token, &page("medical-services?per_page=100")).await,
            "code",
        ),
        diagnoses: codes(
            &get(client, token, &page("diagnoses?per_page=100")).await,
            "code",
        ),
        insurees: get(client, token, &page("insurees?per_page=1")).await["total"]
            .as_u64()
            .unwrap_or(0),
    };
    assert!(!s.hospitals.is_empty() && !s.items.is_empty() && !s.services.is_empty());
    s
}

/// A FHIR Claim with one item and one service, at a hospital, for a random insuree.
fn claim(rng: &mut StdRng, s: &Scheme, n: usize, today: time::Date) -> Value {
    let day = today - time::Duration::days(rng.random_range(1..7));
    let chfid = demo::people::insurance_number(rng.random_range(1..=s.insurees));
    let line = |category: &str, code: &str| {
        json!({
            "sequence": if category == "item" { 1 } else { 2 },
            "category": {"text": category},
            "productOrService": {"text": code},
            "quantity": {"value": 1},
        })
    };
    json!({
        "resourceType": "Claim",
        "status": "active",
        "use": "claim",
        "identifier": [{"type": {"coding": [{"code": "Code"}]}, "value": format!("FB{n:08}")}],
        "created": today.to_string(),
        "billablePeriod": {"start": day.to_string(), "end": day.to_string()},
        "type": {"coding": [{"code": "O"}]},
        "provider": {"reference": format!("Organization/{}", s.hospitals[rng.random_range(0..s.hospitals.len())])},
        "patient": {"reference": format!("Patient/{chfid}")},
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"code": s.diagnoses[rng.random_range(0..s.diagnoses.len())]}]}}],
        "item": [
            line("item", &s.items[rng.random_range(0..s.items.len())]),
            line("service", &s.services[rng.random_range(0..s.services.len())]),
        ],
    })
}

async fn post_claim(client: &reqwest::Client, base: &str, token: &str, body: &Value) {
    let response = client
        .post(format!("{base}{BASE}/Claim"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        status,
        201,
        "POST Claim: {}",
        String::from_utf8_lossy(&bytes)
    );
}

async fn run(engine: &str, database_url: Option<&str>, families: u64) {
    let dir = tempfile::tempdir().unwrap();
    println!("\n## {engine}, {families} families\n");
    println!("| operation | clients | requests | p50 | p99 | throughput | target |");
    println!("|---|---|---|---|---|---|---|");
    let (took, _) = demo(dir.path(), database_url, families);
    println!(
        "| bima demo --families {families} | | | {:.1} s | | | |",
        took.as_secs_f64()
    );
    seal_audit(dir.path(), database_url);
    let keep_alive = reqwest::Client::new();
    let (server, _) = start(&keep_alive, dir.path(), database_url).await;
    let base = server.base.clone();
    let login: Value = keep_alive
        .post(format!("{base}{BASE}/login/"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let s = scheme(&keep_alive, &token, &base).await;
    let client = fresh_connections();
    let mut rng = StdRng::seed_from_u64(7);

    // The floor: a request that reads nothing, on a new connection.
    let mut times = Vec::with_capacity(READS);
    for i in 0..READS + WARM_UP {
        let t = Instant::now();
        let response = client.get(format!("{base}/health")).send().await.unwrap();
        response.bytes().await.unwrap();
        if i >= WARM_UP {
            times.push(t.elapsed());
        }
    }
    times.sort();
    println!(
        "| `GET /health` (the floor: a new connection, one trivial query) | 1 | {READS} | {} | {} | | |",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
    );

    // Patient read by insurance number.
    let mut times = Vec::with_capacity(READS);
    for i in 0..READS + WARM_UP {
        let chfid = demo::people::insurance_number(rng.random_range(1..=s.insurees));
        let t = Instant::now();
        let response = client
            .get(format!("{base}{BASE}/Patient/{chfid}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        if i >= WARM_UP {
            times.push(t.elapsed());
        }
    }
    times.sort();
    let p50 = percentile(&times, 0.5);
    println!(
        "| `GET Patient/{{insurance number}}`, a new connection each | 1 | {READS} | {} | {} | | p50 < 1 ms — {} |",
        ms(p50),
        ms(percentile(&times, 0.99)),
        verdict(p50 < TARGET_READ)
    );

    // Claim POST, 2 lines, one client.
    let today = time::OffsetDateTime::now_utc().date();
    let bodies: Vec<Value> = (0..POSTS + WARM_UP + CONCURRENT_POSTS)
        .map(|n| claim(&mut rng, &s, n, today))
        .collect();
    let mut times = Vec::with_capacity(POSTS);
    for (i, body) in bodies[..POSTS + WARM_UP].iter().enumerate() {
        let t = Instant::now();
        post_claim(&client, &base, &token, body).await;
        if i >= WARM_UP {
            times.push(t.elapsed());
        }
    }
    times.sort();
    let p50 = percentile(&times, 0.5);
    println!(
        "| `POST Claim`, 2 lines, answered with its ClaimResponse | 1 | {POSTS} | {} | {} | | p50 < 2.5 ms — {} |",
        ms(p50),
        ms(percentile(&times, 0.99)),
        verdict(p50 < TARGET_POST)
    );

    // Claim POST from 8 clients at once.
    let rest = Arc::new(bodies[POSTS + WARM_UP..].to_vec());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (rest, base, token) = (rest.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let client = fresh_connections();
            let mut times = Vec::new();
            for body in rest.iter().skip(c).step_by(CLIENTS) {
                let t = Instant::now();
                post_claim(&client, &base, &token, body).await;
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    times.sort();
    let rate = times.len() as f64 / wall.as_secs_f64();
    println!(
        "| `POST Claim`, 2 lines, {CLIENTS} clients, a new connection each | {CLIENTS} | {} | {} | {} | {rate:.0} claims/s | ≥ 667/s — {} |",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        verdict(rate >= TARGET_RATE)
    );
    drop(server);
}

#[tokio::main]
async fn main() {
    let families = env_number("BIMA_BENCH_FAMILIES", 20_000);
    let engines = std::env::var("BIMA_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    if engines.contains("sqlite") {
        run("SQLite", None, families).await;
    }
    if engines.contains("postgres")
        && let Ok(url) = std::env::var("BIMA_BENCH_DATABASE_URL")
    {
        let url = fresh_postgres(&url, "bima_bench_fhir").await;
        run("PostgreSQL", Some(&url), families).await;
    }
}
