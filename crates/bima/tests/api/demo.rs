//! `bima demo`: exactly N families, with what they need, usable through the API at once.

use crate::support::*;

#[tokio::test]
async fn the_demo_builds_exactly_n_families_and_everything_they_need() {
    each_engine(|app| async move {
        let today = time::macros::date!(2026 - 11 - 25);
        let built = demo::build(&app.db, 137, 7, today, false).await.unwrap();
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
        // The same seed builds the same people; a second demo in one database is refused.
        assert!(demo::build(&app.db, 10, 7, today, false).await.is_err());
        assert!(matches!(kernel::audit::verify(&app.db).await.unwrap(), kernel::audit::Verdict::Intact { .. }));
        app.finish().await;
    })
    .await;
}
