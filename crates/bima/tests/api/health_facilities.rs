//! Health facilities: every field, catchments, codes, scope.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

fn facility(code: &str, district: &str, catchments: Value) -> Value {
    json!({
        "code": code, "name": "Jambero District Hospital", "acc_code": "DL0002", "legal_form": "G", "level": "H",
        "sub_level": "R", "location_id": district, "address": "Lantern Road 21", "phone": "+255 1", "fax": null,
        "email": "hospital@example.org", "care_type": "B", "offline": false, "contract_start_date": "2026-01-01",
        "contract_end_date": "2027-12-31", "status": "active", "catchments": catchments
    })
}

#[tokio::test]
async fn facilities_keep_every_field() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let (status, hf) = app
            .post("/api/v1/health-facilities", facility("HF1", &tree.d1, json!([{"location_id": tree.v1, "catchment": 60}, {"location_id": tree.v2, "catchment": 40}])))
            .await;
        assert_eq!(status, 201, "{hf}");
        assert_eq!(hf["legal_form"], "G");
        assert_eq!(hf["level"], "H");
        assert_eq!(hf["sub_level"], "R");
        assert_eq!(hf["care_type"], "B");
        assert_eq!(hf["status"], "active");
        assert_eq!(hf["contract_end_date"], "2027-12-31");
        assert_eq!(hf["catchments"].as_array().unwrap().len(), 2);
        let (_, by_code) = app.get("/api/v1/health-facilities/HF1").await;
        assert_eq!(by_code["id"], hf["id"]);
        assert_eq!(by_code["catchments"], hf["catchments"]);

        let mut change = facility("HF1", &tree.d1, json!([{"location_id": tree.v1, "catchment": 100}]));
        change["status"] = json!("delisted");
        change["version"] = json!(1);
        let (status, changed) = app.put("/api/v1/health-facilities/HF1", change).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["status"], "delisted");
        assert_eq!(changed["catchments"], json!([{"location_id": tree.v1, "catchment": 100}]));

        let (_, list) = app.get(&format!("/api/v1/health-facilities?district_id={}&level=H", tree.d1)).await;
        assert_eq!(list["total"], 1);
        let (_, none) = app.get("/api/v1/health-facilities?level=D").await;
        assert_eq!(none["total"], 0);
        let (_, by_region) = app.get(&format!("/api/v1/health-facilities?region_id={}", tree.region)).await;
        assert_eq!(by_region["total"], 1);

        let used = app.delete(&format!("/api/v1/locations/{}?version=1", tree.v1)).await;
        assert_problem(app.engine, &used, 409, "in_use");
        assert_eq!(app.delete("/api/v1/health-facilities/HF1?version=2").await.0, 204);
        assert_eq!(app.delete(&format!("/api/v1/locations/{}?version=1", tree.v1)).await.0, 204);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_facilities_name_the_field_and_write_nothing() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let cases: Vec<(Value, &str)> = vec![
            (facility("HF1", &tree.d1, json!([{"location_id": tree.v1, "catchment": 101}])), "catchments[0].catchment"),
            (facility("HF1", &tree.d1, json!([{"location_id": tree.w1, "catchment": 10}])), "catchments[0].location_id"),
            (facility("HF1", &tree.d1, json!([{"location_id": tree.v1, "catchment": 10}, {"location_id": tree.v1, "catchment": 10}])), "catchments[1].location_id"),
            (facility("HF1", &tree.v1, json!([])), "location_id"),
            (facility("HF-TOO-LONG", &tree.d1, json!([])), "code"),
            ({ let mut f = facility("HF1", &tree.d1, json!([])); f["legal_form"] = json!("X"); f }, "legal_form"),
            ({ let mut f = facility("HF1", &tree.d1, json!([])); f["care_type"] = json!(1); f }, "care_type"),
            ({ let mut f = facility("HF1", &tree.d1, json!([])); f["contract_end_date"] = json!("2025-01-01"); f }, "contract_end_date"),
            ({ let mut f = facility("HF1", &tree.d1, json!([])); f["contract_start_date"] = json!("01/01/2026"); f }, "contract_start_date"),
            ({ let mut f = facility("HF1", &tree.d1, json!([])); f["email"] = json!("no-at-sign"); f }, "email"),
            ({ let mut f = facility("HF1", &tree.d1, json!([])); f["colour"] = json!("blue"); f }, "colour"),
        ];
        for (body, field) in cases {
            let answer = app.post("/api/v1/health-facilities", body).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{}", answer.1);
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM health_facilities").await, 0);
        assert_eq!(app.post("/api/v1/health-facilities", facility("HF1", &tree.d1, json!([]))).await.0, 201);
        let dup = app.post("/api/v1/health-facilities", facility("HF1", &tree.d2, json!([]))).await;
        assert_problem(app.engine, &dup, 409, "duplicate_code");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn facilities_are_scoped_by_district() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        assert_eq!(
            app.post(
                "/api/v1/health-facilities",
                facility("HF1", &tree.d1, json!([]))
            )
            .await
            .0,
            201
        );
        assert_eq!(
            app.post(
                "/api/v1/health-facilities",
                facility("HF2", &tree.d2, json!([]))
            )
            .await
            .0,
            201
        );
        let officer = app
            .user_with("hfofficer", &[121101, 121102], &[&tree.d1])
            .await;
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/health-facilities",
                Some(&officer),
                None,
            )
            .await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["code"], "HF1");
        assert_problem(
            app.engine,
            &app.call(
                Method::GET,
                "/api/v1/health-facilities/HF2",
                Some(&officer),
                None,
            )
            .await,
            404,
            "not_found",
        );
        let outside = app
            .call(
                Method::POST,
                "/api/v1/health-facilities",
                Some(&officer),
                Some(facility("HF3", &tree.d2, json!([]))),
            )
            .await;
        assert_eq!(outside.0, 422, "{}", outside.1);
        assert_eq!(outside.1["errors"][0]["code"], "outside_districts");
        let no_right = app
            .call(
                Method::PUT,
                "/api/v1/health-facilities/HF1",
                Some(&officer),
                Some(facility("HF1", &tree.d1, json!([]))),
            )
            .await;
        assert_problem(app.engine, &no_right, 403, "missing_right");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_facility_names_only_price_lists_that_exist() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let mut body = facility("HF1", &tree.d1, json!([]));
        body["items_pricelist_id"] = json!(uuid::Uuid::now_v7());
        body["services_pricelist_id"] = json!(uuid::Uuid::now_v7());
        let refused = app.post("/api/v1/health-facilities", body.clone()).await;
        assert_problem(app.engine, &refused, 422, "validation_failed");
        let fields: Vec<&str> = refused.1["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, vec!["items_pricelist_id", "services_pricelist_id"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM health_facilities").await, 0);
        let (status, items) = app
            .post(
                "/api/v1/item-price-lists",
                json!({"name": "Items", "lines": []}),
            )
            .await;
        assert_eq!(status, 201, "{items}");
        let (status, services) = app
            .post(
                "/api/v1/service-price-lists",
                json!({"name": "Services", "lines": []}),
            )
            .await;
        assert_eq!(status, 201, "{services}");
        body["items_pricelist_id"] = items["id"].clone();
        body["services_pricelist_id"] = services["id"].clone();
        let (status, hf) = app.post("/api/v1/health-facilities", body).await;
        assert_eq!(status, 201, "{hf}");
        assert_eq!(hf["items_pricelist_id"], items["id"]);
        app.finish().await;
    })
    .await;
}
