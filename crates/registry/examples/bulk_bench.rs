//! How fast `insert_insurees_bulk` writes: N insurees (default 50 000) in batches of 10 000.
//!
//!     cargo run --release -p registry --example bulk_bench -- 50000

use registry::model::*;
use std::time::Instant;
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let dir = std::env::temp_dir().join(format!("bima-bulk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let engine = if store::testing::postgres_url().is_some() {
        store::Engine::Postgres
    } else {
        store::Engine::Sqlite
    };
    let db = store::testing::fresh(engine, &dir).await.expect("database");
    db.migrate(&[
        kernel::MIGRATIONS,
        location::MIGRATIONS,
        registry::MIGRATIONS,
    ])
    .await
    .expect("migrate");
    let now = kernel::audit::now_micros();
    let district = Uuid::now_v7();
    let people: Vec<Insuree> = (0..n)
        .map(|k| Insuree {
            id: Uuid::now_v7(),
            family_id: None,
            chfid: format!("{k:09}"),
            last_name: format!("Name{}", k * 7919 % 10007),
            other_names: format!("Other{}", k % 113),
            gender: Gender::Female,
            dob: time::macros::date!(1990 - 01 - 01),
            head: false,
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
            status: InsureeStatus::Active,
            status_date: None,
            status_reason: None,
            photo_date: None,
            district_id: Some(district),
            is_offline: false,
            version: 1,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let started = Instant::now();
    for batch in people.chunks(10_000) {
        let mut tx = db.begin().await.expect("begin");
        registry::store::insert_insurees_bulk(&mut tx, batch)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
    }
    let took = started.elapsed();
    println!(
        "{n} insurees on {} in {took:.2?} ({:.0}/s)",
        engine.name(),
        n as f64 / took.as_secs_f64()
    );
    store::testing::drop_schema(&db).await;
    let _ = std::fs::remove_dir_all(&dir);
}
