//! Use cases of products: rights, district scope, rules, audit.
//!
//! Scope: a district user sees national products and those of their districts and of the
//! regions above them. Changing a product needs more: its district held, its whole region held,
//! or (national product) an unrestricted user.

use crate::model::*;
use crate::rules;
use crate::store::{self as sql, ProductFilter};
use kernel::{
    Actor, Checks, Error, PageParams, Paged, Result, Right, Scope, audit, required_version,
};
use location::model::LocationType;
use store::{Db, Tx};
use uuid::Uuid;

pub const PRODUCT: &str = "product";

pub const PRODUCT_SEARCH: Right = Right(121001);
pub const PRODUCT_ADD: Right = Right(121002);
pub const PRODUCT_EDIT: Right = Right(121003);
pub const PRODUCT_DELETE: Right = Right(121004);
pub const PRODUCT_DUPLICATE: Right = Right(121005);

/// The locations whose products the actor sees besides national ones (`None`: every product).
async fn visible_locations(tx: &mut Tx, actor: &Actor) -> Result<Option<Vec<Uuid>>> {
    match actor.scope() {
        Scope::All => Ok(None),
        Scope::Districts(held) => {
            let mut visible = held.clone();
            for d in &held {
                if let Some(parent) = location::store::get_location(tx, *d)
                    .await?
                    .and_then(|l| l.parent_id)
                    && !visible.contains(&parent)
                {
                    visible.push(parent);
                }
            }
            Ok(Some(visible))
        }
    }
}

async fn sees(tx: &mut Tx, actor: &Actor, p: &Product) -> Result<bool> {
    Ok(
        match (visible_locations(tx, actor).await?, p.terms.location_id) {
            (None, _) | (Some(_), None) => true,
            (Some(visible), Some(l)) => visible.contains(&l),
        },
    )
}

/// May the actor write a product attached to `location` (none = national)?
async fn writes_location(tx: &mut Tx, actor: &Actor, location: Option<Uuid>) -> Result<bool> {
    match (actor.scope(), location) {
        (Scope::All, _) => Ok(true),
        (Scope::Districts(_), None) => Ok(false),
        (Scope::Districts(held), Some(l)) => Ok(held.contains(&l)
            || location::store::fully_held_regions(tx, &held)
                .await?
                .contains(&l)),
    }
}

fn outside() -> Error {
    Error::Forbidden {
        code: "outside_districts",
        message: "this product covers locations beyond the districts you are assigned to".into(),
    }
}

async fn find_product(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Product> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_product(tx, uuid).await?,
        None => sql::get_product_by_code(tx, id.trim()).await?,
    };
    match found {
        Some(p) if sees(tx, actor, &p).await? => Ok(p),
        _ => Err(Error::not_found("product", id)),
    }
}

