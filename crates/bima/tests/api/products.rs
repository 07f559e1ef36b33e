//! Products: every header field, validation, rights and district scope, duplicate, CSV, the
//! coverage lists (items and services from the medical module) and the openIMIS import.

use crate::auth::demo_dir;
use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A product with every header group filled in.
fn product(code: &str, location: Option<&str>) -> Value {
    json!({
        "code": code, "name": "Basic Cover", "location_id": location,
        "date_from": "2026-01-01", "date_to": "2030-12-31", "conversion_product_id": null,
        "periods": {"insurance_period": 12, "administration_period": 1, "max_installments": 3,
            "grace_period_enrolment": 2, "grace_period_renewal": 1, "grace_period_payment": 3},
        "start_cycles": ["01-06", "29-02"],
        "premium": {"lump_sum": 1000000, "max_members": 6, "threshold": 4, "adult": 400000, "child": 200000,
            "registration_lump_sum": 100000, "registration_fee": 5000, "general_assembly_lump_sum": 20000,
            "general_assembly_fee": 1000, "enrolment_discount_percent": 10, "enrolment_discount_period": 2,
            "renewal_discount_percent": 5, "renewal_discount_period": 1},
        "deductibles": {"ip_treatment": 50000, "op_treatment": 10000},
        "ceilings": {"ip_treatment": 5000000, "op_treatment": 1000000, "policy": 30000000,
            "extra_member": 100000, "policy_cap": 50000000},
        "ceiling_type": "T", "ceiling_interpretation": "H",
        "limits": {"max_no_consultation": 12, "max_no_surgery": 2, "max_no_delivery": 1, "max_no_hospitalization": 3,
            "max_no_visits": 20, "max_no_antenatal": 4, "max_amount_consultation": 100000, "max_amount_surgery": 2000000,
            "max_amount_delivery": 500000, "max_amount_hospitalization": 3000000, "max_amount_antenatal": 80000},
        "capitation_levels": [{"level": "D", "sublevel": null}, {"level": "H", "sublevel": "R"}],
        "capitation": {"weight_population": 20, "weight_nb_families": 20, "weight_insured_population": 20,
            "weight_nb_insured_families": 20, "weight_nb_visits": 10, "weight_adjusted_amount": 10, "share_contribution": 80},
        "acc_code_premiums": "4001", "acc_code_remuneration": "5001",
        "relative_distribution": [{"care_type": "I", "periods": [25, 25, 25, 25]}, {"care_type": "O", "periods": [100]}]
    })
}

