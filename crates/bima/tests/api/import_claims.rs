//! `bima import openimis` on the demo's claims: the current claims with their items and
//! services as openIMIS left them, the batch runs and the ledger; a second run changes nothing;
//! rows that cannot stand are reported with their file, line and reason.

use crate::auth::demo_dir;
use crate::support::*;
use openimis_import::{Progress, Report, run};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

/// A demo CSV row: its line in the file, and column → value.
struct Row {
    line: u64,
    values: HashMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.values.get(column).map_or("", String::as_str)
    }

    fn is_current(&self) -> bool {
        self.get("ValidityTo").is_empty()
    }

    /// Current, or deleted in openIMIS (closed with no LegacyID): a record, not an older version.
    fn is_record(&self) -> bool {
        self.is_current() || self.get("LegacyID").is_empty()
    }
}

fn rows_of(dir: &Path, table: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(dir.join(format!("{table}.csv"))).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                line: r.position().unwrap().line(),
                values: headers
                    .iter()
                    .zip(r.iter())
                    .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                    .collect(),
            }
        })
        .collect()
}

/// "10000.00" → 1000000 (the demo's amounts are positive with at most two decimals).
fn minor_units(decimal: &str) -> i64 {
    let (whole, cents) = decimal.split_once('.').unwrap_or((decimal, ""));
    let cents = format!("{cents:0<2}");
    whole.parse::<i64>().unwrap() * 100 + cents[..2].parse::<i64>().unwrap()
}

/// "2.00" → 2.
fn whole(decimal: &str) -> i64 {
    minor_units(decimal) / 100
}

/// Ids of the records (current rows and those deleted in openIMIS: closed rows without
/// LegacyID), each → itself, and of the history rows that continue one (LegacyID) → it.
fn kept_ids(rows: &[Row], id: &str) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = rows
        .iter()
        .filter(|r| r.is_record())
        .map(|r| (r.get(id).to_string(), r.get(id).to_string()))
        .collect();
    for r in rows.iter().filter(|r| !r.is_record()) {
        if let Some(record) = map.get(r.get("LegacyID")).cloned() {
            map.insert(r.get(id).to_string(), record);
        }
    }
    map
}

const CLAIM_FILES: [&str; 5] = [
    "tblBatchRun",
    "tblClaim",
    "tblClaimItems",
    "tblClaimServices",
    "tblClaimDedRem",
];

/// What the demo export says the import gives, read from its files.
struct Expected {
    /// The current claims that can stand: their patient is an insuree Bima imports (current or
    /// deleted in openIMIS).
    claims: Vec<Row>,
    /// The claims deleted in openIMIS that can stand: kept as deleted records.
    deleted: Vec<Row>,
    /// Claims (current or deleted) whose insuree is not in the export.
    orphans: BTreeSet<String>,
    /// Current lines of those claims, by file: (file, line).
    skipped: BTreeSet<(String, u64)>,
    /// Per file: (imported, history).
    counts: HashMap<&'static str, (u64, u64)>,
    items: Vec<Row>,
    services: Vec<Row>,
    /// ClaimID of a line → the ClaimID of its claim (current or deleted).
    claim_of: HashMap<String, String>,
}

