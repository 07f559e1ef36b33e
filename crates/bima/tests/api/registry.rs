//! Families and insurees: heads, members, moves, deletes, photos, search, scope, import.

use crate::auth::demo_dir;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub(crate) fn person(chfid: &str, last: &str, other: &str) -> Value {
    json!({"chfid": chfid, "last_name": last, "other_names": other, "gender": "M", "dob": "1980-01-13"})
}

pub(crate) fn family(village: &str, head: Value) -> Value {
    json!({"location_id": village, "poverty": true, "family_type": "H", "address": "Ranchou road 21",
           "ethnicity": "A", "confirmation_no": "PC-12", "confirmation_type": "B", "head": head})
}

/// Create a family; panics unless 201. Returns the family.
pub(crate) async fn new_family(app: &TestApp, village: &str, chfid: &str, last: &str) -> Value {
    let (status, body) = app
        .post(
            "/api/v1/families",
            family(village, person(chfid, last, "Head")),
        )
        .await;
    assert_eq!(status, 201, "[{:?}] {body}", app.engine);
    body
}

/// Add a member; panics unless 201.
async fn new_member(app: &TestApp, family_id: &Value, chfid: &str, last: &str) -> Value {
    let mut body = person(chfid, last, "Member");
    body["family_id"] = family_id.clone();
    let (status, member) = app.post("/api/v1/insurees", body).await;
    assert_eq!(status, 201, "[{:?}] {member}", app.engine);
    member
}

