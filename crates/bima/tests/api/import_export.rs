//! The synthetic openIMIS export (`bima demo --openimis-export`) imports whole on every engine;
//! its history rows become their records' audit history, once; an import killed half-way and
//! run again ends as an uninterrupted one.

use crate::support::*;
use openimis_import::{Progress, Report, run};
use std::collections::HashMap;
use std::path::Path;

/// Rows of an export file, as column → value.
fn rows(dir: &Path, table: &str) -> Vec<HashMap<String, String>> {
    csv_rows(&dir.join(format!("{table}.csv")))
}

/// (current rows, history rows with a LegacyID, deleted rows) of an export file.
fn kinds(dir: &Path, table: &str) -> (i64, i64, i64) {
    let all = rows(dir, table);
    let current = all.iter().filter(|r| r["ValidityTo"].is_empty()).count() as i64;
    let history = all
        .iter()
        .filter(|r| !r["ValidityTo"].is_empty() && !r["LegacyID"].is_empty())
        .count() as i64;
    (current, history, all.len() as i64 - current - history)
}

fn export(families: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let today = time::macros::date!(2026 - 11 - 15);
    demo::openimis_export::write(dir.path(), families, 7, today, false).unwrap();
    dir
}

/// What a complete import of `dir` holds, counted in the database.
async fn holdings(app: &TestApp) -> [i64; 7] {
    [
        app.count("SELECT COUNT(*) FROM families WHERE deleted_at IS NULL")
            .await,
        app.count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NULL")
            .await,
        app.count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NOT NULL")
            .await,
        app.count("SELECT COUNT(*) FROM policies").await,
        app.count("SELECT COUNT(*) FROM insuree_policies").await,
        app.count("SELECT COUNT(*) FROM contributions").await,
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'openimis_history'")
            .await,
    ]
}

/// What the export's files say a complete import holds, in the order of [`holdings`].
fn expected(dir: &Path) -> [i64; 7] {
    let (families, _, _) = kinds(dir, "tblFamilies");
    let (insurees, insuree_history, deleted) = kinds(dir, "tblInsuree");
    let (policies, policy_history, _) = kinds(dir, "tblPolicy");
    let (members, _, _) = kinds(dir, "tblInsureePolicy");
    let (premiums, _, _) = kinds(dir, "tblPremium");
    [
        families,
        insurees,
        deleted,
        policies,
        members,
        premiums,
        insuree_history + policy_history,
    ]
}

fn imported(report: &Report) -> u64 {
    report.tables.iter().map(|t| t.imported).sum()
}

#[tokio::test]
async fn a_synthetic_export_imports_whole_and_its_history_becomes_audit_history() {
    each_engine(|app| async move {
        let dir = export(300);
        let report = run(&app.db, dir.path(), Progress::Hidden).await.unwrap();
        assert_eq!(report.skipped(), 0, "{}", report.table());
        let want = expected(dir.path());
        assert!(
            want[2] > 0 && want[6] > 0,
            "the export holds deleted and history rows"
        );
        assert_eq!(holdings(&app).await, want, "{}", report.table());
        for table in [
            "tblFamilies",
            "tblInsuree",
            "tblPolicy",
            "tblInsureePolicy",
            "tblPremium",
        ] {
            let t = report.count(table).unwrap();
            assert_eq!(t.read, rows(dir.path(), table).len() as u64, "{table}");
            assert_eq!(t.read, t.imported + t.history, "{table}: {t:?}");
        }

        // An insuree whose phone number changed: the older row is in its audit history.
        let insurees = rows(dir.path(), "tblInsuree");
        let old = insurees
            .iter()
            .find(|r| !r["LegacyID"].is_empty())
            .expect("a history row");
        let current = insurees
            .iter()
            .find(|r| r["InsureeID"] == old["LegacyID"])
            .unwrap();
        let (status, history) = app
            .get(&format!(
                "/api/v1/audit?entity=insuree&id={}",
                current["InsureeUUID"]
            ))
            .await;
        assert_eq!(status, 200, "{history}");
        let items = history["items"].as_array().unwrap();
        let older: Vec<_> = items
            .iter()
            .filter(|i| i["action"] == "openimis_history")
            .collect();
        assert_eq!(older.len(), 1, "{history}");
        assert_eq!(
            older[0]["after"]["row"]["InsureeID"],
            old["InsureeID"].as_str()
        );
        assert_eq!(
            older[0]["after"]["row"]["LegacyID"],
            old["LegacyID"].as_str()
        );
        assert_eq!(older[0]["after"]["valid_to"], old["ValidityTo"].as_str());
        assert_eq!(older[0]["after"]["file"], "tblInsuree.csv");
        // Deleted members are kept as deleted: not found by their number.
        let deleted = insurees
            .iter()
            .find(|r| !r["ValidityTo"].is_empty() && r["LegacyID"].is_empty())
            .unwrap();
        let (status, _) = app
            .get(&format!("/api/v1/insurees/{}", deleted["CHFID"]))
            .await;
        assert_eq!(status, 404);

        // A second run changes nothing, not even the audit trail.
        let audit = app.count("SELECT COUNT(*) FROM audit_log").await;
        let again = run(&app.db, dir.path(), Progress::Hidden).await.unwrap();
        assert_eq!(imported(&again), 0, "{}", again.table());
        assert_eq!(again.skipped(), 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit);
        assert_eq!(holdings(&app).await, want);
        assert!(matches!(
            kernel::audit::verify(&app.db).await.unwrap(),
            kernel::audit::Verdict::Intact { .. }
        ));
        app.finish().await;
    })
    .await;
}

