//! The audit trail: history per entity, and a hash chain that detects edits by hand.

use crate::support::*;
use kernel::audit::{self, Verdict};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_write_leaves_history() {
    each_engine(|app| async move {
        let region = app.location("R1", "R", None).await;
        let (status, _) = app
            .put(
                &format!("/api/v1/locations/{region}"),
                json!({"code": "R1", "name": "Renamed", "type": "R", "version": 1}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, history) = app
            .get(&format!("/api/v1/audit?entity=location&id={region}"))
            .await;
        assert_eq!(status, 200, "{history}");
        assert_eq!(history["total"], 2);
        let newest = &history["items"][0];
        assert_eq!(newest["action"], "update");
        assert_eq!(newest["actor_name"], "admin");
        assert_eq!(newest["before"]["name"], "R1 name");
        assert_eq!(newest["after"]["name"], "Renamed");
        assert_eq!(history["items"][1]["action"], "create");
        let unknown = app
            .get(&format!("/api/v1/audit?entity=spaceship&id={region}"))
            .await;
        assert_problem(app.engine, &unknown, 422, "validation_failed");
        assert_eq!(first_field(&unknown.1), "entity");
        // Someone who cannot see the location cannot see its history either.
        let tree = app.small_tree().await;
        let clerk = app.user_with("clerk", &[121901], &[&tree.d1]).await;
        let hidden = app
            .call(
                Method::GET,
                &format!("/api/v1/audit?entity=location&id={}", tree.d2),
                Some(&clerk),
                None,
            )
            .await;
        assert_eq!(hidden.0, 404);
        let visible = app
            .call(
                Method::GET,
                &format!("/api/v1/audit?entity=location&id={}", tree.d1),
                Some(&clerk),
                None,
            )
            .await;
        assert_eq!(visible.0, 200);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn editing_the_audit_table_is_detected() {
    each_engine(|app| async move {
        app.small_tree().await;
        let records = match audit::verify(&app.db).await.unwrap() {
            Verdict::Intact { records } => records,
            broken => panic!("{broken:?}"),
        };
        assert!(records >= 7 + 13, "7 locations, 12 roles and the admin: {records}");
        // Sealed records carry their hashes.
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE hash IS NULL").await, 0);

        let tamper = |sql: &'static str| {
            let db = app.db.clone();
            async move { exec(&db, sql).await }
        };
        tamper("UPDATE audit_log SET after_json = REPLACE(after_json, 'V1 name', 'forged') WHERE entity = 'location' AND action = 'create' AND after_json LIKE '%V1 name%'").await;
        match audit::verify(&app.db).await.unwrap() {
            Verdict::Broken { reason, .. } => assert!(reason.contains("changed after it was written"), "{reason}"),
            intact => panic!("[{:?}] tampering went unnoticed: {intact:?}", app.engine),
        }
        tamper("UPDATE audit_log SET after_json = REPLACE(after_json, 'forged', 'V1 name') WHERE after_json LIKE '%forged%'").await;
        assert!(matches!(audit::verify(&app.db).await.unwrap(), Verdict::Intact { .. }));
        tamper("DELETE FROM audit_log WHERE chain_pos = 3").await;
        match audit::verify(&app.db).await.unwrap() {
            Verdict::Broken { reason, .. } => assert!(reason.contains("deleted"), "{reason}"),
            intact => panic!("a deleted record went unnoticed: {intact:?}"),
        }
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn the_command_line_verifies_the_chain() {
    // `bima audit verify` on a real data folder: ok, then broken after an edit by hand.
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_bima");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env("BIMA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("BIMA_DATABASE_URL")
            .output()
            .unwrap()
    };
    let ok = run(&["audit", "verify"]);
    assert!(ok.status.success(), "{ok:?}");
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.starts_with("ok, 13 records"), "{out}");
    let db = store::Db::open_sqlite(&dir.path().join("bima.db"), 2)
        .await
        .unwrap();
    exec(
        &db,
        "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 2",
    )
    .await;
    db.close().await;
    let broken = run(&["audit", "verify"]);
    assert!(!broken.status.success());
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(out.contains("broken at record 2"), "{out}");
}

#[tokio::test]
async fn records_appended_sealed_chain_with_those_the_sealer_seals() {
    each_engine(|app| async move {
        // Unsealed records written the ordinary way, then a bulk writer's records sealed as
        // they are appended, then more ordinary ones: one chain that verifies.
        app.small_tree().await;
        let actor = kernel::Actor::system("test");
        let entries = |n: usize, what: &str| -> Vec<audit::Entry> {
            (0..n)
                .map(|i| {
                    audit::Entry::new(
                        &actor,
                        "location",
                        uuid::Uuid::now_v7(),
                        "import",
                        None::<&()>,
                        Some(&json!({"what": what, "i": i})),
                    )
                    .unwrap()
                })
                .collect()
        };
        let unsealed_before = app.count("SELECT COUNT(*) FROM audit_log WHERE hash IS NULL").await;
        assert!(unsealed_before > 0, "the tree's records wait for the sealer");
        let mut tx = app.db.begin().await.unwrap();
        audit::append_sealed(&mut tx, &entries(150, "bulk")).await.unwrap();
        audit::append_many(&mut tx, &entries(3, "ordinary")).await.unwrap();
        audit::append_sealed(&mut tx, &entries(70, "bulk")).await.unwrap();
        tx.commit().await.unwrap();
        // The bulk records carry their seals at once; the others wait for the sealer.
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log WHERE hash IS NULL").await,
            unsealed_before + 3
        );
        assert_eq!(
            app.count("SELECT COUNT(DISTINCT seq) FROM audit_log WHERE after_json LIKE '%bulk%' AND hash IS NOT NULL").await,
            220
        );
        let total = app.count("SELECT COUNT(*) FROM audit_log").await;
        match audit::verify(&app.db).await.unwrap() {
            Verdict::Intact { records } => assert_eq!(records as i64, total),
            broken => panic!("[{:?}] {broken:?}", app.engine),
        }
        // A later ordinary write takes a number after every bulk one.
        app.location("R9", "R", None).await;
        let newest: i64 = app.count("SELECT MAX(seq) FROM audit_log WHERE after_json LIKE '%R9 name%'").await;
        let bulk_max: i64 = app.count("SELECT MAX(seq) FROM audit_log WHERE after_json LIKE '%bulk%'").await;
        assert!(newest > bulk_max, "{newest} after {bulk_max}");
        assert!(matches!(audit::verify(&app.db).await.unwrap(), Verdict::Intact { .. }));
        // Tampering with a record sealed on append is caught like any other.
        exec(&app.db, "UPDATE audit_log SET after_json = REPLACE(after_json, 'bulk', 'forged') WHERE seq = (SELECT MIN(seq) FROM audit_log WHERE after_json LIKE '%bulk%')").await;
        match audit::verify(&app.db).await.unwrap() {
            Verdict::Broken { reason, .. } => assert!(reason.contains("changed after it was written"), "{reason}"),
            intact => panic!("[{:?}] tampering went unnoticed: {intact:?}", app.engine),
        }
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn an_edit_of_any_column_of_any_record_is_detected() {
    // Every column of the first, a middle and the last record, changed by hand one at a time
    // (and put back from a copy between cases): `verify` finds each.
    each_engine(|app| async move {
        app.small_tree().await;
        audit::verify(&app.db).await.unwrap(); // seals what is written
        let (last,): (i64,) = store::on_db!(&app.db, pool =>
            sqlx::query_as("SELECT MAX(chain_pos) FROM audit_log").fetch_one(pool).await.unwrap());
        assert!(last > 10, "{last}");
        exec(&app.db, "CREATE TABLE audit_copy AS SELECT * FROM audit_log").await;
        let (at, random_id) = match app.engine {
            store::Engine::Sqlite => ("'2001-01-01T00:00:00Z'", "randomblob(16)"),
            store::Engine::Postgres => ("at + interval '1 second'", "gen_random_uuid()"),
        };
        let changes = [
            ("at", at.to_string()),
            ("actor_id", "CASE WHEN actor_id IS NULL THEN entity_id ELSE NULL END".to_string()),
            ("actor_name", "actor_name || 'x'".to_string()),
            ("entity", "entity || 'x'".to_string()),
            ("entity_id", random_id.to_string()),
            ("action", "action || 'x'".to_string()),
            ("before_json", "COALESCE(before_json, '') || ' '".to_string()),
            ("after_json", "COALESCE(after_json, '') || ' '".to_string()),
            ("prev_hash", "'00' || prev_hash".to_string()),
            ("hash", "'ab' || hash".to_string()),
            ("chain_pos", "chain_pos + 100000".to_string()),
            ("seq", "seq + 100000".to_string()),
        ];
        for pos in [1, last / 2, last] {
            for (column, value) in &changes {
                let sql = format!("UPDATE audit_log SET {column} = {value} WHERE chain_pos = {pos}");
                store::on_db!(&app.db, pool => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.map(|_| ())).unwrap();
                let verdict = audit::verify(&app.db).await.unwrap();
                assert!(
                    matches!(verdict, Verdict::Broken { .. }),
                    "[{:?}] {column} of record {pos} changed by hand went unnoticed: {verdict:?}",
                    app.engine
                );
                exec(&app.db, "DELETE FROM audit_log").await;
                exec(&app.db, "INSERT INTO audit_log SELECT * FROM audit_copy").await;
                assert!(
                    matches!(audit::verify(&app.db).await.unwrap(), Verdict::Intact { .. }),
                    "put back"
                );
            }
        }
        app.finish().await;
    })
    .await;
}
