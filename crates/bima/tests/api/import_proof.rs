//! Proof that the demo export arrives whole and works, checked through the API against the CSV
//! files themselves: every current insuree is found by insurance number, every member of an
//! active policy is covered inside their window and not after it, and the claims left entered
//! are decided line by line, the same on every engine.

use crate::auth::demo_dir;
use crate::support::*;
use openimis_import::{Progress, run};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use time::Date;

type Row = HashMap<String, String>;

/// Every row of a demo CSV, as column → trimmed value.
fn rows(table: &str) -> Vec<Row> {
    csv_rows(&demo_dir().join(format!("{table}.csv")))
}

fn is_current(row: &Row) -> bool {
    row["ValidityTo"].is_empty()
}

fn day(text: &str) -> Date {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap_or_else(|_| panic!("not a date: {text:?}"))
}

/// Import the demo export; nothing of it may be skipped.
async fn import_demo(app: &TestApp) {
    let report = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
    assert_eq!(report.skipped(), 0, "[{:?}] {}", app.engine, report.table());
}

#[tokio::test]
async fn every_current_insuree_is_found_by_its_insurance_number() {
    let insurees = rows("tblInsuree");
    let families: HashMap<String, String> = rows("tblFamilies")
        .into_iter()
        .filter(is_current)
        .map(|f| (f["FamilyID"].clone(), f["FamilyUUID"].clone()))
        .collect();
    let current: Vec<&Row> = insurees.iter().filter(|r| is_current(r)).collect();
    let held: BTreeSet<&str> = current.iter().map(|r| r["CHFID"].as_str()).collect();
    // Numbers only history rows or records deleted in openIMIS carry: the Insuree/Man/Woman
    // family (123456787-9), the arafat family (55555-7) and the "Family" rows (123456,
    // 1234560-1). Bima keeps the deleted ones as deleted records; none is found.
    let gone: BTreeSet<&str> = insurees
        .iter()
        .filter(|r| !is_current(r))
        .map(|r| r["CHFID"].as_str())
        .filter(|chfid| !held.contains(chfid))
        .collect();
    // Read from the file: 60 current insurees, each with its own number.
    assert_eq!((current.len(), held.len()), (60, 60));
    assert_eq!(
        gone,
        BTreeSet::from([
            "123456",
            "1234560",
            "1234561",
            "123456787",
            "123456788",
            "123456789",
            "55555",
            "55556",
            "55557"
        ])
    );
    let (current, gone, families) = (&current, &gone, &families);

    each_engine(|app| async move {
        import_demo(&app).await;
        let (status, all) = app.get("/api/v1/insurees?per_page=100").await;
        assert_eq!(status, 200, "{all}");
        assert_eq!(all["total"], current.len(), "[{:?}] {all}", app.engine);
        for row in current {
            let chfid = &row["CHFID"];
            let (status, page) = app.get(&format!("/api/v1/insurees?chfid={chfid}")).await;
            assert_eq!(status, 200, "{chfid}: {page}");
            assert_eq!(page["total"], 1, "[{:?}] {chfid}: {page}", app.engine);
            let found = &page["items"][0];
            let (status, by_number) = app.get(&format!("/api/v1/insurees/{chfid}")).await;
            assert_eq!(status, 200, "{chfid}: {by_number}");
            for insuree in [found, &by_number] {
                assert_eq!(insuree["id"], row["InsureeUUID"].as_str(), "{insuree}");
                assert_eq!(insuree["chfid"], chfid.as_str(), "{insuree}");
                assert_eq!(insuree["last_name"], row["LastName"].as_str(), "{insuree}");
                assert_eq!(
                    insuree["other_names"],
                    row["OtherNames"].as_str(),
                    "{insuree}"
                );
                assert_eq!(insuree["dob"], row["DOB"].as_str(), "{insuree}");
                assert_eq!(insuree["gender"], row["Gender"].as_str(), "{insuree}");
                assert_eq!(insuree["head"], row["IsHead"] == "t", "{insuree}");
                assert_eq!(
                    insuree["family_id"],
                    families[&row["FamilyID"]].as_str(),
                    "{insuree}"
                );
            }
        }
        for chfid in gone {
            let (status, page) = app.get(&format!("/api/v1/insurees?chfid={chfid}")).await;
            assert_eq!(status, 200, "{chfid}: {page}");
            assert_eq!(page["total"], 0, "[{:?}] {chfid}: {page}", app.engine);
            let (status, body) = app.get(&format!("/api/v1/insurees/{chfid}")).await;
            assert_eq!(status, 404, "[{:?}] {chfid}: {body}", app.engine);
            let (status, body) = app
                .get(&format!("/api/v1/insurees/{chfid}/eligibility"))
                .await;
            assert_eq!(status, 404, "[{:?}] {chfid}: {body}", app.engine);
        }
        app.finish().await;
    })
    .await;
}

