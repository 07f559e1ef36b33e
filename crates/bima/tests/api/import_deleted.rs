//! Records deleted in openIMIS (a closed row without LegacyID) that current rows still name: a
//! facility, a village, an item, a diagnosis, a product, a price list, an officer, a claim
//! administrator and a payer, each deleted in a copy of the demo export. Each comes as a
//! deleted record (not listed, not found), and every current row that names it imports as it
//! would have: nothing is skipped, and a second run changes nothing.

use crate::auth::demo_dir;
use crate::support::*;
use openimis_import::{Progress, run};
use std::collections::HashMap;
use std::path::Path;

/// Close the current row of `table` whose `column` is `value`, as openIMIS deletes a record.
fn delete_in(dir: &Path, table: &str, column: &str, value: &str) {
    let path = dir.join(format!("{table}.csv"));
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (key, closed) = (at(column), at("ValidityTo"));
    let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut done = 0;
    for row in rows.iter_mut() {
        if &row[key] == value && row[closed].is_empty() {
            // Some demo rows name themselves as their LegacyID (HF 18 does): closed, such a
            // row is still a deleted record, not an older version.
            let mut fields: Vec<String> = row.iter().map(str::to_string).collect();
            fields[closed] = "2025-06-30 12:00:00+00".into();
            *row = csv::StringRecord::from(fields);
            done += 1;
        }
    }
    assert_eq!(done, 1, "{table}.{column} = {value}");
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    for row in rows {
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
}

/// The first current row of a demo table with a value in `column`.
fn first(table: &str, column: &str) -> HashMap<String, String> {
    csv_rows(&demo_dir().join(format!("{table}.csv")))
        .into_iter()
        .find(|r| r["ValidityTo"].is_empty() && !r[column].is_empty())
        .unwrap_or_else(|| panic!("{table} has no current {column}"))
}

#[tokio::test]
async fn records_deleted_in_openimis_stay_deleted_and_what_names_them_imports() {
    let export = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, export.path().join(path.file_name().unwrap())).unwrap();
    }
    let claim = first("tblClaim", "HFID");
    let line = first("tblClaimItems", "ItemID");
    let policy = first("tblPolicy", "OfficerID");
    let premium = first("tblPremium", "PayerID");
    let family = first("tblFamilies", "LocationId");
    let facility = first("tblHF", "PLItemID");
    // (table, id column, id, Bima table, UUID column of the row)
    let deleted = [
        ("tblHF", "HfID", claim["HFID"].clone(), "health_facilities"),
        (
            "tblLocations",
            "LocationId",
            family["LocationId"].clone(),
            "locations",
        ),
        (
            "tblItems",
            "ItemID",
            line["ItemID"].clone(),
            "medical_items",
        ),
        ("tblICDCodes", "ICDID", claim["ICDID"].clone(), "diagnoses"),
        ("tblProduct", "ProdID", policy["ProdID"].clone(), "products"),
        (
            "tblPLItems",
            "PLItemID",
            facility["PLItemID"].clone(),
            "item_pricelists",
        ),
        (
            "tblOfficer",
            "OfficerID",
            policy["OfficerID"].clone(),
            "users",
        ),
        (
            "tblClaimAdmin",
            "ClaimAdminId",
            claim["ClaimAdminId"].clone(),
            "users",
        ),
        ("tblPayer", "PayerID", premium["PayerID"].clone(), "payers"),
    ];
    // A row may name an older version of a record: delete the record it leads to.
    let deleted = deleted.map(|(table, column, id, bima)| {
        let rows = csv_rows(&demo_dir().join(format!("{table}.csv")));
        let row = rows.iter().find(|r| r[column] == id).unwrap();
        let record = match row
            .get("LegacyID")
            .filter(|l| !l.is_empty() && !row["ValidityTo"].is_empty())
        {
            Some(current) => current.clone(),
            None => id,
        };
        (table, column, record, bima)
    });
    for (table, column, id, _) in &deleted {
        delete_in(export.path(), table, column, id);
    }
    let dir = export.path();
    let deleted = &deleted;

    each_engine(|app| async move {
        let first = run(&app.db, dir, Progress::Hidden).await.unwrap();
        assert_eq!(
            first.skipped(),
            0,
            "{}\n{:?}",
            first.table(),
            first.problems
        );
        for (table, _, id, _) in deleted {
            assert!(
                first.count(table).unwrap().deleted >= 1,
                "{table} {id}\n{}",
                first.table()
            );
        }
        // Every current claim, policy and premium of the demo stands.
        let current = |table: &str| {
            csv_rows(&demo_dir().join(format!("{table}.csv")))
                .iter()
                .filter(|r| r["ValidityTo"].is_empty())
                .count() as i64
        };
        let (_, claims) = app.get("/api/v1/claims?per_page=100").await;
        assert_eq!(claims["total"], current("tblClaim"), "{claims}");
        let (_, policies) = app.get("/api/v1/policies?per_page=100").await;
        assert_eq!(policies["total"], current("tblPolicy"), "{policies}");
        let (_, contributions) = app.get("/api/v1/contributions?per_page=100").await;
        assert_eq!(
            contributions["total"],
            current("tblPremium"),
            "{contributions}"
        );

        // The deleted records are there, deleted: not found by the API.
        let kept = [
            (
                "health_facilities",
                "SELECT COUNT(*) FROM health_facilities WHERE deleted_at IS NOT NULL",
            ),
            (
                "locations",
                "SELECT COUNT(*) FROM locations WHERE deleted_at IS NOT NULL",
            ),
            (
                "medical_items",
                "SELECT COUNT(*) FROM medical_items WHERE deleted_at IS NOT NULL",
            ),
            (
                "diagnoses",
                "SELECT COUNT(*) FROM diagnoses WHERE deleted_at IS NOT NULL",
            ),
            (
                "products",
                "SELECT COUNT(*) FROM products WHERE deleted_at IS NOT NULL",
            ),
            (
                "item_pricelists",
                "SELECT COUNT(*) FROM item_pricelists WHERE deleted_at IS NOT NULL",
            ),
            (
                "users",
                "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL",
            ),
            (
                "payers",
                "SELECT COUNT(*) FROM payers WHERE deleted_at IS NOT NULL",
            ),
        ];
        for (table, sql) in kept {
            let want = deleted.iter().filter(|d| d.3 == table).count() as i64;
            assert_eq!(app.count(sql).await, want, "{table}");
        }
        let hf = csv_rows(&dir.join("tblHF.csv"))
            .into_iter()
            .find(|r| r["HfID"] == deleted[0].2)
            .unwrap();
        let (status, body) = app
            .get(&format!("/api/v1/health-facilities/{}", hf["HfUUID"]))
            .await;
        assert_eq!(status, 404, "{body}");
        let product = csv_rows(&dir.join("tblProduct.csv"))
            .into_iter()
            .find(|r| r["ProdID"] == deleted[4].2)
            .unwrap();
        let (status, body) = app
            .get(&format!("/api/v1/products/{}", product["ProdUUID"]))
            .await;
        assert_eq!(status, 404, "{body}");
        // Its code is free again, and it kept the lines it covered.
        assert_eq!(
            app.count_with(
                "SELECT COUNT(*) FROM products WHERE code = $1 AND deleted_at IS NULL",
                &product["ProductCode"]
            )
            .await,
            0
        );
        assert!(
            app.count_with(
                "SELECT COUNT(*) FROM product_items i JOIN products p ON p.id = i.product_id \
                 WHERE p.code = $1 AND p.deleted_at IS NOT NULL",
                &product["ProductCode"]
            )
            .await
                > 0
        );
        // A deleted officer cannot log in (the account is there, deleted).
        let officer = csv_rows(&dir.join("tblOfficer.csv"))
            .into_iter()
            .find(|r| r["OfficerID"] == deleted[6].2)
            .unwrap();
        assert_eq!(
            app.count_with(
                "SELECT COUNT(*) FROM users WHERE username = $1 AND deleted_at IS NOT NULL",
                &officer["Code"]
            )
            .await,
            1
        );

        // A second run finds everything and changes nothing.
        let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
        let second = run(&app.db, dir, Progress::Hidden).await.unwrap();
        assert_eq!(
            second.skipped(),
            0,
            "{}\n{:?}",
            second.table(),
            second.problems
        );
        for table in &second.tables {
            assert_eq!(table.imported, 0, "{}\n{}", table.table, second.table());
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log").await,
            audit_before
        );
        app.finish().await;
    })
    .await;
}
