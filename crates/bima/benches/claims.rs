//! Claims benchmark (issue 5): builds a demo scheme with the release `bima demo`, starts
//! `bima serve` on it and sends claims through HTTP as health facilities do, authentication
//! included: `POST /api/v1/claims` (enter) then `POST /api/v1/claims/submit` (adjudicate).
//!
//!     BIMA_BENCH_DATABASE_URL="postgres://postgres@localhost/postgres?host=/var/run/postgresql" cargo bench -p bima --bench claims
//!     BIMA_BENCH_FAMILIES=2000 BIMA_BENCH_CLAIMS=500 cargo bench -p bima --bench claims   # SQLite, a smoke run
//!
//! With BIMA_BENCH_DATABASE_URL it runs on PostgreSQL only (the target), in a database
//! `bima_bench_claims` that it drops and creates; without it, on SQLite. BIMA_BENCH_FAMILIES
//! (default 250,000) sizes the scheme, BIMA_BENCH_HISTORY (default 5.2 a family: 1,300,000)
//! the claims it already holds (`bima demo --claims`: eleven months of visits, adjudicated and
//! processed, about 900,000 of them waiting for a batch run), BIMA_BENCH_CLAIMS (default
//! 40,000, a Nepal day) the day.
//!
//! Three measurements:
//! - the submission of one claim from one client: up to 1,000 claims are entered first, then
//!   submitted one by one, and only the submit request is timed (after 100 untimed ones);
//! - the day: every claim entered and submitted (one request each) from 8 concurrent
//!   keep-alive clients; wall time, claims/s and the latencies of both requests;
//! - the national batch run of last month (`POST /api/v1/batch-runs`, polled until done):
//!   wall time and claims valued per second.
//!
//! Claims are for random insurees of the demo (85 % of families hold an active policy, the
//! others an idle one: their claims are rejected), at a district hospital (3 in 10) or a ward
//! health centre (out-patients only: in-patient services and stays are rejected there), dated
//! in the last week (the demo enrols families relative to today, so today's policies cover
//! it), with 1 to 8 lines drawn from the demo's items and services. The load generator runs
//! on the same cores as the server (and PostgreSQL).

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// Concurrent clients of the day.
const CLIENTS: usize = 8;
/// Claims of the one-client submission run, and of them the untimed first ones.
const SINGLE: usize = 1_000;
const SINGLE_WARM_UP: usize = 100;
/// The targets.
const TARGET_P50: Duration = Duration::from_micros(2_500);
const TARGET_DAY_CLAIMS: usize = 40_000;
const TARGET_DAY: Duration = Duration::from_secs(60);
const TARGET_BATCH_CLAIMS: u64 = 1_000_000;
const TARGET_BATCH: Duration = Duration::from_secs(60);

/// What the scheme offers to claim against, read through the API.
struct Scheme {
    hospitals: Vec<String>,
    centres: Vec<String>,
    items: Vec<String>,
    services: Vec<String>,
    diagnoses: Vec<String>,
    insurees: u64,
}

