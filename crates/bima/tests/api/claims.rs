//! Claims through the real app: entry, edit, delete, submission with reasons, flags, scope.

use crate::policies::{Scheme, enrol, pay, scheme};
use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A paid scheme (the family covered from 2025-06-10 to 2026-05-31; PARA waits 3 months) and a
/// facility in district 1 whose price lists hold PARA at 300 and CONS at 5,000.
pub(crate) struct Clinic {
    pub s: Scheme,
    pub hf: String,
}

pub(crate) async fn clinic(app: &TestApp) -> Clinic {
    let s = scheme(app).await;
    let policy = enrol(app, &s, "2025-06-01").await;
    let (status, paid) = pay(app, &policy, 1000000, "R-1", "2025-06-10").await;
    assert_eq!(status, 201, "{paid}");
    let (_, items) = app.get("/api/v1/medical-items?code=PARA").await;
    let (_, services) = app.get("/api/v1/medical-services?code=CONS").await;
    let (status, item_list) = app
        .post(
            "/api/v1/item-price-lists",
            json!({"name": "D1 items", "location_id": s.tree.d1,
                   "lines": [{"item_id": items["items"][0]["id"], "price_overrule": 300}]}),
        )
        .await;
    assert_eq!(status, 201, "{item_list}");
    let (status, service_list) = app
        .post(
            "/api/v1/service-price-lists",
            json!({"name": "D1 services", "location_id": s.tree.d1,
                   "lines": [{"service_id": services["items"][0]["id"]}]}),
        )
        .await;
    assert_eq!(status, 201, "{service_list}");
    let (status, hf) = app
        .post(
            "/api/v1/health-facilities",
            json!({"code": "HF1", "name": "Town Clinic", "legal_form": "G", "level": "C", "location_id": s.tree.d1,
                   "care_type": "B", "offline": false, "status": "active", "catchments": [],
                   "items_pricelist_id": item_list["id"], "services_pricelist_id": service_list["id"]}),
        )
        .await;
    assert_eq!(status, 201, "{hf}");
    let (status, icd) = app
        .post(
            "/api/v1/diagnoses",
            json!({"code": "A09", "name": "Diarrhoea"}),
        )
        .await;
    assert_eq!(status, 201, "{icd}");
    Clinic {
        hf: hf["id"].as_str().unwrap().to_string(),
        s,
    }
}

pub(crate) fn claim(c: &Clinic, code: &str, date: &str) -> Value {
    json!({
        "code": code, "health_facility_id": c.hf, "insuree": c.s.head_chfid,
        "date_from": date, "icd": "A09",
        "items": [{"code": "PARA", "qty": 10}],
        "services": [{"code": "CONS", "qty": 1, "price_asked": 6000}]
    })
}

