//! Idempotency and concurrency: what is sent twice — at once, or again after a lost answer —
//! happens once; two officers saving the same record cannot overwrite each other; many writers
//! at once on SQLite all succeed.

use crate::claims::{claim, clinic};
use crate::policies::{enrol, pay, scheme};
use crate::registry::{family, new_family, person};
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn the_same_claim_sent_at_once_or_again_exists_once_and_is_paid_once() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let body = claim(&c, "TWICE-1", "2025-09-01");
        let answers =
            futures::future::join_all((0..10).map(|_| app.post("/api/v1/claims", body.clone())))
                .await;
        let created: Vec<_> = answers.iter().filter(|(s, _)| *s == 201).collect();
        assert_eq!(created.len(), 1, "[{:?}] {answers:?}", app.engine);
        for (status, problem) in answers.iter().filter(|(s, _)| *s != 201) {
            assert_problem(
                app.engine,
                &(*status, problem.clone()),
                409,
                "duplicate_code",
            );
        }
        let id = created[0].1["id"].clone();
        // The client's answer was lost; it sends again: 409, nothing changes.
        let again = app.post("/api/v1/claims", body.clone()).await;
        assert_problem(app.engine, &again, 409, "duplicate_code");
        assert_eq!(app.count("SELECT COUNT(*) FROM claims").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM claim_lines").await, 2);

        // Submitted twice at once: one decision; processed twice at once: one payment. The
        // others are told: the claim is no longer entered (200, not submitted) or was changed
        // under them (409), and change nothing.
        for (path, step) in [
            ("/api/v1/claims/submit", "submit"),
            ("/api/v1/claims/process", "process"),
        ] {
            let answers =
                futures::future::join_all((0..4).map(|_| app.post(path, json!({"claims": [id]}))))
                    .await;
            let done = answers
                .iter()
                .filter(|(s, b)| *s == 200 && b["results"][0]["submitted"] == true)
                .count();
            assert_eq!(done, 1, "[{:?}] {step}: {answers:?}", app.engine);
            for (status, body) in &answers {
                match status.as_u16() {
                    200 => {}
                    409 => assert_eq!(body["code"], "stale_version", "{body}"),
                    other => panic!("[{:?}] {step}: {other} {body}", app.engine),
                }
            }
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claim_ded_rem").await,
            1,
            "one ledger entry: paid once"
        );
        let again = app.post("/api/v1/claims", body).await;
        assert_problem(app.engine, &again, 409, "duplicate_code");
        assert_eq!(app.count("SELECT COUNT(*) FROM claims").await, 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_receipt_counts_once_even_when_sent_at_once() {
    each_engine(|app| async move {
        let s = scheme(&app).await;
        let policy = enrol(&app, &s, "2025-06-01").await;
        let answers = futures::future::join_all(
            (0..6).map(|_| pay(&app, &policy, 400000, "RCPT-9", "2025-06-10")),
        )
        .await;
        let recorded = answers.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(recorded, 1, "[{:?}] {answers:?}", app.engine);
        for (status, body) in answers.iter().filter(|(s, _)| *s != 201) {
            assert_eq!(*status, 422, "[{:?}] {body}", app.engine);
            assert_eq!(first_field(body), "receipt", "{body}");
        }
        // Again later, for another amount: still refused.
        let (status, body) = pay(&app, &policy, 1000, "RCPT-9", "2025-06-11").await;
        assert_eq!((status, first_field(&body)), (422, "receipt"), "{body}");
        assert_eq!(app.count("SELECT COUNT(*) FROM contributions").await, 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn two_officers_saving_one_family_one_wins_and_the_other_is_told() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let created = new_family(&app, &tree.v1, "121212121", "Okafor").await;
        let path = format!("/api/v1/families/{}", created["id"].as_str().unwrap());
        let edit = |address: &str| {
            let mut f = family(&tree.v1, serde_json::Value::Null);
            f.as_object_mut().unwrap().remove("head");
            f["version"] = json!(1);
            f["address"] = json!(address);
            f
        };
        let (first, second) = tokio::join!(
            app.put(&path, edit("Plot 4, by the well")),
            app.put(&path, edit("Behind the school"))
        );
        let answers = [first, second];
        let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(won.len(), 1, "[{:?}] {answers:?}", app.engine);
        let lost = answers.iter().find(|(s, _)| *s != 200).unwrap();
        assert_problem(app.engine, lost, 409, "stale_version");
        let (_, now) = app.get(&path).await;
        assert_eq!(now["version"], 2);
        assert_eq!(
            now["address"], won[0].1["address"],
            "the winner's change stands"
        );
        // The same for one insuree's record.
        let mut change = person("121212121", "Okafor", "Ada");
        change["version"] = json!(1);
        let mut other = change.clone();
        other["other_names"] = json!("Adaeze");
        let (a, b) = tokio::join!(
            app.put("/api/v1/insurees/121212121", change),
            app.put("/api/v1/insurees/121212121", other)
        );
        let mut statuses = [a.0.as_u16(), b.0.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "[{:?}] {a:?} {b:?}", app.engine);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn two_hundred_writers_at_once_on_sqlite_all_succeed() {
    let app = TestApp::spawn(store::Engine::Sqlite).await;
    let region = app.location("R", "R", None).await;
    let writes = (0..200).map(|i| {
        let (app, region) = (&app, region.clone());
        async move {
            app.post(
                "/api/v1/locations",
                json!({"code": format!("W{i:03}"), "name": format!("District {i}"), "type": "D", "parent_id": region}),
            )
            .await
        }
    });
    // Readers at the same time.
    let reads = (0..50).map(|_| app.get("/api/v1/locations?per_page=5"));
    let (writes, reads) = tokio::join!(
        futures::future::join_all(writes),
        futures::future::join_all(reads)
    );
    for (status, body) in &writes {
        assert_eq!(*status, 201, "{body}");
        assert!(!body.to_string().contains("locked"), "{body}");
    }
    assert!(reads.iter().all(|(s, _)| *s == 200), "{reads:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM locations").await, 201);
    match kernel::audit::verify(&app.db).await.unwrap() {
        kernel::audit::Verdict::Intact { records } => assert!(records >= 201, "{records}"),
        broken => panic!("{broken:?}"),
    }
    app.finish().await;
}
