//! SQL for products, their items and services, and their relative distribution.

use crate::model::*;
use kernel::Result;
use location::model::{FacilityLevel, FacilitySubLevel};
use std::sync::LazyLock;
use store::{Sql, Tx, bind_args, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: Uuid,
    code: String,
    name: String,
    location_id: Option<Uuid>,
    date_from: Date,
    date_to: Date,
    conversion_product_id: Option<Uuid>,
    start_cycle_1: Option<String>,
    start_cycle_2: Option<String>,
    start_cycle_3: Option<String>,
    start_cycle_4: Option<String>,
    ceiling_type: Option<String>,
    ceiling_interpretation: String,
    capitation_level_1: Option<String>,
    capitation_sublevel_1: Option<String>,
    capitation_level_2: Option<String>,
    capitation_sublevel_2: Option<String>,
    capitation_level_3: Option<String>,
    capitation_sublevel_3: Option<String>,
    capitation_level_4: Option<String>,
    capitation_sublevel_4: Option<String>,
    acc_code_premiums: Option<String>,
    acc_code_remuneration: Option<String>,
    period_rel_prices: Option<String>,
    period_rel_prices_ip: Option<String>,
    period_rel_prices_op: Option<String>,
    #[sqlx(flatten)]
    periods: Periods,
    #[sqlx(flatten)]
    premium: Premium,
    #[sqlx(flatten)]
    deductibles: Deductibles,
    #[sqlx(flatten)]
    ceilings: Ceilings,
    #[sqlx(flatten)]
    limits: Limits,
    #[sqlx(flatten)]
    capitation: Capitation,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        let levels = [
            (r.capitation_level_1, r.capitation_sublevel_1),
            (r.capitation_level_2, r.capitation_sublevel_2),
            (r.capitation_level_3, r.capitation_sublevel_3),
            (r.capitation_level_4, r.capitation_sublevel_4),
        ];
        let capitation_levels = levels
            .into_iter()
            .filter_map(|(level, sublevel)| {
                Some(CapitationLevel {
                    level: FacilityLevel::from_code(level.as_deref()?)?,
                    sublevel: sublevel.as_deref().and_then(FacilitySubLevel::from_code),
                })
            })
            .collect();
        let start_cycles = [
            r.start_cycle_1,
            r.start_cycle_2,
            r.start_cycle_3,
            r.start_cycle_4,
        ]
        .into_iter()
        .flatten()
        .collect();
        Product {
            id: r.id,
            terms: ProductInput {
                code: r.code,
                name: r.name,
                location_id: r.location_id,
                date_from: r.date_from,
                date_to: r.date_to,
                conversion_product_id: r.conversion_product_id,
                periods: r.periods,
                start_cycles,
                premium: r.premium,
                deductibles: r.deductibles,
                ceilings: r.ceilings,
                ceiling_type: r.ceiling_type.as_deref().and_then(CeilingType::from_code),
                ceiling_interpretation: CeilingInterpretation::from_code(&r.ceiling_interpretation)
                    .unwrap_or(CeilingInterpretation::ClaimType),
                limits: r.limits,
                capitation_levels,
                capitation: r.capitation,
                acc_code_premiums: r.acc_code_premiums,
                acc_code_remuneration: r.acc_code_remuneration,
                items: Vec::new(),
                services: Vec::new(),
                relative_distribution: Vec::new(),
                version: None,
            },
            period_rel_prices: r
                .period_rel_prices
                .as_deref()
                .and_then(RelPricePeriod::from_code),
            period_rel_prices_ip: r
                .period_rel_prices_ip
                .as_deref()
                .and_then(RelPricePeriod::from_code),
            period_rel_prices_op: r
                .period_rel_prices_op
                .as_deref()
                .and_then(RelPricePeriod::from_code),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The header columns that are not numeric terms, in binding order.
const FIXED_COLUMNS: &[&str] = &[
    "code",
    "name",
    "location_id",
    "date_from",
    "date_to",
    "conversion_product_id",
    "start_cycle_1",
    "start_cycle_2",
    "start_cycle_3",
    "start_cycle_4",
    "ceiling_type",
    "ceiling_interpretation",
    "capitation_level_1",
    "capitation_sublevel_1",
    "capitation_level_2",
    "capitation_sublevel_2",
    "capitation_level_3",
    "capitation_sublevel_3",
    "capitation_level_4",
    "capitation_sublevel_4",
    "acc_code_premiums",
    "acc_code_remuneration",
    "period_rel_prices",
    "period_rel_prices_ip",
    "period_rel_prices_op",
];

/// Every numeric-terms column, in the order of [`term_values`].
pub fn term_columns() -> impl Iterator<Item = &'static str> {
    Periods::COLUMNS
        .iter()
        .chain(Premium::COLUMNS)
        .chain(Deductibles::COLUMNS)
        .chain(Ceilings::COLUMNS)
        .chain(Limits::COLUMNS)
        .chain(Capitation::COLUMNS)
        .copied()
}

pub fn term_values(t: &ProductInput) -> Vec<Option<i64>> {
    let mut v = t.periods.values();
    v.extend(t.premium.values());
    v.extend(t.deductibles.values());
    v.extend(t.ceilings.values());
    v.extend(t.limits.values());
    v.extend(t.capitation.values());
    v
}

/// Every written column except `id`, in binding order.
static WRITE_COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    FIXED_COLUMNS
        .iter()
        .copied()
        .chain(term_columns())
        .chain(["version", "created_at", "updated_at"])
        .collect()
});

