//! The access matrix, generated from the router's own document (`/api/openapi.json`): every
//! operation × no token, a user without roles and each of openIMIS's twelve system roles, in
//! district 1. Each operation documents the rights it needs in `x-bima-rights`; the test holds
//! the server to them:
//!
//! - no token → 401; a right missing → 403 `missing_right`, and nothing is written;
//! - the right held → never 401, never 403 `missing_right` (a scope refusal such as
//!   `outside_districts` is a different answer);
//! - reads of one record outside the user's districts → 404, lists → only their districts.
//!
//! Bodies are generated from each operation's request schema (its required fields, with values
//! of the documented types), so that they parse and reach the rights check; a user with no role
//! proves that they did (403, not 400/422).

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

struct Op {
    method: Method,
    path: String,
    /// Any one of these rights opens it; empty: any logged-in user.
    any_of: Vec<u32>,
    query: Vec<(String, Value)>,
    body: Option<Value>,
}

impl Op {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The request path with ids filled in: random ones, which name nothing.
    fn url(&self) -> String {
        let mut url = self
            .path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{attachment}", &uuid::Uuid::new_v4().to_string());
        for (i, (name, value)) in self.query.iter().enumerate() {
            let value = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or(value.to_string());
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{name}={value}"));
        }
        url
    }
}

/// Resolve a local `$ref`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The smallest value the schema accepts: its required properties, with values of their types.
fn sample(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if depth > 8 {
        return Value::Null;
    }
    if let Some(values) = schema["enum"].as_array()
        && let Some(first) = values.iter().find(|v| !v.is_null())
    {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let option = options
                .iter()
                .find(|o| resolve(doc, o)["type"] != "null")
                .unwrap_or(&options[0]);
            return sample(doc, option, depth + 1);
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = serde_json::Map::new();
        for part in parts {
            if let Value::Object(o) = sample(doc, part, depth + 1) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ if schema["properties"].is_object() => "object".into(),
        _ => "null".into(),
    };
    match kind.as_str() {
        "object" => {
            let mut object = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                object.insert(
                    name.to_string(),
                    sample(doc, &schema["properties"][name], depth + 1),
                );
            }
            Value::Object(object)
        }
        "array" => {
            if schema["minItems"].as_u64().unwrap_or(0) > 0 {
                json!([sample(doc, &schema["items"], depth + 1)])
            } else {
                json!([])
            }
        }
        "string" => match schema["format"].as_str() {
            Some("uuid") => json!(uuid::Uuid::new_v4().to_string()),
            Some("date") => json!("2026-01-15"),
            Some("date-time") => json!("2026-01-15T08:00:00Z"),
            _ => json!("x1"),
        },
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// Every documented operation but the public ones, with its rights and a request for it.
fn operations(doc: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            if op["security"].is_null() {
                continue; // login and /health: public by design
            }
            let rights = &op["x-bima-rights"];
            assert!(
                rights.is_object(),
                "{method} {path} does not document its rights in x-bima-rights"
            );
            let mut any_of: Vec<u32> = rights["any_of"]
                .as_array()
                .map(|a| a.iter().map(|r| r.as_u64().unwrap() as u32).collect())
                .unwrap_or_default();
            let mut query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "query" && p["required"] == true {
                    let name = p["name"].as_str().unwrap().to_string();
                    query.push((name, sample(doc, &p["schema"], 0)));
                }
            }
            if path == "/api/v1/audit" {
                // The history of a family: the family's search right.
                query = vec![
                    ("entity".into(), json!("family")),
                    ("id".into(), json!(uuid::Uuid::new_v4().to_string())),
                ];
                any_of = vec![101001];
            }
            let body = op["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|_| {
                    sample(
                        doc,
                        &op["requestBody"]["content"]["application/json"]["schema"],
                        0,
                    )
                });
            ops.push(Op {
                method,
                path: path.clone(),
                any_of,
                query,
                body,
            });
        }
    }
    ops
}

