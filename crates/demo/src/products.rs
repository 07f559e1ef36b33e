//! The products of a demo scheme: a national per-member product (services paid at relative
//! prices) and a lump-sum product for the first region, both covering every item and service of
//! the registers.

use kernel::Actor;
use product::model::ProductInput;
use serde_json::json;
use store::Db;
use uuid::Uuid;

pub async fn build(
    db: &Db,
    actor: &Actor,
    first_region: Uuid,
    items: &[Uuid],
    services: &[Uuid],
) -> anyhow::Result<Vec<Uuid>> {
    let items: Vec<_> = items.iter().map(|id| json!({"item_id": id})).collect();
    // The national product pays services at relative prices: each month's batch run shares
    // out a part of the contributions over the services claimed (spec §8.2).
    let relative_services: Vec<_> = services
        .iter()
        .map(|id| json!({"service_id": id, "price_origin": "R"}))
        .collect();
    let services: Vec<_> = services
        .iter()
        .map(|id| json!({"service_id": id}))
        .collect();
    let bodies = [
        json!({
            "code": "DFAM", "name": "Family health cover", "date_from": "2020-01-01", "date_to": "2035-12-31",
            "periods": {"insurance_period": 12, "grace_period_enrolment": 1, "grace_period_payment": 1},
            "premium": {"lump_sum": 0, "max_members": 10, "adult": 2_000_000, "child": 1_000_000},
            "ceiling_interpretation": "I", "items": items, "services": relative_services,
            "relative_distribution": [{"care_type": "B", "periods": [8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9]}]
        }),
        json!({
            "code": "DLUMP", "name": "Household lump sum", "location_id": first_region,
            "date_from": "2020-01-01", "date_to": "2035-12-31",
            "periods": {"insurance_period": 12},
            "premium": {"lump_sum": 6_000_000, "max_members": 10, "threshold": 6, "adult": 1_000_000, "child": 500_000},
            "ceiling_interpretation": "H", "items": items, "services": services
        }),
    ];
    let mut ids = Vec::new();
    for body in bodies {
        let input: ProductInput = serde_json::from_value(body)?;
        let product = product::service::create_product(db, actor, input)
            .await
            .map_err(|e| anyhow::anyhow!("{e}: {:?}", e.problem().errors))?;
        ids.push(product.id);
    }
    Ok(ids)
}