static SELECT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT id, {}", WRITE_COLUMNS.join(", ")));

/// Filters of the product list.
#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    pub code: Option<String>,
    pub name: Option<String>,
    pub location_id: Option<Uuid>,
    /// `None` = every product; otherwise national products and those of these locations.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

fn product_where(f: &ProductFilter) -> Sql {
    let mut sql = Sql::new(" FROM products WHERE deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "updated_at");
    }
    if let Some(code) = &f.code {
        sql.push(" AND LOWER(code) LIKE ")
            .arg(location::store::like_pattern(code, true))
            .push(" ESCAPE '\\'");
    }
    if let Some(name) = &f.name {
        sql.push(" AND LOWER(name) LIKE ")
            .arg(location::store::like_pattern(name, false))
            .push(" ESCAPE '\\'");
    }
    if let Some(location) = f.location_id {
        sql.push(" AND location_id = ").arg(location);
    }
    if let Some(visible) = &f.scope {
        sql.push(" AND (location_id IS NULL OR location_id IN ")
            .list(visible.iter().copied())
            .push(")");
    }
    sql
}

pub async fn list_products(
    tx: &mut Tx,
    filter: &ProductFilter,
    limit: i64,
    offset: i64,
    with_lines: bool,
) -> Result<(Vec<Product>, i64)> {
    let (rows, total): (Vec<ProductRow>, i64) = store::fetch_page(
        tx,
        &SELECT,
        &product_where(filter),
        "code, id",
        limit,
        offset,
    )
    .await?;
    let mut products: Vec<Product> = rows.into_iter().map(Product::from).collect();
    if with_lines {
        for p in &mut products {
            load_lines(tx, p).await?;
        }
    }
    Ok((products, total))
}

pub async fn get_product(tx: &mut Tx, id: Uuid) -> Result<Option<Product>> {
    fetch_product(tx, "id = $1", store::Arg::Uuid(id)).await
}

pub async fn get_product_by_code(tx: &mut Tx, code: &str) -> Result<Option<Product>> {
    fetch_product(tx, "code = $1", store::Arg::Text(code.to_string())).await
}

async fn fetch_product(tx: &mut Tx, condition: &str, arg: store::Arg) -> Result<Option<Product>> {
    let sql = format!(
        "{} FROM products WHERE {condition} AND deleted_at IS NULL",
        *SELECT
    );
    let args = [arg];
    let row: Option<ProductRow> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
            .fetch_optional(&mut **conn)
            .await?
    });
    let Some(row) = row else { return Ok(None) };
    let mut product = Product::from(row);
    load_lines(tx, &mut product).await?;
    Ok(Some(product))
}

#[derive(sqlx::FromRow)]
struct LineRow {
    line_id: Uuid,
    price_origin: String,
    limitation_type: String,
    limitation_type_r: String,
    limitation_type_e: String,
    limit_adult: i64,
    limit_child: i64,
    limit_adult_r: i64,
    limit_child_r: i64,
    limit_adult_e: i64,
    limit_child_e: i64,
    waiting_period_adult: Option<i64>,
    waiting_period_child: Option<i64>,
    limit_no_adult: Option<i64>,
    limit_no_child: Option<i64>,
    ceiling_exclusion_adult: Option<String>,
    ceiling_exclusion_child: Option<String>,
}

