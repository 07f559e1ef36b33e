//! Policies, contributions, payers and eligibility through the real app.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

fn person(chfid: &str, last: &str, dob: &str) -> Value {
    json!({"chfid": chfid, "last_name": last, "other_names": "Amina", "gender": "F", "dob": dob})
}

/// A free-cycle product (starts on the enrolment date) for 12 months, a lump sum of 10,000.00
/// for up to 4 members, 3 months to pay; it covers `item` after a 3-month waiting period and
/// `service` at once.
pub(crate) fn product(code: &str, item: &Value, service: &Value) -> Value {
    json!({
        "code": code, "name": "Family Cover", "location_id": null,
        "date_from": "2025-01-01", "date_to": "2030-12-31",
        "periods": {"insurance_period": 12, "grace_period_payment": 3},
        "premium": {"lump_sum": 1000000, "max_members": 6, "threshold": 4, "adult": 300000, "child": 100000},
        "ceilings": {"policy": 30000000, "insuree": 5000000},
        "deductibles": {"policy": 20000},
        "limits": {"max_no_consultation": 12}, "ceiling_interpretation": "I",
        "items": [{"item_id": item["id"], "waiting_period_adult": 3, "waiting_period_child": 3, "limit_no_adult": 10}],
        "services": [{"service_id": service["id"]}]
    })
}

pub(crate) struct Scheme {
    pub tree: Tree,
    pub product: Value,
    pub family: Value,
    pub head_chfid: String,
}

pub(crate) async fn scheme(app: &TestApp) -> Scheme {
    let tree = app.small_tree().await;
    let (status, item) = app
        .post(
            "/api/v1/medical-items",
            json!({"code": "PARA", "name": "Paracetamol 500mg", "type": "D", "package": "tablet", "price": 250,
                   "care_type": "B", "patient_category": 15}),
        )
        .await;
    assert_eq!(status, 201, "{item}");
    let (status, service) = app
        .post(
            "/api/v1/medical-services",
            json!({"code": "CONS", "name": "Consultation", "category": "C", "type": "C", "level": "S",
                   "price": 5000, "care_type": "O", "patient_category": 15}),
        )
        .await;
    assert_eq!(status, 201, "{service}");
    let (status, product) = app
        .post("/api/v1/products", product("FC1", &item, &service))
        .await;
    assert_eq!(status, 201, "{product}");
    let (status, family) = app
        .post(
            "/api/v1/families",
            json!({"location_id": tree.v1, "head": person("100000001", "Mrisho", "1980-02-02")}),
        )
        .await;
    assert_eq!(status, 201, "{family}");
    for (chfid, dob) in [("100000002", "1985-05-05"), ("100000003", "2015-01-01")] {
        let mut member = person(chfid, "Mrisho", dob);
        member["family_id"] = family["id"].clone();
        let (status, body) = app.post("/api/v1/insurees", member).await;
        assert_eq!(status, 201, "{body}");
    }
    Scheme {
        tree,
        product,
        family,
        head_chfid: "100000001".into(),
    }
}

pub(crate) async fn enrol(app: &TestApp, s: &Scheme, date: &str) -> Value {
    let (status, policy) = app
        .post(
            "/api/v1/policies",
            json!({"family_id": s.family["id"], "product_id": s.product["id"], "enroll_date": date}),
        )
        .await;
    assert_eq!(status, 201, "[{:?}] {policy}", app.engine);
    policy
}

