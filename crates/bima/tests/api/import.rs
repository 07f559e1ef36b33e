//! `bima import openimis`: the demo export loads completely, twice gives the same result,
//! broken rows are reported and the rest goes on.

use crate::auth::demo_dir;
use crate::support::*;
use openimis_import::{Progress, run};

/// Current rows (ValidityTo empty) of a demo CSV.
fn current_rows(table: &str) -> u64 {
    let mut reader = csv::Reader::from_path(demo_dir().join(format!("{table}.csv"))).unwrap();
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "ValidityTo")
        .unwrap();
    reader
        .records()
        .filter(|r| r.as_ref().unwrap().get(column) == Some(""))
        .count() as u64
}

#[tokio::test]
async fn the_demo_export_imports_completely_and_idempotently() {
    each_engine(|app| async move {
        let first = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        assert_eq!(first.skipped(), 0, "{}", first.table());
        for (table, sql) in [
            (
                "tblLocations",
                "SELECT COUNT(*) FROM locations WHERE deleted_at IS NULL",
            ),
            (
                "tblHF",
                "SELECT COUNT(*) FROM health_facilities WHERE deleted_at IS NULL",
            ),
            (
                "tblOfficer",
                "SELECT COUNT(*) FROM users WHERE kind = 'enrolment_officer'",
            ),
            (
                "tblClaimAdmin",
                "SELECT COUNT(*) FROM users WHERE kind = 'claim_administrator'",
            ),
        ] {
            let expected = current_rows(table);
            assert_eq!(first.count(table).unwrap().imported, expected, "{table}");
            assert_eq!(app.count(sql).await as u64, expected, "{table}");
        }
        assert_eq!(
            first.count("tblRole").unwrap().unchanged,
            12,
            "system roles map onto the built-in ones"
        );
        let audit_after_first = app.count("SELECT COUNT(*) FROM audit_log").await;

        let second = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        assert_eq!(second.skipped(), 0);
        assert!(
            second.tables.iter().all(|t| t.imported == 0),
            "{}",
            second.table()
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log").await,
            audit_after_first,
            "the second run changed nothing"
        );

        // Through the API: openIMIS UUIDs kept, the hierarchy intact, officers in their district.
        let (status, hospital) = app.get("/api/v1/health-facilities/JMHOS001").await;
        assert_eq!(status, 200, "{hospital}");
        assert_eq!(hospital["id"], "026e088a-fbd5-474e-8d42-069958a34127");
        let (_, district) = app
            .get(&format!(
                "/api/v1/locations/{}",
                hospital["location_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(district["type"], "D");
        let (_, officer) = app.get("/api/v1/users/E00005").await;
        assert_eq!(officer["kind"], "enrolment_officer");
        assert_eq!(officer["origin"], "openimis");
        assert_eq!(officer["has_password"], false);
        let (_, admin) = app.get("/api/v1/users/JHOS0011").await;
        assert_eq!(
            admin["health_facility_id"],
            "026e088a-fbd5-474e-8d42-069958a34127"
        );
        assert!(matches!(
            kernel::audit::verify(&app.db).await.unwrap(),
            kernel::audit::Verdict::Intact { .. }
        ));
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn broken_rows_are_reported_and_the_rest_goes_on() {
    each_engine(|app| async move {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tblLocations.csv"),
            "ValidityFrom,ValidityTo,LegacyID,LocationId,LocationUUID,LocationCode,LocationName,LocationType,MalePopulation,FemalePopulation,OtherPopulation,Families,AuditUserId,ParentLocationId\n\
             2017-01-01 00:00:00+00,,,1,75250515-40d7-4c77-bafe-a2c65ffc5a72,R1,Region 1,R,,,,,2,\n\
             2017-01-01 00:00:00+00,,,2,5345ef14-12ab-4e98-a07c-1e08d7105df4,R1D1,District 1,D,,,,,2,1\n\
             2017-01-01 00:00:00+00,,,3,e50da11b-3e50-483c-846b-0991c13c0935,BAD,Bad type,Q,,,,,2,2\n\
             2017-01-01 00:00:00+00,,,4,e50da11b-3e50-483c-846b-0991c13c0936,ORPHAN,Orphan,W,,,,,2,99\n\
             2017-01-01 00:00:00+00,,,5,not-a-uuid,NOUUID,No uuid,W,,,,,2,2\n\
             2017-01-01 00:00:00+00,,,6,e50da11b-3e50-483c-846b-0991c13c0937,W1,Ward,W,,,,,2,2\n",
        )
        .unwrap();
        let report = run(&app.db, dir.path(), Progress::Hidden).await.unwrap();
        let counts = report.count("tblLocations").unwrap();
        assert_eq!((counts.read, counts.imported, counts.skipped), (6, 3, 3), "{}", report.table());
        let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![4, 5, 6], "{}", report.table());
        assert!(report.problems[0].reason.contains("LocationType"), "{:?}", report.problems[0]);
        assert!(report.problems[1].reason.contains("99"), "{:?}", report.problems[1]);
        assert!(report.problems.iter().all(|p| p.file == "tblLocations.csv"));
        assert!(report.table().contains("skipped tblLocations.csv line 4"));
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn the_command_exits_non_zero_when_rows_are_skipped() {
    let data = tempfile::tempdir().unwrap();
    let export = tempfile::tempdir().unwrap();
    std::fs::write(
        export.path().join("tblLocations.csv"),
        "ValidityFrom,ValidityTo,LegacyID,LocationId,LocationUUID,LocationCode,LocationName,LocationType,ParentLocationId\n\
         2017-01-01 00:00:00+00,,,1,75250515-40d7-4c77-bafe-a2c65ffc5a72,R1,Region 1,R,\n\
         2017-01-01 00:00:00+00,,,2,75250515-40d7-4c77-bafe-a2c65ffc5a73,R2,Region 2,Z,\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bima"))
            .args(["import", "openimis"])
            .arg(export.path())
            .args(extra)
            .arg("--data-dir")
            .arg(data.path())
            .env("BIMA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("BIMA_DATABASE_URL")
            .output()
            .unwrap()
    };
    let strict = run(&[]);
    assert!(!strict.status.success());
    let out = String::from_utf8_lossy(&strict.stdout);
    assert!(
        out.contains("tblLocations") && out.contains("line 3"),
        "{out}"
    );
    let partial = run(&["--allow-partial"]);
    assert!(partial.status.success(), "{partial:?}");
}
