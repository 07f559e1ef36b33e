//! `bima import openimis`: the demo export loads completely, twice gives the same result,
//! broken rows are reported and the rest goes on.

use crate::auth::demo_dir;
use crate::support::*;
use openimis_import::{Progress, run};
use serde_json::Value;
use std::collections::HashMap;

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

/// Every row of a demo CSV, as column → value.
fn demo_rows(table: &str) -> Vec<HashMap<String, String>> {
    csv_rows(&demo_dir().join(format!("{table}.csv")))
}

fn is_current(row: &HashMap<String, String>) -> bool {
    row["ValidityTo"].is_empty()
}

/// A record: current, or deleted in openIMIS (closed with no LegacyID), as opposed to an older
/// version of one.
fn is_record(row: &HashMap<String, String>) -> bool {
    is_current(row) || row.get("LegacyID").is_none_or(|l| l.is_empty())
}

/// "10000.00" → 1000000 (the demo's amounts are positive with at most two decimals).
fn minor_units(decimal: &str) -> i64 {
    let (whole, cents) = decimal.split_once('.').unwrap_or((decimal, ""));
    let cents = format!("{cents:0<2}");
    whole.parse::<i64>().unwrap() * 100 + cents[..2].parse::<i64>().unwrap()
}

/// A CSV date as the API writes it: the same text, or `null` when empty.
fn date_or_null(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_string())
    }
}