macro_rules! line_from_row {
    ($ty:ident, $id:ident, $r:expr) => {{
        let r = $r;
        $ty {
            $id: r.line_id,
            price_origin: PriceOrigin::from_code(&r.price_origin),
            limitation_type: LimitationType::from_code(&r.limitation_type),
            limitation_type_r: LimitationType::from_code(&r.limitation_type_r),
            limitation_type_e: LimitationType::from_code(&r.limitation_type_e),
            limit_adult: Some(r.limit_adult),
            limit_child: Some(r.limit_child),
            limit_adult_r: Some(r.limit_adult_r),
            limit_child_r: Some(r.limit_child_r),
            limit_adult_e: Some(r.limit_adult_e),
            limit_child_e: Some(r.limit_child_e),
            waiting_period_adult: r.waiting_period_adult,
            waiting_period_child: r.waiting_period_child,
            limit_no_adult: r.limit_no_adult,
            limit_no_child: r.limit_no_child,
            ceiling_exclusion_adult: r
                .ceiling_exclusion_adult
                .as_deref()
                .and_then(CeilingExclusion::from_code),
            ceiling_exclusion_child: r
                .ceiling_exclusion_child
                .as_deref()
                .and_then(CeilingExclusion::from_code),
        }
    }};
}

const LINE_COLUMNS: &str = "price_origin, limitation_type, limitation_type_r, limitation_type_e, limit_adult, limit_child, limit_adult_r, limit_child_r, limit_adult_e, limit_child_e, waiting_period_adult, waiting_period_child, limit_no_adult, limit_no_child, ceiling_exclusion_adult, ceiling_exclusion_child";

/// A stored distribution row: (care type, distribution type, period, percent).
type DistrRow = (String, i64, i64, i64);

async fn load_lines(tx: &mut Tx, p: &mut Product) -> Result<()> {
    let items_sql = format!(
        "SELECT item_id AS line_id, {LINE_COLUMNS} FROM product_items WHERE product_id = $1 ORDER BY item_id"
    );
    let services_sql = format!(
        "SELECT service_id AS line_id, {LINE_COLUMNS} FROM product_services WHERE product_id = $1 ORDER BY service_id"
    );
    let (items, services, distr): (Vec<LineRow>, Vec<LineRow>, Vec<DistrRow>) = on_tx!(tx, conn => {
        let items = sqlx::query_as(sqlx::AssertSqlSafe(items_sql))
            .bind(p.id)
            .fetch_all(&mut **conn)
            .await?;
        let services = sqlx::query_as(sqlx::AssertSqlSafe(services_sql))
            .bind(p.id)
            .fetch_all(&mut **conn)
            .await?;
        let distr = sqlx::query_as(
            "SELECT care_type, distr_type, period, percent FROM product_relative_distributions
             WHERE product_id = $1 ORDER BY care_type, distr_type, period",
        )
        .bind(p.id)
        .fetch_all(&mut **conn)
        .await?;
        (items, services, distr)
    });
    p.terms.items = items
        .into_iter()
        .map(|r| line_from_row!(ProductItem, item_id, r))
        .collect();
    p.terms.services = services
        .into_iter()
        .map(|r| line_from_row!(ProductService, service_id, r))
        .collect();
    let mut lists: Vec<(DistributionCareType, i64, Distribution)> = Vec::new();
    for (care, kind, _period, percent) in distr {
        let Some(care) = DistributionCareType::from_code(&care) else {
            continue;
        };
        match lists.last_mut() {
            Some((c, k, d)) if *c == care && *k == kind => d.periods.push(percent),
            _ => lists.push((
                care,
                kind,
                Distribution {
                    care_type: care,
                    periods: vec![percent],
                },
            )),
        }
    }
    p.terms.relative_distribution = lists.into_iter().map(|(_, _, d)| d).collect();
    Ok(())
}