fn expected(dir: &Path) -> Expected {
    let claims = rows_of(dir, "tblClaim");
    let insurees = kept_ids(&rows_of(dir, "tblInsuree"), "InsureeID");
    let claim_of = kept_ids(&claims, "ClaimID");
    let (standing, orphans): (Vec<Row>, Vec<Row>) = claims
        .into_iter()
        .filter(Row::is_record)
        .partition(|r| insurees.contains_key(r.get("InsureeID")));
    let (standing, deleted): (Vec<Row>, Vec<Row>) = standing.into_iter().partition(Row::is_current);
    let orphans: BTreeSet<String> = orphans
        .iter()
        .map(|r| r.get("ClaimID").to_string())
        .collect();
    let mut skipped: BTreeSet<(String, u64)> = rows_of(dir, "tblClaim")
        .iter()
        .filter(|r| r.is_record() && orphans.contains(r.get("ClaimID")))
        .map(|r| ("tblClaim.csv".to_string(), r.line))
        .collect();
    let mut counts = HashMap::new();
    let all_claims = rows_of(dir, "tblClaim");
    counts.insert(
        "tblClaim",
        (
            standing.len() as u64,
            all_claims.iter().filter(|r| !r.is_current()).count() as u64,
        ),
    );
    let runs = rows_of(dir, "tblBatchRun");
    counts.insert(
        "tblBatchRun",
        (
            runs.iter().filter(|r| r.is_current()).count() as u64,
            runs.iter().filter(|r| !r.is_current()).count() as u64,
        ),
    );
    // Lines and ledger rows go with their claim, current or deleted; an orphan's are skipped.
    let mut lines = |table: &'static str| -> Vec<Row> {
        let rows = rows_of(dir, table);
        let (mut imported, mut history) = (0, 0);
        let mut kept = Vec::new();
        for r in rows {
            match claim_of.get(r.get("ClaimID")) {
                _ if !r.is_current() => history += 1,
                None => history += 1,
                Some(claim) if orphans.contains(claim) => {
                    skipped.insert((format!("{table}.csv"), r.line));
                }
                Some(_) => {
                    imported += 1;
                    kept.push(r);
                }
            }
        }
        counts.insert(table, (imported, history));
        kept
    };
    let items = lines("tblClaimItems");
    let services = lines("tblClaimServices");
    lines("tblClaimDedRem");
    Expected {
        claims: standing,
        deleted,
        orphans,
        skipped,
        counts,
        items,
        services,
        claim_of,
    }
}

fn claim_status(code: &str) -> &'static str {
    match code {
        "1" => "rejected",
        "2" => "entered",
        "4" => "checked",
        "8" => "processed",
        "16" => "valuated",
        other => panic!("ClaimStatus {other}"),
    }
}

fn line_status(code: &str) -> &'static str {
    match code {
        "1" => "passed",
        "2" => "rejected",
        other => panic!("line status {other}"),
    }
}

/// The skipped rows of the claim files, as (file, line).
fn skipped_rows(report: &Report) -> BTreeSet<(String, u64)> {
    report
        .problems
        .iter()
        .filter(|p| CLAIM_FILES.iter().any(|f| p.file == format!("{f}.csv")))
        .map(|p| (p.file.clone(), p.line))
        .collect()
}