#[tokio::test]
async fn a_family_is_created_with_its_head_and_keeps_every_field() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let (_, hf) = app
            .post(
                "/api/v1/health-facilities",
                json!({"code": "HF1", "name": "Dispensary", "legal_form": "G", "level": "D",
                "location_id": tree.d1, "care_type": "B"}),
            )
            .await;
        let mut head = person("070707070", "Macintyre", "Joseph");
        for (k, v) in [
            ("gender", json!("M")),
            ("dob", json!("1950-07-12")),
            ("marital", json!("M")),
            ("relationship", json!(8)),
            ("profession", json!(2)),
            ("education", json!(4)),
            ("passport", json!("AB123")),
            ("type_of_id", json!("N")),
            ("phone", json!("+255 1")),
            ("email", json!("jm@example.org")),
            ("current_address", json!("Lantern road")),
            ("current_village_id", json!(tree.v2)),
            ("health_facility_id", hf["id"].clone()),
            ("card_issued", json!(true)),
        ] {
            head[k] = v;
        }
        let (status, created) = app.post("/api/v1/families", family(&tree.v1, head)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["district_id"], json!(tree.d1));
        assert_eq!(created["location_id"], json!(tree.v1));
        assert_eq!(created["family_type"], "H");
        assert_eq!(created["confirmation_type"], "B");
        assert_eq!(created["poverty"], true);
        assert_eq!(created["head_chfid"], "070707070");
        let members = created["members"].as_array().unwrap();
        assert_eq!(members.len(), 1);
        let head = &members[0];
        assert_eq!(created["head_insuree_id"], head["id"]);
        assert_eq!(head["head"], true);
        assert_eq!(head["district_id"], json!(tree.d1));
        assert_eq!(head["family_id"], created["id"]);
        assert_eq!(head["status"], "active");
        assert_eq!(head["relationship"], 8);
        assert_eq!(head["type_of_id"], "N");
        assert_eq!(head["current_village_id"], json!(tree.v2));
        assert_eq!(head["health_facility_id"], hf["id"]);
        assert_eq!(head["card_issued"], true);

        // By CHFID and by UUID, with the family and (for now) no policies, in one read.
        let (status, by_chfid) = app.get("/api/v1/insurees/070707070").await;
        assert_eq!(status, 200, "{by_chfid}");
        assert_eq!(by_chfid["id"], head["id"]);
        assert_eq!(by_chfid["family"]["id"], created["id"]);
        assert_eq!(by_chfid["family"]["head_chfid"], "070707070");
        assert_eq!(by_chfid["policies"], json!([]));
        let (_, by_id) = app
            .get(&format!(
                "/api/v1/insurees/{}",
                head["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(by_id["chfid"], "070707070");
        let (_, fam) = app
            .get(&format!(
                "/api/v1/families/{}",
                created["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(fam["members"].as_array().unwrap().len(), 1);

        // Change the head's details.
        let mut change = person("070707070", "Macintyre", "Joseph Jr");
        change["status"] = json!("dead");
        change["status_date"] = json!("2026-01-02");
        change["status_reason"] = json!("DE");
        change["version"] = json!(1);
        let (status, changed) = app.put("/api/v1/insurees/070707070", change.clone()).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["other_names"], "Joseph Jr");
        assert_eq!(changed["status"], "dead");
        assert_eq!(changed["status_date"], "2026-01-02");
        assert_eq!(changed["version"], 2);
        assert_problem(
            app.engine,
            &app.put("/api/v1/insurees/070707070", change).await,
            409,
            "stale_version",
        );

        // The family moves to a village of another district: its members follow.
        let fid = created["id"].as_str().unwrap().to_string();
        let mut moved = family(&tree.v2, Value::Null);
        moved.as_object_mut().unwrap().remove("head");
        moved["version"] = json!(1);
        moved["family_type"] = json!("T");
        let (status, moved) = app.put(&format!("/api/v1/families/{fid}"), moved).await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["district_id"], json!(tree.d2));
        assert_eq!(moved["family_type"], "T");
        assert_eq!(moved["members"][0]["district_id"], json!(tree.d2));

        let (_, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
        for path in [
            "/api/v1/families",
            "/api/v1/families/{id}",
            "/api/v1/families/{id}/head",
            "/api/v1/insurees",
            "/api/v1/insurees/{id}",
            "/api/v1/insurees/{id}/move",
            "/api/v1/insurees/{id}/photo",
        ] {
            assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
        }

        // Every write is in the audit trail.
        let (_, history) = app
            .get(&format!("/api/v1/audit?entity=family&id={fid}"))
            .await;
        assert_eq!(history["total"], 2, "{history}");
        let (_, history) = app
            .get(&format!(
                "/api/v1/audit?entity=insuree&id={}",
                head["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(history["total"], 2, "{history}");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn members_join_move_and_take_over_as_head() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let a = new_family(&app, &tree.v1, "100000001", "Yellow").await;
        let b = new_family(&app, &tree.v2, "200000001", "Green").await;
        let member = new_member(&app, &a["id"], "100000002", "Yellow").await;
        assert_eq!(member["head"], false);
        assert_eq!(member["district_id"], json!(tree.d1));
        let head_a = a["head_insuree_id"].as_str().unwrap().to_string();
        let (aid, bid) = (
            a["id"].as_str().unwrap().to_string(),
            b["id"].as_str().unwrap().to_string(),
        );

        // The head cannot leave before another head is named.
        let refused = app
            .post(
                &format!("/api/v1/insurees/{head_a}/move"),
                json!({"family_id": bid}),
            )
            .await;
        assert_problem(app.engine, &refused, 409, "head_of_family");
        assert!(
            refused.1["detail"]
                .as_str()
                .unwrap()
                .contains("name another head first")
        );
        let same = app
            .post("/api/v1/insurees/100000002/move", json!({"family_id": aid}))
            .await;
        assert_problem(app.engine, &same, 422, "validation_failed");
        assert_eq!(first_field(&same.1), "family_id");

        // A head from another family cannot be named; a member can.
        let outsider = app
            .post(
                &format!("/api/v1/families/{aid}/head"),
                json!({"insuree_id": b["head_insuree_id"]}),
            )
            .await;
        assert_problem(app.engine, &outsider, 422, "validation_failed");
        assert_eq!(first_field(&outsider.1), "insuree_id");
        let (status, a2) = app
            .post(
                &format!("/api/v1/families/{aid}/head"),
                json!({"insuree_id": member["id"], "version": 1}),
            )
            .await;
        assert_eq!(status, 200, "{a2}");
        assert_eq!(a2["head_insuree_id"], member["id"]);
        assert_eq!(a2["head_chfid"], "100000002");
        assert_eq!(a2["version"], 2);
        assert_eq!(a2["members"][0]["id"], member["id"], "head first");
        assert_eq!(a2["members"][0]["head"], true);
        assert_eq!(a2["members"][1]["head"], false);
        let stale = app
            .post(
                &format!("/api/v1/families/{aid}/head"),
                json!({"insuree_id": head_a, "version": 1}),
            )
            .await;
        assert_problem(app.engine, &stale, 409, "stale_version");

        // Now the former head moves to family B, in district D2.
        let (status, moved) = app
            .post(
                &format!("/api/v1/insurees/{head_a}/move"),
                json!({"family_id": bid}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["family_id"], json!(bid));
        assert_eq!(moved["district_id"], json!(tree.d2));
        assert_eq!(moved["head"], false);
        let (_, list) = app.get(&format!("/api/v1/insurees?family_id={bid}")).await;
        assert_eq!(list["total"], 2);
        let (_, list) = app
            .get(&format!("/api/v1/insurees?district_id={}", tree.d1))
            .await;
        assert_eq!(list["total"], 1);

        // Missing family.
        let mut orphan = person("300000001", "Blue", "X");
        orphan["family_id"] = json!("0190b3a0-0000-7000-8000-000000000000");
        let missing = app.post("/api/v1/insurees", orphan).await;
        assert_problem(app.engine, &missing, 422, "validation_failed");
        assert_eq!(first_field(&missing.1), "family_id");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn deleting_a_family_deletes_or_detaches_its_members() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let a = new_family(&app, &tree.v1, "100000001", "Yellow").await;
        new_member(&app, &a["id"], "100000002", "Yellow").await;
        let b = new_family(&app, &tree.v1, "200000001", "Green").await;
        new_member(&app, &b["id"], "200000002", "Green").await;
        let (aid, bid) = (
            a["id"].as_str().unwrap().to_string(),
            b["id"].as_str().unwrap().to_string(),
        );

        // The head is deleted with the family, not alone.
        let head = app.delete("/api/v1/insurees/100000001?version=1").await;
        assert_problem(app.engine, &head, 409, "head_of_family");
        assert_problem(
            app.engine,
            &app.delete(&format!("/api/v1/families/{aid}")).await,
            422,
            "validation_failed",
        );
        assert_problem(
            app.engine,
            &app.delete(&format!(
                "/api/v1/families/{aid}?version=9&delete_members=true"
            ))
            .await,
            409,
            "stale_version",
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NOT NULL")
                .await,
            0
        );

        assert_eq!(
            app.delete(&format!(
                "/api/v1/families/{aid}?version=1&delete_members=true"
            ))
            .await
            .0,
            204
        );
        assert_eq!(app.get(&format!("/api/v1/families/{aid}")).await.0, 404);
        assert_eq!(app.get("/api/v1/insurees/100000001").await.0, 404);
        assert_eq!(app.get("/api/v1/insurees/100000002").await.0, 404);

        // Detached members stay, without a family; their numbers stay taken.
        assert_eq!(
            app.delete(&format!("/api/v1/families/{bid}?version=1"))
                .await
                .0,
            204
        );
        let (status, kept) = app.get("/api/v1/insurees/200000002").await;
        assert_eq!(status, 200, "{kept}");
        assert_eq!(kept["family_id"], Value::Null);
        assert_eq!(kept["family"], Value::Null);
        assert_eq!(kept["head"], false);
        assert_eq!(kept["version"], 2);
        let (_, former_head) = app.get("/api/v1/insurees/200000001").await;
        assert_eq!(former_head["head"], false);
        // A deleted number can be given again; a kept one cannot.
        let c = new_family(&app, &tree.v1, "100000001", "Again").await;
        assert_eq!(c["head_chfid"], "100000001");
        let dup = app
            .post(
                "/api/v1/families",
                family(&tree.v1, person("200000002", "Dup", "X")),
            )
            .await;
        assert_problem(app.engine, &dup, 409, "duplicate_code");
        assert_eq!(
            dup.1["detail"],
            "the insurance number 200000002 is already used by another insuree"
        );
        // A member is deleted alone.
        assert_eq!(
            app.delete("/api/v1/insurees/200000002?version=2").await.0,
            204
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NULL")
                .await,
            2
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_families_and_insurees_name_the_field_and_write_nothing() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let ok = || family(&tree.v1, person("070707070", "Macintyre", "Joseph"));
        let with = |path: &[&str], v: Value| {
            let mut f = ok();
            let mut target = &mut f;
            for p in &path[..path.len() - 1] {
                target = &mut target[*p];
            }
            target[path[path.len() - 1]] = v;
            f
        };
        let cases: Vec<(Value, &str)> = vec![
            (with(&["location_id"], json!(tree.w1)), "location_id"),
            (
                with(
                    &["location_id"],
                    json!("0190b3a0-0000-7000-8000-000000000000"),
                ),
                "location_id",
            ),
            (with(&["family_type"], json!("X")), "family_type"),
            (
                with(&["confirmation_type"], json!("E")),
                "confirmation_type",
            ),
            (with(&["address"], json!("x".repeat(201))), "address"),
            (
                with(&["confirmation_no"], json!("1234567890123")),
                "confirmation_no",
            ),
            (with(&["head"], Value::Null), "head"),
            (with(&["head", "last_name"], json!("")), "head.last_name"),
            (
                with(&["head", "other_names"], json!("x".repeat(101))),
                "head.other_names",
            ),
            (with(&["head", "gender"], json!("X")), "head.gender"),
            (with(&["head", "dob"], json!("2999-01-01")), "head.dob"),
            (with(&["head", "dob"], json!("13/01/1980")), "head.dob"),
            (with(&["head", "marital"], json!("Q")), "head.marital"),
            (
                with(&["head", "relationship"], json!(9)),
                "head.relationship",
            ),
            (with(&["head", "profession"], json!(5)), "head.profession"),
            (with(&["head", "education"], json!(0)), "head.education"),
            (with(&["head", "type_of_id"], json!("Z")), "head.type_of_id"),
            (
                with(&["head", "passport"], json!("x".repeat(26))),
                "head.passport",
            ),
            (
                with(&["head", "phone"], json!("1".repeat(51))),
                "head.phone",
            ),
            (with(&["head", "email"], json!("no-at-sign")), "head.email"),
            (
                with(&["head", "current_address"], json!("x".repeat(201))),
                "head.current_address",
            ),
            (
                with(&["head", "current_village_id"], json!(tree.d1)),
                "head.current_village_id",
            ),
            (
                with(
                    &["head", "health_facility_id"],
                    json!("0190b3a0-0000-7000-8000-000000000000"),
                ),
                "head.health_facility_id",
            ),
            (
                with(&["head", "status"], json!("inactive")),
                "head.status_date",
            ),
            (with(&["head", "status"], json!("sleeping")), "head.status"),
            (with(&["head", "chfid"], json!("")), "head.chfid"),
            (with(&["head", "colour"], json!("blue")), "head.colour"),
            (with(&["colour"], json!("blue")), "colour"),
        ];
        for (body, field) in cases {
            let answer = app.post("/api/v1/families", body).await;
            assert_problem(app.engine, &answer, 422, "validation_failed");
            assert_eq!(first_field(&answer.1), field, "{}", answer.1);
        }
        assert_eq!(
            app.raw(Method::POST, "/api/v1/families", "{\"location_id\":")
                .await
                .0,
            400
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM families").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM insurees").await, 0);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log WHERE entity IN ('family', 'insuree')")
                .await,
            0
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn new_insurance_numbers_follow_the_configured_check() {
    for engine in store::testing::engines() {
        let mut settings = bima::config::Settings::default();
        settings.registry.insuree_number_length = Some(9);
        settings.registry.insuree_number_modulo_root = Some(7);
        let app = TestApp::spawn_with(engine, settings).await;
        let tree = app.small_tree().await;
        for (chfid, code) in [
            ("07070707", "wrong_length"),
            ("070707071", "bad_check_digit"),
            ("07070707A", "not_digits"),
        ] {
            let answer = app
                .post(
                    "/api/v1/families",
                    family(&tree.v1, person(chfid, "M", "J")),
                )
                .await;
            assert_problem(engine, &answer, 422, "validation_failed");
            assert_eq!(answer.1["errors"][0]["field"], "head.chfid");
            assert_eq!(answer.1["errors"][0]["code"], code, "{chfid}");
        }
        // 07070707 % 7 = 0.
        let f = new_family(&app, &tree.v1, "070707070", "Macintyre").await;
        let mut member = person("111111110", "Manth", "R");
        member["family_id"] = f["id"].clone();
        // 11111111 % 7 = 4, so the check digit must be 4.
        assert_eq!(app.post("/api/v1/insurees", member.clone()).await.0, 422);
        member["chfid"] = json!("111111114");
        assert_eq!(app.post("/api/v1/insurees", member).await.0, 201);

        // A number kept as it is (an imported one) is not checked again; a changed one is.
        exec(
            &app.db,
            "UPDATE insurees SET chfid = '12345' WHERE chfid = '111111114'",
        )
        .await;
        let mut keep = person("12345", "Manth", "Roger");
        keep["version"] = json!(1);
        let (status, kept) = app.put("/api/v1/insurees/12345", keep.clone()).await;
        assert_eq!(status, 200, "{kept}");
        keep["chfid"] = json!("123456789");
        keep["version"] = json!(2);
        let changed = app.put("/api/v1/insurees/12345", keep.clone()).await;
        assert_eq!(
            changed.1["errors"][0]["code"], "bad_check_digit",
            "{}",
            changed.1
        );
        keep["chfid"] = json!("070707070");
        let taken = app.put("/api/v1/insurees/12345", keep).await;
        assert_problem(engine, &taken, 409, "duplicate_code");
        app.finish().await;
    }
}

#[tokio::test]
async fn insurees_are_found_by_number_name_prefix_and_filters() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let a = new_family(&app, &tree.v1, "070707070", "Macintyre").await;
        let mut jane = person("070707081", "MacIntyre", "Jane");
        jane["family_id"] = a["id"].clone();
        jane["gender"] = json!("F");
        jane["dob"] = json!("2005-10-16");
        assert_eq!(app.post("/api/v1/insurees", jane).await.0, 201);
        new_family(&app, &tree.v2, "111111119", "Manth").await;
        new_family(&app, &tree.v2, "100000001", "Zulu").await;

        let names = |body: &Value| -> Vec<String> {
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["chfid"].as_str().unwrap().to_string())
                .collect()
        };
        for (query, want) in [
            ("chfid=070707081", vec!["070707081"]),
            ("chfid=0707070", vec![]),
            ("q=mac", vec!["070707070", "070707081"]),
            ("q=MACI", vec!["070707070", "070707081"]),
            ("q=ma", vec!["070707070", "070707081", "111111119"]),
            ("q=jan", vec!["070707081"]),
            ("q=0707", vec!["070707070", "070707081"]),
            ("q=zz", vec![]),
            ("q=%25", vec![]),
            ("gender=F", vec!["070707081"]),
            ("dob_from=2000-01-01", vec!["070707081"]),
            ("dob_to=2000-01-01&q=m", vec!["070707070", "111111119"]),
        ] {
            let (status, body) = app.get(&format!("/api/v1/insurees?{query}")).await;
            assert_eq!(status, 200, "{query}: {body}");
            assert_eq!(names(&body), want, "{query}");
            assert_eq!(body["total"], want.len(), "{query}");
        }
        let (_, by_village) = app
            .get(&format!("/api/v1/insurees?village_id={}", tree.v2))
            .await;
        assert_eq!(by_village["total"], 2);
        let (_, by_district) = app
            .get(&format!("/api/v1/insurees?district_id={}", tree.d1))
            .await;
        assert_eq!(by_district["total"], 2);
        let (_, paged) = app.get("/api/v1/insurees?per_page=2&page=2").await;
        assert_eq!(
            (
                paged["total"].as_i64(),
                paged["items"].as_array().unwrap().len()
            ),
            (Some(4), 2)
        );
        assert_problem(
            app.engine,
            &app.get("/api/v1/insurees?dob_from=yesterday").await,
            422,
            "validation_failed",
        );
        assert_problem(
            app.engine,
            &app.get("/api/v1/insurees?gender=X").await,
            422,
            "validation_failed",
        );

        // Families by their head.
        let (_, fams) = app.get("/api/v1/families?head_chfid=111111119").await;
        assert_eq!(fams["total"], 1);
        assert_eq!(fams["items"][0]["head_last_name"], "Manth");
        let (_, fams) = app.get("/api/v1/families?head_last_name=ZU").await;
        assert_eq!(fams["total"], 1);
        let (_, fams) = app
            .get(&format!(
                "/api/v1/families?location_id={}&family_type=H&poverty=true",
                tree.v2
            ))
            .await;
        assert_eq!(fams["total"], 2);

        // CSV exports every matching row.
        let response = app
            .client
            .get(format!("{}/api/v1/insurees?format=csv&q=mac", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(&reader.headers().unwrap()[1], "chfid");
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[1][1], "070707081");
        let response = app
            .client
            .get(format!("{}/api/v1/families?format=csv", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        assert_eq!(
            csv::Reader::from_reader(text.as_bytes()).records().count(),
            3
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_restricted_user_sees_and_changes_only_their_districts() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let a = new_family(&app, &tree.v1, "100000001", "Yellow").await;
        let b = new_family(&app, &tree.v2, "200000001", "Green").await;
        let officer = app
            .user_with(
                "enroller",
                &[101001, 101002, 101003, 101101, 101102, 101103],
                &[&tree.d1],
            )
            .await;
        let reader = app.user_with("reader", &[101101], &[&tree.d1]).await;
        let call = |method: Method, path: String, token: String, body: Option<Value>| {
            let app = &app;
            async move { app.call(method, &path, Some(&token), body).await }
        };
        let (_, list) = call(
            Method::GET,
            "/api/v1/insurees".into(),
            officer.clone(),
            None,
        )
        .await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["chfid"], "100000001");
        let (_, fams) = call(
            Method::GET,
            "/api/v1/families".into(),
            officer.clone(),
            None,
        )
        .await;
        assert_eq!(fams["total"], 1);
        let bid = b["id"].as_str().unwrap();
        assert_problem(
            app.engine,
            &call(
                Method::GET,
                "/api/v1/insurees/200000001".into(),
                officer.clone(),
                None,
            )
            .await,
            404,
            "not_found",
        );
        assert_problem(
            app.engine,
            &call(
                Method::GET,
                format!("/api/v1/families/{bid}"),
                officer.clone(),
                None,
            )
            .await,
            404,
            "not_found",
        );
        let outside = call(
            Method::POST,
            "/api/v1/families".into(),
            officer.clone(),
            Some(family(&tree.v2, person("300000001", "X", "Y"))),
        )
        .await;
        assert_problem(app.engine, &outside, 422, "validation_failed");
        assert_eq!(outside.1["errors"][0]["code"], "outside_districts");
        let mut member = person("300000002", "X", "Y");
        member["family_id"] = b["id"].clone();
        let other = call(
            Method::POST,
            "/api/v1/insurees".into(),
            officer.clone(),
            Some(member),
        )
        .await;
        assert_eq!(first_field(&other.1), "family_id", "{}", other.1);
        let away = call(
            Method::POST,
            "/api/v1/insurees/100000001/move".into(),
            officer.clone(),
            Some(json!({"family_id": bid})),
        )
        .await;
        assert_eq!(first_field(&away.1), "family_id", "{}", away.1);
        assert_eq!(
            call(
                Method::POST,
                "/api/v1/families".into(),
                officer.clone(),
                Some(family(&tree.v1, person("300000003", "X", "Y")))
            )
            .await
            .0,
            201
        );

        // Missing rights.
        assert_problem(
            app.engine,
            &call(Method::GET, "/api/v1/families".into(), reader.clone(), None).await,
            403,
            "missing_right",
        );
        assert_eq!(
            call(
                Method::GET,
                "/api/v1/insurees/100000001".into(),
                reader.clone(),
                None
            )
            .await
            .0,
            200
        );
        let no_add = call(
            Method::POST,
            "/api/v1/families".into(),
            reader.clone(),
            Some(family(&tree.v1, person("300000004", "X", "Y"))),
        )
        .await;
        assert_problem(app.engine, &no_add, 403, "missing_right");
        let aid = a["id"].as_str().unwrap();
        assert_problem(
            app.engine,
            &call(
                Method::DELETE,
                format!("/api/v1/families/{aid}?version=1"),
                officer.clone(),
                None,
            )
            .await,
            403,
            "missing_right",
        );
        assert_problem(
            app.engine,
            &call(
                Method::DELETE,
                "/api/v1/insurees/100000001?version=1".into(),
                officer.clone(),
                None,
            )
            .await,
            403,
            "missing_right",
        );
        assert_problem(
            app.engine,
            &call(
                Method::PUT,
                "/api/v1/insurees/100000001/photo".into(),
                reader.clone(),
                None,
            )
            .await,
            403,
            "missing_right",
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM insurees").await, 3);

        // History and photos follow the same scope.
        let b_head = b["head_insuree_id"].as_str().unwrap();
        let history = call(
            Method::GET,
            format!("/api/v1/audit?entity=insuree&id={b_head}"),
            officer.clone(),
            None,
        )
        .await;
        assert_eq!(history.0, 404, "{}", history.1);
        let a_head = a["head_insuree_id"].as_str().unwrap();
        let history = call(
            Method::GET,
            format!("/api/v1/audit?entity=insuree&id={a_head}"),
            officer.clone(),
            None,
        )
        .await;
        assert_eq!(history.1["total"], 1, "{}", history.1);
        assert_eq!(
            call(
                Method::GET,
                "/api/v1/insurees/200000001/photo".into(),
                officer.clone(),
                None
            )
            .await
            .0,
            404
        );
        let stale = call(
            Method::PUT,
            format!("/api/v1/families/{aid}"),
            officer.clone(),
            Some(json!({"location_id": tree.v1, "version": 7})),
        )
        .await;
        assert_problem(app.engine, &stale, 409, "stale_version");
        app.finish().await;
    })
    .await;
}

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 2, 3,
];
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

async fn put_photo(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let response = app
        .client
        .put(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn photos_are_checked_stored_and_served_back() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        new_family(&app, &tree.v1, "070707070", "Macintyre").await;
        let path = "/api/v1/insurees/070707070/photo";
        assert_eq!(app.get(path).await.0, 404);

        let (status, insuree) = put_photo(&app, path, "image/jpeg", JPEG.to_vec()).await;
        assert_eq!(status, 200, "{insuree}");
        assert!(insuree["photo_date"].is_string());
        assert_eq!(insuree["version"], 2);
        let response = app.client.get(format!("{}{path}", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(response.bytes().await.unwrap().as_ref(), JPEG);

        // A PNG in a multipart form replaces it.
        let mut form = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
        form.extend_from_slice(PNG);
        form.extend_from_slice(b"\r\n--XyZ--\r\n");
        let (status, body) = put_photo(&app, &format!("{path}?version=2"), "multipart/form-data; boundary=XyZ", form).await;
        assert_eq!(status, 200, "{body}");
        let response = app.client.get(format!("{}{path}", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);

        // The header is not trusted: the bytes must be the image it names.
        let liar = put_photo(&app, path, "image/jpeg", PNG.to_vec()).await;
        assert_problem(app.engine, &liar, 422, "validation_failed");
        assert_eq!(liar.1["errors"][0]["code"], "wrong_type");
        let gif = put_photo(&app, path, "image/png", b"GIF89a....".to_vec()).await;
        assert_eq!(gif.1["errors"][0]["code"], "not_an_image");
        let text = put_photo(&app, path, "text/plain", b"hello".to_vec()).await;
        assert_eq!(text.1["errors"][0]["code"], "unsupported_type");
        // A form's octet-stream file is judged by its bytes.
        let form = b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\nGIF89a\r\n--b--\r\n".to_vec();
        let octet = put_photo(&app, path, "multipart/form-data; boundary=b", form.clone()).await;
        assert_eq!(octet.1["errors"][0]["code"], "not_an_image", "{}", octet.1);
        let empty = put_photo(&app, path, "multipart/form-data; boundary=b", b"--b--\r\n".to_vec()).await;
        assert_eq!(empty.1["errors"][0]["code"], "required", "{}", empty.1);
        let mut big = JPEG.to_vec();
        big.resize(512 * 1024 + 1, 0);
        let (status, too_large) = put_photo(&app, path, "image/jpeg", big).await;
        assert_eq!(status, 413, "{too_large}");
        assert_eq!(too_large["code"], "payload_too_large");
        assert!(too_large["detail"].as_str().unwrap().contains("at most 524288 bytes"), "{too_large}");
        // A form larger than the server takes in any body (2 MiB), here in a plain field before
        // the file: 413 as well, not a 400.
        let mut huge = b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
        huge.extend_from_slice(b"\r\n--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
        huge.extend_from_slice(JPEG);
        huge.extend_from_slice(b"\r\n--b--\r\n");
        let (status, too_large) = put_photo(&app, path, "multipart/form-data; boundary=b", huge).await;
        assert_eq!(status, 413, "{too_large}");
        assert_eq!(too_large["code"], "payload_too_large", "{too_large}");
        assert_eq!(app.count("SELECT COUNT(*) FROM insuree_photos").await, 1);

        // Audited without the bytes.
        let (_, insuree) = app.get("/api/v1/insurees/070707070").await;
        assert_eq!(insuree["version"], 3);
        let (_, history) = app.get(&format!("/api/v1/audit?entity=insuree&id={}", insuree["id"].as_str().unwrap())).await;
        assert_eq!(history["items"][0]["action"], "photo");
        assert_eq!(history["items"][0]["after"]["content_type"], "image/png");
        assert_eq!(history["items"][0]["after"]["size"], PNG.len());
        assert_eq!(history["items"][1]["before"]["content_type"], Value::Null);
        app.finish().await;
    })
    .await;
}

/// Current rows (ValidityTo empty) of a demo CSV, and the values of one of their columns.
fn current(table: &str, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(demo_dir().join(format!("{table}.csv"))).unwrap();
    let headers = reader.headers().unwrap().clone();
    let validity = headers.iter().position(|h| h == "ValidityTo").unwrap();
    let wanted = headers.iter().position(|h| h == column).unwrap();
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| r.get(validity) == Some(""))
        .map(|r| r[wanted].to_string())
        .collect()
}

#[tokio::test]
async fn the_demo_families_and_insurees_import_completely_and_idempotently() {
    each_engine(|app| async move {
        let first = openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        for table in ["tblFamilies", "tblInsuree"] {
            assert_eq!(first.count(table).unwrap().skipped, 0, "{}", first.table());
        }
        let families = current("tblFamilies", "FamilyUUID");
        let chfids = current("tblInsuree", "CHFID");
        let fam = first.count("tblFamilies").unwrap();
        assert_eq!(fam.imported, families.len() as u64, "{}", first.table());
        assert_eq!(fam.history, 30 - families.len() as u64);
        let ins = first.count("tblInsuree").unwrap();
        assert_eq!(ins.imported, chfids.len() as u64, "{}", first.table());
        assert_eq!(ins.history, 144 - chfids.len() as u64);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM families WHERE deleted_at IS NULL")
                .await as usize,
            families.len()
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NULL")
                .await as usize,
            chfids.len()
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM families WHERE head_insuree_id IS NULL")
                .await,
            0
        );

        for chfid in &chfids {
            let (status, insuree) = app.get(&format!("/api/v1/insurees/{chfid}")).await;
            assert_eq!(status, 200, "{chfid}: {insuree}");
            assert_eq!(&insuree["chfid"], chfid);
            assert!(insuree["family"]["id"].is_string(), "{insuree}");
            assert_eq!(insuree["district_id"], insuree["family"]["district_id"]);
        }
        let (_, joseph) = app.get("/api/v1/insurees/070707070").await;
        assert_eq!(joseph["head"], true);
        assert_eq!(joseph["last_name"], "Macintyre");
        assert_eq!(joseph["family"]["head_insuree_id"], joseph["id"]);
        assert_eq!(
            joseph["family"]["id"],
            "822a8e55-2290-4df6-8882-1d702c2ffc8b"
        );
        let (_, list) = app.get("/api/v1/insurees?q=macint").await;
        assert!(list["total"].as_i64().unwrap() >= 2, "{list}");
        let audit_after_first = app.count("SELECT COUNT(*) FROM audit_log").await;

        let second = openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        for table in ["tblFamilies", "tblInsuree"] {
            let count = second.count(table).unwrap();
            assert_eq!(
                (count.imported, count.skipped),
                (0, 0),
                "{}",
                second.table()
            );
        }
        assert_eq!(
            second.count("tblInsuree").unwrap().unchanged,
            chfids.len() as u64
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log").await,
            audit_after_first
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn bulk_loads_write_families_and_insurees_the_api_then_finds() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let (village, district) = (
            tree.v1.parse::<uuid::Uuid>().unwrap(),
            tree.d1.parse::<uuid::Uuid>().unwrap(),
        );
        let now = kernel::audit::now_micros();
        let mut families = Vec::new();
        let mut insurees = Vec::new();
        for n in 0..1500u32 {
            let family = uuid::Uuid::now_v7();
            let head = uuid::Uuid::now_v7();
            families.push(::registry::model::Family {
                id: family,
                head_insuree_id: Some(head),
                location_id: village,
                district_id: district,
                poverty: None,
                family_type: None,
                address: None,
                ethnicity: None,
                confirmation_no: None,
                confirmation_type: None,
                is_offline: false,
                version: 1,
                created_at: now,
                updated_at: now,
            });
            insurees.push(::registry::model::Insuree {
                id: head,
                family_id: Some(family),
                chfid: format!("{n:09}"),
                last_name: format!("Bulk{n}"),
                other_names: "Head".into(),
                gender: ::registry::model::Gender::Female,
                dob: time::macros::date!(1990 - 01 - 01),
                head: true,
                marital: None,
                relationship: None,
                profession: None,
                education: None,
                passport: None,
                type_of_id: None,
                phone: None,
                email: None,
                current_address: None,
                geolocation: None,
                current_village_id: None,
                health_facility_id: None,
                card_issued: false,
                status: ::registry::model::InsureeStatus::Active,
                status_date: None,
                status_reason: None,
                photo_date: None,
                district_id: Some(district),
                is_offline: false,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        let mut tx = app.db.begin().await.unwrap();
        ::registry::store::insert_families_bulk(&mut tx, &families)
            .await
            .unwrap();
        ::registry::store::insert_insurees_bulk(&mut tx, &insurees)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM families").await, 1500);
        assert_eq!(app.count("SELECT COUNT(*) FROM insurees").await, 1500);
        let (_, found) = app.get("/api/v1/insurees?q=bulk14").await;
        assert_eq!(found["total"], 111, "Bulk14, Bulk140..149, Bulk1400..1499");
        assert_eq!(found["items"][0]["last_name"], "Bulk14");
        let (_, joined) = app.get("/api/v1/insurees/000001234").await;
        assert_eq!(joined["family"]["head_insuree_id"], joined["id"]);
        app.finish().await;
    })
    .await;
}