/// One eligibility question and the answer the CSV files imply.
struct Enquiry {
    chfid: String,
    policy: String,
    date: Date,
    /// `eligible` in the answer.
    eligible: bool,
    /// The status letter of this policy's product in the answer, when it must be there.
    letter: Option<&'static str>,
    why: &'static str,
}

#[tokio::test]
async fn members_of_active_policies_are_covered_inside_their_window_and_not_after() {
    let insurees = rows("tblInsuree");
    let chfid_of: HashMap<&str, &str> = insurees
        .iter()
        .filter(|r| is_current(r))
        .map(|r| (r["InsureeID"].as_str(), r["CHFID"].as_str()))
        .collect();
    let policies = rows("tblPolicy");
    let current_policies: HashMap<&str, &Row> = policies
        .iter()
        .filter(|r| is_current(r))
        .map(|r| (r["PolicyID"].as_str(), r))
        .collect();
    let members: Vec<Row> = rows("tblInsureePolicy")
        .into_iter()
        .filter(is_current)
        .collect();
    let active: Vec<&Row> = policies
        .iter()
        .filter(|r| is_current(r) && r["PolicyStatus"] == "2")
        .collect();
    // Does another current membership of this insuree, under a current active policy, cover
    // the date? (None does in the demo: each member of an active policy has one membership.)
    let covered_elsewhere = |insuree: &str, policy: &str, date: Date| {
        members.iter().any(|m| {
            m["InsureeID"] == insuree
                && m["PolicyId"] != policy
                && current_policies
                    .get(m["PolicyId"].as_str())
                    .is_some_and(|p| p["PolicyStatus"] == "2")
                && !m["EffectiveDate"].is_empty()
                && day(&m["EffectiveDate"]) <= date
                && date <= day(&m["ExpiryDate"])
        })
    };

    let mut enquiries = Vec::new();
    let mut disjoint = BTreeSet::new();
    for policy in &active {
        let id = policy["PolicyID"].as_str();
        let (from, to) = (day(&policy["EffectiveDate"]), day(&policy["ExpiryDate"]));
        for member in members.iter().filter(|m| m["PolicyId"] == id) {
            let insuree = member["InsureeID"].as_str();
            let chfid = chfid_of[insuree].to_string();
            let (joined, leaves) = (day(&member["EffectiveDate"]), day(&member["ExpiryDate"]));
            let ask = |date: Date, eligible: bool, letter: Option<&'static str>, why| Enquiry {
                chfid: chfid.clone(),
                policy: policy["PolicyUUID"].clone(),
                date,
                eligible,
                letter,
                why,
            };
            let (first, last) = (from.max(joined), to.min(leaves));
            if first <= last {
                enquiries.push(ask(first, true, Some("A"), "first day of cover"));
                enquiries.push(ask(last, true, Some("A"), "last day of cover"));
            } else {
                // The member's own window (tblInsureePolicy) lies outside the policy's. Cover
                // follows the member's window, as in openIMIS: inside the policy's window the
                // member is no longer covered (E), inside their own window they are (A).
                disjoint.insert(id.to_string());
                enquiries.push(ask(from, false, Some("E"), "policy window, member expired"));
                enquiries.push(ask(joined, true, Some("A"), "member's own window"));
            }
            let after = to.max(leaves).next_day().unwrap();
            let elsewhere = covered_elsewhere(insuree, id, after);
            let letter = (!elsewhere).then_some("E");
            enquiries.push(ask(after, elsewhere, letter, "the day after expiry"));
        }
    }
    // Read from the files: 19 current active policies with 54 members. Policies 38 (family 21)
    // and 40 (family 22) run 2018-09-16..2019-09-15 and 2018-09-26..2019-09-25, but their 7
    // members' windows end 2018-04-15 and 2018-04-25, before the policy's start; the other 17
    // (the 2019-08-20 cohort moved forward) and their members all run 2026-08-20..2027-08-19.
    assert_eq!(active.len(), 19);
    assert_eq!(enquiries.len(), 54 * 3);
    assert_eq!(disjoint, BTreeSet::from(["38".into(), "40".into()]));
    assert!(
        enquiries
            .iter()
            .all(|e| e.why != "the day after expiry" || !e.eligible)
    );
    let enquiries = &enquiries;

    each_engine(|app| async move {
        import_demo(&app).await;
        for e in enquiries {
            let path = format!("/api/v1/insurees/{}/eligibility?date={}", e.chfid, e.date);
            let (status, answer) = app.get(&path).await;
            assert_eq!(status, 200, "{path}: {answer}");
            let context = format!(
                "[{:?}] {} ({}): {path}: {answer}",
                app.engine, e.why, e.policy
            );
            assert_eq!(answer["chfid"], e.chfid.as_str(), "{context}");
            assert_eq!(answer["date"], e.date.to_string(), "{context}");
            assert_eq!(answer["eligible"], e.eligible, "{context}");
            let products = answer["products"].as_array().unwrap();
            if let Some(letter) = e.letter {
                let product = products
                    .iter()
                    .find(|p| p["policy_id"] == e.policy.as_str())
                    .unwrap_or_else(|| panic!("policy missing: {context}"));
                assert_eq!(product["status"], letter, "{context}");
                assert_eq!(product["policy_status"], "active", "{context}");
            }
            if !e.eligible {
                assert!(products.iter().all(|p| p["status"] != "A"), "{context}");
            }
        }
        app.finish().await;
    })
    .await;
}