pub(crate) async fn pay(
    app: &TestApp,
    policy: &Value,
    amount: i64,
    receipt: &str,
    date: &str,
) -> (u16, Value) {
    let (status, body) = app
        .post(
            "/api/v1/contributions",
            json!({"policy_id": policy["id"], "amount": amount, "receipt": receipt, "pay_date": date, "pay_type": "C"}),
        )
        .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn a_family_is_enrolled_pays_and_is_covered_from_the_payment() {
    each_engine(|app| async move {
        let s = scheme(&app).await;
        let path = format!(
            "/api/v1/policies/quote?family_id={}&product_id={}&enroll_date=2025-06-01",
            s.family["id"].as_str().unwrap(),
            s.product["id"].as_str().unwrap()
        );
        let (status, quote) = app.get(&path).await;
        assert_eq!(status, 200, "{quote}");
        assert_eq!(quote["start_date"], "2025-06-01");
        assert_eq!(quote["expiry_date"], "2026-05-31");
        assert_eq!(quote["last_payment_date"], "2025-08-31");
        assert_eq!(quote["value"], 1000000);

        let policy = enrol(&app, &s, "2025-06-01").await;
        assert_eq!(policy["status"], "idle");
        // An idle policy cannot be renewed; its enrolment date can change (dates follow).
        let pid = policy["id"].as_str().unwrap();
        let (status, body) = app
            .post(
                &format!("/api/v1/policies/{pid}/renew"),
                json!({"enroll_date": "2025-06-02"}),
            )
            .await;
        assert_problem(app.engine, &(status, body.clone()), 409, "not_renewable");
        let (status, moved) = app
            .put(
                &format!("/api/v1/policies/{pid}"),
                json!({"enroll_date": "2025-06-02", "version": 1}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["expiry_date"], "2026-06-01");
        let (status, moved) = app
            .put(
                &format!("/api/v1/policies/{pid}"),
                json!({"enroll_date": "2025-06-01", "version": 2}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["expiry_date"], "2026-05-31");
        let (status, body) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=not-a-date",
                s.head_chfid
            ))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(policy["stage"], "N");
        assert_eq!(policy["value"], 1000000);
        assert_eq!(policy["balance"], 1000000);
        let covered = policy["insurees"].as_array().unwrap();
        assert_eq!(covered.len(), 3);
        assert!(covered.iter().all(|ip| ip["effective_date"].is_null()));

        // Not covered before it is paid.
        let (status, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2025-07-01",
                s.head_chfid
            ))
            .await;
        assert_eq!(status, 200, "{e}");
        assert_eq!(e["eligible"], false);
        assert_eq!(e["products"][0]["status"], "I");

        // A partial payment waits for the rest.
        let (status, paid) = pay(&app, &policy, 400000, "R-1", "2025-06-03").await;
        assert_eq!(status, 201, "{paid}");
        assert_eq!(paid["outcome"]["status"], "idle");
        assert_eq!(paid["outcome"]["balance"], 600000);

        // Reused receipt, overpayment, payment before enrolment: 422, nothing recorded.
        let (status, body) = pay(&app, &policy, 100, "R-1", "2025-06-03").await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(first_field(&body), "receipt");
        let (status, body) = pay(&app, &policy, 600001, "R-2", "2025-06-04").await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(first_field(&body), "amount");
        let (status, body) = pay(&app, &policy, 1000, "R-3", "2025-05-01").await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(first_field(&body), "pay_date");
        assert_eq!(app.count("SELECT COUNT(*) FROM contributions").await, 1);

        // The rest activates the policy and every member's window from the payment date.
        let (status, paid) = pay(&app, &policy, 600000, "R-2", "2025-06-10").await;
        assert_eq!(status, 201, "{paid}");
        assert_eq!(paid["outcome"]["status"], "active");
        assert_eq!(paid["outcome"]["activated"], true);
        let id = policy["id"].as_str().unwrap();
        let (_, policy) = app.get(&format!("/api/v1/policies/{id}")).await;
        assert_eq!(policy["status"], "active");
        // Only an idle policy can be changed.
        let (status, body) = app
            .put(
                &format!("/api/v1/policies/{id}"),
                json!({"enroll_date": "2025-06-03", "version": policy["version"]}),
            )
            .await;
        assert_problem(app.engine, &(status, body.clone()), 409, "not_idle");
        assert_eq!(policy["effective_date"], "2025-06-10");
        assert_eq!(policy["balance"], 0);
        assert!(
            policy["insurees"]
                .as_array()
                .unwrap()
                .iter()
                .all(|ip| ip["effective_date"] == "2025-06-10" && ip["expiry_date"] == "2026-05-31")
        );

        // Covered on a day inside the window; the item waits three months, the service not.
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2025-07-01&item=PARA&service=CONS",
                s.head_chfid
            ))
            .await;
        let p = &e["products"][0];
        assert_eq!(p["status"], "A", "{e}");
        assert_eq!(p["product_code"], "FC1");
        assert_eq!(p["service"]["covered_now"], true, "{e}");
        assert_eq!(p["item"]["covered_now"], false, "{e}");
        assert_eq!(p["item"]["earliest_date"], "2025-09-10", "{e}");
        assert_eq!(p["item"]["left"], 10);
        assert_eq!(p["remaining"]["consultations"], 12);
        assert_eq!(p["remaining"]["deductible_policy"], 20000);
        assert_eq!(e["eligible"], false, "the item is not covered yet");
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2025-07-01",
                s.head_chfid
            ))
            .await;
        assert_eq!(e["eligible"], true, "{e}");
        // The insuree read shows the policy.
        let (_, insuree) = app.get(&format!("/api/v1/insurees/{}", s.head_chfid)).await;
        assert_eq!(insuree["policies"][0]["status"], "active", "{insuree}");

        // Unknown insuree: 404; unknown item code: 422.
        let (status, body) = app.get("/api/v1/insurees/999999999/eligibility").await;
        assert_problem(app.engine, &(status, body.clone()), 404, "not_found");
        let (status, body) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?item=NOPE",
                s.head_chfid
            ))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(first_field(&body), "item");

        // Its expiry date has passed: the daily job expires it; then it is renewed without a gap.
        let expired =
            policy::service::expire_policies(&app.db, time::macros::date!(2026 - 06 - 01))
                .await
                .unwrap();
        assert_eq!(expired, 1);
        let (_, policy) = app.get(&format!("/api/v1/policies/{id}")).await;
        assert_eq!(policy["status"], "expired");
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2026-07-01",
                s.head_chfid
            ))
            .await;
        assert_eq!(e["products"][0]["status"], "E", "{e}");
        let (status, renewal) = app
            .post(
                &format!("/api/v1/policies/{id}/renew"),
                json!({"enroll_date": "2026-05-20"}),
            )
            .await;
        assert_eq!(status, 201, "{renewal}");
        assert_eq!(renewal["stage"], "R");
        assert_eq!(renewal["previous_policy_id"], id);
        assert_eq!(renewal["start_date"], "2026-06-01");
        assert_eq!(renewal["expiry_date"], "2027-05-31");
        let (status, paid) = pay(&app, &renewal, 1000000, "R-4", "2026-05-25").await;
        assert_eq!(status, 201, "{paid}");
        assert_eq!(paid["outcome"]["effective_date"], "2026-06-01");
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2026-07-01",
                s.head_chfid
            ))
            .await;
        assert_eq!(e["eligible"], true, "{e}");
        assert_eq!(
            e["products"].as_array().unwrap().len(),
            1,
            "one answer per product"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn suspension_cancellation_and_members_joining() {
    each_engine(|app| async move {
        let s = scheme(&app).await;
        let policy = enrol(&app, &s, "2026-01-10").await;
        let id = policy["id"].as_str().unwrap().to_string();
        let (status, _) = pay(&app, &policy, 1000000, "S-1", "2026-01-12").await;
        assert_eq!(status, 201);

        // A fourth member joins: still within the lump sum, covered from the day they join.
        let mut member = person("100000004", "Mrisho", "2018-03-03");
        member["family_id"] = s.family["id"].clone();
        let (status, joined) = app.post("/api/v1/insurees", member).await;
        assert_eq!(status, 201, "{joined}");
        let (_, detail) = app.get(&format!("/api/v1/policies/{id}")).await;
        assert_eq!(detail["insurees"].as_array().unwrap().len(), 4, "{detail}");
        assert_eq!(detail["value"], 1000000);
        // A fifth is above the threshold of four (adults fill it first, so the second child pays
        // the child premium): the value rises, and they wait for the top-up.
        let mut member = person("100000005", "Mrisho", "1990-03-03");
        member["family_id"] = s.family["id"].clone();
        let (status, fifth) = app.post("/api/v1/insurees", member).await;
        assert_eq!(status, 201, "{fifth}");
        let (_, detail) = app.get(&format!("/api/v1/policies/{id}")).await;
        assert_eq!(detail["value"], 1100000, "{detail}");
        assert_eq!(detail["balance"], 100000);
        let waiting = detail["insurees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|ip| ip["insuree_id"] == fifth["id"])
            .cloned()
            .unwrap();
        assert!(waiting["effective_date"].is_null(), "{waiting}");
        let (status, topped) = pay(&app, &policy, 100000, "S-3", "2026-11-20").await;
        assert_eq!(status, 201, "{topped}");
        assert_eq!(topped["outcome"]["status"], "active");
        let (_, detail) = app.get(&format!("/api/v1/policies/{id}")).await;
        assert_eq!(
            detail["effective_date"], "2026-01-12",
            "the policy keeps its date"
        );
        let fifth_window = detail["insurees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|ip| ip["insuree_id"] == fifth["id"])
            .cloned()
            .unwrap();
        assert_eq!(
            fifth_window["effective_date"], "2026-11-20",
            "{fifth_window}"
        );

        // The fourth member moves to another family: they leave this family's policy the day
        // before (today, in this test), and the other family has none.
        let (status, other_family) = app
            .post(
                "/api/v1/families",
                json!({"location_id": s.tree.v1, "head": person("100000009", "Juma", "1970-01-01")}),
            )
            .await;
        assert_eq!(status, 201, "{other_family}");
        let (status, moved) = app
            .post(
                &format!("/api/v1/insurees/{}/move", joined["id"].as_str().unwrap()),
                json!({"family_id": other_family["id"], "version": joined["version"]}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
        let (_, detail) = app.get(&format!("/api/v1/policies/{id}")).await;
        let left = detail["insurees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|ip| ip["insuree_id"] == joined["id"])
            .cloned()
            .unwrap();
        let yesterday = (time::OffsetDateTime::now_utc().date() - time::Duration::days(1)).to_string();
        assert_eq!(left["expiry_date"], json!(yesterday), "{left}");

        // Suspended: covers nobody; reinstated: covers again.
        let version = detail["version"].as_i64().unwrap();
        let (status, suspended) = app
            .post(
                &format!("/api/v1/policies/{id}/suspend"),
                json!({"reason": "fraud inquiry", "version": version}),
            )
            .await;
        assert_eq!(status, 200, "{suspended}");
        assert_eq!(suspended["status"], "suspended");
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2026-03-01",
                s.head_chfid
            ))
            .await;
        assert_eq!(e["products"][0]["status"], "S");
        assert_eq!(e["eligible"], false);
        // A suspended policy takes no money; a stale version is refused.
        let (status, body) = pay(&app, &policy, 1000, "S-2", "2026-03-01").await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = app
            .post(
                &format!("/api/v1/policies/{id}/reinstate"),
                json!({"version": version}),
            )
            .await;
        assert_problem(app.engine, &(status, body.clone()), 409, "stale_version");
        let (status, reinstated) = app
            .post(
                &format!("/api/v1/policies/{id}/reinstate"),
                json!({"version": version + 1}),
            )
            .await;
        assert_eq!(status, 200, "{reinstated}");
        assert_eq!(reinstated["status"], "active");
        // Reinstating an active policy is not a move it can make.
        let (status, body) = app
            .post(
                &format!("/api/v1/policies/{id}/reinstate"),
                json!({"version": version + 2}),
            )
            .await;
        assert_problem(app.engine, &(status, body.clone()), 409, "bad_transition");

        // Cancelled on a day: coverage ends then.
        let (status, cancelled) = app
            .post(
                &format!("/api/v1/policies/{id}/cancel"),
                json!({"date": "2026-04-30", "reason": "left the scheme", "version": version + 2}),
            )
            .await;
        assert_eq!(status, 200, "{cancelled}");
        assert_eq!(cancelled["status"], "expired");
        assert_eq!(cancelled["expiry_date"], "2026-04-30");
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2026-05-02",
                s.head_chfid
            ))
            .await;
        assert_eq!(e["products"][0]["status"], "E", "{e}");

        // A paid policy cannot be deleted; an unpaid one can, with its windows.
        let (status, body) = app
            .delete(&format!("/api/v1/policies/{id}?version={}", version + 3))
            .await;
        assert_problem(app.engine, &(status, body.clone()), 409, "in_use");
        let other = enrol(&app, &s, "2026-11-01").await;
        let (status, _) = app
            .delete(&format!(
                "/api/v1/policies/{}?version=1",
                other["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 204);
        let (status, _) = app
            .get(&format!(
                "/api/v1/policies/{}",
                other["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 404);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn enrolments_a_user_gets_wrong_are_refused_with_the_field() {
    each_engine(|app| async move {
        let s = scheme(&app).await;
        let cases = [
            (json!({"family_id": s.family["id"], "product_id": s.product["id"], "enroll_date": "2099-01-01"}), "enroll_date"),
            (json!({"family_id": s.family["id"], "product_id": s.product["id"], "enroll_date": "2024-06-01"}), "enroll_date"),
            (json!({"family_id": s.family["id"], "product_id": s.family["id"], "enroll_date": "2025-06-01"}), "product_id"),
            (json!({"family_id": s.product["id"], "product_id": s.product["id"], "enroll_date": "2025-06-01"}), "family_id"),
            (json!({"family_id": s.family["id"], "product_id": s.product["id"], "enroll_date": "2025-06-01",
                    "officer_id": s.family["id"]}), "officer_id"),
        ];
        for (body, field) in cases {
            let (status, problem) = app.post("/api/v1/policies", body).await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(first_field(&problem), field, "{problem}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM policies").await, 0);
        // A district officer of the other district sees neither the family's policies nor can enrol it.
        let policy = enrol(&app, &s, "2025-06-01").await;
        let token = app
            .user_with("officer2", &[101201, 101202, 101301, 101302], &[&s.tree.d2])
            .await;
        let pid = policy["id"].as_str().unwrap();
        let (status, _) = app
            .call(Method::GET, &format!("/api/v1/policies/{pid}"), Some(&token), None)
            .await;
        assert_eq!(status, 404);
        let (status, list) = app
            .call(Method::GET, "/api/v1/policies", Some(&token), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(list["total"], 0);
        let body = json!({"family_id": s.family["id"], "product_id": s.product["id"], "enroll_date": "2025-06-01"});
        let (status, _) = app
            .call(Method::POST, "/api/v1/policies", Some(&token), Some(body))
            .await;
        assert_eq!(status, 422);
        let (status, _) = app
            .call(Method::GET, &format!("/api/v1/insurees/{}/eligibility", s.head_chfid), Some(&token), None)
            .await;
        assert_eq!(status, 404, "an insuree outside your districts is not found");
        // No right, no answer.
        let token = app.user_with("clerk", &[101001], &[&s.tree.d1]).await;
        let (status, body) = app
            .call(Method::GET, "/api/v1/policies", Some(&token), None)
            .await;
        assert_problem(app.engine, &(status, body.clone()), 403, "missing_right");
        // Every list exports as CSV.
        let (status, csv) = app
            .call(Method::GET, "/api/v1/policies?format=csv", Some(&app.token), None)
            .await;
        assert_eq!(status, 200);
        let csv = csv.as_str().unwrap_or_default().to_string();
        assert!(csv.starts_with("id,family_id,product_id"), "{csv}");
        assert_eq!(csv.lines().count(), 2);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn payers_are_kept_and_named_on_contributions() {
    each_engine(|app| async move {
        let s = scheme(&app).await;
        let (status, payer) = app
            .post(
                "/api/v1/payers",
                json!({"payer_type": "G", "name": "District Council", "location_id": s.tree.d1, "phone": "+255 1"}),
            )
            .await;
        assert_eq!(status, 201, "{payer}");
        let (status, body) = app
            .post("/api/v1/payers", json!({"payer_type": "G", "name": " "}))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(first_field(&body), "name");
        let (status, body) = app
            .post("/api/v1/payers", json!({"payer_type": "Z", "name": "x"}))
            .await;
        assert_eq!(status, 422, "{body}");

        let policy = enrol(&app, &s, "2025-06-01").await;
        let (status, paid) = app
            .post(
                "/api/v1/contributions",
                json!({"policy_id": policy["id"], "payer_id": payer["id"], "amount": 1000000, "receipt": "G-1",
                       "pay_date": "2025-06-02", "pay_type": "B"}),
            )
            .await;
        assert_eq!(status, 201, "{paid}");
        assert_eq!(paid["contribution"]["payer_id"], payer["id"]);
        let (_, list) = app
            .get(&format!("/api/v1/contributions?payer_id={}", payer["id"].as_str().unwrap()))
            .await;
        assert_eq!(list["total"], 1);
        let pid = payer["id"].as_str().unwrap();
        let (status, body) = app.delete(&format!("/api/v1/payers/{pid}?version=1")).await;
        assert_problem(app.engine, &(status, body.clone()), 409, "in_use");
        let (status, renamed) = app
            .put(
                &format!("/api/v1/payers/{pid}"),
                json!({"payer_type": "G", "name": "Regional Council", "version": 1}),
            )
            .await;
        assert_eq!(status, 200, "{renamed}");
        assert_eq!(renamed["version"], 2);
        let (_, list) = app.get("/api/v1/payers?q=regional").await;
        assert_eq!(list["total"], 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn with_activation_by_payment_a_paid_policy_is_ready_and_covers_nobody_yet() {
    for engine in store::testing::engines() {
        let mut settings = bima::config::Settings::default();
        settings.policy.activation = policy::model::ActivationOption::Payment;
        let app = TestApp::spawn_with(engine, settings).await;
        let s = scheme(&app).await;
        let policy = enrol(&app, &s, "2025-06-01").await;
        // A photo fee is recorded and changes nothing.
        let (status, fee) = app
            .post(
                "/api/v1/contributions",
                json!({"policy_id": policy["id"], "amount": 5000, "receipt": "PH-1", "pay_date": "2025-06-02",
                       "pay_type": "M", "is_photo_fee": true}),
            )
            .await;
        assert_eq!(status, 201, "{fee}");
        assert_eq!(fee["outcome"]["status"], "idle");
        // A partial payment with "enforce" activates at once: here, ready.
        let (status, paid) = app
            .post(
                "/api/v1/contributions",
                json!({"policy_id": policy["id"], "amount": 500000, "receipt": "P-1", "pay_date": "2025-06-03",
                       "pay_type": "M", "shortfall": "enforce"}),
            )
            .await;
        assert_eq!(status, 201, "{paid}");
        assert_eq!(paid["outcome"]["status"], "ready", "{paid}");
        let (_, e) = app
            .get(&format!(
                "/api/v1/insurees/{}/eligibility?date=2025-07-01",
                s.head_chfid
            ))
            .await;
        assert_eq!(e["products"][0]["status"], "R", "{e}");
        assert_eq!(e["eligible"], false);
        // Bad input changes nothing: an unknown shortfall word, a negative amount, no receipt.
        for (body, field) in [
            (
                json!({"policy_id": policy["id"], "amount": -1, "receipt": "P-2", "pay_date": "2025-06-03", "pay_type": "C"}),
                "amount",
            ),
            (
                json!({"policy_id": policy["id"], "amount": 1, "receipt": " ", "pay_date": "2025-06-03", "pay_type": "C"}),
                "receipt",
            ),
            (
                json!({"policy_id": policy["id"], "amount": 1, "receipt": "P-3", "pay_date": "2099-06-03", "pay_type": "C"}),
                "pay_date",
            ),
            (
                json!({"policy_id": policy["id"], "amount": 1, "receipt": "P-4", "pay_date": "2025-06-03", "pay_type": "C", "shortfall": "maybe"}),
                "shortfall",
            ),
        ] {
            let (status, problem) = app.post("/api/v1/contributions", body).await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(first_field(&problem), field, "{problem}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM contributions").await, 2);
        app.finish().await;
    }
}