#[tokio::test]
async fn the_demo_claims_import_with_their_lines_and_a_second_run_changes_nothing() {
    let expected = expected(&demo_dir());
    // Read from the files: 10 current claims (+14 history or deleted), all standing. Claim 17
    // (CIA06601, valuated and paid in batch run 6) is for insuree 132, deleted in openIMIS with
    // its family and policy 47, which the registry and policy imports keep as deleted records:
    // it stands with its 9 lines and its ledger row.
    assert_eq!(
        (expected.claims.len(), expected.orphans.len()),
        (10, 0),
        "{:?}",
        expected.orphans
    );
    assert_eq!(expected.skipped.len(), 0, "{:?}", expected.skipped);
    // Claims 12, 15, 16 and 19 were deleted in openIMIS; 16 and 19 valuated, with a ledger row.
    let deleted_codes: BTreeSet<&str> = expected
        .deleted
        .iter()
        .map(|r| r.get("ClaimCode"))
        .collect();
    assert_eq!(
        deleted_codes,
        BTreeSet::from(["1", "789787", "RAH00001", "RAH00002"])
    );
    let expected = &expected;

    each_engine(|app| async move {
        let first = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        for table in CLAIM_FILES {
            let count = first.count(table).unwrap();
            assert_eq!(
                (count.imported, count.history),
                expected.counts[table],
                "[{:?}] {table}\n{}",
                app.engine,
                first.table()
            );
        }
        // Nothing of the demo is skipped.
        assert_eq!(skipped_rows(&first), expected.skipped, "{}", first.table());
        assert_eq!(first.skipped(), 0, "{}", first.table());

        // Listed: every claim that stands, with its openIMIS UUID.
        let (status, list) = app.get("/api/v1/claims?per_page=100").await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["total"], expected.claims.len(), "{list}");
        let listed: HashSet<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let wanted: HashSet<&str> = expected.claims.iter().map(|c| c.get("ClaimUUID")).collect();
        assert_eq!(listed, wanted);

        // The claims deleted in openIMIS are deleted records: not listed, not found by id,
        // their codes free for current claims; kept with their lines, their ledger rows and
        // their older versions as audit history.
        for row in &expected.deleted {
            let uuid = row.get("ClaimUUID");
            assert!(!listed.contains(uuid), "{uuid} is listed");
            let (status, body) = app.get(&format!("/api/v1/claims/{uuid}")).await;
            assert_eq!(status, 404, "{body}");
            // (UUIDs are bound, not spelled: the engines store them differently.)
            let code = row.get("ClaimCode");
            let kept = "SELECT COUNT(*) FROM claims WHERE code = $1 AND deleted_at IS NOT NULL";
            assert_eq!(app.count_with(kept, code).await, 1, "{code}");
            let lines = expected
                .items
                .iter()
                .chain(&expected.services)
                .filter(|l| l.get("ClaimID") == row.get("ClaimID"))
                .count();
            assert!(lines > 0);
            let lines_sql = "SELECT COUNT(*) FROM claim_lines l JOIN claims c ON c.id = l.claim_id \
                 WHERE c.code = $1 AND c.deleted_at IS NOT NULL";
            assert_eq!(
                app.count_with(lines_sql, code).await as usize,
                lines,
                "{code}"
            );
        }
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM claim_ded_rem r JOIN claims c ON c.id = r.claim_id \
                 WHERE c.deleted_at IS NOT NULL"
            )
            .await,
            2
        );
        // Claim 12 (789787) was saved twice before it was deleted: rows 13 and 14.
        let history = "SELECT COUNT(*) FROM audit_log a JOIN claims c ON c.id = a.entity_id \
             WHERE c.code = '789787' AND a.action = 'openimis_history'";
        assert_eq!(app.count(history).await, 2, "{history}");

        // Insuree 132 (55555), deleted in openIMIS, is a deleted record: no list, search or
        // lookup by number or id finds it, and claim 17, listed, names it.
        let deleted = "6591b749-90ec-4d6f-bfe3-e770f0ce10d8";
        for path in [
            "/api/v1/insurees/55555".to_string(),
            format!("/api/v1/insurees/{deleted}"),
        ] {
            let (status, body) = app.get(&path).await;
            assert_eq!(status, 404, "{path}: {body}");
        }
        for query in ["chfid=55555", "q=55555", "q=arafat"] {
            let (status, page) = app.get(&format!("/api/v1/insurees?{query}")).await;
            assert_eq!(status, 200, "{query}: {page}");
            assert_eq!(page["total"], 0, "{query}: {page}");
        }
        let (_, all) = app.get("/api/v1/insurees?per_page=100").await;
        assert!(
            all["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["id"] != deleted),
            "{all}"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM insurees WHERE chfid = '55555' AND deleted_at IS NOT NULL"
            )
            .await,
            1
        );
        let claim_17 = "051bf876-8be5-4082-be29-83bb1a120a67";
        let listed_17 = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == claim_17)
            .unwrap_or_else(|| panic!("claim 17 is not listed: {list}"));
        assert_eq!(listed_17["code"], "CIA06601", "{listed_17}");
        assert_eq!(listed_17["insuree_id"], deleted, "{listed_17}");
        let (status, claim) = app.get(&format!("/api/v1/claims/{claim_17}")).await;
        assert_eq!(status, 200, "{claim}");
        assert_eq!(claim["insuree_id"], deleted, "{claim}");
        assert_eq!(claim["chfid"], "55555", "{claim}");
        assert!(!claim["batch_run_id"].is_null(), "{claim}");

        // Each claim read by id: its header and its lines as the CSV has them, items first then
        // services, in the order of their ids.
        for row in &expected.claims {
            let (status, claim) = app
                .get(&format!("/api/v1/claims/{}", row.get("ClaimUUID")))
                .await;
            assert_eq!(status, 200, "{claim}");
            assert_eq!(claim["code"], row.get("ClaimCode"));
            assert_eq!(claim["status"], claim_status(row.get("ClaimStatus")));
            assert_eq!(claim["claimed"], minor_units(row.get("Claimed")), "{claim}");
            assert_eq!(claim["date_from"], row.get("DateFrom"));
            assert_eq!(claim["batch_run_id"].is_null(), row.get("RunID").is_empty());
            assert!(!claim["chfid"].as_str().unwrap().is_empty(), "{claim}");
            assert!(!claim["icd"].as_str().unwrap().is_empty(), "{claim}");
            for (kind, rows, id, status) in [
                ("items", &expected.items, "ClaimItemID", "ClaimItemStatus"),
                (
                    "services",
                    &expected.services,
                    "ClaimServiceID",
                    "ClaimServiceStatus",
                ),
            ] {
                let mut want: Vec<&Row> = rows
                    .iter()
                    .filter(|l| {
                        expected.claim_of.get(l.get("ClaimID")).map(String::as_str)
                            == Some(row.get("ClaimID"))
                    })
                    .collect();
                want.sort_by_key(|l| l.get(id).parse::<i64>().unwrap());
                let want: Vec<(i64, i64, &str, i64)> = want
                    .iter()
                    .map(|l| {
                        (
                            whole(l.get("QtyProvided")),
                            minor_units(l.get("PriceAsked")),
                            line_status(l.get(status)),
                            l.get("RejectionReason").parse().unwrap(),
                        )
                    })
                    .collect();
                let got: Vec<(i64, i64, &str, i64)> = claim[kind]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        assert!(!l["code"].as_str().unwrap().is_empty(), "{l}");
                        (
                            l["qty"].as_i64().unwrap(),
                            l["price_asked"].as_i64().unwrap(),
                            l["status"].as_str().unwrap(),
                            l["rejection_reason"].as_i64().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(got, want, "{kind} of claim {}", row.get("ClaimCode"));
            }
        }

        // A valuated claim keeps what openIMIS paid: UPDH0001's second service was asked
        // 21000.00, adjusted to 650.00, valuated and remunerated 650.00 under policy 25
        // (co-insurance, 100 %).
        let (_, valuated) = app
            .get("/api/v1/claims/9da194ce-73ed-4fec-9218-082197ebe4b1")
            .await;
        let service = &valuated["services"][1];
        assert_eq!(service["price_asked"], 2_100_000, "{valuated}");
        assert_eq!(service["price_adjusted"], 65_000);
        assert_eq!(service["valuated"], 65_000);
        assert_eq!(service["remunerated"], 65_000);
        assert_eq!(service["limitation"], "C");
        assert_eq!(service["limitation_value"], 100);
        assert_eq!(service["price_origin"], "P");
        assert!(service["policy_id"].is_string() && service["product_id"].is_string());
        assert_eq!(valuated["review_status"], "bypassed");
        assert_eq!(valuated["feedback_status"], "not_selected");

        let (imported_runs, _) = expected.counts["tblBatchRun"];
        assert_eq!(
            app.count("SELECT COUNT(*) FROM batch_runs WHERE status = 'done' AND progress = 100")
                .await as u64,
            imported_runs
        );
        let (ledger_rows, _) = expected.counts["tblClaimDedRem"];
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claim_ded_rem").await as u64,
            ledger_rows
        );

        // A second run finds everything there and changes nothing.
        let tables = [
            "SELECT COUNT(*) FROM batch_runs",
            "SELECT COUNT(*) FROM claims",
            "SELECT COUNT(*) FROM claim_lines",
            "SELECT COUNT(*) FROM claim_ded_rem",
            "SELECT COUNT(*) FROM audit_log",
        ];
        let mut before = Vec::new();
        for sql in tables {
            before.push(app.count(sql).await);
        }
        let second = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        for table in CLAIM_FILES {
            let count = second.count(table).unwrap();
            assert_eq!(
                (count.imported, count.unchanged),
                (0, expected.counts[table].0),
                "[{:?}] {table}\n{}",
                app.engine,
                second.table()
            );
        }
        assert_eq!(skipped_rows(&second), expected.skipped);
        let mut after = Vec::new();
        for sql in tables {
            after.push(app.count(sql).await);
        }
        assert_eq!(after, before, "the second run changed nothing");
        app.finish().await;
    })
    .await;
}

