//! The web UI through the real app, as a browser uses it (cookies, forms, redirects), on the
//! imported openIMIS demo: login with CSRF, the dashboard's figures, families (search, a new
//! family, a refused form that keeps what was typed), claims with each line's reason, the
//! language switch, rights in the menu, logout.

use crate::auth::demo_dir;
use crate::support::*;
use reqwest::StatusCode;
use std::collections::HashMap;

/// A browser: its own cookies, no automatic redirects.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    language: Option<&'static str>,
}

struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            language: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut request = request.header("cookie", cookies.join("; "));
        if let Some(l) = self.language {
            request = request.header("accept-language", l);
        }
        let response = request.send().await.unwrap();
        for c in response.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attributes) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let r = self.client.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(r).await
    }

    fn csrf(&self) -> String {
        self.cookies
            .get("bima_csrf")
            .cloned()
            .expect("a CSRF cookie")
    }

    async fn log_in(&mut self, username: &str, password: &str) -> Answer {
        self.get("/login").await;
        let csrf = self.csrf();
        self.post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ],
        )
        .await
    }
}

/// What a test enters through the UI, taken from the imported demo: the village of a family with
/// a policy and that policy's product (sold there), and an entered claim's facility, first line
/// and diagnosis.
pub struct Sample {
    pub village: String,
    pub product: String,
    pub facility: String,
    /// `item` or `service`.
    pub kind: &'static str,
    pub line: String,
    pub icd: String,
}

impl Sample {
    pub async fn of(app: &TestApp) -> Sample {
        let (_, policies) = app.get("/api/v1/policies?per_page=1").await;
        let policy = &policies["items"][0];
        let (_, family) = app
            .get(&format!(
                "/api/v1/families/{}",
                policy["family_id"].as_str().unwrap()
            ))
            .await;
        let (_, village) = app
            .get(&format!(
                "/api/v1/locations/{}",
                family["location_id"].as_str().unwrap()
            ))
            .await;
        let (_, entered) = app.get("/api/v1/claims?status=entered&per_page=1").await;
        let id = entered["items"][0]["id"].as_str().unwrap();
        let (_, claim) = app.get(&format!("/api/v1/claims/{id}")).await;
        let (_, facility) = app
            .get(&format!(
                "/api/v1/health-facilities/{}",
                claim["health_facility_id"].as_str().unwrap()
            ))
            .await;
        let (kind, line) = match claim["items"][0]["code"].as_str() {
            Some(code) => ("item", code),
            None => ("service", claim["services"][0]["code"].as_str().unwrap()),
        };
        Sample {
            village: village["code"].as_str().unwrap().to_string(),
            product: policy["product_id"].as_str().unwrap().to_string(),
            facility: facility["code"].as_str().unwrap().to_string(),
            kind,
            line: line.to_string(),
            icd: claim["icd"].as_str().unwrap().to_string(),
        }
    }
}

