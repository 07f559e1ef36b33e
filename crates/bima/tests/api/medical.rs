//! Medical registers (diagnoses, items, services) and price lists: fields, validation, rights,
//! district scope of price lists, CSV exports, and the import of the openIMIS demo.

use crate::auth::demo_dir;
use crate::support::*;
use openimis_import::{Progress, run};
use reqwest::Method;
use serde_json::{Value, json};

fn item(code: &str, price: i64) -> Value {
    json!({"code": code, "name": "Paracetamol 500mg", "type": "D", "package": "tablet", "price": price,
           "quantity": null, "maximum_amount": null, "care_type": "B", "frequency": null, "patient_category": 15})
}

fn service(code: &str, price: i64) -> Value {
    json!({"code": code, "name": "General consultation", "category": "C", "type": "C", "level": "S",
           "package_type": "S", "manual_price": false, "price": price, "maximum_amount": null, "care_type": "O",
           "frequency": null, "patient_category": 15})
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

async fn create(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, created) = app.post(path, body).await;
    assert_eq!(status, 201, "[{:?}] {path}: {created}", app.engine);
    created
}

#[tokio::test]
async fn items_keep_every_field_and_follow_versions() {
    each_engine(|app| async move {
        let created = create(&app, "/api/v1/medical-items", item("0182", 1250)).await;
        assert_eq!(created["code"], "0182");
        assert_eq!(created["type"], "D");
        assert_eq!(created["package"], "tablet");
        assert_eq!(created["price"], 1250);
        assert_eq!(created["care_type"], "B");
        assert_eq!(created["patient_category"], 15);
        assert_eq!(created["version"], 1);
        let (status, by_code) = app.get("/api/v1/medical-items/0182").await;
        assert_eq!(status, 200, "{by_code}");
        assert_eq!(by_code["id"], created["id"]);

        let change = with(
            with(item("0182", 1300), "maximum_amount", json!(30)),
            "version",
            json!(1),
        );
        let (status, changed) = app.put("/api/v1/medical-items/0182", change.clone()).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(
            (
                changed["price"].as_i64(),
                changed["maximum_amount"].as_i64()
            ),
            (Some(1300), Some(30))
        );
        assert_eq!(changed["version"], 2);
        let stale = app.put("/api/v1/medical-items/0182", change).await;
        assert_problem(app.engine, &stale, 409, "stale_version");
        let no_version = app.put("/api/v1/medical-items/0182", item("0182", 1)).await;
        assert_eq!(first_field(&no_version.1), "version");

        let dup = app.post("/api/v1/medical-items", item("0182", 5)).await;
        assert_problem(app.engine, &dup, 409, "duplicate_code");
        assert!(
            dup.1["detail"].as_str().unwrap().contains("0182"),
            "{}",
            dup.1
        );

        let (status, history) = app
            .get(&format!(
                "/api/v1/audit?entity=medical_item&id={}",
                created["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 200, "{history}");
        assert_eq!(history["total"], 2);
        assert_eq!(history["items"][0]["before"]["price"], 1250);

        assert_problem(
            app.engine,
            &app.delete("/api/v1/medical-items/0182?version=1").await,
            409,
            "stale_version",
        );
        assert_eq!(
            app.delete("/api/v1/medical-items/0182?version=2").await.0,
            204
        );
        assert_problem(
            app.engine,
            &app.get("/api/v1/medical-items/0182").await,
            404,
            "not_found",
        );
        // A deleted item's code is free again.
        create(&app, "/api/v1/medical-items", item("0182", 1)).await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn services_keep_every_field_and_defaults() {
    each_engine(|app| async move {
        let created = create(&app, "/api/v1/medical-services", service("A1", 5000)).await;
        for (field, want) in [("category", json!("C")), ("type", json!("C")), ("level", json!("S")),
                              ("package_type", json!("S")), ("manual_price", json!(false)), ("price", json!(5000)),
                              ("care_type", json!("O")), ("patient_category", json!(15))] {
            assert_eq!(created[field], want, "{field}: {created}");
        }
        let minimal = create(
            &app,
            "/api/v1/medical-services",
            json!({"code": "S2", "name": "Delivery", "type": "P", "level": "H", "price": 0, "care_type": "I"}),
        )
        .await;
        assert_eq!(minimal["package_type"], "S");
        assert_eq!(minimal["patient_category"], 15);
        assert_eq!(minimal["category"], Value::Null);
        let change = with(with(service("A1", 6000), "package_type", json!("F")), "version", json!(1));
        let (status, changed) = app.put("/api/v1/medical-services/A1", change).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["package_type"], "F");
        let (_, list) = app.get("/api/v1/medical-services?level=H").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["code"], "S2");
        let (_, list) = app.get("/api/v1/medical-services?code=a&name=consult").await;
        assert_eq!(list["total"], 1);
        let dup = app.post("/api/v1/medical-services", service("A1", 1)).await;
        assert_problem(app.engine, &dup, 409, "duplicate_code");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_registers_name_the_field_and_write_nothing() {
    each_engine(|app| async move {
        let item_cases: Vec<(Value, &str)> = vec![
            (item("1234567", 1), "code"),
            (item("", 1), "code"),
            (item("A B", 1), "code"),
            (with(item("I1", 1), "name", json!("x".repeat(101))), "name"),
            (
                with(item("I1", 1), "package", json!("x".repeat(256))),
                "package",
            ),
            (item("I1", -1), "price"),
            (with(item("I1", 1), "type", json!("X")), "type"),
            (with(item("I1", 1), "care_type", json!("Z")), "care_type"),
            (with(item("I1", 1), "frequency", json!(-1)), "frequency"),
            (with(item("I1", 1), "quantity", json!(-1)), "quantity"),
            (
                with(item("I1", 1), "maximum_amount", json!(-1)),
                "maximum_amount",
            ),
            (
                with(item("I1", 1), "patient_category", json!(16)),
                "patient_category",
            ),
            (
                with(item("I1", 1), "patient_category", json!(-1)),
                "patient_category",
            ),
            (with(item("I1", 1), "price", json!("12.50")), "price"),
            (with(item("I1", 1), "colour", json!("red")), "colour"),
        ];
        for (body, field) in item_cases {
            let answer = app.post("/api/v1/medical-items", body.clone()).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{body}: {}", answer.1);
        }
        let service_cases: Vec<(Value, &str)> = vec![
            (with(service("S1", 1), "category", json!("Q")), "category"),
            (with(service("S1", 1), "level", json!("X")), "level"),
            (with(service("S1", 1), "type", json!("X")), "type"),
            (
                with(service("S1", 1), "package_type", json!("X")),
                "package_type",
            ),
            (
                with(service("S1", 1), "manual_price", json!("no")),
                "manual_price",
            ),
            (service("S1", -5), "price"),
        ];
        for (body, field) in service_cases {
            let answer = app.post("/api/v1/medical-services", body.clone()).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{body}: {}", answer.1);
        }
        // Every invalid field is named at once.
        let many = app
            .post(
                "/api/v1/medical-items",
                with(
                    with(item("TOOLONG", -1), "name", json!(" ")),
                    "patient_category",
                    json!(99),
                ),
            )
            .await;
        let fields: Vec<&str> = many.1["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            vec!["code", "name", "price", "patient_category"],
            "{}",
            many.1
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM medical_items").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM medical_services").await, 0);
        let bad_json = app
            .raw(Method::POST, "/api/v1/medical-items", "{\"code\": ")
            .await;
        assert_eq!(bad_json.0, 400);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn register_rights_are_checked() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        create(&app, "/api/v1/medical-items", item("I1", 100)).await;
        let reader = app
            .user_with("itemreader", &[122101, 121401], &[&tree.d1])
            .await;
        let (status, list) = app
            .call(Method::GET, "/api/v1/medical-items", Some(&reader), None)
            .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["total"], 1);
        let refused = app
            .call(
                Method::POST,
                "/api/v1/medical-items",
                Some(&reader),
                Some(item("I2", 1)),
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        let refused = app
            .call(
                Method::POST,
                "/api/v1/medical-services",
                Some(&reader),
                Some(service("S2", 1)),
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        let nobody = app.user_with("nobody", &[121901], &[&tree.d1]).await;
        let refused = app
            .call(Method::GET, "/api/v1/medical-items", Some(&nobody), None)
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        let refused = app
            .call(
                Method::GET,
                "/api/v1/medical-services/X",
                Some(&nobody),
                None,
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        assert_eq!(app.count("SELECT COUNT(*) FROM medical_items").await, 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn diagnoses_are_read_by_anyone_and_written_with_the_upload_right() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        create(
            &app,
            "/api/v1/diagnoses",
            json!({"code": "A09", "name": "Diarrhoea and gastroenteritis"}),
        )
        .await;
        create(
            &app,
            "/api/v1/diagnoses",
            json!({"code": "B50", "name": "Plasmodium falciparum malaria"}),
        )
        .await;
        create(
            &app,
            "/api/v1/diagnoses",
            json!({"code": "B54", "name": "Unspecified malaria"}),
        )
        .await;
        let nobody = app.user_with("anyone", &[121901], &[&tree.d1]).await;
        let (status, list) = app
            .call(Method::GET, "/api/v1/diagnoses?code=b", Some(&nobody), None)
            .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["total"], 2);
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/diagnoses?q=MALARIA&code=B5",
                Some(&nobody),
                None,
            )
            .await;
        assert_eq!(list["total"], 2);
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/diagnoses?q=falci",
                Some(&nobody),
                None,
            )
            .await;
        assert_eq!(list["items"][0]["code"], "B50");
        let (status, one) = app
            .call(Method::GET, "/api/v1/diagnoses/A09", Some(&nobody), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(one["name"], "Diarrhoea and gastroenteritis");
        let anonymous = app.call(Method::GET, "/api/v1/diagnoses", None, None).await;
        assert_eq!(anonymous.0, 401);
        let refused = app
            .call(
                Method::POST,
                "/api/v1/diagnoses",
                Some(&nobody),
                Some(json!({"code": "C00", "name": "x"})),
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        let uploader = app.user_with("uploader", &[131001], &[&tree.d1]).await;
        let (status, c00) = app
            .call(
                Method::POST,
                "/api/v1/diagnoses",
                Some(&uploader),
                Some(json!({"code": "C00", "name": "Lip cancer"})),
            )
            .await;
        assert_eq!(status, 201, "{c00}");
        let (status, _) = app
            .call(
                Method::PUT,
                "/api/v1/diagnoses/C00",
                Some(&uploader),
                Some(json!({"code": "C00", "name": "Malignant neoplasm of lip", "version": 1})),
            )
            .await;
        assert_eq!(status, 200);
        let dup = app
            .post("/api/v1/diagnoses", json!({"code": "C00", "name": "again"}))
            .await;
        assert_problem(app.engine, &dup, 409, "duplicate_code");
        let invalid = app
            .post(
                "/api/v1/diagnoses",
                json!({"code": "C0000000", "name": "x".repeat(256)}),
            )
            .await;
        assert_problem(app.engine, &invalid, 422, "validation_failed");
        assert_eq!(invalid.1["errors"].as_array().unwrap().len(), 2);
        let refused = app
            .call(
                Method::DELETE,
                "/api/v1/diagnoses/C00?version=2",
                Some(&nobody),
                None,
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        assert_eq!(
            app.call(
                Method::DELETE,
                "/api/v1/diagnoses/C00?version=2",
                Some(&uploader),
                None
            )
            .await
            .0,
            204
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM diagnoses WHERE deleted_at IS NULL")
                .await,
            3
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn price_lists_price_each_line_and_check_every_line() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let paracetamol = create(&app, "/api/v1/medical-items", item("I1", 1250)).await["id"].clone();
        let aspirin = create(&app, "/api/v1/medical-items", item("I2", 300)).await["id"].clone();
        let consultation = create(&app, "/api/v1/medical-services", service("S1", 5000)).await["id"].clone();
        let list = create(
            &app,
            "/api/v1/item-price-lists",
            json!({"name": "District 1 dispensaries", "location_id": tree.d1,
                   "lines": [{"item_id": paracetamol, "price_overrule": 1000}, {"item_id": aspirin, "price_overrule": null}]}),
        )
        .await;
        assert_eq!(list["location_id"], tree.d1.as_str());
        assert_eq!(
            list["lines"],
            json!([{"item_id": paracetamol, "price_overrule": 1000, "price": 1000},
                   {"item_id": aspirin, "price_overrule": null, "price": 300}])
        );
        // The price follows the register unless overruled.
        let (status, _) = app.put("/api/v1/medical-items/I2", with(with(item("I2", 350), "version", json!(1)), "name", json!("Aspirin"))).await;
        assert_eq!(status, 200);
        let (_, again) = app.get(&format!("/api/v1/item-price-lists/{}", list["id"].as_str().unwrap())).await;
        assert_eq!(again["lines"][1]["price"], 350);
        assert_eq!(again["lines"][0]["price"], 1000);

        let services = create(
            &app,
            "/api/v1/service-price-lists",
            json!({"name": "National services", "lines": [{"service_id": consultation}]}),
        )
        .await;
        assert_eq!(services["location_id"], Value::Null);
        assert_eq!(services["lines"], json!([{"service_id": consultation, "price_overrule": null, "price": 5000}]));

        let unknown = uuid::Uuid::now_v7();
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({"name": "x", "lines": [{"item_id": paracetamol}, {"item_id": unknown}]}), "lines[1].item_id", "not_found"),
            (json!({"name": "x", "lines": [{"item_id": consultation}]}), "lines[0].item_id", "not_found"),
            (json!({"name": "x", "lines": [{"item_id": paracetamol}, {"item_id": paracetamol}]}), "lines[1].item_id", "duplicate"),
            (json!({"name": "x", "lines": [{"item_id": paracetamol, "price_overrule": -1}]}), "lines[0].price_overrule", "negative"),
            (json!({"name": "", "lines": []}), "name", "required"),
            (json!({"name": "x".repeat(101)}), "name", "too_long"),
            (json!({"name": "x", "location_id": tree.v1}), "location_id", "wrong_level"),
            (json!({"name": "x", "location_id": unknown}), "location_id", "not_found"),
            (json!({"name": "x", "lines": [{"service_id": consultation}]}), "lines[0].service_id", "unknown_field"),
        ];
        for (body, field, code) in cases {
            let answer = app.post("/api/v1/item-price-lists", body.clone()).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{body}: {}", answer.1);
            assert_eq!(answer.1["errors"][0]["code"], code, "{body}: {}", answer.1);
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM item_pricelists").await, 1, "nothing written");

        // Duplicate under a new name, change the copy, then delete it.
        let path = format!("/api/v1/item-price-lists/{}", list["id"].as_str().unwrap());
        let copy = create(&app, &format!("{path}/duplicate"), json!({"name": "Copy"})).await;
        assert_eq!(copy["lines"].as_array().unwrap().len(), 2);
        assert_eq!(copy["location_id"], tree.d1.as_str());
        let copy_path = format!("/api/v1/item-price-lists/{}", copy["id"].as_str().unwrap());
        let (status, changed) = app
            .put(&copy_path, json!({"name": "Copy", "location_id": tree.region, "lines": [{"item_id": aspirin, "price_overrule": 0}], "version": 1}))
            .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["lines"], json!([{"item_id": aspirin, "price_overrule": 0, "price": 0}]));
        assert_problem(app.engine, &app.put(&copy_path, json!({"name": "Copy", "version": 1})).await, 409, "stale_version");
        // An item still in a price list cannot be deleted.
        assert_problem(app.engine, &app.delete("/api/v1/medical-items/I2?version=2").await, 409, "in_use");
        assert_eq!(app.delete(&format!("{copy_path}?version=2")).await.0, 204);
        assert_problem(app.engine, &app.delete("/api/v1/medical-items/I2?version=2").await, 409, "in_use");
        let (_, history) = app.get(&format!("/api/v1/audit?entity=item_pricelist&id={}", list["id"].as_str().unwrap())).await;
        assert_eq!(history["total"], 1, "{history}");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn price_lists_are_scoped_by_district() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let other_region = app.location("R9", "R", None).await;
        let i1 = create(&app, "/api/v1/medical-items", item("I1", 100)).await["id"].clone();
        for (name, location) in [
            ("National", Value::Null),
            ("Region", json!(tree.region)),
            ("D1 list", json!(tree.d1)),
            ("D2 list", json!(tree.d2)),
            ("Other region", json!(other_region)),
        ] {
            create(
                &app,
                "/api/v1/item-price-lists",
                json!({"name": name, "location_id": location, "lines": [{"item_id": i1}]}),
            )
            .await;
        }
        let clerk = app
            .user_with("plclerk", &[121301, 121302, 121303], &[&tree.d1])
            .await;
        let (status, list) = app
            .call(Method::GET, "/api/v1/item-price-lists", Some(&clerk), None)
            .await;
        assert_eq!(status, 200, "{list}");
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["D1 list", "National", "Region"]);
        let (_, all) = app.get("/api/v1/item-price-lists").await;
        assert_eq!(all["total"], 5);
        let d2_id = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "D2 list")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let national_id = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "National")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let hidden = app
            .call(
                Method::GET,
                &format!("/api/v1/item-price-lists/{d2_id}"),
                Some(&clerk),
                None,
            )
            .await;
        assert_problem(app.engine, &hidden, 404, "not_found");
        // Writing: own district yes; another district, the region (D2 not held) or national no.
        let inside = app
            .call(
                Method::POST,
                "/api/v1/item-price-lists",
                Some(&clerk),
                Some(json!({"name": "Mine", "location_id": tree.d1})),
            )
            .await;
        assert_eq!(inside.0, 201, "{}", inside.1);
        for location in [json!(tree.d2), json!(tree.region), Value::Null] {
            let outside = app
                .call(
                    Method::POST,
                    "/api/v1/item-price-lists",
                    Some(&clerk),
                    Some(json!({"name": "Theirs", "location_id": location})),
                )
                .await;
            assert_eq!(outside.0, 422, "{location}: {}", outside.1);
            assert_eq!(outside.1["errors"][0]["code"], "outside_districts");
        }
        let national = app
            .call(
                Method::PUT,
                &format!("/api/v1/item-price-lists/{national_id}"),
                Some(&clerk),
                Some(json!({"name": "Mine now", "version": 1})),
            )
            .await;
        assert_problem(app.engine, &national, 403, "outside_districts");
        let no_right = app
            .call(
                Method::DELETE,
                &format!(
                    "/api/v1/item-price-lists/{}?version=1",
                    inside.1["id"].as_str().unwrap()
                ),
                Some(&clerk),
                None,
            )
            .await;
        assert_problem(app.engine, &no_right, 403, "missing_right");
        // The history of a list outside the districts is as hidden as the list.
        let history = app
            .call(
                Method::GET,
                &format!("/api/v1/audit?entity=item_pricelist&id={d2_id}"),
                Some(&clerk),
                None,
            )
            .await;
        assert_eq!(history.0, 404, "{}", history.1);
        let services = app
            .call(
                Method::GET,
                "/api/v1/service-price-lists",
                Some(&clerk),
                None,
            )
            .await;
        assert_problem(app.engine, &services, 403, "missing_right");
        assert_eq!(app.count("SELECT COUNT(*) FROM item_pricelists").await, 6);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn every_list_exports_csv() {
    each_engine(|app| async move {
        let i1 = create(&app, "/api/v1/medical-items", item("I1", 1250)).await["id"].clone();
        let s1 = create(&app, "/api/v1/medical-services", service("S1", 5000)).await["id"].clone();
        create(
            &app,
            "/api/v1/diagnoses",
            json!({"code": "A09", "name": "Diarrhoea, gastroenteritis"}),
        )
        .await;
        create(
            &app,
            "/api/v1/item-price-lists",
            json!({"name": "Items", "lines": [{"item_id": i1, "price_overrule": 999}]}),
        )
        .await;
        create(
            &app,
            "/api/v1/service-price-lists",
            json!({"name": "Services", "lines": [{"service_id": s1}]}),
        )
        .await;
        for (path, header, row) in [
            (
                "/api/v1/diagnoses",
                "id,code,name,version",
                "A09,\"Diarrhoea, gastroenteritis\",1",
            ),
            (
                "/api/v1/medical-items",
                "id,code,name,type,package,price",
                "I1,Paracetamol 500mg,D,tablet,1250,",
            ),
            (
                "/api/v1/medical-services",
                "id,code,name,category,type,level",
                "S1,General consultation,C,C,S,S,false,5000,",
            ),
            (
                "/api/v1/item-price-lists",
                "id,name,location_id,lines,version",
                &format!("Items,,{}:999:999,1", i1.as_str().unwrap()),
            ),
            (
                "/api/v1/service-price-lists",
                "id,name,location_id,lines,version",
                &format!("Services,,{}:5000,1", s1.as_str().unwrap()),
            ),
        ] {
            let response = app
                .client
                .get(format!("{}{path}?format=csv", app.base))
                .bearer_auth(&app.token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "text/csv; charset=utf-8"
            );
            let text = response.text().await.unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{path}: {text}");
            assert!(lines[0].starts_with(header), "{path}: {text}");
            assert!(lines[1].contains(row), "{path}: {text}");
        }
        let (_, doc) = app.get("/api/openapi.json").await;
        for path in [
            "/api/v1/diagnoses/{id}",
            "/api/v1/medical-items",
            "/api/v1/medical-services/{id}",
            "/api/v1/item-price-lists/{id}/duplicate",
            "/api/v1/service-price-lists/{id}",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
        app.finish().await;
    })
    .await;
}

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
async fn the_demo_registers_and_price_lists_import_completely_and_once() {
    each_engine(|app| async move {
        let first = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        assert_eq!(first.skipped(), 0, "{}", first.table());
        for (table, sql) in [
            ("tblICDCodes", "SELECT COUNT(*) FROM diagnoses WHERE deleted_at IS NULL"),
            ("tblItems", "SELECT COUNT(*) FROM medical_items WHERE deleted_at IS NULL"),
            ("tblServices", "SELECT COUNT(*) FROM medical_services WHERE deleted_at IS NULL"),
            ("tblPLItems", "SELECT COUNT(*) FROM item_pricelists WHERE deleted_at IS NULL"),
            ("tblPLServices", "SELECT COUNT(*) FROM service_pricelists WHERE deleted_at IS NULL"),
            ("tblPLItemsDetail", "SELECT COUNT(*) FROM item_pricelist_lines"),
            ("tblPLServicesDetail", "SELECT COUNT(*) FROM service_pricelist_lines"),
        ] {
            let expected = current_rows(table);
            let counts = first.count(table).unwrap();
            assert_eq!(counts.imported, expected, "{table}: {}", first.table());
            assert_eq!(counts.history, counts.read - expected, "{table}");
            assert_eq!(app.count(sql).await as u64, expected, "{table}");
        }
        let hf = current_rows("tblHF");
        let linked = first.count("tblHF price lists").unwrap();
        assert_eq!(linked.imported, hf, "every current facility has its price lists: {}", first.table());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM health_facilities WHERE items_pricelist_id IS NOT NULL AND services_pricelist_id IS NOT NULL").await as u64,
            hf
        );
        // Exact prices, kept UUIDs, the hospital's lists.
        let (_, adrenaline) = app.get("/api/v1/medical-items/0002").await;
        assert_eq!(adrenaline["id"], "66abfdf1-e537-4362-a435-cb15ab14f644");
        assert_eq!(adrenaline["price"], 100_000, "1000.00 is 100000 minor units");
        let (_, cerclage) = app.get("/api/v1/medical-services/M1").await;
        assert_eq!((cerclage["price"].as_i64(), cerclage["patient_category"].as_i64()), (Some(2_100_000), Some(14)));
        assert_eq!(cerclage["category"], "S");
        let (_, hospital) = app.get("/api/v1/health-facilities/JMHOS001").await;
        let items_list = hospital["items_pricelist_id"].as_str().unwrap().to_string();
        let (status, list) = app.get(&format!("/api/v1/item-price-lists/{items_list}")).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["lines"].as_array().unwrap().len(), 257);
        // No demo line is overruled: each line's price is its item's register price.
        let first_line = &list["lines"][0];
        assert_eq!(first_line["price_overrule"], Value::Null);
        let (_, first_item) = app.get(&format!("/api/v1/medical-items/{}", first_line["item_id"].as_str().unwrap())).await;
        assert_eq!(first_line["price"], first_item["price"]);
        let (_, diagnosis) = app.get("/api/v1/diagnoses/A080").await;
        assert_eq!(diagnosis["name"], "Rotaviral enteritis");
        let audit_after_first = app.count("SELECT COUNT(*) FROM audit_log").await;

        let second = run(&app.db, &demo_dir(), Progress::Hidden).await.unwrap();
        assert_eq!(second.skipped(), 0, "{}", second.table());
        assert!(second.tables.iter().all(|t| t.imported == 0), "{}", second.table());
        for table in ["tblICDCodes", "tblItems", "tblPLItemsDetail", "tblHF price lists"] {
            let c = second.count(table).unwrap();
            assert_eq!(c.unchanged, first.count(table).unwrap().imported, "{table}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_after_first, "the second run changed nothing");
        assert!(matches!(kernel::audit::verify(&app.db).await.unwrap(), kernel::audit::Verdict::Intact { .. }));
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn broken_register_rows_are_skipped_with_their_line() {
    each_engine(|app| async move {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tblItems.csv"),
            "ItemID,ItemUUID,LegacyID,Quantity,ItemCode,ItemName,ItemType,ItemPackage,ItemPrice,ItemCareType,ItemFrequency,ItemPatCat,ValidityFrom,ValidityTo,AuditUserID,RowID,MaximumAmount\n\
             1,71efb78b-64ee-4a68-be29-87daf566eb20,,,0001,Aspirin,D,100 TABS,12.50,O,0,15,2017-01-01 00:00:00+00,,1,,\n\
             2,71efb78b-64ee-4a68-be29-87daf566eb21,,,0002,Bad type,X,,1.00,O,0,15,2017-01-01 00:00:00+00,,1,,\n\
             3,71efb78b-64ee-4a68-be29-87daf566eb22,,,0003,Bad price,D,,12.505,O,0,15,2017-01-01 00:00:00+00,,1,,\n\
             4,71efb78b-64ee-4a68-be29-87daf566eb23,,,0004,Bad category,D,,1.00,O,0,31,2017-01-01 00:00:00+00,,1,,\n\
             5,71efb78b-64ee-4a68-be29-87daf566eb24,1,,0001,Old aspirin,D,,10.00,O,0,15,2016-01-01 00:00:00+00,2016-12-31 00:00:00+00,1,,\n\
             6,71efb78b-64ee-4a68-be29-87daf566eb25,,,0001,Same code,D,,1.00,O,0,15,2017-01-01 00:00:00+00,,1,,\n",
        )
        .unwrap();
        let report = run(&app.db, dir.path(), Progress::Hidden).await.unwrap();
        let c = report.count("tblItems").unwrap();
        assert_eq!((c.read, c.imported, c.history, c.skipped), (6, 1, 1, 4), "{}", report.table());
        let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 7], "{}", report.table());
        assert!(report.problems[0].reason.contains("ItemType"), "{:?}", report.problems[0]);
        assert!(report.problems[1].reason.contains("two decimals"), "{:?}", report.problems[1]);
        assert!(report.problems[2].reason.contains("patient_category"), "{:?}", report.problems[2]);
        assert!(report.problems[3].reason.contains("already used"), "{:?}", report.problems[3]);
        let (_, aspirin) = app.get("/api/v1/medical-items/0001").await;
        assert_eq!(aspirin["price"], 1250);

        // Price-list lines: an unknown item, an inexact overrule and a repeated line are skipped.
        std::fs::write(
            dir.path().join("tblPLItems.csv"),
            "PLItemID,PLItemUUID,PLItemName,DatePL,ValidityFrom,ValidityTo,LegacyID,AuditUserID,LocationId,RowID\n\
             1,e67f942f-cfe9-498d-b6f3-0e9ec5cf8433,National list,2018-01-01,2017-01-01 00:00:00+00,,,0,,\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("tblPLItemsDetail.csv"),
            "PLItemDetailID,PriceOverule,ValidityFrom,ValidityTo,LegacyID,AuditUserID,ItemID,PLItemID,RowID\n\
             1,7.50,2018-03-20 00:35:11.59+00,,,2,1,1,\n\
             2,,2018-03-20 00:35:11.59+00,,,2,99,1,\n\
             3,1.005,2018-03-20 00:35:11.59+00,,,2,1,1,\n\
             4,,2018-03-20 00:35:11.59+00,,,2,1,1,\n",
        )
        .unwrap();
        let report = run(&app.db, dir.path(), Progress::Hidden).await.unwrap();
        let c = report.count("tblPLItemsDetail").unwrap();
        assert_eq!((c.read, c.imported, c.skipped), (4, 1, 3), "{}", report.table());
        let lines: Vec<u64> = report
            .problems
            .iter()
            .filter(|p| p.file == "tblPLItemsDetail.csv")
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, vec![3, 4, 5], "{}", report.table());
        let (_, list) = app.get("/api/v1/item-price-lists/e67f942f-cfe9-498d-b6f3-0e9ec5cf8433").await;
        assert_eq!(
            list["lines"],
            json!([{"item_id": "71efb78b-64ee-4a68-be29-87daf566eb20", "price_overrule": 750, "price": 750}])
        );
        app.finish().await;
    })
    .await;
}