/// A CSV line for `header` with these columns set and the others empty.
fn csv_line(header: &str, values: &[(&str, &str)]) -> String {
    let fields: Vec<&str> = header
        .split(',')
        .map(|h| {
            values
                .iter()
                .find(|(c, _)| *c == h.trim())
                .map_or("", |(_, v)| *v)
        })
        .collect();
    fields.join(",") + "\n"
}

#[tokio::test]
async fn claim_rows_that_cannot_stand_are_skipped_with_a_reason() {
    // The demo, with a claim of no known facility, a line of no claim, a line of no known item
    // and a quantity that is not whole.
    let export = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, export.path().join(path.file_name().unwrap())).unwrap();
    }
    let append = |table: &str, values: &[(&str, &str)]| {
        let path = export.path().join(format!("{table}.csv"));
        let mut text = std::fs::read_to_string(&path).unwrap();
        let header = text.lines().next().unwrap().to_string();
        text.push_str(&csv_line(&header, values));
        std::fs::write(&path, text).unwrap();
    };
    append(
        "tblClaim",
        &[
            ("ValidityFrom", "2019-01-01 00:00:00+00"),
            ("ClaimID", "9001"),
            ("ClaimUUID", "0f0e0d0c-0000-4000-8000-0000000000c1"),
            ("ClaimCode", "NOHF0001"),
            ("DateFrom", "2019-01-02"),
            ("DateClaimed", "2019-01-02"),
            ("ClaimStatus", "2"),
            ("Claimed", "10.00"),
            ("HFID", "9999"),
            ("ICDID", "4"),
            ("InsureeID", "47"),
        ],
    );
    let line = |id: &'static str, claim: &'static str, item: &'static str, qty: &'static str| {
        [
            ("ValidityFrom", "2019-01-01 00:00:00+00"),
            ("ClaimItemID", id),
            ("ClaimItemStatus", "1"),
            ("QtyProvided", qty),
            ("PriceAsked", "10.00"),
            ("RejectionReason", "0"),
            ("ClaimID", claim),
            ("ItemID", item),
        ]
    };
    append("tblClaimItems", &line("9001", "9999", "182", "1.00"));
    append("tblClaimItems", &line("9002", "1", "99999", "1.00"));
    append("tblClaimItems", &line("9003", "2", "182", "1.50"));
    let dir = export.path();
    let demo = expected(&demo_dir());
    let demo_items = demo.counts["tblClaimItems"].0;
    let demo = &demo;

    each_engine(|app| async move {
        let report = run(&app.db, dir, Progress::Hidden).await.unwrap();
        let reasons = |file: &str| -> Vec<String> {
            report
                .problems
                .iter()
                .filter(|p| p.file == file && !demo.skipped.contains(&(p.file.clone(), p.line)))
                .map(|p| p.reason.clone())
                .collect()
        };
        assert_eq!(
            reasons("tblClaim.csv"),
            ["HFID 9999 is not a health facility of this export"],
            "{}",
            report.table()
        );
        let items = reasons("tblClaimItems.csv");
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0], "ClaimID 9999 is not a claim of this export");
        assert_eq!(
            items[1],
            "ItemID 99999 is not a medical item of this export"
        );
        assert!(items[2].contains("QtyProvided"), "{items:?}");
        // The rest goes on: the demo's claims and lines are there.
        let counts = report.count("tblClaimItems").unwrap();
        assert_eq!(counts.imported, demo_items, "{}", report.table());
        let (_, claim) = app
            .get("/api/v1/claims/96c604a1-4d71-4c37-bd5a-867595863102")
            .await;
        assert_eq!(claim["items"].as_array().unwrap().len(), 1, "{claim}");
        assert_eq!(claim["services"].as_array().unwrap().len(), 2, "{claim}");
        app.finish().await;
    })
    .await;
}