#[tokio::test]
async fn policies_payers_and_contributions_are_imported() {
    // What the export holds, counted from its files. A current policy (ValidityTo empty) is
    // imported unless it has no ExpiryDate; its insuree policies and premiums come with it.
    let policies = demo_rows("tblPolicy");
    let importable: Vec<_> = policies
        .iter()
        .filter(|r| is_current(r) && !r["ExpiryDate"].is_empty())
        .collect();
    let skipped_policies = policies.iter().filter(|r| is_current(r)).count() - importable.len();
    // PolicyID → the UUID of the imported policy it is (or, for a history row, the one its
    // LegacyID points at).
    let mut policy_uuid: HashMap<&str, &str> = importable
        .iter()
        .map(|r| (r["PolicyID"].as_str(), r["PolicyUUID"].as_str()))
        .collect();
    for r in policies.iter().filter(|r| !is_current(r)) {
        if let Some(uuid) = policy_uuid.get(r["LegacyID"].as_str()).copied() {
            policy_uuid.insert(r["PolicyID"].as_str(), uuid);
        }
    }
    let insuree_policies = demo_rows("tblInsureePolicy");
    let premiums = demo_rows("tblPremium");
    let payers = demo_rows("tblPayer");
    let insurees = demo_rows("tblInsuree");
    let products = demo_rows("tblProduct");
    let current_payers: Vec<_> = payers.iter().filter(|r| is_current(r)).collect();
    let covered = insuree_policies
        .iter()
        .filter(|r| is_current(r) && policy_uuid.contains_key(r["PolicyId"].as_str()))
        .count();
    let paid: Vec<_> = premiums
        .iter()
        .filter(|r| is_current(r) && policy_uuid.contains_key(r["PolicyID"].as_str()))
        .collect();
    let history = |rows: &[HashMap<String, String>]| rows.iter().filter(|r| !is_current(r)).count();
    let expected = [
        ("tblPayer", current_payers.len(), history(&payers)),
        ("tblPolicy", importable.len(), history(&policies)),
        ("tblInsureePolicy", covered, history(&insuree_policies)),
        ("tblPremium", paid.len(), history(&premiums)),
    ];
    // Read from the files above: 1 payer (+1 history), 21 policies (+58 history or deleted),
    // 60 insuree policies (+30), 21 premiums (+45); every current policy has an expiry date.
    assert_eq!(
        expected.map(|(_, imported, history)| (imported, history)),
        [(1, 1), (21, 58), (60, 30), (21, 45)]
    );
    let (importable, paid, current_payers) = (&importable, &paid, &current_payers);
    let (policy_uuid, insuree_policies, insurees, products) =
        (&policy_uuid, &insuree_policies, &insurees, &products);

    each_engine(|app| async move {
        let first = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        for (table, imported, history) in expected {
            let count = first.count(table).unwrap();
            assert_eq!(
                (count.imported, count.history),
                (imported as u64, history as u64),
                "[{:?}] {table}\n{}",
                app.engine,
                first.table()
            );
        }
        assert_eq!(
            first.count("tblPolicy").unwrap().skipped,
            skipped_policies as u64
        );
        assert_eq!(first.skipped(), 0, "{}", first.table());
        let (status, list) = app.get("/api/v1/policies?per_page=100").await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["total"], importable.len());

        // Policies, insuree policies and contributions deleted in openIMIS (closed rows without
        // LegacyID) are kept as deleted records, counted with the closed rows: not listed, not
        // found, not paid.
        for (file, sql) in [
            (
                "tblPolicy",
                "SELECT COUNT(*) FROM policies WHERE deleted_at IS NOT NULL",
            ),
            (
                "tblInsureePolicy",
                "SELECT COUNT(*) FROM insuree_policies WHERE deleted_at IS NOT NULL",
            ),
            (
                "tblPremium",
                "SELECT COUNT(*) FROM contributions WHERE deleted_at IS NOT NULL",
            ),
        ] {
            let deleted = demo_rows(file)
                .iter()
                .filter(|r| !is_current(r) && r["LegacyID"].is_empty())
                .count() as i64;
            assert!(deleted > 0, "{file}");
            assert_eq!(app.count(sql).await, deleted, "{file}");
            assert_eq!(first.count(file).unwrap().deleted, deleted as u64, "{file}");
        }
        let policy_47 = "762f70af-01b8-49b6-aec8-7ca61fef62ce";
        let (status, _) = app.get(&format!("/api/v1/policies/{policy_47}")).await;
        assert_eq!(status, 404);
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["id"] != policy_47),
            "{list}"
        );

        // Active in openIMIS: active here, with the same dates, value and premiums.
        let active: Vec<_> = importable
            .iter()
            .filter(|r| r["PolicyStatus"] == "2")
            .collect();
        assert!(!active.is_empty());
        for row in &active {
            let uuid = &row["PolicyUUID"];
            let (status, policy) = app.get(&format!("/api/v1/policies/{uuid}")).await;
            assert_eq!(status, 200, "{policy}");
            assert_eq!(policy["status"], "active", "{policy}");
            assert_eq!(policy["stage"], row["PolicyStage"].as_str());
            assert_eq!(policy["enroll_date"], date_or_null(&row["EnrollDate"]));
            assert_eq!(policy["start_date"], date_or_null(&row["StartDate"]));
            assert_eq!(
                policy["effective_date"],
                date_or_null(&row["EffectiveDate"])
            );
            assert_eq!(policy["expiry_date"], date_or_null(&row["ExpiryDate"]));
            assert_eq!(policy["value"], minor_units(&row["PolicyValue"]));
            let product = products
                .iter()
                .find(|p| is_current(p) && p["ProdID"] == row["ProdID"])
                .unwrap();
            assert_eq!(policy["product_id"], product["ProdUUID"].as_str());

            let (status, page) = app
                .get(&format!(
                    "/api/v1/contributions?policy_id={uuid}&per_page=100"
                ))
                .await;
            assert_eq!(status, 200, "{page}");
            let mut got: Vec<(String, i64)> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["receipt"].as_str().unwrap().to_string(),
                        c["amount"].as_i64().unwrap(),
                    )
                })
                .collect();
            let mut want: Vec<(String, i64)> = paid
                .iter()
                .filter(|p| policy_uuid[p["PolicyID"].as_str()] == uuid.as_str())
                .map(|p| (p["Receipt"].clone(), minor_units(&p["Amount"])))
                .collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "premiums of policy {}", row["PolicyID"]);
        }

        // Payers, and the contributions they paid.
        let (status, page) = app.get("/api/v1/payers").await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], current_payers.len());
        for payer in current_payers.iter() {
            let item = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == payer["PayerUUID"].as_str())
                .unwrap_or_else(|| panic!("payer {} missing: {page}", payer["PayerID"]));
            assert_eq!(item["name"], payer["PayerName"].as_str());
            assert_eq!(item["payer_type"], payer["PayerType"].as_str());
            let (_, by_payer) = app
                .get(&format!(
                    "/api/v1/contributions?payer_id={}",
                    payer["PayerUUID"]
                ))
                .await;
            let expected = paid
                .iter()
                .filter(|p| p["PayerID"] == payer["PayerID"])
                .count();
            assert!(expected > 0);
            assert_eq!(by_payer["total"], expected, "{by_payer}");
        }

        // An insuree of the active policy that runs longest is covered by its product.
        let policy = active
            .iter()
            .max_by_key(|r| r["ExpiryDate"].clone())
            .unwrap();
        let member = insuree_policies
            .iter()
            .find(|r| is_current(r) && r["PolicyId"] == policy["PolicyID"])
            .unwrap();
        let chfid = &insurees
            .iter()
            .find(|i| is_current(i) && i["InsureeID"] == member["InsureeID"])
            .unwrap()["CHFID"];
        let (_, detail) = app
            .get(&format!("/api/v1/policies/{}", policy["PolicyUUID"]))
            .await;
        let (status, answer) = app
            .get(&format!(
                "/api/v1/insurees/{chfid}/eligibility?date={}",
                member["EffectiveDate"]
            ))
            .await;
        assert_eq!(status, 200, "{answer}");
        let product = answer["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["policy_id"] == policy["PolicyUUID"].as_str())
            .unwrap_or_else(|| panic!("{answer}"));
        assert_eq!(product["product_id"], detail["product_id"]);
        assert_eq!(product["status"], "A", "{answer}");
        assert_eq!(answer["eligible"], true, "{answer}");

        // A second run finds everything there and changes nothing.
        let tables = [
            "SELECT COUNT(*) FROM payers",
            "SELECT COUNT(*) FROM policies",
            "SELECT COUNT(*) FROM insuree_policies",
            "SELECT COUNT(*) FROM contributions",
            "SELECT COUNT(*) FROM audit_log",
        ];
        let mut before = Vec::new();
        for sql in tables {
            before.push(app.count(sql).await);
        }
        let second = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        for (table, imported, _) in expected {
            let count = second.count(table).unwrap();
            assert_eq!(
                (count.imported, count.unchanged, count.skipped),
                (0, imported as u64, 0),
                "[{:?}] {table}\n{}",
                app.engine,
                second.table()
            );
        }
        let mut after = Vec::new();
        for sql in tables {
            after.push(app.count(sql).await);
        }
        assert_eq!(after, before, "the second run changed nothing");
        let (_, list) = app.get("/api/v1/policies?per_page=100").await;
        assert_eq!(list["total"], importable.len());
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn policy_rows_that_cannot_stand_are_skipped_with_a_reason() {
    // The demo, with policy 1 losing its expiry date, a member who is no insuree and a premium
    // of no policy.
    let export = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, export.path().join(path.file_name().unwrap())).unwrap();
    }
    let edit = |table: &str, change: &dyn Fn(String) -> String| {
        let path = export.path().join(format!("{table}.csv"));
        std::fs::write(&path, change(std::fs::read_to_string(&path).unwrap())).unwrap();
    };
    edit("tblPolicy", &|text| {
        text.lines()
            .map(|l| {
                if l.contains("a3df066b-3e23-429a-92ad-cd1ef46daa2f") {
                    l.replace(",2027-08-19,", ",,")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    edit("tblInsureePolicy", &|text| {
        text + "2019-01-01 00:00:00+00,,,9001,2026-08-20,2026-08-20,2026-08-20,2027-08-19,f,2,9999,3,\n"
    });
    edit("tblPremium", &|text| {
        text + "9001,0f0e0d0c-0000-4000-8000-000000000001,,50.00,RX1,2026-08-20,C,f,f,,2019-01-01 00:00:00+00,,2,,9999,2026-11-25,,,,,\n"
    });
    // Policy 1's members and premiums go with it (those deleted in openIMIS too: they are
    // kept as deleted records).
    let of_policy_1 = |table: &str, column: &str| {
        demo_rows(table)
            .iter()
            .filter(|r| is_record(r) && r[column] == "1")
            .count() as u64
    };
    let members = of_policy_1("tblInsureePolicy", "PolicyId");
    let premiums = of_policy_1("tblPremium", "PolicyID");
    assert!(members > 0 && premiums > 0);
    let dir = export.path();

    each_engine(|app| async move {
        let report = run(&app.db, dir, Progress::Hidden).await.unwrap();
        let skipped = |table: &str| report.count(table).unwrap().skipped;
        assert_eq!(skipped("tblPolicy"), 1, "{}", report.table());
        assert_eq!(
            skipped("tblInsureePolicy"),
            members + 1,
            "{}",
            report.table()
        );
        assert_eq!(skipped("tblPremium"), premiums + 1, "{}", report.table());
        let reasons = |file: &str| -> Vec<String> {
            report
                .problems
                .iter()
                .filter(|p| p.file == file)
                .map(|p| p.reason.clone())
                .collect()
        };
        assert!(reasons("tblPolicy.csv")[0].contains("ExpiryDate is empty"));
        let members_skipped = reasons("tblInsureePolicy.csv");
        assert!(
            members_skipped
                .iter()
                .any(|r| r == "InsureeID 9999 is not an insuree of this export"),
            "{members_skipped:?}"
        );
        assert_eq!(
            members_skipped
                .iter()
                .filter(|r| *r == "the policy 1 was not imported")
                .count() as u64,
            members
        );
        let premiums_skipped = reasons("tblPremium.csv");
        assert!(
            premiums_skipped
                .iter()
                .any(|r| r == "PolicyID 9999 is not a policy of this export"),
            "{premiums_skipped:?}"
        );
        // Those deleted in openIMIS say so.
        assert_eq!(
            premiums_skipped
                .iter()
                .filter(|r| r.starts_with("the policy 1 was not imported"))
                .count() as u64,
            premiums
        );
        let (status, _) = app
            .get("/api/v1/policies/a3df066b-3e23-429a-92ad-cd1ef46daa2f")
            .await;
        assert_eq!(status, 404);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_deleted_insuree_keeps_its_number_beside_a_current_one() {
    // The demo, with one more insuree deleted in openIMIS after Joseph (070707070) was
    // registered: a closed row without LegacyID, of his family and with his number, that comes
    // after his current row.
    let export = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, export.path().join(path.file_name().unwrap())).unwrap();
    }
    let path = export.path().join("tblInsuree.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let joseph = reader
        .records()
        .map(Result::unwrap)
        .find(|r| r[column("CHFID")] == *"070707070" && r[column("ValidityTo")].is_empty())
        .unwrap();
    let deleted_id = "0f0e0d0c-0000-4000-8000-0000000000d1";
    let mut row: Vec<String> = joseph.iter().map(str::to_string).collect();
    row[column("InsureeID")] = "9001".into();
    row[column("InsureeUUID")] = deleted_id.into();
    row[column("LegacyID")] = String::new();
    row[column("ValidityTo")] = "2020-01-01 00:00:00+00".into();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&row).unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&String::from_utf8(writer.into_inner().unwrap()).unwrap());
    std::fs::write(&path, text).unwrap();
    let dir = export.path();
    let joseph_id = joseph[column("InsureeUUID")].to_string();
    let joseph_id = &joseph_id;

    each_engine(|app| async move {
        let report = run(&app.db, dir, Progress::Hidden).await.unwrap();
        assert_eq!(report.skipped(), 0, "{}", report.table());
        let (status, found) = app.get("/api/v1/insurees/070707070").await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["id"], joseph_id.as_str());
        let (status, _) = app.get(&format!("/api/v1/insurees/{deleted_id}")).await;
        assert_eq!(status, 404);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM insurees WHERE chfid = '070707070'")
                .await,
            2
        );
        let audit = app.count("SELECT COUNT(*) FROM audit_log").await;
        let second = run(&app.db, dir, Progress::Hidden).await.unwrap();
        assert_eq!(second.skipped(), 0, "{}", second.table());
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit);
        app.finish().await;
    })
    .await;
}
