//! Crash safety: `bima serve` and `bima import` killed with SIGKILL in the middle of their work,
//! on each engine. After a restart every acknowledged write is there, nothing is half-written,
//! the interrupted job resumes or is run again to the same end, and the audit chain verifies.

use crate::support::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut request = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(30));
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let value = response.json().await.unwrap_or(Value::Null);
    Ok((status, value))
}

async fn get(server: &Server, token: &str, path: &str) -> Value {
    let (status, body) = send(
        &reqwest::Client::new(),
        &server.base,
        token,
        reqwest::Method::GET,
        path,
        None,
    )
    .await
    .expect("GET");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// One number from the installation's database (0 while the table does not exist yet).
async fn number(site: &Installation, sql: String) -> i64 {
    let db = site.open().await;
    let n: Result<(i64,), _> = store::on_db!(&db, pool =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await);
    db.close().await;
    n.map(|(n,)| n).unwrap_or(0)
}

fn audit_verifies(site: &Installation) {
    let (ok, out) = site.run(&["audit", "verify"]);
    assert!(ok && out.starts_with("ok, "), "[{:?}] {out}", site.engine);
}

#[derive(Default)]
struct Acknowledged {
    /// (claim id, submitted) of every claim whose creation was answered 201.
    claims: Vec<(String, bool)>,
}

#[tokio::test]
async fn a_killed_server_keeps_every_acknowledged_claim() {
    for engine in store::testing::engines() {
        let site = Installation::new(engine).await;
        let (ok, out) = site.run(&["demo", "--families", "40", "--claims", "20"]);
        assert!(ok, "[{engine:?}] demo: {out}");
        let server = site.serve(&[]).await;
        let token = server.login().await;
        // The template: one of the demo's claims, entered again under new codes.
        let page = get(&server, &token, "/api/v1/claims?per_page=1").await;
        let id = page["items"][0]["id"].as_str().expect("a demo claim");
        let claim = get(&server, &token, &format!("/api/v1/claims/{id}")).await;
        let lines = |kind: &str| -> Vec<Value> {
            claim[kind]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| json!({"code": l["code"], "qty": l["qty"]}))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (items, services) = (lines("items"), lines("services"));
        let sent_lines = (items.len() + services.len()) as i64;
        assert!(sent_lines > 0, "{claim}");
        let template = json!({
            "health_facility_id": claim["health_facility_id"],
            "insuree": claim["chfid"],
            "date_from": claim["date_from"],
            "icd": claim["icd"],
            "items": items,
            "services": services,
        });

        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let (acked, template, token) = (acked.clone(), template.clone(), token.clone());
                let base = server.base.clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    for i in 0..100_000 {
                        let mut body = template.clone();
                        body["code"] = json!(format!("K{w}-{i}"));
                        let Ok((201, created)) = send(
                            &client,
                            &base,
                            &token,
                            reqwest::Method::POST,
                            "/api/v1/claims",
                            Some(body),
                        )
                        .await
                        else {
                            break;
                        };
                        let id = created["id"].as_str().unwrap().to_string();
                        let slot = {
                            let mut a = acked.lock().unwrap();
                            a.claims.push((id.clone(), false));
                            a.claims.len() - 1
                        };
                        let Ok((200, _)) = send(
                            &client,
                            &base,
                            &token,
                            reqwest::Method::POST,
                            "/api/v1/claims/submit",
                            Some(json!({"claims": [id]})),
                        )
                        .await
                        else {
                            break;
                        };
                        acked.lock().unwrap().claims[slot].1 = true;
                    }
                })
            })
            .collect();
        // Mid-burst: some claims answered, others in flight.
        for _ in 0..2400 {
            if acked.lock().unwrap().claims.len() >= 40 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        server.kill();
        for w in workers {
            w.await.unwrap();
        }
        let acked = std::mem::take(&mut acked.lock().unwrap().claims);
        assert!(
            acked.len() >= 40,
            "[{engine:?}] only {} claims",
            acked.len()
        );

        let server = site.serve(&[]).await;
        let token = server.login().await;
        for (id, submitted) in &acked {
            let claim = get(&server, &token, &format!("/api/v1/claims/{id}")).await;
            let lines = claim["items"].as_array().map_or(0, Vec::len)
                + claim["services"].as_array().map_or(0, Vec::len);
            assert_eq!(lines as i64, sent_lines, "[{engine:?}] {claim}");
            if *submitted {
                assert_ne!(claim["status"], "entered", "[{engine:?}] {claim}");
            }
        }
        // Nothing half-written: every claim of the burst, acknowledged or not, has all its
        // lines, and a submitted one a decision on each.
        let burst = number(
            &site,
            "SELECT COUNT(*) FROM claims WHERE code LIKE 'K%'".into(),
        )
        .await;
        assert!(burst >= acked.len() as i64, "[{engine:?}] {burst}");
        let torn = number(
            &site,
            format!(
                "SELECT COUNT(*) FROM claims c WHERE c.code LIKE 'K%' AND \
                 (SELECT COUNT(*) FROM claim_lines l WHERE l.claim_id = c.id) <> {sent_lines}"
            ),
        )
        .await;
        assert_eq!(torn, 0, "[{engine:?}] claims without all their lines");
        let undecided = number(
            &site,
            "SELECT COUNT(*) FROM claims c JOIN claim_lines l ON l.claim_id = c.id \
             WHERE c.code LIKE 'K%' AND c.status <> 'entered' AND l.rejection_reason IS NULL"
                .into(),
        )
        .await;
        assert_eq!(
            undecided, 0,
            "[{engine:?}] submitted claims with undecided lines"
        );
        server.kill();
        audit_verifies(&site);
        site.finish().await;
    }
}