async fn send(app: &TestApp, op: &Op, token: Option<&str>) -> (u16, Value) {
    let (status, body) = app
        .call(op.method.clone(), &op.url(), token, op.body.clone())
        .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn every_operation_answers_each_role_as_its_rights_say() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let (_, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
        let ops = operations(&doc);
        assert!(ops.len() > 100, "{} operations", ops.len());

        // A user of each system role (and one without any), in district 1.
        let (_, roles) = app.get("/api/v1/roles?per_page=100").await;
        let mut users: Vec<(String, BTreeSet<u32>, bool, String)> = Vec::new();
        for role in roles["items"].as_array().unwrap() {
            if role["system_code"].as_i64().unwrap_or(0) == 0 {
                continue;
            }
            let name = role["name"].as_str().unwrap().to_string();
            let username = format!("r{}", role["system_code"]);
            let (status, user) = app
                .post("/api/v1/users", json!({"username": username, "password": "a-good-password",
                    "last_name": "Role", "other_names": name, "role_ids": [role["id"]], "district_ids": [tree.d1]}))
                .await;
            assert_eq!(status, 201, "[{:?}] {name}: {user}", app.engine);
            let rights: BTreeSet<u32> = role["rights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_u64().unwrap() as u32)
                .collect();
            let admin = role["system_code"] == 64;
            users.push((name, rights, admin, app.login(&username, "a-good-password").await));
        }
        assert_eq!(users.len(), 12, "openIMIS's twelve system roles");
        let (status, nobody) = app
            .post("/api/v1/users", json!({"username": "nobody", "password": "a-good-password",
                "last_name": "Without", "other_names": "Roles", "role_ids": [], "district_ids": [tree.d1]}))
            .await;
        assert_eq!(status, 201, "{nobody}");
        let nobody = app.login("nobody", "a-good-password").await;

        // First every refusal, counting what the audit trail holds before and after.
        let written = app.count("SELECT COUNT(*) FROM audit_log").await;
        let mut unproven = Vec::new();
        let mut refusals = 0;
        for op in &ops {
            let (status, body) = send(&app, op, None).await;
            assert_eq!(status, 401, "[{:?}] {} without a token: {body}", app.engine, op.label());
            let (status, body) = send(&app, op, Some("forged.token.value")).await;
            assert_eq!(status, 401, "[{:?}] {} with a forged token: {body}", app.engine, op.label());
            if op.any_of.is_empty() {
                continue;
            }
            let (status, body) = send(&app, op, Some(&nobody)).await;
            if status != 403 {
                // The request did not reach the rights check (a body or query that does not
                // parse): nothing is proven about this operation.
                assert!(matches!(status, 400 | 422), "[{:?}] {} for a user without rights: {status} {body}", app.engine, op.label());
                unproven.push(format!("{} → {status} {body}", op.label()));
                continue;
            }
            assert_eq!(body["code"], "missing_right", "{} {body}", op.label());
            for (role, rights, admin, token) in &users {
                if *admin || op.any_of.iter().any(|r| rights.contains(r)) {
                    continue;
                }
                let (status, body) = send(&app, op, Some(token)).await;
                assert_eq!(
                    (status, body["code"].as_str()),
                    (403, Some("missing_right")),
                    "[{:?}] {} for {role}: {body}",
                    app.engine,
                    op.label()
                );
                refusals += 1;
            }
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log").await,
            written,
            "a refused call writes nothing"
        );
        assert!(unproven.is_empty(), "[{:?}] bodies that never reached the rights check:\n{}", app.engine, unproven.join("\n"));
        assert!(refusals > 500, "{refusals} refusals checked");

        // Then every call a role may make: never refused for its rights.
        let mut allowed = 0;
        for op in &ops {
            for (role, rights, admin, token) in &users {
                if !(*admin || op.any_of.is_empty() || op.any_of.iter().any(|r| rights.contains(r))) {
                    continue;
                }
                if op.path == "/api/v1/auth/password" {
                    continue; // would change the user's own password
                }
                let (status, body) = send(&app, op, Some(token)).await;
                assert!(
                    status != 401 && !(status == 403 && body["code"] == "missing_right") && status < 500,
                    "[{:?}] {} for {role}, who holds the right: {status} {body}",
                    app.engine,
                    op.label()
                );
                allowed += 1;
            }
        }
        assert!(allowed > 200, "{allowed} allowed calls checked");
        app.finish().await;
    })
    .await;
}

/// The district of a listed record, as its JSON says.
fn district_of(path: &str, item: &Value) -> Option<String> {
    let field = if path == "/api/v1/health-facilities" {
        "location_id"
    } else {
        "district_id"
    };
    item[field].as_str().map(str::to_owned)
}

