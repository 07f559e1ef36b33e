//! The FHIR R4 API (`/api/api_fhir_r4/`) on the imported openIMIS demo: login, the
//! CapabilityStatement, Patient and Location read and search with openIMIS's parameters,
//! errors as OperationOutcome; every emitted resource is written to a folder and checked by
//! ../shared/tools/fhir-validate and by a lint of what the validator does not check.

use crate::auth::demo_dir;
use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const BASE: &str = "/api/api_fhir_r4";

/// The validator, beside this repository's checkout.
fn validator() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/fhir-validate/run")
}

/// Run the validator on a folder of examples: 0 errors. One run at a time: on a fresh machine
/// its first run installs its npm packages into a cache that two runs at once would both
/// rebuild, and both fail.
fn validate(examples: &Path) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let run = std::process::Command::new(validator())
        .arg(examples)
        .output()
        .expect("../shared/tools/fhir-validate/run");
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Keep an emitted example, named by what it shows.
fn keep(dir: &Path, name: &str, body: &Value) {
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_vec_pretty(body).unwrap(),
    )
    .unwrap();
}

fn is_outcome(body: &Value, code: &str) -> bool {
    body["resourceType"] == "OperationOutcome" && body["issue"][0]["code"] == code
}

/// Every value of `key` anywhere in `value`.
fn all_of<'v>(value: &'v Value, key: &str, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v);
                }
                all_of(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_of(v, key, out)),
        _ => {}
    }
}

/// What the validator does not check: code systems and extension URLs are absolute, currencies
/// are ISO 4217 codes, and every literal reference resolves here.
async fn lint(app: &TestApp, name: &str, body: &Value) {
    for key in ["system", "url"] {
        let mut found = Vec::new();
        all_of(body, key, &mut found);
        for v in found {
            let text = v.as_str().unwrap_or_default();
            assert!(
                text.starts_with("http://") || text.starts_with("https://"),
                "{name}: {key} {v} is not absolute"
            );
            assert!(
                !text["https://".len()..].contains("//"),
                "{name}: {key} {v}"
            );
        }
    }
    let mut currencies = Vec::new();
    all_of(body, "currency", &mut currencies);
    for c in currencies {
        let c = c.as_str().unwrap_or_default();
        assert!(
            c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()),
            "{name}: currency {c}"
        );
    }
    let mut references = Vec::new();
    all_of(body, "reference", &mut references);
    let references: BTreeSet<String> = references
        .iter()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    for r in references {
        // A contained resource's reference: to a resource inside this one, with that id.
        if let Some(local) = r.strip_prefix('#') {
            let mut contained = Vec::new();
            all_of(body, "contained", &mut contained);
            let inside = contained
                .iter()
                .filter_map(|c| c.as_array())
                .flatten()
                .any(|c| c["id"] == local);
            assert!(inside, "{name}: {r} names nothing contained");
            continue;
        }
        let (status, target) = app.get(&format!("{BASE}/{r}")).await;
        // A record deleted since (or in openIMIS) was real: 410 Gone says so.
        if status == 410 {
            assert!(is_outcome(&target, "deleted"), "{name}: {r}: {target}");
            continue;
        }
        assert_eq!(
            status, 200,
            "{name}: the reference {r} does not resolve: {target}"
        );
        let (kind, id) = r.split_once('/').unwrap();
        assert_eq!(target["resourceType"], kind, "{name}: {r}");
        assert_eq!(target["id"], id, "{name}: {r}");
    }
}