/// The database URL a `bima` process reaches this test's database with (None: SQLite in
/// `data`).
async fn url_of(app: &TestApp) -> Option<String> {
    let url = store::testing::postgres_url()?;
    if app.engine != store::Engine::Postgres {
        return None;
    }
    let (schema,): (String,) = store::on_db!(&app.db, pool => {
        sqlx::query_as("SELECT current_schema()::text").fetch_one(pool).await.unwrap()
    });
    let join = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{join}options=-c%20search_path%3D{schema}"))
}

/// How many indexes the schema has (those a migration created).
async fn index_count(app: &TestApp) -> i64 {
    match app.engine {
        store::Engine::Sqlite => {
            app.count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
                .await
        }
        store::Engine::Postgres => {
            app.count("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema()")
                .await
        }
    }
}

#[tokio::test]
async fn an_import_killed_half_way_finishes_the_same_when_run_again() {
    each_engine(|app| async move {
        let dir = export(3_000);
        let url = url_of(&app).await;
        let scratch = tempfile::tempdir().unwrap();
        let data = match app.engine {
            // The test's own SQLite file.
            store::Engine::Sqlite => app.data_dir().to_path_buf(),
            store::Engine::Postgres => scratch.path().to_path_buf(),
        };
        let command = || {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_bima"));
            c.args(["import", "openimis"])
                .arg(dir.path())
                .arg("--data-dir")
                .arg(&data)
                .env("BIMA_ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("BIMA_LOG", "error")
                .env_remove("BIMA_DATABASE_URL")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            if let Some(url) = &url {
                c.arg("--database-url").arg(url);
            }
            c
        };
        let indexes = index_count(&app).await;
        // Killed (SIGKILL, as a power cut) once some insurees are in, with the insurees'
        // indexes parked for the load, and before the end.
        let mut child = command().spawn().unwrap();
        let total_members = expected(dir.path())[4];
        let mut killed_at = None;
        let parked = "SELECT COUNT(*) FROM bima_parked_indexes WHERE table_name = 'insurees'";
        for _ in 0..2_000 {
            let insurees = app.count("SELECT COUNT(*) FROM insurees").await;
            if insurees > 0 && app.count(parked).await > 0 {
                child.kill().unwrap();
                killed_at = Some(insurees);
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _ = child.wait();
        assert!(killed_at.is_some(), "the import was not caught half-way");
        assert!(
            app.count("SELECT COUNT(*) FROM insuree_policies").await < total_members,
            "it was killed before the end"
        );
        // What a killed run committed is whole: no chunk is half there.
        let audit_history = app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'openimis_history'")
            .await;
        assert!(audit_history <= expected(dir.path())[6]);

        // The insurees' indexes were parked for the load (the table was empty): the killed run
        // left them listed, and the next run built them again before it went on.
        let status = command().status().unwrap();
        assert!(status.success());
        assert_eq!(holdings(&app).await, expected(dir.path()));
        assert_eq!(index_count(&app).await, indexes, "every index is back");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM bima_parked_indexes").await,
            0
        );
        assert!(matches!(
            kernel::audit::verify(&app.db).await.unwrap(),
            kernel::audit::Verdict::Intact { .. }
        ));
        app.finish().await;
    })
    .await;
}