/// Is `code` used by a current product other than `except`?
pub async fn product_code_taken(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM products WHERE code = $1 AND deleted_at IS NULL")
            .bind(code)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

/// Insert a new product, or (when `expected_version` is given) overwrite the current one if it
/// is still at that version. Items, services and the distribution are replaced. False if the
/// version moved on.
pub async fn save_product(tx: &mut Tx, p: &Product, expected_version: Option<i64>) -> Result<bool> {
    let columns = &*WRITE_COLUMNS;
    let n = columns.len();
    let sql = match expected_version {
        None => format!(
            "INSERT INTO products ({}, id) VALUES ({})",
            columns.join(", "),
            (1..=n + 1)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(_) => format!(
            "UPDATE products SET {} WHERE id = ${} AND version = ${} AND deleted_at IS NULL",
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 1))
                .collect::<Vec<_>>()
                .join(", "),
            n + 1,
            n + 2
        ),
    };
    let t = &p.terms;
    let cycle = |i: usize| t.start_cycles.get(i).map(|c| c.trim().to_string());
    let level = |i: usize| t.capitation_levels.get(i).map(|l| l.level.code());
    let sublevel = |i: usize| {
        t.capitation_levels
            .get(i)
            .and_then(|l| l.sublevel)
            .map(|s| s.code())
    };
    let terms = term_values(t);
    let written = on_tx!(tx, conn => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&t.code)
            .bind(&t.name)
            .bind(t.location_id)
            .bind(t.date_from)
            .bind(t.date_to)
            .bind(t.conversion_product_id)
            .bind(cycle(0))
            .bind(cycle(1))
            .bind(cycle(2))
            .bind(cycle(3))
            .bind(t.ceiling_type.map(|c| c.code()))
            .bind(t.ceiling_interpretation.code())
            .bind(level(0))
            .bind(sublevel(0))
            .bind(level(1))
            .bind(sublevel(1))
            .bind(level(2))
            .bind(sublevel(2))
            .bind(level(3))
            .bind(sublevel(3))
            .bind(&t.acc_code_premiums)
            .bind(&t.acc_code_remuneration)
            .bind(p.period_rel_prices.map(|c| c.code()))
            .bind(p.period_rel_prices_ip.map(|c| c.code()))
            .bind(p.period_rel_prices_op.map(|c| c.code()));
        for v in &terms {
            query = query.bind(*v);
        }
        query = query
            .bind(p.version)
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(p.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    if written != 1 {
        return Ok(false);
    }
    replace_lines(tx, p).await?;
    Ok(true)
}

macro_rules! insert_line {
    ($conn:expr, $table:literal, $id_column:literal, $product:expr, $line:expr, $id:expr) => {{
        let l = $line;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {} (product_id, {}, {LINE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            $table, $id_column
        )))
        .bind($product)
        .bind($id)
        .bind(l.price_origin.unwrap_or(PriceOrigin::Schema).code())
        .bind(l.limitation_type.unwrap_or(LimitationType::CoInsurance).code())
        .bind(l.limitation_type_r.unwrap_or(LimitationType::CoInsurance).code())
        .bind(l.limitation_type_e.unwrap_or(LimitationType::CoInsurance).code())
        .bind(l.limit_adult.unwrap_or(100))
        .bind(l.limit_child.unwrap_or(100))
        .bind(l.limit_adult_r.unwrap_or(100))
        .bind(l.limit_child_r.unwrap_or(100))
        .bind(l.limit_adult_e.unwrap_or(100))
        .bind(l.limit_child_e.unwrap_or(100))
        .bind(l.waiting_period_adult)
        .bind(l.waiting_period_child)
        .bind(l.limit_no_adult)
        .bind(l.limit_no_child)
        .bind(l.ceiling_exclusion_adult.map(|c| c.code()))
        .bind(l.ceiling_exclusion_child.map(|c| c.code()))
        .execute(&mut **$conn)
        .await?;
    }};
}

async fn replace_lines(tx: &mut Tx, p: &Product) -> Result<()> {
    let t = &p.terms;
    on_tx!(tx, conn => {
        for table in ["product_items", "product_services", "product_relative_distributions"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE product_id = $1")))
                .bind(p.id)
                .execute(&mut **conn)
                .await?;
        }
        for line in &t.items {
            insert_line!(conn, "product_items", "item_id", p.id, line, line.item_id);
        }
        for line in &t.services {
            insert_line!(conn, "product_services", "service_id", p.id, line, line.service_id);
        }
        for d in &t.relative_distribution {
            for (i, percent) in d.periods.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO product_relative_distributions (product_id, care_type, distr_type, period, percent)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(p.id)
                .bind(d.care_type.code())
                .bind(d.periods.len() as i64)
                .bind(i as i64 + 1)
                .bind(*percent)
                .execute(&mut **conn)
                .await?;
            }
        }
    });
    Ok(())
}

pub async fn delete_product(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    at: OffsetDateTime,
) -> Result<bool> {
    Ok(store::soft_delete(tx, "products", id, version, at).await?)
}