#[tokio::test]
async fn patients_and_locations_are_served_as_openimis_serves_them_and_valid_r4() {
    let out = tempfile::tempdir().unwrap();
    let examples = out.path();
    each_engine(|app| async move {
        let report = openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        assert_eq!(report.skipped(), 0);
        let engine = format!("{:?}", app.engine).to_lowercase();

        // Login as openIMIS answers it: {"token", "exp"} in Unix seconds.
        let (status, login) = app
            .call(
                Method::POST,
                &format!("{BASE}/login/"),
                None,
                Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{login}");
        let exp = login["exp"].as_i64().unwrap();
        assert!(exp > time::OffsetDateTime::now_utc().unix_timestamp(), "{login}");
        let token = login["token"].as_str().unwrap().to_string();
        let (status, me) = app
            .call(Method::GET, "/api/v1/auth/me", Some(&token), None)
            .await;
        assert_eq!(status, 200, "the FHIR token is the API's: {me}");

        // The statement of what is served; each type it lists answers a search and a read.
        let (status, capability) = app.call(Method::GET, &format!("{BASE}/metadata"), None, None).await;
        assert_eq!(status, 200);
        assert_eq!(capability["resourceType"], "CapabilityStatement");
        keep(examples, &format!("{engine}-capability"), &capability);
        let types: Vec<String> = capability["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            types,
            [
                "Patient",
                "Location",
                "Organization",
                "Practitioner",
                "PractitionerRole",
                "Medication",
                "ActivityDefinition",
                "Group",
                "InsurancePlan",
                "Coverage",
                "CoverageEligibilityRequest",
                "Claim",
                "ClaimResponse",
                "CommunicationRequest",
                "Communication"
            ]
        );
        for resource in capability["rest"][0]["resource"].as_array().unwrap() {
            let kind = resource["type"].as_str().unwrap();
            let interactions: Vec<&str> = resource["interaction"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["code"].as_str().unwrap())
                .collect();
            if !interactions.contains(&"search-type") {
                continue;
            }
            for path in [format!("{BASE}/{kind}"), format!("{BASE}/{kind}/")] {
                let (status, bundle) = app.get(&path).await;
                assert_eq!(status, 200, "{path}: {bundle}");
                assert_eq!(bundle["type"], "searchset", "{path}");
            }
            let (status, missing) = app
                .get(&format!("{BASE}/{kind}/0f0e0d0c-0000-4000-8000-00000000dead"))
                .await;
            assert_eq!(status, 404, "{missing}");
            assert!(is_outcome(&missing, "not-found"), "{missing}");
            keep(examples, &format!("{engine}-outcome-not-found-{kind}"), &missing);
        }

        // Facilities, accounts, items and services: each found by search, read by UUID and by
        // code, the same resource.
        for (kind, query) in [
            ("Organization", "type=prov"),
            ("Practitioner", "resourceType=ca"),
            ("Practitioner", "resourceType=eo"),
            ("PractitionerRole", "resourceType=ca"),
            ("PractitionerRole", "resourceType=eo"),
            ("Medication", ""),
            ("ActivityDefinition", ""),
            ("Group", ""),
            ("InsurancePlan", ""),
        ] {
            let (status, found) = app.get(&format!("{BASE}/{kind}?{query}&_count=3")).await;
            assert_eq!(status, 200, "{kind}: {found}");
            assert!(found["total"].as_i64().unwrap() > 0, "{kind} {query}: {found}");
            let resource = &found["entry"][0]["resource"];
            let id = resource["id"].as_str().unwrap();
            let (status, read) = app.get(&format!("{BASE}/{kind}/{id}")).await;
            assert_eq!(status, 200, "{read}");
            assert_eq!(&read, resource, "{kind}");
            let code = read["identifier"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["type"]["coding"][0]["code"] == "Code")
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_string();
            let (_, by_code) = app.get(&format!("{BASE}/{kind}/{code}")).await;
            assert_eq!(by_code["id"], id, "{kind} {code}");
            let (_, searched) = app.get(&format!("{BASE}/{kind}?identifier={code}")).await;
            assert_eq!(searched["total"], 1, "{kind} {code}: {searched}");
            if kind.starts_with("Practitioner") || kind == "Organization" {
                // openIMIS's `code=`, which behaves as a read.
                let (_, by_param) = app.get(&format!("{BASE}/{kind}?code={code}")).await;
                assert_eq!(by_param["total"], 1, "{kind} code={code}: {by_param}");
            }
            let name = format!("{engine}-{}-{}", kind.to_lowercase(), query.replace('=', "-"));
            keep(examples, &name, &read);
            keep(examples, &format!("{name}-bundle"), &found);
            lint(&app, kind, &read).await;
        }
        // The policies covering a patient, as Coverage.
        let (status, covers) = app
            .get(&format!("{BASE}/Coverage?patient=Patient/070707070"))
            .await;
        assert_eq!(status, 200, "{covers}");
        let policies = app
            .count_with(
                "SELECT COUNT(DISTINCT p.id) FROM policies p JOIN insuree_policies ip ON ip.policy_id = p.id \
                 JOIN insurees i ON i.id = ip.insuree_id WHERE i.chfid = $1 AND i.deleted_at IS NULL \
                 AND p.deleted_at IS NULL AND ip.deleted_at IS NULL",
                "070707070",
            )
            .await;
        assert_eq!(covers["total"], policies, "{covers}");
        assert!(policies > 0);
        for (window, total) in [("refDate=2999-01-01", 0), ("refEndDate=2999-01-01", policies)] {
            let (_, windowed) = app
                .get(&format!("{BASE}/Coverage?patient=070707070&{window}"))
                .await;
            assert_eq!(windowed["total"], total, "{window}: {windowed}");
        }
        let cover = &covers["entry"][0]["resource"];
        let (_, read) = app
            .get(&format!("{BASE}/Coverage/{}", cover["id"].as_str().unwrap()))
            .await;
        assert_eq!(&read, cover);
        keep(examples, &format!("{engine}-coverage"), &read);
        keep(examples, &format!("{engine}-coverage-bundle"), &covers);
        lint(&app, "Coverage", &read).await;
        // Eligibility: the same answer as the REST enquiry, in FHIR words.
        let (_, items) = app.get("/api/v1/medical-items?per_page=1").await;
        let (_, services) = app.get("/api/v1/medical-services?per_page=1").await;
        let (item, service) = (
            items["items"][0]["code"].as_str().unwrap().to_string(),
            services["items"][0]["code"].as_str().unwrap().to_string(),
        );
        let today = time::OffsetDateTime::now_utc().date().to_string();
        let (_, enquiry) = app
            .get(&format!(
                "/api/v1/insurees/070707070/eligibility?item={item}&service={service}&date={today}"
            ))
            .await;
        let request = json!({
            "resourceType": "CoverageEligibilityRequest",
            "status": "active",
            "purpose": ["benefits"],
            "created": today,
            "patient": {"reference": "Patient/070707070"},
            "insurer": {"reference": "Organization/openIMIS-Implementation"},
            "item": [
                {"category": {"coding": [{"code": "item"}]}, "productOrService": {"text": item}},
                {"category": {"text": "service"}, "productOrService": {"text": service}},
            ],
        });
        let (status, eligible) = app
            .post(&format!("{BASE}/CoverageEligibilityRequest/"), request.clone())
            .await;
        assert_eq!(status, 201, "{eligible}");
        assert_eq!(eligible["resourceType"], "CoverageEligibilityResponse");
        let products = enquiry["products"].as_array().unwrap();
        let insurance = eligible["insurance"].as_array().map_or(0, Vec::len);
        assert!(insurance > 0, "070707070 has policies: {eligible}");
        assert_eq!(insurance, products.len(), "{eligible}\n{enquiry}");
        for (fhir, rest) in eligible["insurance"].as_array().into_iter().flatten().zip(products) {
            assert_eq!(fhir["coverage"]["reference"], format!("Coverage/{}", rest["policy_id"].as_str().unwrap()));
            let line = |category: &str| {
                fhir["item"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|i| i["category"]["coding"][0]["code"] == category)
                    .cloned()
            };
            if let Some(asked) = line("item") {
                assert_eq!(asked["excluded"], rest["item"]["covered_now"] == false, "{asked}");
            }
            if let Some(asked) = line("service") {
                assert_eq!(asked["excluded"], rest["service"]["covered_now"] == false, "{asked}");
            }
        }
        keep(examples, &format!("{engine}-coverageeligibilityresponse"), &eligible);
        lint(&app, "CoverageEligibilityResponse", &eligible).await;
        let mut nobody = request.clone();
        nobody["patient"] = json!({"reference": "Patient/no-such-number"});
        let (status, unknown) = app
            .post(&format!("{BASE}/CoverageEligibilityRequest"), nobody)
            .await;
        assert_eq!(status, 404, "{unknown}");
        assert!(is_outcome(&unknown, "not-found"), "{unknown}");
        let (_, group) = app.get(&format!("{BASE}/Group/070707070")).await;
        assert!(
            group["member"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["entity"]["display"] == "070707070"),
            "{group}"
        );
        // A new family: its head posted as a Patient in a village, then a member of it, then a
        // change of the member at the version read.
        let (_, villages) = app.get("/api/v1/locations?type=V&per_page=1").await;
        let village = villages["items"][0]["code"].as_str().unwrap().to_string();
        let ig = "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition";
        let new_patient = |chfid: &str, head: bool, extra: Value| {
            let mut p = json!({
                "resourceType": "Patient",
                "identifier": [{"type": {"coding": [{"system": "CodeSystem/openimis-identifiers", "code": "Code"}]}, "value": chfid}],
                "name": [{"use": "usual", "family": "Mwangi", "given": ["Amani", "Grace"]}],
                "gender": "female",
                "birthDate": "1990-04-12",
                "extension": [{"url": format!("{ig}/patient-is-head"), "valueBoolean": head}],
                "address": [{"extension": [{"url": format!("{ig}/address-location-reference"), "valueReference": {"reference": format!("Location/{village}")}}]}],
            });
            if let Value::Object(extra) = extra {
                for (k, v) in extra {
                    if k == "extension" {
                        p["extension"].as_array_mut().unwrap().extend(v.as_array().unwrap().clone());
                    } else {
                        p[k] = v;
                    }
                }
            }
            p
        };
        let (status, head) = app
            .post(&format!("{BASE}/Patient"), new_patient("900000001", true, json!({})))
            .await;
        assert_eq!(status, 201, "{head}");
        assert_eq!(head["name"][0]["given"][0], "Amani Grace");
        let (_, by_number) = app.get(&format!("{BASE}/Patient/900000001")).await;
        assert_eq!(by_number["id"], head["id"]);
        keep(examples, &format!("{engine}-patient-created"), &head);
        lint(&app, "created Patient", &head).await;
        let member = new_patient(
            "900000002",
            false,
            json!({"extension": [{"url": format!("{ig}/patient-group-reference"), "valueReference": {"reference": "Group/900000001"}}]}),
        );
        let (status, added) = app.post(&format!("{BASE}/Patient/"), member.clone()).await;
        assert_eq!(status, 201, "{added}");
        let (_, family) = app.get(&format!("{BASE}/Group/900000001")).await;
        assert_eq!(family["quantity"], 2, "{family}");
        let (status, again) = app.post(&format!("{BASE}/Patient"), member.clone()).await;
        assert!(status == 409 || status == 400, "a number already used: {status} {again}");
        let version = added["meta"]["versionId"].as_str().unwrap().to_string();
        let mut changed = member.clone();
        changed["telecom"] = json!([{"system": "phone", "value": "+255700000002", "use": "home"}]);
        changed["meta"] = json!({"versionId": version});
        let id = added["id"].as_str().unwrap();
        let (status, updated) = app.put(&format!("{BASE}/Patient/{id}"), changed.clone()).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["telecom"][0]["value"], "+255700000002");
        assert_ne!(updated["meta"]["versionId"], version.as_str());
        let (status, stale) = app.put(&format!("{BASE}/Patient/{id}"), changed).await;
        assert_eq!(status, 409, "the version read is gone: {stale}");
        assert!(is_outcome(&stale, "conflict"), "{stale}");
        let mut no_birth = new_patient("900000003", true, json!({}));
        no_birth.as_object_mut().unwrap().remove("birthDate");
        let (status, refused) = app.post(&format!("{BASE}/Patient"), no_birth).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["issue"][1]["expression"][0], "Patient.birthDate", "{refused}");
        let (_, insurer) = app.get(&format!("{BASE}/Organization/openIMIS-Implementation")).await;
        assert_eq!(insurer["type"][0]["coding"][0]["code"], "ins", "{insurer}");
        let (_, insurers) = app.get(&format!("{BASE}/Organization?type=ins")).await;
        assert_eq!(insurers["total"], 1);
        keep(examples, &format!("{engine}-organization-insurer"), &insurer);
        let facilities = app
            .count("SELECT COUNT(*) FROM health_facilities WHERE deleted_at IS NULL")
            .await;
        let (_, all) = app.get(&format!("{BASE}/Organization")).await;
        assert_eq!(all["total"], facilities);

        // A patient by insurance number, by UUID and by search: the same record.
        let chfid = "070707070";
        let (status, by_number) = app.get(&format!("{BASE}/Patient/{chfid}/")).await;
        assert_eq!(status, 200, "{by_number}");
        let uuid = by_number["id"].as_str().unwrap().to_string();
        let (_, by_uuid) = app.get(&format!("{BASE}/Patient/{uuid}")).await;
        assert_eq!(by_uuid, by_number);
        let identifiers: Vec<(&str, &str)> = by_number["identifier"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["type"]["coding"][0]["code"].as_str().unwrap(), i["value"].as_str().unwrap()))
            .collect();
        assert!(identifiers.contains(&("UUID", uuid.as_str())), "{identifiers:?}");
        assert!(identifiers.contains(&("Code", chfid)), "{identifiers:?}");
        assert!(by_number["birthDate"].is_string() && by_number["name"][0]["family"].is_string());
        keep(examples, &format!("{engine}-patient"), &by_number);
        lint(&app, "Patient", &by_number).await;
        for identifier in [chfid, uuid.as_str()] {
            let (status, found) = app.get(&format!("{BASE}/Patient?identifier={identifier}")).await;
            assert_eq!(status, 200, "{found}");
            assert_eq!(found["total"], 1, "{identifier}: {found}");
            assert_eq!(found["entry"][0]["resource"]["id"], uuid.as_str());
            assert!(found["entry"][0]["fullUrl"].as_str().unwrap().ends_with(&format!("{BASE}/Patient/{uuid}")));
        }

        // Paging: openIMIS's _count and page-offset (a page number), with links.
        let current = app
            .count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NULL")
            .await;
        let (_, first) = app.get(&format!("{BASE}/Patient?_count=4")).await;
        assert_eq!(first["total"], current);
        assert_eq!(first["entry"].as_array().unwrap().len(), 4);
        keep(examples, &format!("{engine}-bundle-patient"), &first);
        lint(&app, "Patient bundle", &first).await;
        let next = first["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(next.ends_with("_count=4&page-offset=2"), "{next}");
        let (_, second) = app.get(next.strip_prefix(&app.base).unwrap()).await;
        let ids = |b: &Value| -> BTreeSet<String> {
            b["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap().to_string()).collect()
        };
        assert!(ids(&first).is_disjoint(&ids(&second)));
        let last_page = (current + 3) / 4;
        let (_, last) = app.get(&format!("{BASE}/Patient?_count=4&page-offset={last_page}")).await;
        assert!(last["link"].as_array().unwrap().iter().all(|l| l["relation"] != "next"), "{last}");

        // _lastUpdated with prefixes, and refDate.
        for (query, total) in [
            ("_lastUpdated=gt2999-01-01", 0),
            ("_lastUpdated=ge2000-01-01", current),
            ("_lastUpdated=ge2000-01-01&_lastUpdated=lt2999-01-01", current),
            ("_lastUpdated=lt2000-01-01", 0),
            ("_lastUpdated=ne2999-01-01", current),
            ("refDate=2999-01-01", 0),
        ] {
            let (status, found) = app.get(&format!("{BASE}/Patient?{query}")).await;
            assert_eq!(status, 200, "{query}: {found}");
            assert_eq!(found["total"], total, "{query}");
        }
        // claimDateFrom: the patients with a current claim claimed since that day.
        let claimants = app
            .count(
                "SELECT COUNT(DISTINCT c.insuree_id) FROM claims c JOIN insurees i ON i.id = c.insuree_id \
                 WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL",
            )
            .await;
        assert!(claimants > 0 && claimants < current, "{claimants} of {current}");
        for (day, total) in [("1900-01-01", claimants), ("2999-01-01", 0)] {
            let (status, found) = app.get(&format!("{BASE}/Patient?claimDateFrom={day}")).await;
            assert_eq!(status, 200, "{found}");
            assert_eq!(found["total"], total, "claimDateFrom={day}");
        }
        let (status, bad_day) = app.get(&format!("{BASE}/Patient?claimDateFrom=last-week")).await;
        assert_eq!(status, 400, "{bad_day}");
        assert_eq!(bad_day["issue"][1]["expression"][0], "claimDateFrom", "{bad_day}");
        let (_, empty) = app.get(&format!("{BASE}/Patient?identifier=no-such-number")).await;
        assert_eq!(empty["total"], 0);
        keep(examples, &format!("{engine}-bundle-empty"), &empty);

        // Locations: by code, by type, and the hierarchy as partOf.
        let (status, districts) = app.get(&format!("{BASE}/Location?type=D&_count=100")).await;
        assert_eq!(status, 200, "{districts}");
        let expected_districts = app
            .count("SELECT COUNT(*) FROM locations WHERE type = 'D' AND deleted_at IS NULL")
            .await;
        assert_eq!(districts["total"], expected_districts);
        let district = &districts["entry"][0]["resource"];
        assert_eq!(district["physicalType"]["coding"][0]["code"], "D");
        assert!(district["partOf"]["reference"].as_str().unwrap().starts_with("Location/"));
        keep(examples, &format!("{engine}-location"), district);
        keep(examples, &format!("{engine}-bundle-location"), &districts);
        lint(&app, "Location", district).await;
        let code = district["identifier"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"]["coding"][0]["code"] == "Code")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, by_code) = app.get(&format!("{BASE}/Location/{code}")).await;
        assert_eq!(by_code["id"], district["id"]);
        // Facilities as sites (openIMIS's physicalType=si), each read again as a Location.
        let (status, sites) = app.get(&format!("{BASE}/Location?physicalType=si&_count=100")).await;
        assert_eq!(status, 200, "{sites}");
        let facilities = app
            .count("SELECT COUNT(*) FROM health_facilities WHERE deleted_at IS NULL")
            .await;
        assert_eq!(sites["total"], facilities);
        let first_site = &sites["entry"][0]["resource"];
        let (_, read_site) = app
            .get(&format!("{BASE}/Location/{}", first_site["id"].as_str().unwrap()))
            .await;
        assert_eq!(&read_site, first_site);
        keep(examples, &format!("{engine}-location-site"), first_site);
        lint(&app, "Location site", first_site).await;

        // Rights and districts: a clerk of one district sees that district's insurees only,
        // and a user without the right gets a 403 OperationOutcome.
        let district_id = district["id"].as_str().unwrap();
        let clerk = app.user_with("fhir-clerk", &[101101, 121901], &[district_id]).await;
        let (status, seen) = app
            .call(Method::GET, &format!("{BASE}/Patient?_count=100"), Some(&clerk), None)
            .await;
        assert_eq!(status, 200, "{seen}");
        let in_district = app
            .count_with(
                "SELECT COUNT(*) FROM insurees WHERE deleted_at IS NULL AND district_id = (SELECT id FROM locations WHERE code = $1)",
                &code,
            )
            .await;
        assert_eq!(seen["total"], in_district, "{seen}");
        assert!(in_district < current);
        let outsider = app.user_with("fhir-outsider", &[121901], &[district_id]).await;
        let (status, refused) = app
            .call(Method::GET, &format!("{BASE}/Patient"), Some(&outsider), None)
            .await;
        assert_eq!(status, 403, "{refused}");
        assert!(is_outcome(&refused, "forbidden"), "{refused}");
        keep(examples, &format!("{engine}-outcome-forbidden"), &refused);

        // Errors are OperationOutcomes, whoever raised them.
        let (status, no_token) = app.call(Method::GET, &format!("{BASE}/Patient/"), None, None).await;
        assert_eq!(status, 401);
        assert!(is_outcome(&no_token, "login"), "{no_token}");
        let (status, bad_token) = app
            .call(Method::GET, &format!("{BASE}/Patient"), Some("not-a-token"), None)
            .await;
        assert_eq!(status, 401);
        assert!(is_outcome(&bad_token, "login"), "{bad_token}");
        keep(examples, &format!("{engine}-outcome-login"), &bad_token);
        let (status, wrong) = app
            .call(
                Method::POST,
                &format!("{BASE}/login"),
                None,
                Some(json!({"username": "admin", "password": "wrong"})),
            )
            .await;
        assert_eq!(status, 401, "{wrong}");
        assert!(is_outcome(&wrong, "login"), "{wrong}");
        let (status, missing) = app
            .call(Method::POST, &format!("{BASE}/login/"), None, Some(json!({"username": "admin"})))
            .await;
        assert_eq!(status, 400, "{missing}");
        assert!(missing["issue"][0]["details"]["text"].as_str().unwrap().contains("password"), "{missing}");
        let (status, bad_count) = app.get(&format!("{BASE}/Patient?_count=many")).await;
        assert_eq!(status, 400, "{bad_count}");
        assert_eq!(bad_count["issue"][1]["expression"][0], "_count", "{bad_count}");
        keep(examples, &format!("{engine}-outcome-invalid"), &bad_count);
        let (status, bad_date) = app.get(&format!("{BASE}/Patient?_lastUpdated=yesterday")).await;
        assert_eq!(status, 400, "{bad_date}");
        assert_eq!(bad_date["issue"][1]["expression"][0], "_lastUpdated");
        let (status, not_allowed) = app.delete(&format!("{BASE}/Patient/{uuid}")).await;
        assert_eq!(status, 405, "{not_allowed}");
        assert!(is_outcome(&not_allowed, "not-supported"), "{not_allowed}");
        let (status, nowhere) = app.get(&format!("{BASE}/Nothing/1")).await;
        assert_eq!(status, 404);
        assert!(is_outcome(&nowhere, "not-found"), "{nowhere}");
        app.finish().await;
    })
    .await;

    // Everything emitted is valid R4.
    validate(examples);
    let files = std::fs::read_dir(examples).unwrap().count();
    assert!(files >= 10, "{files} examples");
}

/// A FHIR Claim for the same visit as a REST claim, under another code.
fn fhir_claim(code: &str, rest: &Value) -> Value {
    let line = |l: &Value, category: &str| {
        json!({
            "sequence": 1,
            "category": {"text": category},
            "productOrService": {"text": l["code"]},
            "quantity": {"value": l["qty"]},
            "unitPrice": {"value": l["price_asked"].as_i64().unwrap() as f64 / 100.0, "currency": "TZS"},
        })
    };
    let mut items: Vec<Value> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| line(l, "item"))
        .collect();
    items.extend(
        rest["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| line(l, "service")),
    );
    for (i, item) in items.iter_mut().enumerate() {
        item["sequence"] = json!(i + 1);
    }
    json!({
        "resourceType": "Claim",
        "status": "active",
        "use": "claim",
        // openIMIS's default configuration types the claim code MR.
        "identifier": [{"type": {"coding": [{"system": "CodeSystem/openimis-identifiers", "code": "MR"}]}, "value": code}],
        "created": rest["date_claimed"],
        "billablePeriod": {"start": rest["date_from"], "end": rest["date_to"].as_str().unwrap_or(rest["date_from"].as_str().unwrap())},
        "type": {"coding": [{"code": rest["visit_type"].as_str().map(|v| &v[..1]).unwrap_or("O")}]},
        "provider": {"reference": format!("Organization/{}", rest["health_facility_id"].as_str().unwrap())},
        // A patient by insurance number, as openIMIS's clients send it.
        "patient": {"reference": format!("Patient/{}", rest["chfid"].as_str().unwrap())},
        "enterer": {"reference": format!("Practitioner/{}", rest["admin_id"].as_str().unwrap())},
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"code": rest["icd"]}]}}],
        "total": {"value": rest["claimed"].as_i64().unwrap() as f64 / 100.0, "currency": "TZS"},
        "item": items,
    })
}

