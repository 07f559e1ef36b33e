//! Locations: hierarchy, codes, versions, paging, filters, scope.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn the_hierarchy_is_enforced() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let cases = [
            (json!({"code": "X1", "name": "x", "type": "D"}), "required"),
            (
                json!({"code": "X1", "name": "x", "type": "R", "parent_id": tree.region}),
                "wrong_level",
            ),
            (
                json!({"code": "X1", "name": "x", "type": "V", "parent_id": tree.d1}),
                "wrong_level",
            ),
            (
                json!({"code": "X1", "name": "x", "type": "W", "parent_id": tree.v1}),
                "wrong_level",
            ),
            (
                json!({"code": "X1", "name": "x", "type": "W", "parent_id": uuid::Uuid::now_v7()}),
                "not_found",
            ),
        ];
        let before = app.count("SELECT COUNT(*) FROM locations").await;
        for (body, code) in cases {
            let answer = app.post("/api/v1/locations", body.clone()).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), "parent_id", "{body}");
            assert_eq!(answer.1["errors"][0]["code"], code, "{body}: {}", answer.1);
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM locations").await,
            before,
            "nothing written"
        );
        let (_, village) = app.get(&format!("/api/v1/locations/{}", tree.v1)).await;
        assert_eq!(village["district_id"], tree.d1.as_str());
        assert_eq!(village["type"], "V");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn codes_are_unique_among_current_rows() {
    each_engine(|app| async move {
        let region = app.location("R1", "R", None).await;
        let before = app.count("SELECT COUNT(*) FROM audit_log").await;
        let again = app
            .post(
                "/api/v1/locations",
                json!({"code": "R1", "name": "Other", "type": "R"}),
            )
            .await;
        assert_problem(app.engine, &again, 409, "duplicate_code");
        assert_eq!(app.count("SELECT COUNT(*) FROM locations").await, 1);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log").await,
            before,
            "no audit for a refused write"
        );
        // By code as well as by id.
        let (status, by_code) = app.get("/api/v1/locations/R1").await;
        assert_eq!(status, 200);
        assert_eq!(by_code["id"], region.as_str());
        // A deleted location's code can be used again.
        let (status, _) = app
            .delete(&format!("/api/v1/locations/{region}?version=1"))
            .await;
        assert_eq!(status, 204);
        assert_problem(
            app.engine,
            &app.get(&format!("/api/v1/locations/{region}")).await,
            404,
            "not_found",
        );
        app.location("R1", "R", None).await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn stale_versions_are_refused() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let path = format!("/api/v1/locations/{}", tree.d1);
        let change = |name: &str, version: i64| {
            json!({"code": "D1", "name": name, "type": "D", "parent_id": tree.region, "male_population": 10,
                   "female_population": 12, "other_population": 1, "families": 5, "version": version})
        };
        let (status, first) = app.put(&path, change("First", 1)).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["version"], 2);
        assert_eq!(first["families"], 5);
        let stale = app.put(&path, change("Second", 1)).await;
        assert_problem(app.engine, &stale, 409, "stale_version");
        let (_, now) = app.get(&path).await;
        assert_eq!(now["name"], "First", "the stale write changed nothing");
        let missing = app.put(&path, json!({"code": "D1", "name": "x", "type": "D", "parent_id": tree.region})).await;
        assert_eq!(first_field(&missing.1), "version");
        let retype = app.put(&path, json!({"code": "D1", "name": "x", "type": "W", "parent_id": tree.region, "version": 2})).await;
        assert_eq!(first_field(&retype.1), "type");
        let stale_delete = app.delete(&format!("/api/v1/locations/{}?version=7", tree.v1)).await;
        assert_problem(app.engine, &stale_delete, 409, "stale_version");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn moving_a_ward_moves_its_villages() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let moved = app
            .put(&format!("/api/v1/locations/{}", tree.w1), json!({"code": "W1", "name": "W1", "type": "W", "parent_id": tree.d2, "version": 1}))
            .await;
        assert_eq!(moved.0, 200, "{}", moved.1);
        assert_eq!(moved.1["district_id"], tree.d2.as_str());
        let (_, village) = app.get(&format!("/api/v1/locations/{}", tree.v1)).await;
        assert_eq!(village["district_id"], tree.d2.as_str(), "the village follows its ward");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn locations_in_use_cannot_be_deleted() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let refused = app
            .delete(&format!("/api/v1/locations/{}?version=1", tree.w1))
            .await;
        assert_problem(app.engine, &refused, 409, "in_use");
        assert_eq!(
            app.delete(&format!("/api/v1/locations/{}?version=1", tree.v1))
                .await
                .0,
            204
        );
        assert_eq!(
            app.delete(&format!("/api/v1/locations/{}?version=1", tree.w1))
                .await
                .0,
            204
        );
        let no_version = app.delete(&format!("/api/v1/locations/{}", tree.w2)).await;
        assert_eq!(first_field(&no_version.1), "version");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn lists_page_and_filter() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let (_, page) = app.get("/api/v1/locations?per_page=3&page=2").await;
        assert_eq!(page["total"], 7);
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        assert_eq!(page["page"], 2);
        let (_, clamped) = app.get("/api/v1/locations?per_page=1000").await;
        assert_eq!(clamped["per_page"], 100);
        let (_, districts) = app.get("/api/v1/locations?type=D").await;
        assert_eq!(districts["total"], 2);
        let (_, children) = app
            .get(&format!("/api/v1/locations?parent_id={}", tree.d1))
            .await;
        assert_eq!(children["items"][0]["code"], "W1");
        assert_eq!(children["total"], 1);
        let (_, in_district) = app
            .get(&format!("/api/v1/locations?district_id={}", tree.d2))
            .await;
        assert_eq!(in_district["total"], 3, "D2, W2, V2");
        let (_, by_code) = app.get("/api/v1/locations?code=w").await;
        assert_eq!(by_code["total"], 2);
        let (_, by_name) = app.get("/api/v1/locations?name=V2%20NA").await;
        assert_eq!(by_name["total"], 1);
        let (_, wildcard) = app.get("/api/v1/locations?name=%25").await;
        assert_eq!(
            wildcard["total"], 0,
            "a % typed by the user is not a wildcard"
        );
        let bad = app.get("/api/v1/locations?type=Q").await;
        assert_problem(app.engine, &bad, 422, "validation_failed");
        assert_eq!(first_field(&bad.1), "type");
        let bad_page = app.get("/api/v1/locations?page=abc").await;
        assert_eq!(bad_page.0, 422);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn district_users_see_only_their_districts() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let clerk = app
            .user_with("d1clerk", &[121901, 121902, 121903], &[&tree.d1])
            .await;
        let get = |path: String| {
            let app = &app;
            let clerk = clerk.clone();
            async move { app.call(Method::GET, &path, Some(&clerk), None).await }
        };
        let (_, list) = get("/api/v1/locations".into()).await;
        let codes: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            vec!["D1", "V1", "W1"],
            "the region is hidden: D2 is not held"
        );
        assert_problem(
            app.engine,
            &get(format!("/api/v1/locations/{}", tree.d2)).await,
            404,
            "not_found",
        );
        // Writing outside the districts is refused; inside is allowed.
        let outside = app
            .call(
                Method::POST,
                "/api/v1/locations",
                Some(&clerk),
                Some(json!({"code": "V9", "name": "v", "type": "V", "parent_id": tree.w2})),
            )
            .await;
        assert_eq!(outside.0, 422, "{}", outside.1);
        assert_eq!(outside.1["errors"][0]["code"], "not_found");
        let inside = app
            .call(
                Method::POST,
                "/api/v1/locations",
                Some(&clerk),
                Some(json!({"code": "V8", "name": "v", "type": "V", "parent_id": tree.w1})),
            )
            .await;
        assert_eq!(inside.0, 201, "{}", inside.1);
        // Deleting needs a right the clerk lacks.
        let refused = app
            .call(
                Method::DELETE,
                &format!(
                    "/api/v1/locations/{}?version=1",
                    inside.1["id"].as_str().unwrap()
                ),
                Some(&clerk),
                None,
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        // Holding every district of the region shows the region too.
        let both = app
            .user_with("both", &[121901], &[&tree.d1, &tree.d2])
            .await;
        let (_, list) = app
            .call(Method::GET, "/api/v1/locations?type=R", Some(&both), None)
            .await;
        assert_eq!(list["total"], 1);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_all_succeed_and_the_chain_verifies() {
    each_engine(|app| async move {
        let region = app.location("R", "R", None).await;
        let writers = (0..8).map(|w| {
            let app = &app;
            let region = region.clone();
            async move {
                for i in 0..25 {
                    let (status, body) = app.post("/api/v1/locations", json!({"code": format!("C{w}x{i}"), "name": "d", "type": "D", "parent_id": region})).await;
                    assert_eq!(status, 201, "[{:?}] {body}", app.engine);
                }
            }
        });
        futures::future::join_all(writers).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM locations").await, 201);
        match kernel::audit::verify(&app.db).await.unwrap() {
            kernel::audit::Verdict::Intact { records } => assert!(records >= 202, "{records}"),
            broken => panic!("{broken:?}"),
        }
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn csv_exports_every_matching_row() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        // More rows than one export chunk, written straight to the store.
        let mut tx = app.db.begin().await.unwrap();
        let ward = uuid::Uuid::parse_str(&tree.w1).unwrap();
        let district = uuid::Uuid::parse_str(&tree.d1).unwrap();
        for i in 0..1050 {
            let now = kernel::audit::now_micros();
            let village = location::model::Location {
                id: uuid::Uuid::now_v7(),
                code: format!("X{i:04}"),
                name: format!("Village {i}"),
                kind: location::model::LocationType::Village,
                parent_id: Some(ward),
                district_id: Some(district),
                male_population: Some(i),
                female_population: None,
                other_population: None,
                families: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            location::store::insert_location(&mut tx, &village)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let response = app
            .client
            .get(format!(
                "{}/api/v1/locations?format=csv&per_page=2&type=V",
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
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            1 + 2 + 1050,
            "header, V1, V2 and the generated villages"
        );
        assert!(lines[0].starts_with("id,code,name,type,parent_id"));
        assert!(lines.iter().any(|l| l.contains(",X1049,Village 1049,V,")));
        // A refusal is still a problem response, not a broken download.
        let clerk = app.user_with("nobody", &[121101], &[&tree.d1]).await;
        let refused = app
            .call(
                Method::GET,
                "/api/v1/locations?format=csv",
                Some(&clerk),
                None,
            )
            .await;
        assert_problem(app.engine, &refused, 403, "missing_right");
        let (status, _) = app.get("/api/v1/health-facilities?format=csv").await;
        assert_eq!(status, 200);
        let bad = app.get("/api/v1/locations?format=xml").await;
        assert_eq!(first_field(&bad.1), "format");
        app.finish().await;
    })
    .await;
}