#[tokio::test]
async fn products_keep_every_field() {
    each_engine(|app| async move {
        let (status, p) = app.post("/api/v1/products", product("P001", None)).await;
        assert_eq!(status, 201, "{p}");
        assert_eq!(p["version"], 1);
        assert_eq!(p["premium"]["adult"], 400000);
        assert_eq!(p["premium"]["threshold"], 4);
        assert_eq!(p["periods"]["grace_period_payment"], 3);
        assert_eq!(p["start_cycles"], json!(["01-06", "29-02"]));
        assert_eq!(p["deductibles"]["ip_treatment"], 50000);
        assert_eq!(p["deductibles"]["insuree"], Value::Null);
        assert_eq!(p["ceilings"]["policy_cap"], 50000000);
        assert_eq!(p["ceiling_type"], "T");
        assert_eq!(p["ceiling_interpretation"], "H");
        assert_eq!(p["limits"]["max_amount_antenatal"], 80000);
        assert_eq!(
            p["capitation_levels"][1],
            json!({"level": "H", "sublevel": "R"})
        );
        assert_eq!(p["capitation"]["share_contribution"], 80);
        assert_eq!(p["period_rel_prices"], Value::Null);
        assert_eq!(p["period_rel_prices_ip"], "Q");
        assert_eq!(p["period_rel_prices_op"], "Y");
        let (status, by_code) = app.get("/api/v1/products/P001").await;
        assert_eq!(status, 200);
        assert_eq!(by_code, p, "what is read back is what was written");
        let (_, by_id) = app
            .get(&format!("/api/v1/products/{}", p["id"].as_str().unwrap()))
            .await;
        assert_eq!(by_id["code"], "P001");

        // A second product converting into the first; the code is taken.
        let mut second = product("P002", None);
        second["conversion_product_id"] = p["id"].clone();
        let (status, p2) = app.post("/api/v1/products", second).await;
        assert_eq!(status, 201, "{p2}");
        assert_eq!(p2["conversion_product_id"], p["id"]);
        let taken = app.post("/api/v1/products", product("P001", None)).await;
        assert_problem(app.engine, &taken, 409, "duplicate_code");
        assert!(
            taken.1["detail"]
                .as_str()
                .unwrap()
                .contains("P001 is already used")
        );

        // Change: version required, stale refused, the lists replaced.
        let mut change = product("P001", None);
        change["name"] = json!("Basic Cover 2027");
        change["relative_distribution"] =
            json!([{"care_type": "B", "periods": [10, 10, 10, 10, 10, 10, 5, 5, 5, 5, 10, 10]}]);
        let missing = app.put("/api/v1/products/P001", change.clone()).await;
        assert_problem(app.engine, &missing, 422, "validation_failed");
        assert_eq!(first_field(&missing.1), "version");
        change["version"] = json!(1);
        let (status, changed) = app.put("/api/v1/products/P001", change.clone()).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["version"], 2);
        assert_eq!(changed["name"], "Basic Cover 2027");
        assert_eq!(changed["period_rel_prices"], "M");
        assert_eq!(changed["period_rel_prices_ip"], Value::Null);
        assert_eq!(
            changed["relative_distribution"].as_array().unwrap().len(),
            1
        );
        assert_eq!(changed["created_at"], p["created_at"]);
        let stale = app.put("/api/v1/products/P001", change).await;
        assert_problem(app.engine, &stale, 409, "stale_version");
        let mut own = product("P001", None);
        own["conversion_product_id"] = p["id"].clone();
        own["version"] = json!(2);
        let itself = app.put("/api/v1/products/P001", own).await;
        assert_problem(app.engine, &itself, 422, "validation_failed");
        assert_eq!(first_field(&itself.1), "conversion_product_id");

        let (_, list) = app.get("/api/v1/products?code=p00&per_page=1").await;
        assert_eq!(
            (
                list["total"].as_i64(),
                list["items"].as_array().unwrap().len()
            ),
            (Some(2), 1)
        );
        assert_eq!(list["items"][0]["code"], "P001");
        let (_, named) = app.get("/api/v1/products?name=2027").await;
        assert_eq!(named["total"], 1);

        let (status, history) = app
            .get(&format!(
                "/api/v1/audit?entity=product&id={}",
                p["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 200, "{history}");
        assert_eq!(history["total"], 2);

        let stale_delete = app.delete("/api/v1/products/P001?version=1").await;
        assert_problem(app.engine, &stale_delete, 409, "stale_version");
        assert_eq!(app.delete("/api/v1/products/P001?version=2").await.0, 204);
        assert_eq!(app.get("/api/v1/products/P001").await.0, 404);
        // The code is free again once the product is deleted.
        assert_eq!(
            app.post("/api/v1/products", product("P001", None)).await.0,
            201
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_products_name_the_field_and_write_nothing() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let with = |path: &str, value: Value| {
            let mut p = product("P001", None);
            let mut target = &mut p;
            let parts: Vec<&str> = path.split('.').collect();
            for part in &parts[..parts.len() - 1] {
                target = &mut target[*part];
            }
            target[parts[parts.len() - 1]] = value;
            p
        };
        let cases: Vec<(Value, &str)> = vec![
            (with("code", json!("TOO-LONG-CODE")), "code"),
            (with("name", json!("")), "name"),
            (with("date_to", json!("2025-12-31")), "date_to"),
            (with("date_from", json!("01/01/2026")), "date_from"),
            (with("periods.insurance_period", json!(0)), "periods.insurance_period"),
            (with("start_cycles", json!(["31-04"])), "start_cycles[0]"),
            (with("start_cycles", json!(["1-13"])), "start_cycles[0]"),
            (with("premium.adult", json!(-1)), "premium.adult"),
            (with("premium.enrolment_discount_percent", json!(101)), "premium.enrolment_discount_percent"),
            (with("premium.threshold", json!(null)), "premium.threshold"),
            (with("premium.threshold", json!(7)), "premium.threshold"),
            (with("premium.max_members", json!(0)), "premium.max_members"),
            (with("premium.adult", json!(12.5)), "premium.adult"),
            (with("deductibles.treatment", json!(100)), "deductibles.treatment"),
            (with("ceilings.op_treatment", json!(5000)), "ceilings.op_treatment"),
            (with("capitation.weight_nb_visits", json!(30)), "capitation.weight_population"),
            (with("capitation.share_contribution", json!(101)), "capitation.share_contribution"),
            (with("ceiling_type", json!("X")), "ceiling_type"),
            (with("relative_distribution", json!([{"care_type": "B", "periods": [50, 50]}])), "relative_distribution[0].periods"),
            (with("relative_distribution", json!([{"care_type": "B", "periods": [50, 40, 5, 0]}])), "relative_distribution[0].periods"),
            (with("relative_distribution", json!([{"care_type": "I", "periods": [100]}, {"care_type": "I", "periods": [100]}])), "relative_distribution[1].care_type"),
            (with("location_id", json!(tree.v1)), "location_id"),
            (with("location_id", json!(uuid::Uuid::now_v7())), "location_id"),
            (with("conversion_product_id", json!(uuid::Uuid::now_v7())), "conversion_product_id"),
            (with("items", json!([{"item_id": uuid::Uuid::now_v7(), "price_origin": "X"}])), "items[0].price_origin"),
            (with("services", json!([{"service_id": uuid::Uuid::now_v7(), "limit_adult": 150}])), "services[0].limit_adult"),
            (with("colour", json!("blue")), "colour"),
        ];
        for (body, field) in cases {
            let answer = app.post("/api/v1/products", body).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{}", answer.1);
        }
        let (status, _) = app.raw(Method::POST, "/api/v1/products", "{\"code\": ").await;
        assert_eq!(status, 400);
        assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM product_relative_distributions").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'product'").await, 0);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_district_user_sees_national_products_and_their_own() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let mut ids = std::collections::HashMap::new();
        for (code, location) in [
            ("NAT", None),
            ("REG", Some(&tree.region)),
            ("DIS1", Some(&tree.d1)),
            ("DIS2", Some(&tree.d2)),
        ] {
            let (status, body) = app
                .post(
                    "/api/v1/products",
                    product(code, location.map(String::as_str)),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            ids.insert(code, body["id"].as_str().unwrap().to_string());
        }
        let clerk = app
            .user_with(
                "clerk",
                &[121001, 121002, 121003, 121004, 121005],
                &[&tree.d1],
            )
            .await;
        let (status, list) = app
            .call(Method::GET, "/api/v1/products", Some(&clerk), None)
            .await;
        assert_eq!(status, 200);
        let codes: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, vec!["DIS1", "NAT", "REG"]);
        assert_eq!(
            app.call(Method::GET, "/api/v1/products/DIS2", Some(&clerk), None)
                .await
                .0,
            404
        );

        // Writes: only within their district; national and regional products are read-only for them.
        let (status, created) = app
            .call(
                Method::POST,
                "/api/v1/products",
                Some(&clerk),
                Some(product("MINE", Some(&tree.d1))),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let outside = app
            .call(
                Method::POST,
                "/api/v1/products",
                Some(&clerk),
                Some(product("THEIRS", Some(&tree.d2))),
            )
            .await;
        assert_problem(app.engine, &outside, 422, "validation_failed");
        assert_eq!(first_field(&outside.1), "location_id");
        let national = app
            .call(
                Method::POST,
                "/api/v1/products",
                Some(&clerk),
                Some(product("NAT2", None)),
            )
            .await;
        assert_eq!(first_field(&national.1), "location_id");
        let mut edit = product("NAT", None);
        edit["version"] = json!(1);
        let refused = app
            .call(
                Method::PUT,
                "/api/v1/products/NAT",
                Some(&clerk),
                Some(edit),
            )
            .await;
        assert_problem(app.engine, &refused, 403, "outside_districts");
        let refused = app
            .call(
                Method::DELETE,
                "/api/v1/products/REG?version=1",
                Some(&clerk),
                None,
            )
            .await;
        assert_problem(app.engine, &refused, 403, "outside_districts");
        assert_eq!(
            app.call(
                Method::DELETE,
                "/api/v1/products/DIS2?version=1",
                Some(&clerk),
                None
            )
            .await
            .0,
            404
        );

        // Missing rights.
        let reader = app.user_with("reader", &[121001], &[&tree.d1]).await;
        let denied = app
            .call(
                Method::POST,
                "/api/v1/products",
                Some(&reader),
                Some(product("X1", Some(&tree.d1))),
            )
            .await;
        assert_problem(app.engine, &denied, 403, "missing_right");
        let denied = app
            .call(
                Method::POST,
                "/api/v1/products/DIS1/duplicate",
                Some(&reader),
                Some(json!({"code": "X2", "name": "Copy"})),
            )
            .await;
        assert_problem(app.engine, &denied, 403, "missing_right");
        let denied = app
            .call(
                Method::DELETE,
                "/api/v1/products/DIS1?version=1",
                Some(&reader),
                None,
            )
            .await;
        assert_problem(app.engine, &denied, 403, "missing_right");
        let nobody = app.user_with("nobody", &[121101], &[&tree.d1]).await;
        let denied = app
            .call(Method::GET, "/api/v1/products", Some(&nobody), None)
            .await;
        assert_problem(app.engine, &denied, 403, "missing_right");
        assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 5);
        // The history of a product is read as the product is.
        let audit = |code: &str| format!("/api/v1/audit?entity=product&id={}", ids[code]);
        let (status, history) = app
            .call(Method::GET, &audit("DIS1"), Some(&clerk), None)
            .await;
        assert_eq!(
            (status.as_u16(), history["total"].as_i64()),
            (200, Some(1)),
            "{history}"
        );
        let hidden = app
            .call(Method::GET, &audit("DIS2"), Some(&clerk), None)
            .await;
        assert_problem(app.engine, &hidden, 404, "not_found");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn duplicate_copies_everything_under_a_new_code() {
    each_engine(|app| async move {
        let (_, source) = app.post("/api/v1/products", product("P001", None)).await;
        let (status, copy) = app
            .post(
                "/api/v1/products/P001/duplicate",
                json!({"code": "P001B", "name": "Basic Cover copy"}),
            )
            .await;
        assert_eq!(status, 201, "{copy}");
        assert_ne!(copy["id"], source["id"]);
        assert_eq!(copy["code"], "P001B");
        assert_eq!(copy["version"], 1);
        for key in [
            "premium",
            "periods",
            "deductibles",
            "ceilings",
            "limits",
            "capitation",
            "capitation_levels",
            "relative_distribution",
            "start_cycles",
            "period_rel_prices_ip",
        ] {
            assert_eq!(copy[key], source[key], "{key}");
        }
        let taken = app
            .post(
                "/api/v1/products/P001/duplicate",
                json!({"code": "P001", "name": "again"}),
            )
            .await;
        assert_problem(app.engine, &taken, 409, "duplicate_code");
        let blank = app
            .post(
                "/api/v1/products/P001/duplicate",
                json!({"code": "", "name": "again"}),
            )
            .await;
        assert_eq!(first_field(&blank.1), "code");
        assert_eq!(
            app.post(
                "/api/v1/products/NOPE/duplicate",
                json!({"code": "N2", "name": "n"})
            )
            .await
            .0,
            404
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 2);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM product_relative_distributions")
                .await,
            10
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn csv_export_is_a_flat_row_of_the_header() {
    each_engine(|app| async move {
        app.post("/api/v1/products", product("P001", None)).await;
        app.post("/api/v1/products", product("P002", None)).await;
        let response = app
            .client
            .get(format!(
                "{}/api/v1/products?format=csv&per_page=1",
                app.base
            ))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2, "paging is ignored");
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(&rows[0][col("code")], "P001");
        assert_eq!(&rows[0][col("premium_adult")], "400000");
        assert_eq!(&rows[0][col("max_ceiling_policy")], "50000000");
        assert_eq!(&rows[0][col("start_cycle_2")], "29-02");
        assert_eq!(&rows[0][col("capitation_sublevel_2")], "R");
        assert_eq!(&rows[0][col("ded_insuree")], "");
        assert_eq!(&rows[0][col("period_rel_prices_ip")], "Q");
        assert_eq!(
            header.len(),
            89,
            "26 fixed columns, 62 terms and the version"
        );
        app.finish().await;
    })
    .await;
}

/// Create a medical item and a service through the medical module's endpoints.
async fn medical_lines(app: &TestApp) -> (String, String) {
    let (status, item) = app
        .post("/api/v1/medical-items", json!({"code":"0182","name":"Paracetamol","type":"D","package":"tablet","price":1250,"care_type":"B","patient_category":15}))
        .await;
    assert_eq!(status, 201, "{item}");
    let (status, service) = app
        .post("/api/v1/medical-services", json!({"code":"A1","name":"Consultation","category":"C","type":"C","level":"S","package_type":"S","manual_price":false,"price":5000,"care_type":"O","patient_category":15}))
        .await;
    assert_eq!(status, 201, "{service}");
    (
        item["id"].as_str().unwrap().to_string(),
        service["id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn items_and_services_must_exist_and_take_the_defaults() {
    each_engine(|app| async move {
        let (item, service) = medical_lines(&app).await;
        let mut body = product("P001", None);
        body["items"] = json!([{"item_id": item}]);
        body["services"] = json!([{"service_id": service, "price_origin": "R", "limitation_type": "F", "limit_adult": 300000,
            "limitation_type_e": "C", "limit_child_e": 50, "waiting_period_adult": 6, "limit_no_adult": 2,
            "ceiling_exclusion_adult": "H", "ceiling_exclusion_child": "B"}]);
        let (status, p) = app.post("/api/v1/products", body.clone()).await;
        assert_eq!(status, 201, "{p}");
        assert_eq!(p["items"], json!([{"item_id": item, "price_origin": "P", "limitation_type": "C", "limitation_type_r": "C",
            "limitation_type_e": "C", "limit_adult": 100, "limit_child": 100, "limit_adult_r": 100, "limit_child_r": 100,
            "limit_adult_e": 100, "limit_child_e": 100, "waiting_period_adult": null, "waiting_period_child": null,
            "limit_no_adult": null, "limit_no_child": null, "ceiling_exclusion_adult": null, "ceiling_exclusion_child": null}]));
        let s = &p["services"][0];
        assert_eq!((s["price_origin"].as_str(), s["limitation_type"].as_str()), (Some("R"), Some("F")));
        assert_eq!((s["limit_adult"].as_i64(), s["limit_child"].as_i64(), s["limit_child_e"].as_i64()), (Some(300000), Some(0), Some(50)));
        assert_eq!((s["ceiling_exclusion_adult"].as_str(), s["waiting_period_adult"].as_i64()), (Some("H"), Some(6)));
        let (_, read) = app.get("/api/v1/products/P001").await;
        assert_eq!(read["items"], p["items"]);
        assert_eq!(read["services"], p["services"]);

        let mut twice = body.clone();
        twice["code"] = json!("P002");
        twice["items"] = json!([{"item_id": item}, {"item_id": item}]);
        let answer = app.post("/api/v1/products", twice).await;
        assert_eq!(first_field(&answer.1), "items[1].item_id");
        let mut unknown = body.clone();
        unknown["code"] = json!("P002");
        unknown["services"] = json!([{"service_id": uuid::Uuid::now_v7()}]);
        let answer = app.post("/api/v1/products", unknown).await;
        assert_problem(app.engine, &answer, 422, "validation_failed");
        assert_eq!(first_field(&answer.1), "services[0].service_id");
        let mut wrong_kind = body;
        wrong_kind["code"] = json!("P002");
        wrong_kind["items"] = json!([{"item_id": service}]);
        assert_eq!(first_field(&app.post("/api/v1/products", wrong_kind).await.1), "items[0].item_id");

        let (_, copy) = app.post("/api/v1/products/P001/duplicate", json!({"code": "P003", "name": "copy"})).await;
        assert_eq!(copy["items"], p["items"]);
        assert_eq!(copy["services"], p["services"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM product_items").await, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM product_services").await, 2);
        app.finish().await;
    })
    .await;
}

/// Current rows (ValidityTo empty) of a demo CSV.
fn current_rows(table: &str) -> i64 {
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
        .count() as i64
}

#[tokio::test]
async fn the_demo_products_import_completely_and_idempotently() {
    each_engine(|app| async move {
        use openimis_import::{Progress, run};
        let first = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        for (table, sql) in [
            (
                "tblProduct",
                "SELECT COUNT(*) FROM products WHERE deleted_at IS NULL",
            ),
            ("tblProductItems", "SELECT COUNT(*) FROM product_items"),
            (
                "tblProductServices",
                "SELECT COUNT(*) FROM product_services",
            ),
            (
                "tblRelDistr",
                "SELECT COUNT(*) FROM product_relative_distributions",
            ),
        ] {
            let count = first
                .count(table)
                .unwrap_or_else(|| panic!("{table} was not read"));
            assert_eq!(count.skipped, 0, "{table}: {}", first.table());
            assert_eq!(
                count.imported as i64,
                current_rows(table),
                "{table}: {}",
                first.table()
            );
            assert_eq!(app.count(sql).await, current_rows(table), "{table}");
        }
        // Decimal money converts exactly: 4000.00 → 400000, 300000.00 → 30000000.
        let (_, p) = app.get("/api/v1/products/FCUL0001").await;
        assert_eq!(p["premium"]["adult"], 400000);
        assert_eq!(p["ceilings"]["policy"], 30000000);
        assert_eq!(p["start_cycles"], json!(["01-06", "01-11"]));
        assert_eq!(p["periods"]["grace_period_payment"], 3);
        assert_eq!(p["capitation"]["weight_insured_population"], 100);
        assert_eq!(p["relative_distribution"].as_array().unwrap().len(), 9);
        let (_, b) = app.get("/api/v1/products/BCUL0001").await;
        assert_eq!(b["conversion_product_id"], p["id"]);
        assert_eq!(b["premium"]["lump_sum"], 1000000);

        // openIMIS validated little: the demo's products break these rules of the API, and are
        // imported anyway as the scheme's real terms.
        let mut broken = std::collections::BTreeSet::new();
        let mut tx = app.db.read().await.unwrap();
        let (products, _) =
            product::store::list_products(&mut tx, &Default::default(), 100, 0, true)
                .await
                .unwrap();
        drop(tx);
        for p in &products {
            let mut checks = kernel::Checks::new();
            product::rules::check_product(&p.terms, Some(p.id), &mut checks);
            if let Err(kernel::Error::Invalid(fields)) = checks.finish() {
                for f in fields {
                    let field: String = f.field.split('[').next().unwrap_or("").to_string()
                        + f.field
                            .rsplit(']')
                            .next()
                            .filter(|_| f.field.contains(']'))
                            .unwrap_or("");
                    broken.insert(format!("{} {field} {}", p.terms.code, f.code));
                }
            }
        }
        let mut expected = std::collections::BTreeSet::new();
        for code in ["BCTA0001", "BCUL0001", "FCTA0001", "FCUL0001"] {
            // All three period types stored for each care type, every period at 0 percent.
            expected.insert(format!("{code} relative_distribution.care_type duplicate"));
            expected.insert(format!("{code} relative_distribution.periods not_100"));
        }
        for code in ["BCTA0001", "BCUL0001"] {
            // A lump sum of 10000.00 for up to 6 members, with no threshold.
            expected.insert(format!("{code} premium.threshold required"));
        }
        assert_eq!(broken, expected);
        let audit = app
            .count("SELECT COUNT(*) FROM audit_log WHERE entity = 'product'")
            .await;
        let second = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        for table in [
            "tblProduct",
            "tblProductItems",
            "tblProductServices",
            "tblRelDistr",
        ] {
            let count = second.count(table).unwrap();
            assert_eq!(
                (count.imported, count.skipped),
                (0, 0),
                "{table}: {}",
                second.table()
            );
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'product'")
                .await,
            audit
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn the_api_document_describes_products() {
    each_engine(|app| async move {
        let (status, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
        assert_eq!(status, 200);
        for path in [
            "/api/v1/products",
            "/api/v1/products/{id}",
            "/api/v1/products/{id}/duplicate",
        ] {
            assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
        }
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [
            ("ProductInput", "premium"),
            ("Premium", "lump_sum"),
            ("Ceilings", "policy_cap"),
            ("ProductItem", "limitation_type_r"),
            ("ProductInput", "version"),
        ] {
            assert!(
                schemas[schema]["properties"][field].is_object(),
                "{schema}.{field}: {}",
                schemas[schema]
            );
        }
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn broken_product_rows_are_skipped_with_their_line_and_reason() {
    each_engine(|app| async move {
        let dir = tempfile::tempdir().unwrap();
        let header = "ValidityFrom,ValidityTo,LegacyID,ProdID,ProdUUID,ProductCode,ProductName,DateFrom,DateTo,LumpSum,MemberCount,Threshold,PremiumAdult,StartCycle1,EnrolmentDiscountPerc,CeilingInterpretation";
        std::fs::write(
            dir.path().join("tblProduct.csv"),
            format!(
                "{header}\n\
                 2017-01-01 00:00:00+00,,,1,0b7e1a52-58c4-4d1b-9a3c-51d0f5b6a001,G1,Good,2017-01-01 00:00:00+00,2030-12-31 00:00:00+00,12.50,3,2,0.07,01-06,10.00,I\n\
                 2017-01-01 00:00:00+00,,,2,0b7e1a52-58c4-4d1b-9a3c-51d0f5b6a002,B1,Money,2017-01-01 00:00:00+00,2030-12-31 00:00:00+00,0,3,,1.005,,,I\n\
                 2017-01-01 00:00:00+00,,,3,0b7e1a52-58c4-4d1b-9a3c-51d0f5b6a003,B2,Dates,2030-01-01 00:00:00+00,2017-12-31 00:00:00+00,0,3,,,,,I\n\
                 2017-01-01 00:00:00+00,,,4,0b7e1a52-58c4-4d1b-9a3c-51d0f5b6a004,B3,Cycle,2017-01-01 00:00:00+00,2030-12-31 00:00:00+00,0,3,,,31-02,,I\n\
                 2017-01-01 00:00:00+00,,,5,0b7e1a52-58c4-4d1b-9a3c-51d0f5b6a005,B4,Percent,2017-01-01 00:00:00+00,2030-12-31 00:00:00+00,0,3,,,,12.50,I\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("tblProductItems.csv"),
            "ValidityFrom,ValidityTo,ProdItemID,LimitationType,PriceOrigin,LimitAdult,ItemID,ProdID\n\
             2018-03-20 05:14:12.093+00,,1,C,P,100.00,99,1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("tblRelDistr.csv"),
            "DistrID,DistrType,DistrCareType,Period,DistrPerc,ValidityFrom,ValidityTo,ProdID\n\
             1,4,B,1,50.00,2018-03-20 05:14:15.58+00,,1\n\
             2,4,B,2,50.00,2018-03-20 05:14:15.58+00,,1\n\
             3,1,I,1,100.00,2018-03-20 05:14:15.58+00,,1\n",
        )
        .unwrap();
        let report = openimis_import::run(&app.db, dir.path(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        let counts = report.count("tblProduct").unwrap();
        assert_eq!((counts.read, counts.imported, counts.skipped), (5, 1, 4), "{}", report.table());
        let problems: Vec<(&str, u64, &str)> = report
            .problems
            .iter()
            .map(|p| (p.file.as_str(), p.line, p.reason.as_str()))
            .collect();
        assert_eq!(problems.len(), 7, "{}", report.table());
        assert_eq!(problems[0].0, "tblProduct.csv");
        assert_eq!(problems[0].1, 3);
        assert!(problems[0].2.contains("PremiumAdult") && problems[0].2.contains("\"1.005\""), "{problems:?}");
        assert!(problems[1].2.contains("date_to"), "{problems:?}");
        assert!(problems[2].2.contains("31-02"), "{problems:?}");
        assert!(problems[3].2.contains("whole percentage"), "{problems:?}");
        assert_eq!((problems[4].0, problems[4].1), ("tblProductItems.csv", 2));
        assert!(problems[4].2.contains("ItemID 99"), "{problems:?}");
        assert_eq!(&problems[5..].iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), &[("tblRelDistr.csv", 2), ("tblRelDistr.csv", 3)]);
        let (_, g1) = app.get("/api/v1/products/G1").await;
        assert_eq!(g1["premium"]["lump_sum"], 1250);
        assert_eq!(g1["premium"]["adult"], 7);
        assert_eq!(g1["premium"]["enrolment_discount_percent"], 10);
        assert_eq!(g1["relative_distribution"], json!([{"care_type": "I", "periods": [100]}]));
        assert_eq!(g1["period_rel_prices"], Value::Null, "taken from the export, not recomputed");
        app.finish().await;
    })
    .await;
}