#[tokio::test]
async fn a_claim_posted_as_fhir_is_adjudicated_and_answered_with_its_reasons() {
    let out = tempfile::tempdir().unwrap();
    let examples = out.path();
    each_engine(|app| async move {
        openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        let engine = format!("{:?}", app.engine).to_lowercase();
        // One of the demo's entered claims, decided through the REST API.
        let (_, entered) = app.get("/api/v1/claims?status=entered&per_page=1").await;
        let id = entered["items"][0]["id"].as_str().unwrap().to_string();
        let (_, rest) = app.get(&format!("/api/v1/claims/{id}")).await;
        assert!(!rest["admin_id"].is_null(), "{rest}");
        let (status, decided) = app
            .post("/api/v1/claims/submit", json!({"claims": [id]}))
            .await;
        assert_eq!(status, 200, "{decided}");
        let (_, rest_decided) = app.get(&format!("/api/v1/claims/{id}")).await;
        let rest_reasons: Vec<i64> = ["items", "services"]
            .iter()
            .flat_map(|k| rest_decided[k].as_array().unwrap().iter())
            .map(|l| l["rejection_reason"].as_i64().unwrap())
            .collect();

        // The same visit as a FHIR Claim: 201 and the ClaimResponse, line by line.
        let claims_before = app.count("SELECT COUNT(*) FROM claims").await;
        let body = fhir_claim("FHIR-0001", &rest);
        let (status, response) = app.post(&format!("{BASE}/Claim/"), body.clone()).await;
        assert_eq!(status, 201, "{response}");
        assert_eq!(response["resourceType"], "ClaimResponse", "{response}");
        let items = response["item"].as_array().unwrap();
        assert_eq!(items.len(), rest_reasons.len());
        let reasons: Vec<i64> = items
            .iter()
            .map(|i| {
                let last = i["adjudication"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .clone();
                assert!(
                    last["reason"]["text"]
                        .as_str()
                        .is_some_and(|t| !t.is_empty()),
                    "{i}"
                );
                last["reason"]["coding"][0]["code"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(reasons, rest_reasons, "the same decision as the REST API's");
        // Stored at once with its lines and one audit record.
        let stored_lines = app
            .count_with(
                "SELECT COUNT(*) FROM claim_lines l JOIN claims c ON c.id = l.claim_id WHERE c.code = $1",
                "FHIR-0001",
            )
            .await;
        assert_eq!(stored_lines, items.len() as i64);
        let records = app
            .count_with(
                "SELECT COUNT(*) FROM audit_log a JOIN claims c ON c.id = a.entity_id \
                 WHERE c.code = $1 AND a.action = 'enter_and_submit'",
                "FHIR-0001",
            )
            .await;
        assert_eq!(records, 1);
        let claimed = response["total"][0]["amount"]["value"].as_f64().unwrap();
        assert_eq!(
            (claimed * 100.0).round() as i64,
            rest["claimed"].as_i64().unwrap()
        );
        assert_eq!(response["total"][0]["amount"]["currency"], "TZS");
        keep(examples, &format!("{engine}-claimresponse"), &response);
        lint(&app, "ClaimResponse", &response).await;
        let (status, again) = app
            .get(&format!(
                "{BASE}/ClaimResponse/{}",
                response["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(again["item"], response["item"]);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claims").await,
            claims_before + 1
        );
        // The claim itself, as stored: with its insurance, its items and their codes.
        let claim_id = response["id"].as_str().unwrap();
        let (status, stored) = app.get(&format!("{BASE}/Claim/{claim_id}")).await;
        assert_eq!(status, 200, "{stored}");
        assert_eq!(stored["insurance"][0]["focal"], true, "{stored}");
        assert_eq!(stored["item"].as_array().unwrap().len(), items.len());
        keep(examples, &format!("{engine}-claim"), &stored);
        lint(&app, "Claim", &stored).await;
        for kind in ["Claim", "ClaimResponse"] {
            let (status, found) = app
                .get(&format!("{BASE}/{kind}?identifier=FHIR-0001"))
                .await;
            assert_eq!(status, 200, "{found}");
            assert_eq!(found["total"], 1, "{kind}: {found}");
            assert_eq!(found["entry"][0]["resource"]["id"], claim_id);
            keep(
                examples,
                &format!("{engine}-{}-bundle", kind.to_lowercase()),
                &found,
            );
            let chfid = rest["chfid"].as_str().unwrap();
            let (_, of_patient) = app.get(&format!("{BASE}/{kind}?patient={chfid}")).await;
            let of_insuree = app
                .count_with(
                    "SELECT COUNT(*) FROM claims c JOIN insurees i ON i.id = c.insuree_id \
                     WHERE i.chfid = $1 AND c.deleted_at IS NULL",
                    chfid,
                )
                .await;
            assert_eq!(of_patient["total"], of_insuree, "{kind}: {of_patient}");
        }

        // Contained resources name the records they are: openIMIS's #Type/code and FHIR's #id.
        let mut with_contained = fhir_claim("FHIR-0007", &rest);
        with_contained["contained"] = json!([
            {"resourceType": "Patient", "id": "p",
             "identifier": [{"type": {"coding": [{"code": "Code"}]}, "value": rest["chfid"]}]},
            {"resourceType": "Organization", "id": "hf",
             "identifier": [{"type": {"coding": [{"code": "UUID"}]}, "value": rest["health_facility_id"]}]},
        ]);
        with_contained["patient"] = json!({"reference": format!("#Patient/{}", rest["chfid"].as_str().unwrap())});
        with_contained["provider"] = json!({"reference": "#hf"});
        let mut dangling = with_contained.clone();
        dangling["provider"] = json!({"reference": "#elsewhere"});
        let (status, refused) = app.post(&format!("{BASE}/Claim"), dangling).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            refused["issue"][1]["expression"][0], "Claim.provider.reference",
            "{refused}"
        );
        let (status, answered) = app.post(&format!("{BASE}/Claim"), with_contained).await;
        assert_eq!(status, 201, "{answered}");
        let (status, inlined) = app
            .get(&format!("{BASE}/Claim?identifier=FHIR-0007&contained=true"))
            .await;
        assert_eq!(status, 200, "{inlined}");
        let with = &inlined["entry"][0]["resource"];
        let kinds: BTreeSet<&str> = with["contained"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["resourceType"].as_str().unwrap())
            .collect();
        for kind in ["Patient", "Organization", "Practitioner"] {
            assert!(kinds.contains(kind), "{kind}: {kinds:?}");
        }
        assert!(with["patient"]["reference"].as_str().unwrap().starts_with('#'), "{with}");
        keep(examples, &format!("{engine}-claim-contained-bundle"), &inlined);
        lint(&app, "Claim?contained=true", &inlined).await;
        let (status, bad_flag) = app
            .get(&format!("{BASE}/Claim/{}?contained=maybe", answered["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 400, "{bad_flag}");
        let claims_before = claims_before + 1;

        // The same code again: 409, and nothing changes.
        let (status, twice) = app.post(&format!("{BASE}/Claim"), body.clone()).await;
        assert_eq!(status, 409, "{twice}");
        assert!(
            is_outcome(&twice, "duplicate") || is_outcome(&twice, "conflict"),
            "{twice}"
        );
        keep(examples, &format!("{engine}-outcome-duplicate"), &twice);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claims").await,
            claims_before + 1
        );

        // Feedback: asked on a checked claim, it is a CommunicationRequest; the answers posted as
        // a Communication deliver it.
        // (One whose insuree is current; claim 17's was deleted in openIMIS: its Patient is 410
        // Gone, as FHIR says of a deleted resource, and a reference to it passes the lint.)
        let deleted = "6591b749-90ec-4d6f-bfe3-e770f0ce10d8";
        let (status, gone) = app.get(&format!("{BASE}/Patient/{deleted}")).await;
        assert_eq!(status, 410, "{gone}");
        assert!(is_outcome(&gone, "deleted"), "{gone}");
        keep(examples, &format!("{engine}-outcome-deleted"), &gone);
        let (status, _) = app.get(&format!("/api/v1/insurees/{deleted}")).await;
        assert_eq!(status, 404, "the REST API still says not found");
        let (_, valuated) = app.get("/api/v1/claims?status=valuated&per_page=100").await;
        let mut asked = None;
        for c in valuated["items"].as_array().unwrap() {
            if c["insuree_id"] == deleted {
                let (status, claim_17) = app
                    .get(&format!("{BASE}/Claim/{}", c["id"].as_str().unwrap()))
                    .await;
                assert_eq!(status, 200, "{claim_17}");
                lint(&app, "Claim of a deleted insuree", &claim_17).await;
            } else if asked.is_none() {
                asked = Some(c["id"].as_str().unwrap().to_string());
            }
        }
        let asked = asked.expect("a valuated claim of a current insuree");
        let (_, before) = app.get(&format!("{BASE}/CommunicationRequest")).await;
        let (status, body) = app
            .post(&format!("/api/v1/claims/{asked}/feedback/request"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, requests) = app.get(&format!("{BASE}/CommunicationRequest")).await;
        assert_eq!(
            requests["total"].as_i64().unwrap(),
            before["total"].as_i64().unwrap() + 1,
            "{requests}"
        );
        let (status, request) = app.get(&format!("{BASE}/CommunicationRequest/{asked}")).await;
        assert_eq!(status, 200, "{request}");
        assert_eq!(request["status"], "active");
        assert_eq!(request["payload"].as_array().unwrap().len(), 5);
        keep(examples, &format!("{engine}-communicationrequest"), &request);
        keep(examples, &format!("{engine}-communicationrequest-bundle"), &requests);
        lint(&app, "CommunicationRequest", &request).await;
        let answer = |code: &str, value: &str| {
            json!({
                "extension": [{
                    "url": "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/communication-payload-type",
                    "valueCodeableConcept": {"coding": [{"system": "CodeSystem/feedback-payload", "code": code}]},
                }],
                "contentString": value,
            })
        };
        let mut feedback = json!({
            "resourceType": "Communication",
            "status": "completed",
            "about": [{"reference": format!("Claim/{asked}")}],
            "payload": [
                answer("CareRendered", "yes"),
                answer("PaymentAsked", "no"),
                answer("DrugPrescribed", "yes"),
                answer("DrugReceived", "maybe"),
                answer("Asessment", "4"),
            ],
        });
        let (status, refused) = app.post(&format!("{BASE}/Communication"), feedback.clone()).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["issue"][1]["expression"][0], "Communication.payload[3].contentString");
        feedback["payload"][3] = answer("DrugReceived", "yes");
        let (status, delivered) = app.post(&format!("{BASE}/Communication/"), feedback).await;
        assert_eq!(status, 201, "{delivered}");
        assert_eq!(delivered["payload"][4]["contentString"], "4");
        keep(examples, &format!("{engine}-communication"), &delivered);
        lint(&app, "Communication", &delivered).await;
        let (_, stored) = app.get(&format!("/api/v1/claims/{asked}")).await;
        assert_eq!(stored["feedback_status"], "delivered", "{stored}");
        assert_eq!(stored["feedback"]["assessment"], 4);
        let (_, request) = app.get(&format!("{BASE}/CommunicationRequest/{asked}")).await;
        assert_eq!(request["status"], "completed");

        // A document travels with the claim; one that is not what it says is refused first.
        let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
        let mut with_document = fhir_claim("FHIR-0004", &rest);
        with_document["supportingInfo"] = json!([{
            "sequence": 1,
            "category": {"coding": [{"code": "attachment"}]},
            "valueAttachment": {"contentType": "png", "data": png, "title": "receipt.png"},
        }]);
        let mut wrong = with_document.clone();
        wrong["identifier"][0]["value"] = json!("FHIR-0005");
        wrong["supportingInfo"][0]["valueAttachment"]["contentType"] = json!("application/pdf");
        let (status, refused) = app.post(&format!("{BASE}/Claim"), wrong).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            refused["issue"][1]["expression"][0],
            "Claim.supportingInfo[0].valueAttachment",
            "{refused}"
        );
        // Its hash, when sent, is the SHA-1 of the data (openIMIS: hex of the base64 text).
        let mut cut = with_document.clone();
        cut["identifier"][0]["value"] = json!("FHIR-0006");
        cut["supportingInfo"][0]["valueAttachment"]["hash"] =
            json!("0000000000000000000000000000000000000000");
        let (status, refused) = app.post(&format!("{BASE}/Claim"), cut).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            refused["issue"][1]["expression"][0],
            "Claim.supportingInfo[0].valueAttachment.hash",
            "{refused}"
        );
        with_document["supportingInfo"][0]["valueAttachment"]["hash"] =
            json!("3abc0ce5ce15276a34d6db51d94bfc9017b67074");
        let (status, answered) = app.post(&format!("{BASE}/Claim"), with_document).await;
        assert_eq!(status, 201, "{answered}");
        let (_, documents) = app
            .get(&format!(
                "/api/v1/claims/{}/attachments",
                answered["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(documents.as_array().map_or(0, Vec::len), 1, "{documents}");
        let claims_before = claims_before + 1;

        // A medical officer's review, as openIMIS's ClaimResponse update carries it.
        let (_, checked) = app.get("/api/v1/claims?status=checked&per_page=1").await;
        let checked_id = checked["items"][0]["id"].as_str().unwrap().to_string();
        let (_, before_review) = app.get(&format!("{BASE}/ClaimResponse/{checked_id}")).await;
        let version = before_review["meta"]["versionId"].as_str().unwrap().to_string();
        let review = json!({
            "resourceType": "ClaimResponse",
            "meta": {"versionId": version},
            "item": [{
                "itemSequence": 1,
                "adjudication": [{
                    "category": {"coding": [{"code": "4"}]},
                    "value": 1,
                    "reason": {"text": "one unit was given"},
                }],
            }],
        });
        let (status, reviewed) = app
            .put(&format!("{BASE}/ClaimResponse/{checked_id}"), review.clone())
            .await;
        assert_eq!(status, 200, "{reviewed}");
        let (_, rest_reviewed) = app.get(&format!("/api/v1/claims/{checked_id}")).await;
        let first = rest_reviewed["items"]
            .as_array()
            .unwrap()
            .first()
            .or(rest_reviewed["services"].as_array().unwrap().first())
            .unwrap()
            .clone();
        assert_eq!(first["qty_approved"], 1, "{rest_reviewed}");
        assert_eq!(first["justification"], "one unit was given");
        keep(examples, &format!("{engine}-claimresponse-reviewed"), &reviewed);
        let (status, stale) = app
            .put(&format!("{BASE}/ClaimResponse/{checked_id}"), review)
            .await;
        assert_eq!(status, 409, "{stale}");

        // A bad payload names the element, and nothing is written.
        let mut no_date = fhir_claim("FHIR-0002", &rest);
        no_date["billablePeriod"] = json!({});
        let (status, refused) = app.post(&format!("{BASE}/Claim"), no_date).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            refused["issue"][1]["expression"][0], "Claim.billablePeriod.start",
            "{refused}"
        );
        keep(
            examples,
            &format!("{engine}-outcome-claim-invalid"),
            &refused,
        );
        let mut no_category = fhir_claim("FHIR-0003", &rest);
        no_category["item"][0]["category"] = json!({"text": "drug"});
        let (status, refused) = app.post(&format!("{BASE}/Claim"), no_category).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            refused["issue"][1]["expression"][0], "Claim.item[0].category",
            "{refused}"
        );
        let (status, not_json) = app
            .raw(Method::POST, &format!("{BASE}/Claim"), "{not json")
            .await;
        assert_eq!(status, 400, "{not_json}");
        assert_eq!(not_json["resourceType"], "OperationOutcome");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claims").await,
            claims_before + 1
        );
        app.finish().await;
    })
    .await;
    validate(examples);
}

/// `POST Group` gathers registered patients into a family: the head named by the `Code`
/// identifier, the members by reference, moved in one transaction; the same Group again is the
/// family it made (200); a member who heads another family, an unknown member or no head
/// changes nothing.
#[tokio::test]
async fn a_group_is_gathered_from_registered_patients() {
    let out = tempfile::tempdir().unwrap();
    let examples = out.path();
    each_engine(|app| async move {
        openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        let engine = format!("{:?}", app.engine).to_lowercase();
        let (_, listed) = app.get("/api/v1/insurees?per_page=100").await;
        let insurees = listed["items"].as_array().unwrap().clone();
        // Two members (not heads) of two different families, and a head of a family of several.
        let members: Vec<&Value> = insurees.iter().filter(|i| i["head"] == false).collect();
        let a = members[0].clone();
        let b = members
            .iter()
            .find(|i| i["family_id"] != a["family_id"])
            .copied()
            .unwrap()
            .clone();
        let c = members
            .iter()
            .find(|i| i["family_id"] != a["family_id"] && i["id"] != b["id"])
            .copied()
            .unwrap()
            .clone();
        let (_, family_of_a) = app
            .get(&format!("/api/v1/families/{}", a["family_id"].as_str().unwrap()))
            .await;
        let (_, village) = app
            .get(&format!(
                "/api/v1/locations/{}",
                family_of_a["location_id"].as_str().unwrap()
            ))
            .await;
        let village_code = village["code"].as_str().unwrap().to_string();
        let chfid = |i: &Value| i["chfid"].as_str().unwrap().to_string();
        let group = |head: &str, members: &[String]| {
            json!({
                "resourceType": "Group",
                "type": "person",
                "actual": true,
                "identifier": [{"type": {"coding": [{"system": "CodeSystem/openimis-identifiers", "code": "Code"}]}, "value": head}],
                "member": members.iter().map(|m| json!({"entity": {"reference": format!("Patient/{m}")}})).collect::<Vec<_>>(),
                "extension": [
                    {"url": "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/group-address",
                     "valueAddress": {"text": "Plot 4",
                        "extension": [{"url": "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/address-location-reference",
                                       "valueReference": {"reference": format!("Location/{village_code}")}}]}},
                    {"url": "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/group-poverty-status", "valueBoolean": true},
                    {"url": "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/group-type",
                     "valueCodeableConcept": {"coding": [{"code": "H"}]}},
                ],
            })
        };
        let families = app
            .count("SELECT COUNT(*) FROM families WHERE deleted_at IS NULL")
            .await;

        // Refused, and nothing changes: no head, an unknown member, a member heading a family.
        let mut no_head = group(&chfid(&a), &[chfid(&b)]);
        no_head["identifier"] = json!([]);
        let (status, refused) = app.post(&format!("{BASE}/Group"), no_head).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["issue"][1]["expression"][0], "Group.identifier", "{refused}");
        let (status, refused) = app
            .post(&format!("{BASE}/Group"), group(&chfid(&a), &[chfid(&b), "no-such-number".into()]))
            .await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["issue"][1]["expression"][0], "Group.member[1].entity", "{refused}");
        keep(examples, &format!("{engine}-outcome-group-member"), &refused);
        let head_of_many = insurees
            .iter()
            .find(|i| {
                i["head"] == true
                    && insurees
                        .iter()
                        .any(|m| m["family_id"] == i["family_id"] && m["head"] == false)
                    && i["family_id"] != a["family_id"]
            })
            .unwrap()
            .clone();
        let (status, refused) = app
            .post(&format!("{BASE}/Group"), group(&chfid(&a), &[chfid(&b), chfid(&head_of_many)]))
            .await;
        assert_eq!(status, 409, "{refused}");
        assert!(
            refused["issue"][0]["details"]["text"].as_str().unwrap().contains(&chfid(&head_of_many)),
            "{refused}"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM families WHERE deleted_at IS NULL").await,
            families
        );
        let (_, still) = app.get(&format!("/api/v1/insurees/{}", b["id"].as_str().unwrap())).await;
        assert_eq!(still["family_id"], b["family_id"], "nothing moved");

        // Gathered: a new family headed by A, with B; as the Group says.
        let body = group(&chfid(&a), &[chfid(&b)]);
        let (status, made) = app.post(&format!("{BASE}/Group/"), body.clone()).await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["resourceType"], "Group");
        assert_eq!(made["quantity"], 2, "{made}");
        assert!(made["identifier"].as_array().unwrap().iter().any(|i| i["value"] == chfid(&a).as_str()), "{made}");
        keep(examples, &format!("{engine}-group-created"), &made);
        lint(&app, "Group", &made).await;
        let id = made["id"].as_str().unwrap().to_string();
        let (_, family) = app.get(&format!("/api/v1/families/{id}")).await;
        assert_eq!(family["head_chfid"], chfid(&a).as_str(), "{family}");
        assert_eq!(family["poverty"], true);
        assert_eq!(family["family_type"], "H");
        assert_eq!(family["location_id"], family_of_a["location_id"]);
        for who in [&a, &b] {
            let (_, moved) = app.get(&format!("/api/v1/insurees/{}", who["id"].as_str().unwrap())).await;
            assert_eq!(moved["family_id"], id.as_str(), "{moved}");
            assert_eq!(moved["head"], who["id"] == a["id"]);
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM families WHERE deleted_at IS NULL").await,
            families + 1
        );
        let (status, read) = app.get(&format!("{BASE}/Group/{}", chfid(&a))).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(read["id"], id.as_str());

        // The same Group again is the family A heads: 200; C joins it; no new family.
        let (status, again) = app
            .post(&format!("{BASE}/Group"), group(&chfid(&a), &[chfid(&b), chfid(&c)]))
            .await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["id"], id.as_str());
        assert_eq!(again["quantity"], 3, "{again}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM families WHERE deleted_at IS NULL").await,
            families + 1
        );
        app.finish().await;
    })
    .await;
    validate(examples);
}
