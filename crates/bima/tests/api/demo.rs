//! `bima demo`: exactly N families, with what they need, usable through the API at once.

use crate::support::*;

#[tokio::test]
async fn the_demo_builds_exactly_n_families_and_everything_they_need() {
    each_engine(|app| async move {
        let today = time::macros::date!(2026 - 11 - 25);
        let built = demo::build(&app.db, 137, 300, 7, today, false).await.unwrap();
        assert_eq!(built.families, 137);
        assert_eq!(app.count("SELECT COUNT(*) FROM families").await, 137);
        let insurees = app.count("SELECT COUNT(*) FROM insurees").await;
        assert_eq!(insurees as u64, built.insurees);
        assert!((137 * 3..137 * 6).contains(&insurees), "{insurees} insurees");
        assert_eq!(app.count("SELECT COUNT(*) FROM insurees WHERE head = TRUE").await, 137, "one head per family");
        assert!(app.count("SELECT COUNT(*) FROM medical_items").await > 10);
        assert!(app.count("SELECT COUNT(*) FROM medical_services").await > 10);
        assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 2);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM health_facilities WHERE items_pricelist_id IS NULL OR services_pricelist_id IS NULL").await,
            0,
            "every facility has its price lists"
        );
        // The generated people are found through the API, by number and by name.
        let (status, found) = app.get(&format!("/api/v1/insurees?chfid={}", demo::people::insurance_number(1))).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["total"], 1);
        let (status, detail) = app.get(&format!("/api/v1/insurees/{}", demo::people::insurance_number(2))).await;
        assert_eq!(status, 200, "{detail}");
        // Every family holds a policy of the national product, most of them paid and active,
        // every member has a window, and the paid ones a contribution.
        assert_eq!(app.count("SELECT COUNT(*) FROM policies").await, 137);
        let active = app.count("SELECT COUNT(*) FROM policies WHERE status = 'active'").await;
        assert!((90..137).contains(&active), "{active} active policies");
        assert_eq!(app.count("SELECT COUNT(*) FROM insuree_policies").await, insurees);
        assert!(app.count("SELECT COUNT(*) FROM contributions").await >= active);
        let (status, e) = app
            .get(&format!("/api/v1/insurees/{}/eligibility?date=2026-11-25", demo::people::insurance_number(1)))
            .await;
        assert_eq!(status, 200, "{e}");
        assert_eq!(e["products"][0]["product_code"], "DFAM", "{e}");
        // The families' claims, decided by the claims module's rules: visits under an idle
        // policy are rejected, the others checked; those older than a week are processed, and
        // a visit with a service (paid at relative prices) waits for the month's batch run.
        assert_eq!(built.claims, 300);
        assert_eq!(app.count("SELECT COUNT(*) FROM claims").await, 300);
        assert_eq!(app.count("SELECT COUNT(*) FROM claims WHERE status = 'entered'").await, 0);
        let rejected = app.count("SELECT COUNT(*) FROM claims WHERE status = 'rejected'").await;
        assert!((1..100).contains(&rejected), "{rejected} rejected claims");
        let processed = app.count("SELECT COUNT(*) FROM claims WHERE status = 'processed'").await;
        let valuated = app.count("SELECT COUNT(*) FROM claims WHERE status = 'valuated'").await;
        assert!(processed > 50 && valuated > 10, "{processed} processed, {valuated} valuated");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claim_lines WHERE rejection_reason IS NULL").await,
            0,
            "every line carries its decision"
        );
        assert!(app.count("SELECT COUNT(*) FROM claim_ded_rem").await >= processed);
        let (status, page) = app.get("/api/v1/claims?status=processed&per_page=1").await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], processed);
        let id = page["items"][0]["id"].as_str().unwrap().to_string();
        let (status, one) = app.get(&format!("/api/v1/claims/{id}")).await;
        assert_eq!(status, 200, "{one}");
        assert!(one["services"][0]["decision"].as_str().is_some(), "{one}");
        // The batch run of October values October's processed claims at the month's index.
        let october = app
            .count("SELECT COUNT(*) FROM claims WHERE status = 'processed' AND processed_at < '2026-11-01'")
            .await;
        assert!(october > 0);
        let (status, run) = app.post("/api/v1/batch-runs", serde_json::json!({"year": 2026, "month": 10})).await;
        assert_eq!(status, 202, "{run}");
        let path = format!("/api/v1/batch-runs/{}", run["id"].as_str().unwrap());
        let mut done = serde_json::Value::Null;
        for _ in 0..200 {
            let (_, now) = app.get(&path).await;
            done = now;
            if done["status"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(done["claims_valuated"], october, "{done}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claims WHERE status = 'processed'").await,
            processed - october
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM claims c WHERE c.batch_run_id IS NOT NULL AND c.remunerated <> \
                       (SELECT COALESCE(SUM(l.remunerated), 0) FROM claim_lines l WHERE l.claim_id = c.id AND l.status = 'passed')")
                .await,
            0,
            "a claim is paid what its lines are"
        );
        // The same seed builds the same people; a second demo in one database is refused.
        assert!(demo::build(&app.db, 10, 0, 7, today, false).await.is_err());
        assert!(matches!(kernel::audit::verify(&app.db).await.unwrap(), kernel::audit::Verdict::Intact { .. }));
        app.finish().await;
    })
    .await;
}
