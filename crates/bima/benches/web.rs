//! Web UI benchmark (issue 8): every page's server time and its size on the wire.
//!
//!     cargo bench -p bima --bench web                          # SQLite
//!     BIMA_BENCH_DATABASE_URL="postgres://postgres@localhost/postgres?host=/var/run/postgresql" cargo bench -p bima --bench web
//!     BIMA_BENCH_FAMILIES=20000 BIMA_BENCH_CLAIMS=20000 BIMA_BENCH_ENGINES=sqlite ...
//!
//! The release `bima serve` on `bima demo` (default 20,000 families and 20,000 claims, its audit
//! records sealed by `bima audit verify` first), a browser's session (the login form, its cookies), then each page asked 200 times after 20
//! untimed over one kept-alive loopback connection: the time to the whole answer is the server's
//! time plus loopback. The size is the gzip body a browser receives (`Accept-Encoding: gzip`);
//! the raw size is shown beside it.

mod support;

use std::time::{Duration, Instant};
use support::*;

const TIMES: usize = 200;
const WARM_UP: usize = 20;
const TARGET_TIME: Duration = Duration::from_millis(5);
const TARGET_BYTES: usize = 50 * 1024;

struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for c in response.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            self.cookies.push((k.to_string(), v.to_string()));
        }
    }

    /// One page: (status, bytes on the wire).
    async fn get(&mut self, path: &str, gzip: bool) -> (u16, usize) {
        let mut r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        if gzip {
            r = r.header("accept-encoding", "gzip");
        }
        let response = r.send().await.unwrap();
        let status = response.status().as_u16();
        self.keep(&response);
        let body = response.bytes().await.unwrap();
        (status, body.len())
    }

    async fn log_in(&mut self) {
        self.get("/login", false).await;
        let csrf = self
            .cookies
            .iter()
            .find(|(k, _)| k == "bima_csrf")
            .map(|(_, v)| v.clone())
            .unwrap();
        let body = format!("username=admin&password={PASSWORD}&csrf={csrf}&next=%2F");
        let response = self
            .client
            .post(format!("{}/login", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "login");
        self.keep(&response);
    }
}

async fn run(engine: &str, database_url: Option<&str>, families: u64, claims: u64) {
    let dir = tempfile::tempdir().unwrap();
    println!("\n## {engine}, {families} families, {claims} claims\n");
    println!("| page | requests | p50 | p99 | gzip | raw | target |");
    println!("|---|---|---|---|---|---|---|");
    let (took, _) = demo_with_claims(dir.path(), database_url, families, claims);
    println!(
        "| bima demo --families {families} --claims {claims} | | {:.1} s | | | | |",
        took.as_secs_f64()
    );
    seal_audit(dir.path(), database_url);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (server, _) = start(&client, dir.path(), database_url).await;
    let token = login(&client, &server.base).await;
    let api = |path: &str| {
        let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
        let path = path.to_string();
        async move {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let family = api("/api/v1/families?per_page=1").await["items"][0].clone();
    let claim = api("/api/v1/claims?per_page=1").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first_id = |v: serde_json::Value| v["items"][0]["id"].as_str().unwrap().to_string();
    let insuree = first_id(api("/api/v1/insurees?per_page=1").await);
    let location = first_id(api("/api/v1/locations?per_page=1").await);
    let facility = first_id(api("/api/v1/health-facilities?per_page=1").await);
    let user = first_id(api("/api/v1/users?per_page=1").await);
    let prefix: String = family["head_last_name"]
        .as_str()
        .unwrap()
        .chars()
        .take(3)
        .collect();
    let pages = [
        "/login".to_string(),
        "/".to_string(),
        "/families".to_string(),
        format!("/families?q={prefix}"),
        format!("/families/{}", family["id"].as_str().unwrap()),
        "/families/new".to_string(),
        "/claims".to_string(),
        "/claims?status=checked".to_string(),
        format!("/claims/{claim}"),
        "/claims/new".to_string(),
        format!("/insurees/{insuree}/card"),
        format!("/insurees/{insuree}/edit"),
        "/locations".to_string(),
        format!("/locations/{location}/edit"),
        "/health-facilities".to_string(),
        format!("/health-facilities/{facility}/edit"),
        "/products".to_string(),
        "/users".to_string(),
        format!("/users/{user}/edit"),
        "/roles".to_string(),
        "/roles/new".to_string(),
        "/batch-runs".to_string(),
        "/review".to_string(),
        "/password".to_string(),
    ];
    let mut browser = Browser {
        client: client.clone(),
        base: server.base.clone(),
        cookies: Vec::new(),
    };
    browser.log_in().await;
    for page in &pages {
        let (status, raw) = browser.get(page, false).await;
        assert_eq!(status, 200, "{page}");
        let mut times = Vec::with_capacity(TIMES);
        let mut wire = 0;
        for i in 0..TIMES + WARM_UP {
            let t = Instant::now();
            let (status, bytes) = browser.get(page, true).await;
            let took = t.elapsed();
            assert_eq!(status, 200, "{page}");
            wire = bytes;
            if i >= WARM_UP {
                times.push(took);
            }
        }
        times.sort();
        let p50 = percentile(&times, 0.5);
        println!(
            "| `{page}` | {TIMES} | {} | {} | {:.1} KB | {:.1} KB | p50 < 5 ms, < 50 KB — {} |",
            ms(p50),
            ms(percentile(&times, 0.99)),
            wire as f64 / 1024.0,
            raw as f64 / 1024.0,
            verdict(p50 < TARGET_TIME && wire < TARGET_BYTES)
        );
    }
    drop(server);
}

#[tokio::main]
async fn main() {
    let families = env_number("BIMA_BENCH_FAMILIES", 20_000);
    let claims = env_number("BIMA_BENCH_CLAIMS", 20_000);
    let engines = std::env::var("BIMA_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    if engines.contains("sqlite") {
        run("SQLite", None, families, claims).await;
    }
    if engines.contains("postgres")
        && let Ok(url) = std::env::var("BIMA_BENCH_DATABASE_URL")
    {
        let url = fresh_postgres(&url, "bima_bench_web").await;
        run("PostgreSQL", Some(&url), families, claims).await;
    }
}