/// A line of a submitted claim: claim code, line code, status, reason code, rule, sentence.
type Outcome = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    &'static str,
);

/// What submitting the demo's entered claims decides, line by line, items then services. The
/// three claims are dated January–February 2019; their patients' only policy (32, family 18:
/// 10500001 and 105000002) is of the cohort the export moved forward to 2026-08-20..2027-08-19,
/// and their older policies are history rows. No window covers the visit, so each claim is
/// rejected at claim level (21, no coverage) and every line with reason 7 (the insuree): the
/// date check before it passes (each claim is dated the day of the visit).
const DECISIONS: &[Outcome] = &[
    ("CID00001", "0182", "rejected", 7, "insuree", NO_COVER_47),
    ("CID00001", "A1", "rejected", 7, "insuree", NO_COVER_47),
    ("CID00001", "I113", "rejected", 7, "insuree", NO_COVER_47),
    (
        "CIB00001",
        "0182",
        "rejected",
        7,
        "insuree",
        NO_COVER_47_JAN,
    ),
    ("CIB00001", "I26", "rejected", 7, "insuree", NO_COVER_47_JAN),
    ("CIG00001", "0022", "rejected", 7, "insuree", NO_COVER_45),
    ("CIG00001", "0011", "rejected", 7, "insuree", NO_COVER_45),
    ("CIG00001", "0250", "rejected", 7, "insuree", NO_COVER_45),
    ("CIG00001", "A1", "rejected", 7, "insuree", NO_COVER_45),
    ("CIG00001", "R1", "rejected", 7, "insuree", NO_COVER_45),
    ("CIG00001", "I1", "rejected", 7, "insuree", NO_COVER_45),
];
const NO_COVER_47: &str = "Insuree 105000002 has no active policy covering them on 2019-02-03.";
const NO_COVER_47_JAN: &str = "Insuree 105000002 has no active policy covering them on 2019-01-22.";
const NO_COVER_45: &str = "Insuree 10500001 has no active policy covering them on 2019-01-24.";