async fn get(client: &reqwest::Client, token: &str, url: &str) -> Value {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

/// The values of `field` of a page's items.
fn column(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[field].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn scheme(client: &reqwest::Client, token: &str, base: &str) -> Scheme {
    let insurees = get(client, token, &format!("{base}/api/v1/insurees?per_page=1")).await["total"]
        .as_u64()
        .unwrap_or(0);
    let facilities =
        |level: &str| format!("{base}/api/v1/health-facilities?level={level}&per_page=100");
    let hospitals = column(&get(client, token, &facilities("H")).await, "id");
    let centres = column(&get(client, token, &facilities("C")).await, "id");
    let items = column(
        &get(
            client,
            token,
            &format!("{base}/api/v1/medical-items?per_page=100"),
        )
        .await,
        "code",
    );
    let services = column(
        &get(
            client,
            token,
            &format!("{base}/api/v1/medical-services?per_page=100"),
        )
        .await,
        "code",
    );
    // The demo's ICD list (`demo::claims::DIAGNOSES`): claims are not flagged for an unknown
    // diagnosis.
    let diagnoses = column(
        &get(
            client,
            token,
            &format!("{base}/api/v1/diagnoses?per_page=100"),
        )
        .await,
        "code",
    );
    assert!(
        insurees > 0
            && !hospitals.is_empty()
            && !centres.is_empty()
            && !items.is_empty()
            && !services.is_empty()
            && !diagnoses.is_empty(),
        "the demo scheme has insurees, hospitals, health centres, items, services and diagnoses"
    );
    Scheme {
        hospitals,
        centres,
        items,
        services,
        diagnoses,
        insurees,
    }
}

/// The body of claim number `n`.
fn claim_body(rng: &mut StdRng, s: &Scheme, n: usize, today: time::Date) -> Value {
    let hospital = rng.random_bool(0.3);
    let facility = if hospital {
        &s.hospitals[rng.random_range(0..s.hospitals.len())]
    } else {
        &s.centres[rng.random_range(0..s.centres.len())]
    };
    let chfid = demo::people::insurance_number(rng.random_range(1..=s.insurees));
    let date_from = today - time::Duration::days(rng.random_range(3..10));
    let date_to = (hospital && rng.random_bool(0.2))
        .then(|| date_from + time::Duration::days(rng.random_range(1..=3)));
    let (mut items, mut services) = (Vec::new(), Vec::new());
    let mut used = std::collections::HashSet::new();
    for _ in 0..rng.random_range(1..=8) {
        if rng.random_bool(0.65) {
            let code = &s.items[rng.random_range(0..s.items.len())];
            if used.insert(code) {
                items.push(json!({"code": code, "qty": rng.random_range(1..=30)}));
            }
        } else {
            let code = &s.services[rng.random_range(0..s.services.len())];
            if used.insert(code) {
                services.push(if rng.random_bool(0.1) {
                    json!({"code": code, "qty": 2, "explanation": "given twice"})
                } else {
                    json!({"code": code, "qty": 1})
                });
            }
        }
    }
    let mut body = json!({
        "code": format!("BC{n:08}"),
        "health_facility_id": facility,
        "insuree": chfid,
        "date_from": date_from.to_string(),
        "icd": s.diagnoses[rng.random_range(0..s.diagnoses.len())],
        "items": items,
        "services": services,
    });
    if let Some(to) = date_to {
        body["date_to"] = json!(to.to_string());
    }
    body
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Enter a claim; answers its id.
async fn create(client: &reqwest::Client, base: &str, token: &str, body: &Value) -> String {
    let response = client
        .post(format!("{base}/api/v1/claims"))
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
        "POST /api/v1/claims {body}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice::<Created>(&bytes).unwrap().id
}

/// Submit one claim.
async fn submit(client: &reqwest::Client, base: &str, token: &str, id: &str) {
    let response = client
        .post(format!("{base}/api/v1/claims/submit"))
        .bearer_auth(token)
        .json(&json!({"claims": [id]}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        status,
        200,
        "POST /api/v1/claims/submit {id}: {}",
        String::from_utf8_lossy(&bytes)
    );
}

/// The day: `CLIENTS` keep-alive clients, each entering and submitting its share of `bodies`.
/// Answers the create and submit latencies, sorted, and the wall time.
async fn day(
    base: &str,
    token: &str,
    bodies: Arc<Vec<Value>>,
) -> (Vec<Duration>, Vec<Duration>, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (bodies, base, token) = (bodies.clone(), base.to_string(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut creates, mut submits) = (Vec::new(), Vec::new());
            for body in bodies.iter().skip(c).step_by(CLIENTS) {
                let t = Instant::now();
                let id = create(&client, &base, &token, body).await;
                creates.push(t.elapsed());
                let t = Instant::now();
                submit(&client, &base, &token, &id).await;
                submits.push(t.elapsed());
            }
            (creates, submits)
        }));
    }
    let (mut creates, mut submits) = (Vec::new(), Vec::new());
    for t in tasks {
        let (c, s) = t.await.unwrap();
        creates.extend(c);
        submits.extend(s);
    }
    let wall = started.elapsed();
    creates.sort();
    submits.sort();
    (creates, submits, wall)
}

/// How many claims the server holds in each status, and how many were selected for review.
async fn outcomes(client: &reqwest::Client, token: &str, base: &str) -> String {
    let mut parts = Vec::new();
    for status in ["checked", "rejected", "entered"] {
        let page = get(
            client,
            token,
            &format!("{base}/api/v1/claims?status={status}&per_page=1"),
        )
        .await;
        parts.push(format!("{} {status}", page["total"].as_u64().unwrap_or(0)));
    }
    let review = get(
        client,
        token,
        &format!("{base}/api/v1/claims?review_status=selected&per_page=1"),
    )
    .await;
    parts.push(format!(
        "{} selected for review",
        review["total"].as_u64().unwrap_or(0)
    ));
    parts.join(", ")
}

async fn run(engine: &str, database_url: Option<&str>, families: u64, history: u64, claims: usize) {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "\n## {engine}, {families} families, {history} claims before the day, {claims} claims in the day\n"
    );
    println!("| operation | clients | requests | p50 | p99 | throughput | target |");
    println!("|---|---|---|---|---|---|---|");
    let (took, built) = demo_with_claims(dir.path(), database_url, families, history);
    println!(
        "| bima demo --families {families} --claims {history} | | | {:.1} s | | | {built} |",
        took.as_secs_f64()
    );
    let client = reqwest::Client::new();
    let (server, _) = start(&client, dir.path(), database_url).await;
    let base = server.base.clone();
    let token = login(&client, &base).await;
    let scheme = scheme(&client, &token, &base).await;
    let today = time::OffsetDateTime::now_utc().date();
    let mut rng = StdRng::seed_from_u64(5);
    let single = SINGLE.min(claims).max(SINGLE_WARM_UP + 1);
    let bodies: Vec<Value> = (0..single + claims)
        .map(|n| claim_body(&mut rng, &scheme, n, today))
        .collect();
    let lines: usize = bodies
        .iter()
        .map(|b| {
            b["items"].as_array().map_or(0, Vec::len) + b["services"].as_array().map_or(0, Vec::len)
        })
        .sum();

    // (a) One client: enter the claims, then time the submission of each alone.
    let mut ids = Vec::with_capacity(single);
    for body in &bodies[..single] {
        ids.push(create(&client, &base, &token, body).await);
    }
    let mut times = Vec::with_capacity(single);
    for (i, id) in ids.iter().enumerate() {
        let t = Instant::now();
        submit(&client, &base, &token, id).await;
        if i >= SINGLE_WARM_UP {
            times.push(t.elapsed());
        }
    }
    times.sort();
    let p50 = percentile(&times, 0.5);
    println!(
        "| `POST /api/v1/claims/submit`, one claim ({:.1} lines on average) | 1 | {} | {} | {} | | p50 < 2.5 ms — {} |",
        lines as f64 / bodies.len() as f64,
        times.len(),
        ms(p50),
        ms(percentile(&times, 0.99)),
        verdict(p50 < TARGET_P50)
    );

    // (b) The day: enter and submit every claim from 8 clients.
    let day_bodies = Arc::new(bodies[single..].to_vec());
    let (creates, submits, wall) = day(&base, &token, day_bodies).await;
    let rate = claims as f64 / wall.as_secs_f64();
    println!(
        "| the day: `POST /api/v1/claims` | {CLIENTS} | {} | {} | {} | | |",
        creates.len(),
        ms(percentile(&creates, 0.5)),
        ms(percentile(&creates, 0.99)),
    );
    println!(
        "| the day: `POST /api/v1/claims/submit` | {CLIENTS} | {} | {} | {} | | |",
        submits.len(),
        ms(percentile(&submits, 0.5)),
        ms(percentile(&submits, 0.99)),
    );
    let projected = Duration::from_secs_f64(TARGET_DAY_CLAIMS as f64 / rate);
    let target = if claims == TARGET_DAY_CLAIMS {
        format!("40,000 claims < 60 s — {}", verdict(wall < TARGET_DAY))
    } else {
        format!(
            "40,000 claims < 60 s — {} at this rate ({:.1} s)",
            verdict(projected < TARGET_DAY),
            projected.as_secs_f64()
        )
    };
    println!(
        "| the day: {claims} claims entered and submitted, wall time {:.1} s | {CLIENTS} | {} | | | {rate:.0} claims/s | {target} |",
        wall.as_secs_f64(),
        creates.len() + submits.len(),
    );
    println!(
        "\nClaims in the database after the day: {}.",
        outcomes(&client, &token, &base).await
    );

    // (c) The batch run of last month, nationally: every processed claim waiting for it.
    let (year, month) = match today.month() {
        time::Month::January => (today.year() - 1, 12u8),
        m => (today.year(), u8::from(m) - 1),
    };
    let waiting = get(
        &client,
        &token,
        &format!("{base}/api/v1/claims?status=processed&per_page=1"),
    )
    .await["total"]
        .as_u64()
        .unwrap_or(0);
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/v1/batch-runs"))
        .bearer_auth(&token)
        .json(&json!({"year": year, "month": month}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "POST /api/v1/batch-runs");
    let run: Value = response.json().await.unwrap();
    let url = format!("{base}/api/v1/batch-runs/{}", run["id"].as_str().unwrap());
    let done = loop {
        let now = get(&client, &token, &url).await;
        if now["status"] != "running" {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = started.elapsed();
    assert_eq!(done["status"], "done", "{done}");
    let valued = done["claims_valuated"].as_u64().unwrap_or(0);
    let per_second = valued as f64 / took.as_secs_f64();
    let projected = Duration::from_secs_f64(TARGET_BATCH_CLAIMS as f64 / per_second.max(1.0));
    let target = if valued >= TARGET_BATCH_CLAIMS {
        format!("1 M claims < 60 s — {}", verdict(took < TARGET_BATCH))
    } else {
        format!(
            "1 M claims < 60 s — {} at this rate ({:.1} s)",
            verdict(projected < TARGET_BATCH),
            projected.as_secs_f64()
        )
    };
    println!(
        "\n| operation | claims | wall time | throughput | target |\n|---|---|---|---|---|\n\
         | batch run of {year}-{month:02}, national ({waiting} processed claims in the scheme) | {valued} valued | {:.1} s | {per_second:.0} claims/s | {target} |",
        took.as_secs_f64()
    );
    drop(server);
}

fn main() {
    let families = env_number("BIMA_BENCH_FAMILIES", 250_000);
    let claims = env_number("BIMA_BENCH_CLAIMS", TARGET_DAY_CLAIMS as u64) as usize;
    // 5.2 claims a family before the day: 1,300,000 for the 250,000 families.
    let history = env_number("BIMA_BENCH_HISTORY", families * 26 / 5);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        println!("# bima claims benchmark");
        match std::env::var("BIMA_BENCH_DATABASE_URL") {
            Ok(url) => {
                let bench_url = fresh_postgres(&url, "bima_bench_claims").await;
                run("PostgreSQL", Some(&bench_url), families, history, claims).await;
            }
            Err(_) => run("SQLite", None, families, history, claims).await,
        }
    });
}