pub async fn list_products(
    db: &Db,
    actor: &Actor,
    mut filter: ProductFilter,
    page: PageParams,
    with_lines: bool,
) -> Result<Paged<Product>> {
    actor.require(PRODUCT_SEARCH)?;
    let mut tx = db.read().await?;
    filter.scope = visible_locations(&mut tx, actor).await?;
    let (items, total) =
        sql::list_products(&mut tx, &filter, page.limit(), page.offset(), with_lines).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_product(db: &Db, actor: &Actor, id: &str) -> Result<Product> {
    actor.require(PRODUCT_SEARCH)?;
    let mut tx = db.read().await?;
    find_product(&mut tx, actor, id).await
}

/// Check an input against the rules and the database: the location, the conversion product,
/// the items and services, the code. Returns the cleaned input.
async fn check_input(
    tx: &mut Tx,
    actor: &Actor,
    input: ProductInput,
    this: Option<Uuid>,
) -> Result<ProductInput> {
    let mut checks = Checks::new();
    rules::check_product(&input, this, &mut checks);
    if let Some(l) = input.location_id {
        match location::store::get_location(tx, l).await? {
            None => checks.push("location_id", "not_found", "this location does not exist"),
            Some(loc) if !matches!(loc.kind, LocationType::Region | LocationType::District) => {
                checks.push(
                    "location_id",
                    "wrong_level",
                    format!(
                        "a product belongs to a region or a district, not a {}",
                        loc.kind.label()
                    ),
                )
            }
            Some(_) => {}
        }
    }
    if let Some(c) = input.conversion_product_id
        && Some(c) != this
        && sql::get_product(tx, c).await?.is_none()
    {
        checks.push(
            "conversion_product_id",
            "not_found",
            "the product to convert into does not exist",
        );
    }
    let item_ids: Vec<Uuid> = input.items.iter().map(|l| l.item_id).collect();
    let found = medical::store::existing_items(tx, &item_ids).await?;
    for (i, id) in item_ids.iter().enumerate() {
        if !found.contains(id) {
            checks.push(
                format!("items[{i}].item_id"),
                "not_found",
                format!("medical item {id} does not exist"),
            );
        }
    }
    let service_ids: Vec<Uuid> = input.services.iter().map(|l| l.service_id).collect();
    let found = medical::store::existing_services(tx, &service_ids).await?;
    for (i, id) in service_ids.iter().enumerate() {
        if !found.contains(id) {
            checks.push(
                format!("services[{i}].service_id"),
                "not_found",
                format!("medical service {id} does not exist"),
            );
        }
    }
    checks.finish()?;
    if !writes_location(tx, actor, input.location_id).await? {
        return Err(Error::invalid(
            "location_id",
            "outside_districts",
            "you may only attach a product to your own districts, or to a region whose every district is yours",
        ));
    }
    let code = input.code.trim().to_string();
    if sql::product_code_taken(tx, &code, this).await? {
        return Err(duplicate_code(&code));
    }
    Ok(clean(input))
}

fn duplicate_code(code: &str) -> Error {
    Error::conflict(
        "duplicate_code",
        format!("the product code {code} is already used by another product"),
    )
}

fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Trimmed texts and the defaults of coverage lines filled in.
pub fn clean(input: ProductInput) -> ProductInput {
    ProductInput {
        code: input.code.trim().to_string(),
        name: input.name.trim().to_string(),
        start_cycles: input
            .start_cycles
            .iter()
            .map(|c| c.trim().to_string())
            .collect(),
        acc_code_premiums: trimmed(input.acc_code_premiums),
        acc_code_remuneration: trimmed(input.acc_code_remuneration),
        items: input
            .items
            .into_iter()
            .map(ProductItem::with_defaults)
            .collect(),
        services: input
            .services
            .into_iter()
            .map(ProductService::with_defaults)
            .collect(),
        version: None,
        ..input
    }
}

/// A product with `terms`, its relative-price periods set from the distribution.
pub fn product_from(id: Uuid, terms: ProductInput, version: i64) -> Product {
    let (all, ip, op) = rules::rel_price_periods(&terms.relative_distribution);
    let now = audit::now_micros();
    Product {
        id,
        terms,
        period_rel_prices: all,
        period_rel_prices_ip: ip,
        period_rel_prices_op: op,
        version,
        created_at: now,
        updated_at: now,
    }
}

pub async fn create_product(db: &Db, actor: &Actor, input: ProductInput) -> Result<Product> {
    actor.require(PRODUCT_ADD)?;
    let mut tx = db.begin().await?;
    let terms = check_input(&mut tx, actor, input, None).await?;
    let product = product_from(Uuid::now_v7(), terms, 1);
    sql::save_product(&mut tx, &product, None).await?;
    audit::append(
        &mut tx,
        actor,
        PRODUCT,
        product.id,
        "create",
        None::<&()>,
        Some(&product),
    )
    .await?;
    tx.commit().await?;
    Ok(product)
}

pub async fn update_product(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: ProductInput,
) -> Result<Product> {
    actor.require(PRODUCT_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_product(&mut tx, actor, id).await?;
    if !writes_location(&mut tx, actor, before.terms.location_id).await? {
        return Err(outside());
    }
    let terms = check_input(&mut tx, actor, input, Some(before.id)).await?;
    if version != before.version {
        return Err(Error::stale("product"));
    }
    let mut after = product_from(before.id, terms, before.version + 1);
    after.created_at = before.created_at;
    if !sql::save_product(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("product"));
    }
    audit::append(
        &mut tx,
        actor,
        PRODUCT,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Copy a product (items, services, distribution and all) under a new code and name.
pub async fn duplicate_product(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: DuplicateInput,
) -> Result<Product> {
    actor.require(PRODUCT_DUPLICATE)?;
    let mut tx = db.begin().await?;
    let source = find_product(&mut tx, actor, id).await?;
    if !writes_location(&mut tx, actor, source.terms.location_id).await? {
        return Err(outside());
    }
    let mut checks = Checks::new();
    let code = checks.required("code", &input.code, 8);
    let name = checks.required("name", &input.name, 100);
    checks.finish()?;
    if sql::product_code_taken(&mut tx, &code, None).await? {
        return Err(duplicate_code(&code));
    }
    let terms = ProductInput {
        code,
        name,
        ..source.terms.clone()
    };
    let mut copy = product_from(Uuid::now_v7(), terms, 1);
    copy.period_rel_prices = source.period_rel_prices;
    copy.period_rel_prices_ip = source.period_rel_prices_ip;
    copy.period_rel_prices_op = source.period_rel_prices_op;
    sql::save_product(&mut tx, &copy, None).await?;
    audit::append(
        &mut tx,
        actor,
        PRODUCT,
        copy.id,
        "duplicate",
        Some(&serde_json::json!({ "duplicated_from": source.id })),
        Some(&copy),
    )
    .await?;
    tx.commit().await?;
    Ok(copy)
}

pub async fn delete_product(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(PRODUCT_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_product(&mut tx, actor, id).await?;
    if !writes_location(&mut tx, actor, before.terms.location_id).await? {
        return Err(outside());
    }
    if !sql::delete_product(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("product"));
    }
    audit::append(
        &mut tx,
        actor,
        PRODUCT,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Audit-history guards: a product's history is readable by whoever can read the product.
pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![(
        PRODUCT,
        kernel::audit_guard(|db, actor, id| async move {
            get_product(&db, &actor, &id.to_string()).await.map(|_| ())
        }),
    )]
}