async fn submit(app: &TestApp, ids: &[&Value]) -> (u16, Value) {
    let ids: Vec<&Value> = ids.iter().map(|c| &c["id"]).collect();
    let (status, body) = app
        .post("/api/v1/claims/submit", json!({"claims": ids}))
        .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn a_claim_is_entered_submitted_and_each_line_says_why() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let (status, entered) = app.post("/api/v1/claims", claim(&c, "C-001", "2025-07-01")).await;
        assert_eq!(status, 201, "{entered}");
        assert_eq!(entered["status"], "entered");
        assert_eq!(entered["items"][0]["price_asked"], 300, "the price list's price when none is asked");
        assert_eq!(entered["claimed"], 10 * 300 + 6000);
        assert_eq!(entered["chfid"], "100000001");

        // The facility's code again: 409, nothing changes.
        let again = app.post("/api/v1/claims", claim(&c, "C-001", "2025-07-02")).await;
        assert_problem(app.engine, &again, 409, "duplicate_code");
        assert_eq!(app.count("SELECT COUNT(*) FROM claims").await, 1);

        let (status, body) = submit(&app, &[&entered]).await;
        assert_eq!(status, 200, "{body}");
        let result = &body["results"][0];
        assert_eq!(result["submitted"], true);
        assert_eq!(result["status"], "checked", "{result}");
        let checked = &result["claim"];
        // PARA is still in its waiting period (3 months from 2025-06-10).
        let para = &checked["items"][0];
        assert_eq!(para["status"], "rejected");
        assert_eq!(para["rejection_reason"], 17);
        assert_eq!(para["rule"], "waiting_period");
        assert_eq!(
            para["decision"],
            "Item PARA (Paracetamol 500mg) is covered by product FC1 from 2025-09-10, after a waiting period of 3 months."
        );
        assert_eq!(para["compared"]["covered_from"], "2025-09-10");
        // CONS asked above the price list: approved at the list's price.
        let cons = &checked["services"][0];
        assert_eq!(cons["rejection_reason"], 0);
        assert_eq!(cons["price_adjusted"], 5000);
        assert_eq!(cons["product_id"], c.s.product["id"]);
        assert!(cons["decision"].as_str().unwrap().contains("the price list's price; 60.00 was asked"), "{cons}");
        assert_eq!(checked["claimed"], 9000);
        assert_eq!(checked["approved"], 5000);
        assert_eq!(checked["category"], "C");
        assert_eq!(checked["rejection_reason"], 0);
        assert_eq!(checked["review_status"], "not_selected");
        assert_eq!(result["detail"], "1 of 2 lines accepted; 50.00 approved of 90.00 claimed.");

        // What was decided is what is stored.
        let (_, stored) = app.get(&format!("/api/v1/claims/{}", entered["id"].as_str().unwrap())).await;
        assert_eq!(stored["items"][0]["decision"], para["decision"]);
        assert_eq!(stored["status"], "checked");

        // Submitting again leaves it as it is.
        let (status, body) = submit(&app, &[&entered]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][0]["submitted"], false);

        // After the waiting period both lines pass, and the PARA quantity counts towards the limit
        // of 10 per period: a third claim gets what is left.
        let (_, later) = app.post("/api/v1/claims", claim(&c, "C-002", "2025-10-01")).await;
        let (_, body) = submit(&app, &[&later]).await;
        assert_eq!(body["results"][0]["claim"]["items"][0]["rejection_reason"], 0, "{body}");
        assert_eq!(body["results"][0]["claim"]["approved"], 3000 + 5000);
        let mut third = claim(&c, "C-003", "2025-10-20");
        third["items"][0]["qty"] = json!(4);
        let (_, third) = app.post("/api/v1/claims", third).await;
        let (_, body) = submit(&app, &[&third]).await;
        assert_eq!(body["results"][0]["claim"]["items"][0]["rejection_reason"], 16, "{body}");

        let (status, list) = app.get("/api/v1/claims?status=checked").await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["total"], 3, "the third is checked for its CONS line");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn submitting_unknown_ids_submits_nothing_and_names_them() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let (_, entered) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-07-01"))
            .await;
        let unknown = json!({"id": uuid::Uuid::now_v7().to_string()});
        let (status, body) = submit(&app, &[&entered, &unknown]).await;
        assert_eq!(status, 404, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains(unknown["id"].as_str().unwrap()),
            "{body}"
        );
        let (_, stored) = app
            .get(&format!(
                "/api/v1/claims/{}",
                entered["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(stored["status"], "entered");
        let (status, body) = app
            .post("/api/v1/claims/submit", json!({"claims": []}))
            .await;
        assert_eq!(status, 422, "{body}");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn bad_claims_are_refused_with_the_field_and_change_nothing() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let with = |f: &dyn Fn(&mut Value)| {
            let mut body = claim(&c, "C-001", "2025-07-01");
            f(&mut body);
            body
        };
        let cases: Vec<(Value, &str)> = vec![
            (
                with(&|b| b["items"][0]["code"] = json!("NOPE")),
                "items[0].code",
            ),
            (with(&|b| b["items"][0]["qty"] = json!(0)), "items[0].qty"),
            (
                with(&|b| b["services"][0]["qty"] = json!(2)),
                "services[0].explanation",
            ),
            (with(&|b| b["date_to"] = json!("2025-06-30")), "date_to"),
            (with(&|b| b["date_from"] = json!("2999-01-01")), "date_from"),
            (with(&|b| b["insuree"] = json!("999999999")), "insuree"),
            (
                with(&|b| b["health_facility_id"] = json!(uuid::Uuid::now_v7())),
                "health_facility_id",
            ),
            (with(&|b| b["code"] = json!("")), "code"),
            (with(&|b| b["code"] = json!("X".repeat(21))), "code"),
            (
                with(&|b| b["secondary_icd"] = json!(["A", "B", "C", "D", "E"])),
                "secondary_icd",
            ),
            (
                with(&|b| {
                    b["items"] = json!([]);
                    b["services"] = json!([]);
                }),
                "items",
            ),
        ];
        for (body, field) in cases {
            let answer = app.post("/api/v1/claims", body.clone()).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{body}: {}", answer.1);
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM claims").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM claim_lines").await, 0);

        // Edit while entered; not after submission; delete while entered.
        let (_, entered) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-07-01"))
            .await;
        let id = entered["id"].as_str().unwrap();
        let mut change = claim(&c, "C-001", "2025-07-02");
        change["version"] = json!(1);
        change["items"][0]["qty"] = json!(3);
        let (status, changed) = app
            .put(&format!("/api/v1/claims/{id}"), change.clone())
            .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["version"], 2);
        assert_eq!(changed["date_from"], "2025-07-02");
        assert_eq!(changed["claimed"], 3 * 300 + 6000);
        let stale = app
            .put(&format!("/api/v1/claims/{id}"), change.clone())
            .await;
        assert_problem(app.engine, &stale, 409, "stale_version");
        let (_, other) = app
            .post("/api/v1/claims", claim(&c, "C-002", "2025-07-01"))
            .await;
        let (status, _) = app
            .delete(&format!(
                "/api/v1/claims/{}?version=1",
                other["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 204);
        submit(&app, &[&entered]).await;
        change["version"] = json!(3);
        let late = app.put(&format!("/api/v1/claims/{id}"), change).await;
        assert_problem(app.engine, &late, 409, "not_entered");
        let delete = app.delete(&format!("/api/v1/claims/{id}?version=3")).await;
        assert_problem(app.engine, &delete, 409, "submitted");
        let (_, list) = app.get("/api/v1/claims").await;
        assert_eq!(list["total"], 1, "the deleted claim is not listed");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn duplicates_and_unknown_diagnoses_go_to_review_and_are_not_rejected() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let (_, first) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-10-01"))
            .await;
        submit(&app, &[&first]).await;
        let mut repeat = claim(&c, "C-002", "2025-10-01");
        repeat["secondary_icd"] = json!(["Z99.9"]);
        let (_, repeat) = app.post("/api/v1/claims", repeat).await;
        let (_, body) = submit(&app, &[&repeat]).await;
        let claim = &body["results"][0]["claim"];
        assert_eq!(claim["status"], "checked", "{claim}");
        assert_eq!(claim["review_status"], "selected");
        let codes: Vec<&str> = claim["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["suspected_duplicate", "unknown_diagnosis"]);
        assert!(
            claim["decision"]
                .as_str()
                .unwrap()
                .contains("claim C-001 has the same insuree"),
            "{claim}"
        );
        let (_, queue) = app.get("/api/v1/claims?review_status=selected").await;
        assert_eq!(queue["total"], 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn an_insuree_without_cover_is_rejected_with_21_and_lines_7() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        // Before the policy took effect.
        let (_, early) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-06-05"))
            .await;
        let (_, body) = submit(&app, &[&early]).await;
        let claim = &body["results"][0]["claim"];
        assert_eq!(claim["status"], "rejected");
        assert_eq!(claim["rejection_reason"], 21);
        assert_eq!(claim["items"][0]["rejection_reason"], 7);
        assert_eq!(claim["services"][0]["rejection_reason"], 7);
        assert_eq!(
            claim["decision"],
            "Insuree 100000001 has no active policy covering them on 2025-06-05."
        );
        assert_eq!(claim["approved"], 0);
        // A rejected claim can be deleted.
        let (status, _) = app
            .delete(&format!(
                "/api/v1/claims/{}?version=2",
                early["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 204);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn claims_stay_within_the_users_districts_and_facility() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let (_, entered) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-07-01"))
            .await;
        let id = entered["id"].as_str().unwrap();
        let rights = [111001, 111002, 111004, 111007];
        let elsewhere = app.user_with("d2clerk", &rights, &[&c.s.tree.d2]).await;
        let call = |method: Method, path: String, token: String, body: Option<Value>| {
            let app = &app;
            async move { app.call(method, &path, Some(&token), body).await }
        };
        let (status, _) = call(
            Method::GET,
            format!("/api/v1/claims/{id}"),
            elsewhere.clone(),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (_, list) = call(
            Method::GET,
            "/api/v1/claims".into(),
            elsewhere.clone(),
            None,
        )
        .await;
        assert_eq!(list["total"], 0);
        let (status, body) = call(
            Method::POST,
            "/api/v1/claims".into(),
            elsewhere.clone(),
            Some(claim(&c, "C-009", "2025-07-01")),
        )
        .await;
        assert_eq!(
            (status.as_u16(), first_field(&body)),
            (422, "health_facility_id"),
            "{body}"
        );
        let (status, _) = call(
            Method::POST,
            "/api/v1/claims/submit".into(),
            elsewhere.clone(),
            Some(json!({"claims": [id]})),
        )
        .await;
        assert_eq!(status, 404);
        // Without the right to search claims: 403.
        let reader = app.user_with("reader", &[101001], &[&c.s.tree.d1]).await;
        let (status, _) = call(Method::GET, "/api/v1/claims".into(), reader, None).await;
        assert_eq!(status, 403);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn processing_takes_the_deductible_then_pays_and_keeps_the_ledger() {
    each_engine(|app| async move {
        // FC1: a policy deductible of 200.00, ceilings far above.
        let c = clinic(&app).await;
        let (_, first) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-10-01"))
            .await;
        let mut second = claim(&c, "C-002", "2025-10-02");
        second["items"] = json!([]);
        second["services"] = json!([{"code": "CONS", "qty": 3, "explanation": "three sessions"}]);
        let (_, second) = app.post("/api/v1/claims", second).await;
        submit(&app, &[&first, &second]).await;

        // Entered claims are not processed; checked ones are.
        let (_, third) = app
            .post("/api/v1/claims", claim(&c, "C-003", "2025-10-03"))
            .await;
        let (status, body) = app
            .post(
                "/api/v1/claims/process",
                json!({"claims": [first["id"], third["id"]]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][1]["submitted"], false);
        assert_eq!(
            body["results"][1]["detail"],
            "claim C-003 is entered; only checked claims can be processed"
        );
        let valued = &body["results"][0]["claim"];
        assert_eq!(valued["status"], "valuated", "{valued}");
        // 10 × 3.00 + 50.00 = 80.00, all taken by the deductible.
        assert_eq!(valued["items"][0]["deductible"], 3000);
        assert_eq!(valued["services"][0]["deductible"], 5000);
        assert_eq!(valued["valuated"], 0);
        assert_eq!(valued["remunerated"], 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM claim_ded_rem").await, 1);

        // The next claim finds 120.00 of the deductible left: 150.00 − 120.00 = 30.00 paid.
        let (_, body) = app
            .post("/api/v1/claims/process", json!({"claims": [second["id"]]}))
            .await;
        let valued = &body["results"][0]["claim"];
        assert_eq!(valued["services"][0]["deductible"], 12000, "{valued}");
        assert_eq!(valued["services"][0]["valuated"], 3000);
        assert_eq!(valued["remunerated"], 3000);
        assert_eq!(
            valued["decision"],
            "Valuated: the scheme pays 30.00 of 150.00 approved."
        );
        let (status, body) = app
            .post("/api/v1/claims/process", json!({"claims": [second["id"]]}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["results"][0]["submitted"], false, "processed once");
        assert_eq!(app.count("SELECT COUNT(*) FROM claim_ded_rem").await, 2);

        // Eligibility now counts what the claims used: two consultations of 12, the whole
        // deductible, 30.00 of the insuree's ceiling, and the 10 PARA of the period.
        let (status, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2025-10-05&item=PARA",
                c.s.head_chfid
            ))
            .await;
        assert_eq!(status, 200, "{e}");
        let remaining = &e["products"][0]["remaining"];
        assert_eq!(remaining["consultations"], 10, "{e}");
        assert_eq!(remaining["deductible_policy"], 0);
        assert_eq!(remaining["ceiling_insuree"], 5000000 - 3000);
        assert_eq!(e["products"][0]["item"]["left"], 0, "{e}");
        assert_eq!(e["products"][0]["item"]["covered_now"], false);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_medical_officer_reviews_a_selected_claim_and_feedback_is_asked_and_given() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let (_, a) = app.post("/api/v1/claims", claim(&c, "C-001", "2025-10-01")).await;
        let (_, b) = app.post("/api/v1/claims", claim(&c, "C-002", "2025-10-02")).await;
        let (_, d) = app.post("/api/v1/claims", claim(&c, "C-003", "2025-10-03")).await;
        submit(&app, &[&a, &b, &d]).await;
        // A (PARA and CONS, 80.00 approved of 90.00) scores nothing; B and C get no more PARA
        // (16: the 10 of the period went to A) and score 10 + 15 (50.00 approved of 90.00) = 25:
        // none is selected at submission.
        let (_, queue) = app.get("/api/v1/claims/review/queue").await;
        assert_eq!(queue["open"], 0, "{queue}");

        // By hand; a draw by amount takes the others.
        let (status, selected) = app
            .post("/api/v1/claims/review/select", json!({"claims": [a["id"]]}))
            .await;
        assert_eq!(status, 200, "{selected}");
        assert_eq!(selected[0]["review_status"], "selected");
        let (status, drawn) = app
            .post("/api/v1/claims/review/draw", json!({"amount_at_least": 5000}))
            .await;
        assert_eq!(status, 200, "{drawn}");
        assert_eq!(drawn["considered"], 2);
        assert_eq!(drawn["selected"].as_array().unwrap().len(), 2);
        let bad = app.post("/api/v1/claims/review/draw", json!({})).await;
        assert_problem(app.engine, &bad, 422, "validation_failed");
        let bad = app.post("/api/v1/claims/review/draw", json!({"random_percent": 101})).await;
        assert_problem(app.engine, &bad, 422, "validation_failed");
        let (_, queue) = app.get("/api/v1/claims/review/queue").await;
        assert_eq!(queue["open"], 3, "{queue}");
        assert_eq!(queue["oldest_days"], 0);
        assert_eq!(queue["claims"][0]["code"], "C-001", "oldest selection first");

        // The review: 4 of the 10 PARA, with a justification; a change without one is refused.
        let (_, full) = app.get(&format!("/api/v1/claims/{}", a["id"].as_str().unwrap())).await;
        let line = full["items"][0]["id"].clone();
        let path = format!("/api/v1/claims/{}/review", a["id"].as_str().unwrap());
        let no_reason = app
            .post(&path, json!({"items": [{"id": line, "qty_approved": 4}], "version": full["version"]}))
            .await;
        assert_problem(app.engine, &no_reason, 422, "validation_failed");
        assert_eq!(first_field(&no_reason.1), "items[0].justification");
        let too_many = app
            .post(&path, json!({"items": [{"id": line, "qty_approved": 11, "justification": "x"}], "version": full["version"]}))
            .await;
        assert_eq!(first_field(&too_many.1), "items[0].qty_approved");
        let (status, reviewed) = app
            .post(
                &path,
                json!({"items": [{"id": line, "qty_approved": 4, "justification": "4 tablets dispensed"}],
                       "adjustment": "checked against the register", "version": full["version"]}),
            )
            .await;
        assert_eq!(status, 200, "{reviewed}");
        assert_eq!(reviewed["review_status"], "delivered");
        assert_eq!(reviewed["approved"], 4 * 300 + 5000);
        assert_eq!(reviewed["items"][0]["justification"], "4 tablets dispensed");
        let again = app.post(&path, json!({"version": full["version"]})).await;
        assert_problem(app.engine, &again, 409, "stale_version");

        // Rejecting every line rejects the claim with the officer's reason.
        let (_, full) = app.get(&format!("/api/v1/claims/{}", b["id"].as_str().unwrap())).await;
        let (status, rejected) = app
            .post(
                &format!("/api/v1/claims/{}/review", b["id"].as_str().unwrap()),
                json!({"items": [{"id": full["items"][0]["id"], "reject": true, "justification": "not given"}],
                       "services": [{"id": full["services"][0]["id"], "reject": true, "justification": "no visit"}],
                       "version": full["version"]}),
            )
            .await;
        assert_eq!(status, 200, "{rejected}");
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(rejected["services"][0]["rejection_reason"], -1);
        let (_, queue) = app.get("/api/v1/claims/review/queue").await;
        assert_eq!(queue["open"], 1);
        assert_eq!(queue["delivered_30_days"], 2, "[{:?}] {queue}", app.engine);

        // Feedback: asked, then given; not given twice.
        let fpath = format!("/api/v1/claims/{}/feedback", a["id"].as_str().unwrap());
        let early = app
            .post(&fpath, json!({"care_rendered": true, "payment_asked": false, "drug_prescribed": true, "drug_received": true, "assessment": 4}))
            .await;
        assert_problem(app.engine, &early, 409, "feedback_not_asked");
        let (status, asked) = app.post(&format!("{fpath}/request"), json!({})).await;
        assert_eq!(status, 200, "{asked}");
        assert_eq!(asked["feedback_status"], "selected");
        let bad = app
            .post(&fpath, json!({"care_rendered": true, "payment_asked": false, "drug_prescribed": true, "drug_received": true, "assessment": 6}))
            .await;
        assert_problem(app.engine, &bad, 422, "validation_failed");
        let (status, given) = app
            .post(&fpath, json!({"care_rendered": true, "payment_asked": true, "drug_prescribed": true, "drug_received": false, "assessment": 2, "feedback_date": "2025-10-05"}))
            .await;
        assert_eq!(status, 200, "{given}");
        assert_eq!(given["feedback_status"], "delivered");
        assert_eq!(given["feedback"]["payment_asked"], true);
        assert_eq!(given["feedback"]["assessment"], 2);
        let (_, stored) = app.get(&format!("/api/v1/claims/{}", a["id"].as_str().unwrap())).await;
        assert_eq!(stored["feedback"]["feedback_date"], "2025-10-05");
        let twice = app.post(&format!("{fpath}/request"), json!({})).await;
        assert_problem(app.engine, &twice, 409, "feedback_delivered");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_risky_claim_is_selected_at_submission() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        // Asked far above the price list (200.00 for a 50.00 consultation), an emergency, one
        // line rejected (PARA still waiting): 15 + 5 + 10 = 30 — under 40.
        let mut body = claim(&c, "C-001", "2025-07-01");
        body["services"][0]["price_asked"] = json!(20000);
        body["visit_type"] = json!("E");
        let (_, first) = app.post("/api/v1/claims", body.clone()).await;
        let (_, result) = submit(&app, &[&first]).await;
        let checked = &result["results"][0]["claim"];
        assert_eq!(checked["risk"], 30, "{checked}");
        assert_eq!(checked["review_status"], "not_selected");
        // An unknown diagnosis adds 20: 50, selected.
        body["code"] = json!("C-002");
        body["date_from"] = json!("2025-07-02");
        body["secondary_icd"] = json!(["Q99"]);
        let (_, second) = app.post("/api/v1/claims", body).await;
        let (_, result) = submit(&app, &[&second]).await;
        let checked = &result["results"][0]["claim"];
        assert_eq!(checked["risk"], 50, "{checked}");
        assert_eq!(checked["review_status"], "selected");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_batch_run_values_relative_price_claims_once_and_states_what_each_facility_is_paid() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        // CONS at relative prices, 5 % of October's contributions; no deductible.
        let (_, items) = app.get("/api/v1/medical-items?code=PARA").await;
        let (_, services) = app.get("/api/v1/medical-services?code=CONS").await;
        let mut change = crate::policies::product("FC1", &items["items"][0], &services["items"][0]);
        change["services"][0]["price_origin"] = json!("R");
        change["deductibles"] = json!({});
        // 20 % of the contributions to capitation, half by population, half by visits.
        change["capitation"] = json!({"weight_population": 50, "weight_nb_visits": 50, "share_contribution": 20});
        change["relative_distribution"] =
            json!([{"care_type": "B", "periods": [10, 10, 10, 10, 10, 10, 5, 5, 5, 5, 10, 10]}]);
        change["version"] = c.s.product["version"].clone();
        let (status, product) = app.put("/api/v1/products/FC1", change).await;
        assert_eq!(status, 200, "{product}");
        assert_eq!(product["period_rel_prices"], "M");

        let (_, entered) = app.post("/api/v1/claims", claim(&c, "C-001", "2025-10-01")).await;
        submit(&app, &[&entered]).await;
        let (_, body) = app.post("/api/v1/claims/process", json!({"claims": [entered["id"]]})).await;
        let processed = &body["results"][0]["claim"];
        assert_eq!(processed["status"], "processed", "{processed}");
        assert_eq!(processed["items"][0]["remunerated"], 3000);
        assert_eq!(processed["services"][0]["valuated"], 5000);
        assert_eq!(processed["services"][0]["remunerated"], Value::Null, "waits for the batch");
        // Processed in October 2025.
        let at = time::macros::datetime!(2025-10-15 10:00 UTC);
        store::on_db!(&app.db, pool => {
            sqlx::query("UPDATE claims SET processed_at = $1").bind(at).execute(pool).await.unwrap();
        });

        let early = app.post("/api/v1/batch-runs", json!({"year": 2099, "month": 1})).await;
        assert_problem(app.engine, &early, 422, "validation_failed");
        let (status, run) = app.post("/api/v1/batch-runs", json!({"year": 2025, "month": 10})).await;
        assert_eq!(status, 202, "{run}");
        assert_eq!(run["status"], "running");
        let twice = app.post("/api/v1/batch-runs", json!({"year": 2025, "month": 10})).await;
        assert_problem(app.engine, &twice, 409, "already_run");
        let path = format!("/api/v1/batch-runs/{}", run["id"].as_str().unwrap());
        let mut run = run;
        for _ in 0..100 {
            let (_, now) = app.get(&path).await;
            run = now;
            if run["status"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(run["status"], "done", "{run}");
        assert_eq!(run["progress"], 100);
        assert_eq!(run["claims_valuated"], 1);
        // 1,000,000 paid for 2025-06-10 – 2026-05-31 (356 days): 31 days of October = 87,078,
        // 5 % of it over the 5,000 claimed: index 0.87078.
        let index = &run["indexes"][0];
        assert_eq!(index["allocated"], 87078, "{run}");
        assert_eq!(index["percent"], 5);
        assert_eq!(index["claimed_points"], 5000);
        let (_, valued) = app.get(&format!("/api/v1/claims/{}", entered["id"].as_str().unwrap())).await;
        assert_eq!(valued["status"], "valuated");
        assert_eq!(valued["services"][0]["remunerated"], 4354);
        assert_eq!(valued["remunerated"], 3000 + 4354);
        assert_eq!(valued["batch_run_id"], run["id"]);
        let (status, statement) = app.get(&format!("{path}/statement")).await;
        assert_eq!(status, 200, "{statement}");
        assert_eq!(statement[0]["code"], "HF1");
        assert_eq!(statement[0]["claims"], 1);
        assert_eq!(statement[0]["remunerated"], 7354);
        // Capitation: October's 87,078 × 20 % × 50 % by visits, all to HF1's one claim; the
        // villages have no population recorded, so that pool pays nobody.
        let (status, capitation) = app.get(&format!("{path}/capitation")).await;
        assert_eq!(status, 200, "{capitation}");
        assert_eq!(capitation.as_array().unwrap().len(), 1, "{capitation}");
        assert_eq!(capitation[0]["health_facility_id"], c.hf.as_str());
        assert_eq!(capitation[0]["visits"], 1);
        assert_eq!(capitation[0]["amount_visits"], 8708);
        assert_eq!(capitation[0]["amount_population"], 0);
        assert_eq!(capitation[0]["payment"], 8708);
        let (_, runs) = app.get("/api/v1/batch-runs").await;
        assert_eq!(runs.as_array().unwrap().len(), 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn documents_are_attached_within_the_size_limit_and_kept_as_sent() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        let (_, entered) = app
            .post("/api/v1/claims", claim(&c, "C-001", "2025-10-01"))
            .await;
        let base = format!(
            "/api/v1/claims/{}/attachments",
            entered["id"].as_str().unwrap()
        );
        let send = |body: Vec<u8>, content_type: &'static str, query: &'static str| {
            let url = format!("{}{base}?{query}", app.base);
            let request = app
                .client
                .post(url)
                .bearer_auth(&app.token)
                .header("content-type", content_type)
                .body(body);
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
        let pdf = b"%PDF-1.4\n% referral letter\n".to_vec();
        let (status, attached) = send(
            pdf.clone(),
            "application/pdf",
            "title=Referral%20letter&filename=ref.pdf",
        )
        .await;
        assert_eq!(status, 201, "{attached}");
        assert_eq!(attached["size"], pdf.len());
        let png = [
            &[0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
            b"rest",
        ]
        .concat();
        let (status, body) = send(png, "application/pdf", "title=Scan").await;
        assert_eq!(
            (status, first_field(&body)),
            (422, "content_type"),
            "{body}"
        );
        let (status, body) = send(b"plain text".to_vec(), "text/plain", "title=Note").await;
        assert_eq!(
            (status, body["errors"][0]["code"].as_str()),
            (422, Some("unsupported_type")),
            "{body}"
        );
        let mut big = b"%PDF-".to_vec();
        big.resize(1024 * 1024 + 1, b'x');
        let (status, body) = send(big, "application/pdf", "title=Big").await;
        assert_eq!(status, 413, "{body}");
        let (status, body) = send(b"%PDF-1.4".to_vec(), "application/pdf", "title=").await;
        assert_eq!((status, first_field(&body)), (422, "title"), "{body}");

        let (_, list) = app.get(&base).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        let response = app
            .client
            .get(format!(
                "{}{base}/{}",
                app.base,
                attached["id"].as_str().unwrap()
            ))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(response.bytes().await.unwrap().to_vec(), pdf);

        // Removed while entered; after submission, documents can be added but not removed.
        let (status, _) = app
            .delete(&format!("{base}/{}", attached["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 204);
        submit(&app, &[&entered]).await;
        let (status, again) = send(pdf.clone(), "application/pdf", "title=Discharge").await;
        assert_eq!(status, 201, "{again}");
        let late = app
            .delete(&format!("{base}/{}", again["id"].as_str().unwrap()))
            .await;
        assert_problem(app.engine, &late, 409, "not_entered");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_batch_run_cut_short_resumes_where_it_stopped_and_values_each_claim_once() {
    each_engine(|app| async move {
        let c = clinic(&app).await;
        // Two claims processed in October 2025 at the scheme's price (no relative prices).
        let mut processed = Vec::new();
        for (code, date) in [("C-001", "2025-10-01"), ("C-002", "2025-10-02")] {
            let mut body = claim(&c, code, date);
            body["items"] = json!([]);
            let (_, entered) = app.post("/api/v1/claims", body).await;
            submit(&app, &[&entered]).await;
            processed.push(entered);
        }
        let ids: Vec<&Value> = processed.iter().map(|c| &c["id"]).collect();
        let (_, body) = app.post("/api/v1/claims/process", json!({"claims": ids})).await;
        assert_eq!(body["results"][0]["claim"]["status"], "valuated", "{body}");
        // Put them back to "processed, waiting for the batch" in October.
        let at = time::macros::datetime!(2025-10-15 10:00 UTC);
        store::on_db!(&app.db, pool => {
            sqlx::query("UPDATE claims SET status = 'processed', remunerated = NULL, processed_at = $1")
                .bind(at)
                .execute(pool)
                .await
                .unwrap();
        });
        let (status, run) = app.post("/api/v1/batch-runs", json!({"year": 2025, "month": 10})).await;
        assert_eq!(status, 202, "{run}");
        let path = format!("/api/v1/batch-runs/{}", run["id"].as_str().unwrap());
        for _ in 0..100 {
            let (_, now) = app.get(&path).await;
            if now["status"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;

        // A crash after the first claim's chunk: the run is still running, one claim is done,
        // the other is as it was.
        let first = processed[0]["id"].as_str().unwrap().to_string();
        let second = uuid::Uuid::parse_str(processed[1]["id"].as_str().unwrap()).unwrap();
        store::on_db!(&app.db, pool => {
            sqlx::query("UPDATE batch_runs SET status = 'running', progress = 50, claims_valuated = 1, finished_at = NULL")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("UPDATE claims SET status = 'processed', remunerated = NULL, batch_run_id = NULL WHERE id = $1")
                .bind(second)
                .execute(pool)
                .await
                .unwrap();
        });
        let (_, halfway) = app.get(&path).await;
        assert_eq!(halfway["status"], "running");

        // What the server does when it starts again.
        claim::service::spawn_unfinished_batch_runs(app.db.clone()).await.unwrap();
        let (_, resumed) = app.get(&path).await;
        assert_eq!(resumed["status"], "done", "{resumed}");
        assert_eq!(resumed["progress"], 100);
        assert_eq!(resumed["claims_valuated"], 2);
        let (_, one) = app.get(&format!("/api/v1/claims/{first}")).await;
        let (_, two) = app.get(&format!("/api/v1/claims/{second}")).await;
        assert_eq!(one["status"], "valuated");
        assert_eq!(two["status"], "valuated");
        assert_eq!(two["batch_run_id"], run["id"]);
        // At the scheme's price the batch pays what processing valued (FC1's deductible of
        // 200.00 took both consultations).
        assert_eq!(two["remunerated"], two["valuated"]);
        assert_eq!(two["services"][0]["remunerated"], 0);
        // Only the claim left over was valued again: one more audit record, not two.
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_before + 1);
        // A run already done is left alone.
        claim::service::spawn_unfinished_batch_runs(app.db.clone()).await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_before + 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_regions_batch_run_is_seen_by_its_districts_as_the_list_shows_it() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let other_region = app.location("R2", "R", None).await;
        let other_district = app.location("D3", "D", Some(&other_region)).await;
        let (status, run) = app
            .post(
                "/api/v1/batch-runs",
                json!({"year": 2025, "month": 10, "location_id": tree.region}),
            )
            .await;
        assert_eq!(status, 202, "{run}");
        let id = run["id"].as_str().unwrap().to_string();
        let inside = app
            .user_with("district-accountant", &[111102], &[&tree.d1])
            .await;
        let outside = app
            .user_with("far-accountant", &[111102], &[&other_district])
            .await;
        let (status, list) = app
            .call(Method::GET, "/api/v1/batch-runs", Some(&inside), None)
            .await;
        assert_eq!(status, 200);
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == id.as_str()),
            "{list}"
        );
        let one = format!("/api/v1/batch-runs/{id}");
        let (status, body) = app.call(Method::GET, &one, Some(&inside), None).await;
        assert_eq!(
            status, 200,
            "[{:?}] the run the list shows: {body}",
            app.engine
        );
        let (status, _) = app.call(Method::GET, &one, Some(&outside), None).await;
        assert_eq!(status, 404);
        // Its history, as any record's.
        let history = format!("/api/v1/audit?entity=batch_run&id={id}");
        let (status, body) = app.call(Method::GET, &history, Some(&inside), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["total"].as_i64().unwrap() >= 1, "{body}");
        let (status, _) = app.call(Method::GET, &history, Some(&outside), None).await;
        assert_eq!(status, 404);
        app.finish().await;
    })
    .await;
}