/// Text as a page shows it, HTML entities undone.
fn unescape(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn the_staff_work_in_the_browser_in_english_and_french() {
    each_engine(|app| async move {
        openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        let mut browser = Browser::new(&app);

        // Without a session every page sends the browser to the login page, and back after.
        let home = browser.get("/claims?status=checked").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER, "{}", home.body);
        assert_eq!(home.location, "/login?next=%2Fclaims%3Fstatus%3Dchecked");
        let login = browser.get(&home.location).await;
        assert_eq!(login.status, 200);
        assert!(login.body.contains("Log in to continue."), "{}", login.body);
        assert!(login.body.contains(r#"<label for="username">Username</label>"#));
        // A form sent without its CSRF token, or with a wrong password, logs nobody in.
        let forged = browser
            .post("/login", &[("username", "admin"), ("password", ADMIN_PASSWORD), ("csrf", "forged")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(!browser.cookies.contains_key("bima_session"));
        let csrf = browser.csrf();
        let wrong = browser
            .post("/login", &[("username", "admin"), ("password", "not-it"), ("csrf", &csrf)])
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("The username or password is wrong."));
        assert!(wrong.body.contains(r#"value="admin""#), "the username is kept");
        assert!(!browser.cookies.contains_key("bima_session"));
        let csrf = browser.csrf();
        let ok = browser
            .post(
                "/login",
                &[("username", "admin"), ("password", ADMIN_PASSWORD), ("csrf", &csrf), ("next", "/claims?status=checked")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(ok.location, "/claims?status=checked");
        assert!(browser.cookies.contains_key("bima_session"));
        assert_ne!(browser.csrf(), csrf, "a new CSRF token for the new session");

        // The dashboard: the scheme's figures.
        let dashboard = browser.get("/").await;
        assert_eq!(dashboard.status, 200, "{}", dashboard.body);
        let insurees = app
            .count("SELECT COUNT(*) FROM insurees WHERE deleted_at IS NULL")
            .await;
        assert!(
            dashboard
                .body
                .contains(&format!(r#"<a class="value" href="/families">{insurees}</a><span class="label">Insured people</span>"#)),
            "{}",
            dashboard.body
        );
        assert!(dashboard.body.contains("Claims by status"));
        assert!(dashboard.body.contains(r#"<main id="main""#), "a main landmark");
        assert!(dashboard.body.len() < 50_000, "{} bytes", dashboard.body.len());

        // Families: the search finds a head by name.
        let (_, families) = app.get("/api/v1/families?per_page=1").await;
        let head = families["items"][0]["head_last_name"].as_str().unwrap().to_string();
        let found = browser.get(&format!("/families?q={}", &head[..3])).await;
        assert_eq!(found.status, 200);
        assert!(found.body.contains(&head), "{}", found.body);
        let none = browser.get("/families?q=Zzzzqx").await;
        assert!(none.body.contains("No family matches."));

        // A new family: a refused form says why next to the field and keeps what was typed.
        let sample = Sample::of(&app).await;
        let village = sample.village.clone();
        let before = app.count("SELECT COUNT(*) FROM families").await;
        let new = browser.get("/families/new").await;
        assert_eq!(new.status, 200);
        let csrf = browser.csrf();
        let refused = browser
            .post(
                "/families",
                &[("csrf", &csrf), ("village", &village), ("chfid", "770000001"), ("last_name", ""),
                  ("other_names", "Amina"), ("gender", "F"), ("dob", "1990-04-02")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains(r#"id="last_name" name="last_name" type="text" value="" aria-invalid="true""#), "{}", refused.body);
        assert!(refused.body.contains(r#"value="770000001""#), "what was typed is kept");
        assert!(refused.body.contains(r#"value="F" checked"#));
        let unknown_village = browser
            .post(
                "/families",
                &[("csrf", &csrf), ("village", "NO-SUCH"), ("chfid", "770000001"), ("last_name", "Juma"),
                  ("other_names", "Amina"), ("gender", "F"), ("dob", "1990-04-02")],
            )
            .await;
        assert_eq!(unknown_village.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown_village.body.contains(r#"id="village-error">Nothing has this code."#), "{}", unknown_village.body);
        let forged = browser
            .post(
                "/families",
                &[("csrf", "forged"), ("village", &village), ("chfid", "770000001"), ("last_name", "Juma"),
                  ("other_names", "Amina"), ("gender", "F"), ("dob", "1990-04-02")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(app.count("SELECT COUNT(*) FROM families").await, before, "nothing saved");
        let made = browser
            .post(
                "/families",
                &[("csrf", &csrf), ("village", &village), ("chfid", "770000001"), ("last_name", "Juma"),
                  ("other_names", "Amina"), ("gender", "F"), ("dob", "1990-04-02"), ("poverty", "yes")],
            )
            .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
        assert!(made.location.starts_with("/families/"), "{}", made.location);
        let family = browser.get(&made.location).await;
        assert_eq!(family.status, 200);
        assert!(family.body.contains("The family was created."));
        assert!(family.body.contains("770000001") && family.body.contains("Juma"));
        assert_eq!(app.count("SELECT COUNT(*) FROM families").await, before + 1);

        // Enrol the family in a product, then pay its policy: idle, then active.
        let family_id = made.location["/families/".len()..].split('?').next().unwrap().to_string();
        let today = time::OffsetDateTime::now_utc().date().to_string();
        // A product this family's village can buy: the one of a demo family of the same village.
        let product = sample.product.clone();
        let csrf = browser.csrf();
        let enrolled = browser
            .post(
                &format!("/families/{family_id}/policies"),
                &[("csrf", &csrf), ("product_id", &product), ("enroll_date", &today)],
            )
            .await;
        assert_eq!(enrolled.status, StatusCode::SEE_OTHER, "{}", enrolled.body);
        let page = browser.get(&enrolled.location).await;
        assert!(page.body.contains("The family was enrolled."), "{}", page.body);
        assert!(page.body.contains("Idle (not paid)"));
        let (_, policies) = app.get(&format!("/api/v1/policies?family_id={family_id}")).await;
        let policy = policies["items"][0].clone();
        let value = policy["value"].as_i64().unwrap();
        let amount = format!("{}.{:02}", value / 100, value % 100);
        let pay = format!("/policies/{}/contributions", policy["id"].as_str().unwrap());
        let no_receipt = browser
            .post(&pay, &[("csrf", &csrf), ("amount", &amount), ("receipt", ""), ("pay_date", &today), ("pay_type", "C")])
            .await;
        assert_eq!(no_receipt.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_receipt.body);
        assert!(no_receipt.body.contains(&format!(r#"value="{amount}""#)), "the amount typed is kept");
        let paid = browser
            .post(&pay, &[("csrf", &csrf), ("amount", &amount), ("receipt", "WEB-R1"), ("pay_date", &today), ("pay_type", "C")])
            .await;
        assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
        let page = browser.get(&paid.location).await;
        assert!(page.body.contains("The payment was recorded."));
        assert!(page.body.contains(r#"<dd class="policy-status">Active</dd>"#), "{}", page.body);

        // A new member: refused without a birth date (the error by the field, what was typed
        // kept), then added.
        let members = format!("/families/{family_id}/members");
        let insurees_before = app.count("SELECT COUNT(*) FROM insurees").await;
        let refused = browser
            .post(&members, &[("csrf", &csrf), ("chfid", "770000002"), ("last_name", "Juma"), ("other_names", "Baraka"), ("gender", "M"), ("dob", "")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains(r#"id="member-dob-error""#), "{}", refused.body);
        assert!(refused.body.contains(r#"value="Baraka""#));
        assert_eq!(app.count("SELECT COUNT(*) FROM insurees").await, insurees_before);
        let added = browser
            .post(&members, &[("csrf", &csrf), ("chfid", "770000002"), ("last_name", "Juma"), ("other_names", "Baraka"), ("gender", "M"), ("dob", "2015-01-20")])
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let page = browser.get(&added.location).await;
        assert!(page.body.contains("The member was added"), "{}", page.body);
        assert!(page.body.contains("770000002"));
        assert_eq!(app.count("SELECT COUNT(*) FROM insurees").await, insurees_before + 1);

        // The insurance card: the number as a QR code; a photo uploaded shows on it.
        let (_, insuree) = app.get("/api/v1/insurees/770000002").await;
        let insuree_id = insuree["id"].as_str().unwrap().to_string();
        let card = browser.get(&format!("/insurees/{insuree_id}/card")).await;
        assert_eq!(card.status, 200, "{}", card.body);
        assert!(card.body.contains("<svg") && card.body.contains("770000002"), "{}", card.body);
        assert!(!card.body.contains("/photo\" alt"), "no photo yet");
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
            0x90, 0x77, 0x53, 0xDE, 0, 0, 0, 0x0C, b'I', b'D', b'A', b'T', 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0, 0, 0x03, 0x01, 0x01,
            0x00, 0x18, 0xDD, 0x8D, 0xB0, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82,
        ];
        let boundary = "bima-test-boundary";
        let mut body = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\ncontent-type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&png);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = browser
            .client
            .post(format!("{}/insurees/{insuree_id}/photo", browser.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        let uploaded = browser.send(request).await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
        let card = browser.get(&uploaded.location).await;
        assert!(card.body.contains("The photo was changed."), "{}", card.body);
        assert!(card.body.contains(&format!("/insurees/{insuree_id}/photo")));
        let photo = browser.get(&format!("/insurees/{insuree_id}/photo")).await;
        assert_eq!(photo.status, 200);

        // A batch run for last month, nationally: started once, refused the second time.
        let runs = browser.get("/batch-runs").await;
        let month = runs.body.split(r#"name="month" type="month" value=""#).nth(1).unwrap()[..7].to_string();
        let started = browser.post("/batch-runs", &[("csrf", &csrf), ("month", &month), ("location", "")]).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let runs = browser.get(&started.location).await;
        assert!(runs.body.contains("The batch run has started"), "{}", runs.body);
        assert!(runs.body.contains("<progress max=\"1000\""), "{}", runs.body);
        let again = browser.post("/batch-runs", &[("csrf", &csrf), ("month", &month), ("location", "")]).await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
        assert!(again.body.contains(r#"class="error" role="alert""#), "{}", again.body);

        // Enter a claim for the new insuree, then submit it: each line is decided.
        let (facility, item, kind, icd) = (sample.facility.clone(), sample.line.clone(), sample.kind, sample.icd.clone());
        let (code_field, qty_field) = (format!("{kind}_code_0"), format!("{kind}_qty_0"));
        let claim_form = |line: &str| {
            vec![
                ("csrf".to_string(), csrf.clone()), ("facility".into(), facility.clone()), ("insuree".into(), "770000001".into()),
                ("code".into(), "WEB-0001".into()), ("date_from".into(), today.clone()), ("icd".into(), icd.clone()),
                ("visit_type".into(), "O".into()), (code_field.clone(), line.to_string()), (qty_field.clone(), "1".into()),
            ]
        };
        let claims_before = app.count("SELECT COUNT(*) FROM claims").await;
        let form = claim_form("NO-SUCH-CODE");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = browser.post("/claims", &pairs).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains(&format!(r#"id="{code_field}-error""#)), "{}", refused.body);
        assert!(refused.body.contains(r#"value="WEB-0001""#), "what was typed is kept");
        assert_eq!(app.count("SELECT COUNT(*) FROM claims").await, claims_before);
        let form = claim_form(&item);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let saved = browser.post("/claims", &pairs).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = browser.get(&saved.location).await;
        assert!(page.body.contains("The claim was saved."), "{}", page.body);
        let claim_id = saved.location["/claims/".len()..].split('?').next().unwrap().to_string();
        let submitted = browser
            .post(&format!("/claims/{claim_id}/submit"), &[("csrf", &csrf)])
            .await;
        assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.body);
        let page = browser.get(&submitted.location).await;
        assert!(page.body.contains("The claim was submitted"), "{}", page.body);
        let (_, decided) = app.get(&format!("/api/v1/claims/{claim_id}")).await;
        assert_ne!(decided["status"], "entered", "{decided}");
        assert!(!page.body.contains("Submit for checking"), "a decided claim is not submitted again");

        // Claims: a rejected line shows its reason in words and the engine's sentence.
        let (_, entered) = app.get("/api/v1/claims?status=entered&per_page=100").await;
        let ids: Vec<&str> = entered["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        let (status, _) = app.post("/api/v1/claims/submit", serde_json::json!({"claims": ids})).await;
        assert_eq!(status, 200);
        let mut shown = 0;
        for id in ids {
            let (_, claim) = app.get(&format!("/api/v1/claims/{id}")).await;
            let rejected = ["items", "services"]
                .iter()
                .flat_map(|k| claim[*k].as_array().unwrap().iter())
                .find(|l| l["status"] == "rejected")
                .cloned();
            let Some(line) = rejected else { continue };
            let page = browser.get(&format!("/claims/{id}")).await;
            assert_eq!(page.status, 200);
            let text = unescape(&page.body);
            assert!(text.contains(line["decision"].as_str().unwrap()), "{text}");
            assert!(page.body.contains(r#"<tr class="rejected">"#));
            shown += 1;
        }
        assert!(shown > 0, "a claim with a rejected line");
        let list = browser.get("/claims?status=rejected").await;
        assert!(list.body.contains(r#"<option value="rejected" selected>Rejected</option>"#), "{}", list.body);

        // A medical officer's review: a rejection needs its justification, then it is saved.
        let (_, checked) = app.get("/api/v1/claims?status=checked&per_page=2").await;
        let checked_id = checked["items"][0]["id"].as_str().unwrap().to_string();
        let other_checked = checked["items"][1]["id"].as_str().unwrap().to_string();
        let (_, before_review) = app.get(&format!("/api/v1/claims/{checked_id}")).await;
        let first = before_review["items"][0].clone();
        let first = if first.is_null() { before_review["services"][0].clone() } else { first };
        let line = first["id"].as_str().unwrap();
        let version = before_review["version"].to_string();
        let page = browser.get(&format!("/claims/{checked_id}")).await;
        assert!(page.body.contains("Review this claim"), "{}", page.body);
        let reject = format!("line-{line}-reject");
        let why = format!("line-{line}-justification");
        let refused = browser
            .post(&format!("/claims/{checked_id}/review"), &[("csrf", &csrf), ("version", &version), (&reject, "yes")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains(r#"class="error" role="alert""#));
        let reviewed = browser
            .post(
                &format!("/claims/{checked_id}/review"),
                &[("csrf", &csrf), ("version", &version), (&reject, "yes"), (&why, "not given, says the patient")],
            )
            .await;
        assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.body);
        assert!(browser.get(&reviewed.location).await.body.contains("The review was saved."));
        let (_, after_review) = app.get(&format!("/api/v1/claims/{checked_id}")).await;
        let line_after = ["items", "services"]
            .iter()
            .flat_map(|k| after_review[*k].as_array().unwrap().iter())
            .find(|l| l["id"] == line)
            .unwrap()
            .clone();
        assert_eq!(line_after["rejection_reason"], -1, "{after_review}");
        assert_eq!(line_after["justification"], "not given, says the patient");
        let asked = browser.post(&format!("/claims/{other_checked}/feedback"), &[("csrf", &csrf)]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
        let (_, after_ask) = app.get(&format!("/api/v1/claims/{other_checked}")).await;
        assert_ne!(after_ask["feedback_status"], "idle", "{after_ask}");
        let page = browser.get(&format!("/claims/{other_checked}")).await;
        assert!(page.body.contains("The patient&#39;s feedback") || page.body.contains("The patient&#x27;s feedback"), "{}", page.body);
        let answers = format!("/claims/{other_checked}/feedback/answers");
        let out_of_range = browser
            .post(&answers, &[("csrf", &csrf), ("care_rendered", "yes"), ("assessment", "9")])
            .await;
        assert_eq!(out_of_range.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", out_of_range.body);
        let answered = browser
            .post(&answers, &[("csrf", &csrf), ("care_rendered", "yes"), ("drug_prescribed", "yes"), ("drug_received", "yes"), ("assessment", "4")])
            .await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
        let (_, delivered) = app.get(&format!("/api/v1/claims/{other_checked}")).await;
        assert_eq!(delivered["feedback_status"], "delivered", "{delivered}");
        assert_eq!(delivered["feedback"]["assessment"], 4);
        assert_eq!(delivered["feedback"]["payment_asked"], false);

        // The active policy renewed: a second policy of the family.
        let (_, policies) = app.get(&format!("/api/v1/policies?family_id={family_id}")).await;
        let active = policies["items"][0]["id"].as_str().unwrap().to_string();
        let renewed = browser.post(&format!("/policies/{active}/renew"), &[("csrf", &csrf)]).await;
        assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.body);
        assert!(browser.get(&renewed.location).await.body.contains("The policy was renewed"));
        let (_, policies) = app.get(&format!("/api/v1/policies?family_id={family_id}")).await;
        assert_eq!(policies["total"], 2, "{policies}");

        // The registers, the review queue, the batch runs and a record's history.
        let (_, villages) = app.get(&format!("/api/v1/locations/{village}")).await;
        let village_name = villages["name"].as_str().unwrap().to_string();
        for (path, shows) in [
            (format!("/locations?q={}", &village_name[..3]), village.clone()),
            (format!("/health-facilities?q={}", &sample.facility), sample.facility.clone()),
            ("/products".to_string(), "Basic Cover".to_string()),
            ("/users?q=admin".to_string(), "admin".to_string()),
            ("/roles".to_string(), "IMIS Administrator".to_string()),
            ("/batch-runs".to_string(), "<th scope=\"col\">Progress</th>".to_string()),
            ("/review".to_string(), "Claims waiting for review".to_string()),
            (format!("/history/family/{family_id}"), "Created".to_string()),
            (format!("/history/claim/{claim_id}"), "Submitted".to_string()),
        ] {
            let listed = browser.get(&path).await;
            assert_eq!(listed.status, 200, "{path}: {}", listed.body);
            assert!(unescape(&listed.body).contains(&shows), "{path} shows {shows}: {}", listed.body);
        }
        let nothing = browser.get(&format!("/history/nothing/{family_id}")).await;
        assert_eq!(nothing.status, StatusCode::BAD_REQUEST, "{}", nothing.body);
        assert!(nothing.body.contains("entity must be one of"), "{}", nothing.body);

        // A new user: an unknown district is refused by the field, then the user is created
        // and can log in.
        let (_, districts) = app.get("/api/v1/locations?type=D&per_page=1").await;
        let district = districts["items"][0]["code"].as_str().unwrap().to_string();
        let (_, roles) = app.get("/api/v1/roles?per_page=100").await;
        let role = roles["items"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(browser.get("/users/new").await.status, 200);
        let users_before = app.count("SELECT COUNT(*) FROM users").await;
        let user_form = |districts: &str| {
            vec![
                ("csrf".to_string(), csrf.clone()), ("username".into(), "officer.web".into()),
                ("last_name".into(), "Mwita".into()), ("other_names".into(), "Zawadi".into()),
                ("password".into(), "a-good-password".into()), ("role_id".into(), role.clone()),
                ("districts".into(), districts.to_string()), ("language".into(), "fr".into()),
            ]
        };
        let form = user_form("NO-SUCH");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = browser.post("/users", &pairs).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains(r#"id="districts-error">No district has the code NO-SUCH."#), "{}", refused.body);
        assert!(refused.body.contains(r#"value="officer.web""#));
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
        let form = user_form(&district);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let created = browser.post("/users", &pairs).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let listed = browser.get(&created.location).await;
        assert!(listed.body.contains("The user was created.") && listed.body.contains("officer.web"), "{}", listed.body);
        let mut officer = Browser::new(&app);
        assert_eq!(officer.log_in("officer.web", "a-good-password").await.status, StatusCode::SEE_OTHER);

        // French: the switch is remembered; the browser's language is the default.
        let switch = browser.get("/language?to=fr&next=%2Fclaims%3Fstatus%3Drejected").await;
        assert_eq!(switch.status, StatusCode::SEE_OTHER);
        assert_eq!(switch.location, "/claims?status=rejected");
        let french = browser.get("/claims?status=rejected").await;
        assert!(french.body.contains(r#"<html lang="fr">"#));
        assert!(french.body.contains(r#"<option value="rejected" selected>Rejetée</option>"#), "{}", french.body);
        assert!(french.body.contains("Se déconnecter"));
        let mut visitor = Browser::new(&app);
        visitor.language = Some("fr-CH, fr;q=0.9, en;q=0.5");
        let login = visitor.get("/login").await;
        assert!(unescape(&login.body).contains("Nom d'utilisateur"), "{}", login.body);

        // The menu shows what the rights allow; a page beyond them says so.
        app.user_with("clerk", &[101001], &[]).await;
        let mut clerk = Browser::new(&app);
        let ok = clerk.log_in("clerk", "a-good-password").await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let home = clerk.get("/").await;
        assert!(home.body.contains(r#"href="/families""#));
        assert!(!home.body.contains(r#"href="/claims""#), "{}", home.body);
        let refused = clerk.get("/claims").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        // Logout ends the session.
        let csrf = browser.csrf();
        let out = browser.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(!browser.cookies.contains_key("bima_session"));
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);

        // The assets are embedded.
        let htmx = browser.get("/static/htmx-2.0.11.min.js").await;
        assert_eq!(htmx.status, 200);
        assert!(htmx.body.contains("htmx"));
        app.finish().await;
    })
    .await;
}

/// Form fields as `Browser::post` takes them.
fn as_pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The version a form was loaded with (its hidden field).
fn form_version(html: &str) -> String {
    let at = html
        .find(r#"name="version" value=""#)
        .expect("a version field")
        + 22;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn two_officers_changing_one_person_lose_nothing() {
    each_engine(|app| async move {
        openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        let (_, page) = app.get("/api/v1/insurees?per_page=1").await;
        let person = &page["items"][0];
        let id = person["id"].as_str().unwrap().to_string();
        let district = person["district_id"].as_str().unwrap().to_string();
        app.user_with("officer2", &[101001, 101101, 101103], &[&district])
            .await;
        let mut first = Browser::new(&app);
        first.log_in("admin", ADMIN_PASSWORD).await;
        let mut second = Browser::new(&app);
        let landed = second.log_in("officer2", "a-good-password").await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        let path = format!("/insurees/{id}/edit");
        let a = first.get(&path).await;
        let b = second.get(&path).await;
        assert_eq!(
            (a.status, b.status),
            (StatusCode::OK, StatusCode::OK),
            "{}",
            b.body
        );
        assert!(
            a.body.contains(r#"<label for="edit-last_name">"#),
            "{}",
            a.body
        );
        let loaded = form_version(&a.body);
        let fields = |csrf: &str, other: &'static str, version: &str| {
            vec![
                ("csrf".to_string(), csrf.to_string()),
                ("version".into(), version.to_string()),
                (
                    "last_name".into(),
                    person["last_name"].as_str().unwrap().to_string(),
                ),
                ("other_names".into(), other.to_string()),
                (
                    "gender".into(),
                    person["gender"].as_str().unwrap().to_string(),
                ),
                ("dob".into(), person["dob"].as_str().unwrap().to_string()),
                ("phone".into(), "0712 345 678".to_string()),
            ]
        };
        let a_form = fields(&first.csrf(), "Alphonsine", &loaded);
        let saved = first.post(&path, &as_pairs(&a_form)).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        assert_eq!(saved.location, format!("/insurees/{id}/card?saved=1"));

        // The second officer saves what they typed at the version they loaded: refused, kept.
        let b_form = fields(&second.csrf(), "Bernadette", &loaded);
        let refused = second.post(&path, &as_pairs(&b_form)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        let shown = unescape(&refused.body);
        assert!(shown.contains("Someone else saved this person"), "{shown}");
        assert!(
            shown.contains(r#"value="Bernadette""#),
            "what they typed is kept: {shown}"
        );
        assert!(shown.contains("Saved meanwhile: Alphonsine"), "{shown}");
        let newer = form_version(&refused.body);
        assert_ne!(newer, loaded);
        let (_, now) = app.get(&format!("/api/v1/insurees/{id}")).await;
        assert_eq!(now["other_names"], "Alphonsine", "nothing overwritten");

        // Saving again, knowingly, at the version now shown.
        let again = fields(&second.csrf(), "Bernadette", &newer);
        let saved = second.post(&path, &as_pairs(&again)).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let (_, now) = app.get(&format!("/api/v1/insurees/{id}")).await;
        assert_eq!(now["other_names"], "Bernadette");
        assert_eq!(now["phone"], "0712 345 678");
        // A user who may not change people is refused the form.
        app.user_with("reader", &[101001, 101101], &[&district])
            .await;
        let mut reader = Browser::new(&app);
        reader.log_in("reader", "a-good-password").await;
        assert_eq!(reader.get(&path).await.status, StatusCode::FORBIDDEN);
        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_language_pack_is_one_file_in_a_folder() {
    // `bima serve` with a folder holding Swahili (not built in): offered, chosen by the
    // browser, its words on the page, English where it has none.
    let site = Installation::new(store::Engine::Sqlite).await;
    let packs = site.dir.path().join("locales");
    std::fs::create_dir_all(packs.join("sw")).unwrap();
    std::fs::write(
        packs.join("sw/main.ftl"),
        "language-name = Kiswahili\nlogin-title = Ingia kwenye Bima\nlogin-username = Jina la mtumiaji\n",
    )
    .unwrap();
    let dir = packs.to_str().unwrap();
    let server = site.serve(&[("BIMA_WEB__LOCALES_DIR", dir)]).await;
    let client = reqwest::Client::new();
    let page = |lang: &'static str| {
        client
            .get(format!("{}/login", server.base))
            .header("accept-language", lang)
            .send()
    };
    let sw = page("sw-KE,sw;q=0.9,en;q=0.5")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sw.contains(r#"<html lang="sw">"#), "{sw}");
    assert!(
        sw.contains("Ingia kwenye Bima") && sw.contains("Jina la mtumiaji"),
        "{sw}"
    );
    assert!(
        sw.contains("Password"),
        "a key the pack lacks is in English: {sw}"
    );
    let en = page("en").await.unwrap().text().await.unwrap();
    assert!(
        en.contains("Kiswahili") && en.contains("Français"),
        "offered in the switch: {en}"
    );
    server.kill();

    // A pack that does not parse stops the server at start, saying why.
    std::fs::write(packs.join("sw/main.ftl"), "language-name = \n= broken {\n").unwrap();
    let mut serve = site.command(&["serve", "--addr", "127.0.0.1:0"]);
    serve.env("BIMA_WEB__LOCALES_DIR", dir);
    serve
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = serve.spawn().unwrap();
    let mut ended = None;
    for _ in 0..200 {
        ended = child.try_wait().unwrap();
        if ended.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if ended.is_none() {
        let _ = child.kill();
        panic!("a broken language pack did not stop the server");
    }
    let mut said = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).unwrap();
    assert!(
        !ended.unwrap().success() && said.contains("cannot be read"),
        "{said}"
    );
    site.finish().await;
}

/// Post a form with the browser's CSRF token added.
async fn submit(browser: &mut Browser, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = browser.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser.post(path, &all).await
}

#[tokio::test]
async fn the_registers_are_created_and_changed_in_forms() {
    each_engine(|app| async move {
        openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
            .await
            .unwrap();
        let mut b = Browser::new(&app);
        b.log_in("admin", ADMIN_PASSWORD).await;
        let engine = app.engine;

        // Locations: a region, a district under it by code; a code that names nothing is
        // refused beside its field with what was typed kept.
        let form = b.get("/locations/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.body.contains(r#"<label for="f-code">"#),
            "{}",
            form.body
        );
        let made = submit(
            &mut b,
            "/locations",
            &[("code", "RX"), ("name", "Region X"), ("type", "R")],
        )
        .await;
        assert_eq!(
            (made.status, made.location.as_str()),
            (StatusCode::SEE_OTHER, "/locations?saved=1"),
            "[{engine:?}] {}",
            made.body
        );
        let wrong = submit(
            &mut b,
            "/locations",
            &[
                ("code", "DX"),
                ("name", "District X"),
                ("type", "D"),
                ("parent", "NOPE"),
            ],
        )
        .await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            wrong.body
        );
        let shown = unescape(&wrong.body);
        assert!(
            shown.contains("No location has the code NOPE")
                && shown.contains(r#"value="District X""#),
            "{shown}"
        );
        let made = submit(
            &mut b,
            "/locations",
            &[
                ("code", "DX"),
                ("name", "District X"),
                ("type", "D"),
                ("parent", "RX"),
            ],
        )
        .await;
        assert_eq!(
            made.status,
            StatusCode::SEE_OTHER,
            "[{engine:?}] {}",
            made.body
        );
        let (_, dx) = app.get("/api/v1/locations/DX").await;
        let (_, rx) = app.get("/api/v1/locations/RX").await;
        assert_eq!(dx["parent_id"], rx["id"], "{dx}");
        let edit = format!("/locations/{}/edit", dx["id"].as_str().unwrap());
        let page = b.get(&edit).await;
        assert!(
            page.body.contains(r#"value="RX""#),
            "the parent by its code: {}",
            page.body
        );
        let v1 = form_version(&page.body);
        let saved = submit(
            &mut b,
            &edit,
            &[
                ("version", &v1),
                ("code", "DX"),
                ("name", "District Ten"),
                ("type", "D"),
                ("parent", "RX"),
                ("families", "120"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let stale = submit(
            &mut b,
            &edit,
            &[
                ("version", &v1),
                ("code", "DX"),
                ("name", "District Eleven"),
                ("type", "D"),
                ("parent", "RX"),
            ],
        )
        .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        let shown = unescape(&stale.body);
        assert!(
            shown.contains("Someone else saved this record")
                && shown.contains(r#"value="District Eleven""#)
                && shown.contains("Saved meanwhile: District Ten"),
            "{shown}"
        );
        let (_, dx) = app.get("/api/v1/locations/DX").await;
        assert_eq!(
            (dx["name"].as_str(), dx["families"].as_i64()),
            (Some("District Ten"), Some(120))
        );

        // A health facility in that district, then renamed.
        let made = submit(
            &mut b,
            "/health-facilities",
            &[
                ("code", "HFX"),
                ("name", "Clinic X"),
                ("legal_form", "G"),
                ("level", "C"),
                ("care_type", "B"),
                ("district", "DX"),
                ("status", "active"),
            ],
        )
        .await;
        assert_eq!(
            made.status,
            StatusCode::SEE_OTHER,
            "[{engine:?}] {}",
            made.body
        );
        let (_, hf) = app.get("/api/v1/health-facilities/HFX").await;
        assert_eq!(hf["location_id"], dx["id"], "{hf}");
        let edit = format!("/health-facilities/{}/edit", hf["id"].as_str().unwrap());
        let v = form_version(&b.get(&edit).await.body);
        let saved = submit(
            &mut b,
            &edit,
            &[
                ("version", &v),
                ("code", "HFX"),
                ("name", "Clinic Ten"),
                ("legal_form", "G"),
                ("level", "H"),
                ("care_type", "B"),
                ("district", "DX"),
                ("status", "active"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let (_, hf) = app.get("/api/v1/health-facilities/HFX").await;
        assert_eq!(
            (hf["name"].as_str(), hf["level"].as_str()),
            (Some("Clinic Ten"), Some("H"))
        );

        // A role with two rights, given a third.
        let made = submit(
            &mut b,
            "/roles",
            &[
                ("name", "Clerks of X"),
                ("rights", "101001"),
                ("rights", "101101"),
            ],
        )
        .await;
        assert_eq!(
            made.status,
            StatusCode::SEE_OTHER,
            "[{engine:?}] {}",
            made.body
        );
        let (_, roles) = app.get("/api/v1/roles?name=Clerks%20of%20X").await;
        let role = roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "Clerks of X")
            .unwrap()
            .clone();
        let edit = format!("/roles/{}/edit", role["id"].as_str().unwrap());
        let page = b.get(&edit).await;
        assert!(
            page.body.contains(r#"value="101001" checked"#),
            "{}",
            page.body
        );
        let v = form_version(&page.body);
        let saved = submit(
            &mut b,
            &edit,
            &[
                ("version", &v),
                ("name", "Clerks of X"),
                ("rights", "101001"),
                ("rights", "101101"),
                ("rights", "101201"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let (_, role) = app
            .get(&format!("/api/v1/roles/{}", role["id"].as_str().unwrap()))
            .await;
        assert_eq!(role["rights"].as_array().unwrap().len(), 3, "{role}");

        // A user moved to that district and role.
        let (_, user) = app
            .post(
                "/api/v1/users",
                serde_json::json!({"username": "clerkx", "password": "a-good-password",
            "last_name": "Clerk", "other_names": "X", "role_ids": [], "district_ids": []}),
            )
            .await;
        let edit = format!("/users/{}/edit", user["id"].as_str().unwrap());
        let v = form_version(&b.get(&edit).await.body);
        let role_id = role["id"].as_str().unwrap().to_string();
        let saved = submit(
            &mut b,
            &edit,
            &[
                ("version", &v),
                ("last_name", "Clerk"),
                ("other_names", "Xavier"),
                ("language", "fr"),
                ("role_ids", &role_id),
                ("districts", "DX"),
                ("active", "yes"),
            ],
        )
        .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "[{engine:?}] {}",
            saved.body
        );
        let (_, user) = app
            .get(&format!("/api/v1/users/{}", user["id"].as_str().unwrap()))
            .await;
        assert_eq!(user["other_names"], "Xavier");
        assert_eq!(
            user["district_ids"],
            serde_json::json!([dx["id"]]),
            "{user}"
        );
        assert_eq!(user["role_ids"], serde_json::json!([role_id]));

        // A product renamed; its other terms stay. (The demo's imported products break rules
        // Bima checks on every save, which the form then lists.)
        let (_, demo_products) = app.get("/api/v1/products?per_page=1").await;
        let demo = demo_products["items"][0].clone();
        let edit = format!("/products/{}/edit", demo["id"].as_str().unwrap());
        let v = form_version(&b.get(&edit).await.body);
        let (from, to) = (
            demo["date_from"].as_str().unwrap(),
            demo["date_to"].as_str().unwrap(),
        );
        let refused = submit(
            &mut b,
            &edit,
            &[
                ("version", &v),
                ("name", "Renamed"),
                ("date_from", from),
                ("date_to", to),
            ],
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            unescape(&refused.body).contains("a lump sum needs a threshold"),
            "the rule's own words: {}",
            refused.body
        );
        let (_, item) = app.get("/api/v1/medical-items?per_page=1").await;
        let (_, service) = app.get("/api/v1/medical-services?per_page=1").await;
        let (status, product) = app
            .post(
                "/api/v1/products",
                crate::policies::product("FX1", &item["items"][0], &service["items"][0]),
            )
            .await;
        assert_eq!(status, 201, "{product}");
        let edit = format!("/products/{}/edit", product["id"].as_str().unwrap());
        let page = b.get(&edit).await;
        let v = form_version(&page.body);
        let (from, to) = (
            product["date_from"].as_str().unwrap(),
            product["date_to"].as_str().unwrap(),
        );
        let saved = submit(
            &mut b,
            &edit,
            &[
                ("version", &v),
                ("name", "Renamed cover"),
                ("date_from", from),
                ("date_to", to),
            ],
        )
        .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "[{engine:?}] {}",
            saved.body
        );
        let (_, now) = app
            .get(&format!(
                "/api/v1/products/{}",
                product["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(now["name"], "Renamed cover");
        assert_eq!(now["premium"], product["premium"], "the other terms stay");

        // A family's details, from its page.
        let (_, families) = app.get("/api/v1/families?per_page=1").await;
        let family = families["items"][0]["id"].as_str().unwrap().to_string();
        let shown = b.get(&format!("/families/{family}")).await;
        assert!(
            shown
                .body
                .contains(&format!(r#"href="/families/{family}/edit""#)),
            "{}",
            shown.body
        );
        let edit = format!("/families/{family}/edit");
        let v = form_version(&b.get(&edit).await.body);
        let saved = submit(
            &mut b,
            &edit,
            &[
                ("version", &v),
                ("address", "Plot 7, market street"),
                ("poverty", "yes"),
                ("family_type", "H"),
            ],
        )
        .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "[{engine:?}] {}",
            saved.body
        );
        let (_, now) = app.get(&format!("/api/v1/families/{family}")).await;
        assert_eq!(now["address"], "Plot 7, market street", "{now}");
        assert_eq!(now["poverty"], true);

        // The lists lead to the forms.
        assert!(
            b.get("/locations")
                .await
                .body
                .contains(r#"href="/locations/new""#)
        );
        assert!(b.get("/roles").await.body.contains(r#"href="/roles/new""#));
        app.finish().await;
    })
    .await;
}