#[tokio::test]
async fn records_outside_the_users_districts_stay_hidden() {
    each_engine(|app| async move {
        openimis_import::run(
            &app.db,
            &crate::auth::demo_dir(),
            openimis_import::Progress::Hidden,
        )
        .await
        .unwrap();
        let (_, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
        // Lists whose records say their district, and the read of one record beside them.
        let lists: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(path, item)| {
                item["get"].is_object()
                    && !path.contains('{')
                    && doc["paths"][format!("{path}/{{id}}")]["get"].is_object()
            })
            .map(|(path, _)| path.clone())
            .collect();
        // One district of the demo, and a user holding every right there (but not administrator).
        // (The demo's claims are all of one district: take another, so that they lie outside.)
        let (_, families) = app.get("/api/v1/families?per_page=100").await;
        let (_, claims) = app.get("/api/v1/claims?per_page=1").await;
        let claims_district = claims["items"][0]["district_id"]
            .as_str()
            .unwrap_or_default();
        let districts: Vec<&str> = families["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["district_id"].as_str())
            .collect();
        let district = districts
            .iter()
            .find(|d| **d != claims_district)
            .or(districts.first())
            .expect("a family with a district")
            .to_string();
        let (_, catalogue) = app.get("/api/v1/rights").await;
        let every: Vec<u32> = catalogue
            .as_array()
            .or(catalogue["items"].as_array())
            .unwrap()
            .iter()
            .map(|r| r["code"].as_u64().or(r["id"].as_u64()).unwrap() as u32)
            .collect();
        let token = app.user_with("district-user", &every, &[&district]).await;

        let mut covered = Vec::new();
        for path in &lists {
            let (status, all) = app.get(&format!("{path}?per_page=100")).await;
            assert_eq!(status, 200, "{path}: {all}");
            let items = all["items"].as_array().cloned().unwrap_or_default();
            let (inside, outside): (Vec<&Value>, Vec<&Value>) = items
                .iter()
                .filter(|i| district_of(path, i).is_some())
                .partition(|i| district_of(path, i).as_deref() == Some(&district));
            if outside.is_empty() {
                continue; // nothing of this kind lies outside the district in the demo
            }
            covered.push(path.clone());
            let (status, mine) = app
                .call(
                    Method::GET,
                    &format!("{path}?per_page=100"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(status, 200, "[{:?}] {path}: {mine}", app.engine);
            for item in mine["items"].as_array().unwrap() {
                assert_eq!(
                    district_of(path, item).as_deref(),
                    Some(district.as_str()),
                    "[{:?}] {path} lists a record of another district: {item}",
                    app.engine
                );
            }
            assert!(
                mine["total"].as_i64() < all["total"].as_i64(),
                "[{:?}] {path}",
                app.engine
            );
            for item in outside.iter().take(5) {
                let one = format!("{path}/{}", item["id"].as_str().unwrap());
                let (status, body) = app.call(Method::GET, &one, Some(&token), None).await;
                assert_eq!(
                    status.as_u16(),
                    404,
                    "[{:?}] {one} outside the user's district: {body}",
                    app.engine
                );
            }
            // Nor can it be deleted from outside: the same 404, and it is still there.
            if doc["paths"][format!("{path}/{{id}}")]["delete"].is_object() {
                let item = outside[0];
                let one = format!("{path}/{}", item["id"].as_str().unwrap());
                let version = item["version"].as_i64().unwrap_or(1);
                let (status, body) = app
                    .call(
                        Method::DELETE,
                        &format!("{one}?version={version}"),
                        Some(&token),
                        None,
                    )
                    .await;
                assert_eq!(
                    status.as_u16(),
                    404,
                    "[{:?}] DELETE {one} outside the user's district: {body}",
                    app.engine
                );
                let (status, _) = app.get(&one).await;
                assert_eq!(
                    status.as_u16(),
                    200,
                    "[{:?}] {one} is still there",
                    app.engine
                );
            }
            for item in inside.iter().take(2) {
                let one = format!("{path}/{}", item["id"].as_str().unwrap());
                let (status, body) = app.call(Method::GET, &one, Some(&token), None).await;
                assert_eq!(
                    status.as_u16(),
                    200,
                    "[{:?}] {one} in the user's district: {body}",
                    app.engine
                );
            }
        }
        for must in [
            "/api/v1/families",
            "/api/v1/insurees",
            "/api/v1/claims",
            "/api/v1/health-facilities",
        ] {
            assert!(
                covered.iter().any(|c| c == must),
                "[{:?}] {must} not covered: {covered:?}",
                app.engine
            );
        }
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn payers_of_another_district_stay_hidden() {
    each_engine(|app| async move {
        let tree = app.small_tree().await;
        let payer = |name: &str, location: &str| {
            json!({"payer_type": "G", "name": name, "location_id": location})
        };
        let (s1, p1) = app.post("/api/v1/payers", payer("Council one", &tree.d1)).await;
        let (s2, p2) = app.post("/api/v1/payers", payer("Council two", &tree.d2)).await;
        let (s3, _) = app.post("/api/v1/payers", payer("Regional fund", &tree.region)).await;
        assert_eq!((s1.as_u16(), s2.as_u16(), s3.as_u16()), (201, 201, 201), "{p1} {p2}");
        // Someone of district 1 with every payer right.
        let token = app.user_with("payer-clerk", &[121801, 121802, 121803, 121804], &[&tree.d1]).await;
        let (status, list) = app.call(Method::GET, "/api/v1/payers", Some(&token), None).await;
        assert_eq!(status, 200, "{list}");
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Council one", "Regional fund"], "[{:?}]", app.engine);
        let theirs = format!("/api/v1/payers/{}", p2["id"].as_str().unwrap());
        let (status, _) = app.call(Method::GET, &theirs, Some(&token), None).await;
        assert_eq!(status, 404);
        let (status, _) = app.call(Method::DELETE, &format!("{theirs}?version=1"), Some(&token), None).await;
        assert_eq!(status, 404);
        // Nor can they make one in another district.
        let (status, body) = app
            .call(Method::POST, "/api/v1/payers", Some(&token), Some(payer("Elsewhere", &tree.d2)))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["code"], "outside_districts", "{body}");
        assert_eq!(app.count("SELECT COUNT(*) FROM payers").await, 3);
        app.finish().await;
    })
    .await;
}