#[tokio::test]
async fn the_entered_claims_are_decided_line_by_line_the_same_on_every_engine() {
    // The entered claims (ClaimStatus 2) and their current lines, from the files.
    let items: HashMap<String, String> = rows("tblItems")
        .into_iter()
        .map(|r| (r["ItemID"].clone(), r["ItemCode"].clone()))
        .collect();
    let services: HashMap<String, String> = rows("tblServices")
        .into_iter()
        .map(|r| (r["ServiceID"].clone(), r["ServCode"].clone()))
        .collect();
    let entered: Vec<Row> = rows("tblClaim")
        .into_iter()
        .filter(|r| is_current(r) && r["ClaimStatus"] == "2")
        .collect();
    let mut lines_in_files: Vec<(String, String)> = Vec::new();
    for claim in &entered {
        for (table, id, register, codes) in [
            ("tblClaimItems", "ClaimItemID", "ItemID", &items),
            ("tblClaimServices", "ClaimServiceID", "ServiceID", &services),
        ] {
            let mut lines: Vec<Row> = rows(table)
                .into_iter()
                .filter(|l| is_current(l) && l["ClaimID"] == claim["ClaimID"])
                .collect();
            lines.sort_by_key(|l| l[id].parse::<i64>().unwrap());
            lines_in_files.extend(
                lines
                    .iter()
                    .map(|l| (claim["ClaimCode"].clone(), codes[&l[register]].clone())),
            );
        }
    }
    // The table above lists exactly these lines, in this order.
    let pinned: Vec<(String, String)> = DECISIONS
        .iter()
        .map(|d| (d.0.to_string(), d.1.to_string()))
        .collect();
    assert_eq!(lines_in_files, pinned);
    let codes: BTreeSet<String> = entered.iter().map(|c| c["ClaimCode"].clone()).collect();
    let codes = &codes;
    // The first engine's full answer, which every other engine must give too.
    let first: Mutex<Option<Value>> = Mutex::new(None);
    let first = &first;

    each_engine(|app| async move {
        import_demo(&app).await;
        let (status, list) = app.get("/api/v1/claims?status=entered&per_page=100").await;
        assert_eq!(status, 200, "{list}");
        let listed: Vec<&Value> = list["items"].as_array().unwrap().iter().collect();
        let listed_codes: BTreeSet<String> = listed
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(&listed_codes, codes, "[{:?}] {list}", app.engine);
        assert!(listed.iter().all(|c| c["status"] == "entered"), "{list}");
        let ids: Vec<&Value> = listed.iter().map(|c| &c["id"]).collect();

        // The submission takes no clock: the rules judge the claim's own dates (DateClaimed,
        // DateFrom, DateTo) against the insuree's windows, so the answer does not depend on the
        // day the test runs.
        let (status, answer) = app
            .post("/api/v1/claims/submit", json!({ "claims": ids }))
            .await;
        assert_eq!(status, 200, "[{:?}] {answer}", app.engine);
        let results = answer["results"].as_array().unwrap();
        assert_eq!(results.len(), ids.len(), "{answer}");
        let mut got: Vec<(String, String, String, i64, String, String)> = Vec::new();
        let mut canonical = Vec::new();
        let mut by_code: Vec<&Value> = results.iter().collect();
        by_code.sort_by_key(|r| r["code"].as_str().unwrap().to_string());
        for result in by_code {
            let claim = &result["claim"];
            let context = format!("[{:?}] {result}", app.engine);
            assert_eq!(result["submitted"], true, "{context}");
            assert_eq!(result["id"], claim["id"], "{context}");
            assert_eq!(result["status"], "rejected", "{context}");
            assert_eq!(claim["status"], "rejected", "{context}");
            assert_eq!(claim["rejection_reason"], 21, "{context}");
            assert_eq!(claim["approved"], 0, "{context}");
            assert_eq!(result["detail"], claim["decision"], "{context}");
            assert!(
                result["detail"]
                    .as_str()
                    .unwrap()
                    .contains("has no active policy covering them"),
                "{context}"
            );
            let mut lines = Vec::new();
            for line in claim["items"]
                .as_array()
                .unwrap()
                .iter()
                .chain(claim["services"].as_array().unwrap())
            {
                // Every line: a reason code, a rule, a sentence and the figures compared.
                let reason = line["rejection_reason"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("no reason code: {context}"));
                let rule = line["rule"].as_str().unwrap_or_default();
                let sentence = line["decision"].as_str().unwrap_or_default();
                assert!(!rule.is_empty() && sentence.ends_with('.'), "{line}");
                assert!(line["compared"].is_object(), "{line}");
                assert_eq!(line["qty_approved"], 0, "{line}");
                got.push((
                    result["code"].as_str().unwrap().to_string(),
                    line["code"].as_str().unwrap().to_string(),
                    line["status"].as_str().unwrap().to_string(),
                    reason,
                    rule.to_string(),
                    sentence.to_string(),
                ));
                lines.push(json!([
                    line["code"],
                    line["status"],
                    line["rejection_reason"],
                    line["rule"],
                    line["decision"],
                    line["compared"],
                    line["qty_approved"],
                    line["price_adjusted"],
                    line["policy_id"],
                ]));
            }
            canonical.push(json!({
                "code": result["code"],
                "status": result["status"],
                "detail": result["detail"],
                "rejection_reason": claim["rejection_reason"],
                "category": claim["category"],
                "claimed": claim["claimed"],
                "approved": claim["approved"],
                "review_status": claim["review_status"],
                "lines": lines,
            }));
        }
        // In the order of the table (claims by code, lines items then services).
        let mut want: Vec<Outcome> = DECISIONS.to_vec();
        want.sort_by_key(|d| d.0);
        let want: Vec<(String, String, String, i64, String, String)> = want
            .iter()
            .map(|d| {
                let text = |s: &str| s.to_string();
                (text(d.0), text(d.1), text(d.2), d.3, text(d.4), text(d.5))
            })
            .collect();
        assert_eq!(got, want, "[{:?}]", app.engine);

        // The same answer, to the letter, on every engine.
        let canonical = Value::Array(canonical);
        let earlier = first.lock().unwrap().clone();
        match earlier {
            None => *first.lock().unwrap() = Some(canonical),
            Some(earlier) => assert_eq!(canonical, earlier, "[{:?}]", app.engine),
        }

        // Submitted once: a second submission leaves each claim as it is and says why.
        let (status, again) = app
            .post("/api/v1/claims/submit", json!({ "claims": ids }))
            .await;
        assert_eq!(status, 200, "{again}");
        for result in again["results"].as_array().unwrap() {
            assert_eq!(result["submitted"], false, "{again}");
            assert_eq!(result["status"], "rejected", "{again}");
            assert_eq!(
                result["detail"],
                format!(
                    "claim {} is rejected; only entered claims can be submitted",
                    result["code"].as_str().unwrap()
                ),
                "{again}"
            );
        }
        app.finish().await;
    })
    .await;
}