#[tokio::test]
async fn a_killed_import_runs_again_to_the_same_end() {
    let export = tempfile::tempdir().unwrap();
    let dir = export.path().to_str().unwrap().to_string();
    let writer = Installation::new(store::Engine::Sqlite).await;
    let (ok, out) = writer.run(&["demo", "--openimis-export", &dir, "--families", "3000"]);
    assert!(ok, "export: {out}");
    for engine in store::testing::engines() {
        // What an import without a crash gives.
        let clean = Installation::new(engine).await;
        let (ok, out) = clean.run(&["import", "openimis", &dir]);
        assert!(ok, "[{engine:?}] clean import: {out}");
        let want = clean.counts().await;
        clean.finish().await;

        let site = Installation::new(engine).await;
        let mut import = site.command(&["import", "openimis", &dir]);
        import.stdout(std::process::Stdio::null());
        import.stderr(std::process::Stdio::null());
        let mut child = import.spawn().unwrap();
        let mut seen = 0;
        for _ in 0..6000 {
            seen = number(&site, "SELECT COUNT(*) FROM insurees".into()).await;
            if seen > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let finished = child.try_wait().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            seen > 0 && finished.is_none(),
            "[{engine:?}] the import was to be killed half-way ({seen} insurees, {finished:?})"
        );
        let (ok, out) = site.run(&["import", "openimis", &dir]);
        assert!(ok, "[{engine:?}] import after the crash: {out}");
        assert_eq!(site.counts().await, want, "[{engine:?}]");
        audit_verifies(&site);
        site.finish().await;
    }
    writer.finish().await;
}

#[tokio::test]
async fn a_killed_batch_run_resumes_and_pays_each_claim_once() {
    let today = time::OffsetDateTime::now_utc().date();
    let month_start = today.replace_day(1).unwrap();
    let last = month_start.previous_day().unwrap();
    for engine in store::testing::engines() {
        let site = Installation::new(engine).await;
        let (ok, out) = site.run(&["demo", "--families", "150", "--claims", "3000"]);
        assert!(ok, "[{engine:?}] demo: {out}");
        let waiting = format!(
            "SELECT COUNT(*) FROM claims WHERE status = 'processed' AND processed_at < '{month_start}'"
        );
        let expected = number(&site, waiting.clone()).await;
        assert!(
            expected > 50,
            "[{engine:?}] {expected} claims wait for the run"
        );
        // Small chunks: many transactions, so that the kill lands between and within them.
        let chunk = [("BIMA_CLAIM__BATCH_CHUNK", "4")];
        let server = site.serve(&chunk).await;
        let token = server.login().await;
        let (status, run) = send(
            &reqwest::Client::new(),
            &server.base,
            &token,
            reqwest::Method::POST,
            "/api/v1/batch-runs",
            Some(json!({"year": last.year(), "month": u8::from(last.month())})),
        )
        .await
        .unwrap();
        assert_eq!(status, 202, "[{engine:?}] {run}");
        let path = format!("/api/v1/batch-runs/{}", run["id"].as_str().unwrap());
        let mut now = Value::Null;
        for _ in 0..6000 {
            now = get(&server, &token, &path).await;
            if now["claims_valuated"].as_i64().unwrap_or(0) > 0 || now["status"] != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill();
        assert_eq!(
            now["status"], "running",
            "[{engine:?}] to be killed half-way: {now}"
        );

        // Restarted, the server resumes the run by itself.
        let server = site.serve(&chunk).await;
        let token = server.login().await;
        for _ in 0..1200 {
            now = get(&server, &token, &path).await;
            if now["status"] != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(now["status"], "done", "[{engine:?}] {now}");
        assert_eq!(now["claims_valuated"], expected, "[{engine:?}] {now}");
        assert_eq!(
            number(&site, waiting).await,
            0,
            "[{engine:?}] none left waiting"
        );
        let run_id = now["id"].as_str().unwrap().to_string();
        let in_run = number(
            &site,
            "SELECT COUNT(*) FROM claims WHERE batch_run_id IS NOT NULL".into(),
        )
        .await;
        assert_eq!(
            in_run, expected,
            "[{engine:?}] run {run_id}: each claim once"
        );
        let misspaid = number(
            &site,
            "SELECT COUNT(*) FROM claims c WHERE c.batch_run_id IS NOT NULL AND c.remunerated <> \
             (SELECT COALESCE(SUM(l.remunerated), 0) FROM claim_lines l WHERE l.claim_id = c.id AND l.status = 'passed')"
                .into(),
        )
        .await;
        assert_eq!(
            misspaid, 0,
            "[{engine:?}] a claim is paid what its lines are"
        );
        server.kill();
        audit_verifies(&site);
        site.finish().await;
    }
}
