//! SQL for the medical registers and price lists.

use crate::model::*;
use crate::rules;
use kernel::Result;
use store::{Sql, Tx, bind_args, on_tx};
use time::OffsetDateTime;
use uuid::Uuid;

/// Which of `ids` are current medical items (for modules that reference items, e.g. products).
pub async fn existing_items(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    existing(tx, "medical_items", ids).await
}

/// Which of `ids` are current medical services.
pub async fn existing_services(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    existing(tx, "medical_services", ids).await
}

async fn existing(tx: &mut Tx, table: &'static str, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(&format!(
        "SELECT id FROM {table} WHERE deleted_at IS NULL AND id IN "
    ));
    sql.list(ids.iter().copied());
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// `%` and `_` typed by a user match themselves.
fn like(sql: &mut Sql, column: &str, text: &str, prefix_only: bool) {
    sql.push(&format!(" AND LOWER({column}) LIKE "))
        .arg(location::store::like_pattern(text, prefix_only))
        .push(" ESCAPE '\\'");
}

/// Is `code` used by a current row of `table` other than `except`?
async fn code_taken(
    tx: &mut Tx,
    table: &'static str,
    code: &str,
    except: Option<Uuid>,
) -> Result<bool> {
    let sql = format!("SELECT id FROM {table} WHERE code = $1 AND deleted_at IS NULL");
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(code)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

/// One current row of `table` by id (a UUID) or by code.
async fn fetch_one<T>(
    tx: &mut Tx,
    table: &'static str,
    columns: &str,
    key: store::Arg,
) -> Result<Option<T>>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let column = match key {
        store::Arg::Uuid(_) => "id",
        _ => "code",
    };
    let sql = format!("SELECT {columns} FROM {table} WHERE {column} = $1 AND deleted_at IS NULL");
    let args = [key];
    let row: Option<T> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row)
}

// ---------------------------------------------------------------- diagnoses

#[derive(sqlx::FromRow)]
struct DiagnosisRow {
    id: Uuid,
    code: String,
    name: String,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<DiagnosisRow> for Diagnosis {
    fn from(r: DiagnosisRow) -> Self {
        Diagnosis {
            id: r.id,
            code: r.code,
            name: r.name,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const DIAGNOSIS_COLUMNS: &str = "id, code, name, version, created_at, updated_at";

#[derive(Debug, Default, Clone)]
pub struct DiagnosisFilter {
    pub code: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
}

pub async fn list_diagnoses(
    tx: &mut Tx,
    f: &DiagnosisFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Diagnosis>, i64)> {
    let mut sql = Sql::new(" FROM diagnoses WHERE deleted_at IS NULL");
    if let Some(code) = &f.code {
        like(&mut sql, "code", code, true);
    }
    if let Some(q) = &f.q {
        like(&mut sql, "name", q, false);
    }
    let (rows, total): (Vec<DiagnosisRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {DIAGNOSIS_COLUMNS}"),
        &sql,
        "code, id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(Diagnosis::from).collect(), total))
}

pub async fn get_diagnosis(tx: &mut Tx, key: store::Arg) -> Result<Option<Diagnosis>> {
    let row: Option<DiagnosisRow> = fetch_one(tx, "diagnoses", DIAGNOSIS_COLUMNS, key).await?;
    Ok(row.map(Diagnosis::from))
}

pub async fn diagnosis_code_taken(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<bool> {
    code_taken(tx, "diagnoses", code, except).await
}

/// Insert, or (with `expected_version`) overwrite the current row if still at that version.
pub async fn save_diagnosis(
    tx: &mut Tx,
    d: &Diagnosis,
    expected_version: Option<i64>,
) -> Result<bool> {
    let done = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO diagnoses (code, name, version, created_at, updated_at, id) VALUES ($1, $2, $3, $4, $5, $6)",
            ),
            Some(_) => sqlx::query(
                "UPDATE diagnoses SET code = $1, name = $2, version = $3, created_at = $4, updated_at = $5
                 WHERE id = $6 AND version = $7 AND deleted_at IS NULL",
            ),
        };
        let mut query = query
            .bind(&d.code)
            .bind(&d.name)
            .bind(d.version)
            .bind(d.created_at)
            .bind(d.updated_at)
            .bind(d.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(done == 1)
}

// ---------------------------------------------------------------- items

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: Uuid,
    code: String,
    name: String,
    kind: String,
    package: Option<String>,
    price: i64,
    quantity: Option<i64>,
    maximum_amount: Option<i64>,
    care_type: String,
    frequency: Option<i64>,
    patient_category: i64,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ItemRow> for MedicalItem {
    fn from(r: ItemRow) -> Self {
        MedicalItem {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: ItemType::from_code(&r.kind).unwrap_or(ItemType::Drug),
            package: r.package,
            price: r.price,
            quantity: r.quantity,
            maximum_amount: r.maximum_amount,
            care_type: CareType::from_code(&r.care_type).unwrap_or(CareType::Both),
            frequency: r.frequency,
            patient_category: r.patient_category,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const ITEM_COLUMNS: &str = "id, code, name, type AS kind, package, price, quantity, maximum_amount, care_type, frequency, patient_category, version, created_at, updated_at";

#[derive(Debug, Default, Clone)]
pub struct ItemFilter {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<ItemType>,
    pub care_type: Option<CareType>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

pub async fn list_items(
    tx: &mut Tx,
    f: &ItemFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MedicalItem>, i64)> {
    let mut sql = Sql::new(" FROM medical_items WHERE deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "updated_at");
    }
    if let Some(code) = &f.code {
        like(&mut sql, "code", code, true);
    }
    if let Some(name) = &f.name {
        like(&mut sql, "name", name, false);
    }
    if let Some(kind) = f.kind {
        sql.push(" AND type = ").arg(kind.code());
    }
    if let Some(care) = f.care_type {
        sql.push(" AND care_type = ").arg(care.code());
    }
    let (rows, total): (Vec<ItemRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {ITEM_COLUMNS}"),
        &sql,
        "code, id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(MedicalItem::from).collect(), total))
}

pub async fn get_item(tx: &mut Tx, key: store::Arg) -> Result<Option<MedicalItem>> {
    let row: Option<ItemRow> = fetch_one(tx, "medical_items", ITEM_COLUMNS, key).await?;
    Ok(row.map(MedicalItem::from))
}

pub async fn item_code_taken(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<bool> {
    code_taken(tx, "medical_items", code, except).await
}

pub async fn save_item(
    tx: &mut Tx,
    i: &MedicalItem,
    expected_version: Option<i64>,
) -> Result<bool> {
    let done = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO medical_items (code, name, type, package, price, quantity, maximum_amount, care_type,
                    frequency, patient_category, version, created_at, updated_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            ),
            Some(_) => sqlx::query(
                "UPDATE medical_items SET code = $1, name = $2, type = $3, package = $4, price = $5, quantity = $6,
                    maximum_amount = $7, care_type = $8, frequency = $9, patient_category = $10, version = $11,
                    created_at = $12, updated_at = $13
                 WHERE id = $14 AND version = $15 AND deleted_at IS NULL",
            ),
        };
        let mut query = query
            .bind(&i.code)
            .bind(&i.name)
            .bind(i.kind.code())
            .bind(&i.package)
            .bind(i.price)
            .bind(i.quantity)
            .bind(i.maximum_amount)
            .bind(i.care_type.code())
            .bind(i.frequency)
            .bind(i.patient_category)
            .bind(i.version)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(i.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(done == 1)
}

// ---------------------------------------------------------------- services

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: Uuid,
    code: String,
    name: String,
    category: Option<String>,
    kind: String,
    level: String,
    package_type: String,
    manual_price: bool,
    price: i64,
    maximum_amount: Option<i64>,
    care_type: String,
    frequency: Option<i64>,
    patient_category: i64,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ServiceRow> for MedicalService {
    fn from(r: ServiceRow) -> Self {
        MedicalService {
            id: r.id,
            code: r.code,
            name: r.name,
            category: r.category.as_deref().and_then(ServiceCategory::from_code),
            kind: ServiceType::from_code(&r.kind).unwrap_or(ServiceType::Curative),
            level: ServiceLevel::from_code(&r.level).unwrap_or(ServiceLevel::Simple),
            package_type: PackageType::from_code(&r.package_type).unwrap_or(PackageType::Simple),
            manual_price: r.manual_price,
            price: r.price,
            maximum_amount: r.maximum_amount,
            care_type: CareType::from_code(&r.care_type).unwrap_or(CareType::Both),
            frequency: r.frequency,
            patient_category: r.patient_category,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const SERVICE_COLUMNS: &str = "id, code, name, category, type AS kind, level, package_type, manual_price, price, maximum_amount, care_type, frequency, patient_category, version, created_at, updated_at";

#[derive(Debug, Default, Clone)]
pub struct ServiceFilter {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<ServiceType>,
    pub category: Option<ServiceCategory>,
    pub level: Option<ServiceLevel>,
    pub care_type: Option<CareType>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

pub async fn list_services(
    tx: &mut Tx,
    f: &ServiceFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MedicalService>, i64)> {
    let mut sql = Sql::new(" FROM medical_services WHERE deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "updated_at");
    }
    if let Some(code) = &f.code {
        like(&mut sql, "code", code, true);
    }
    if let Some(name) = &f.name {
        like(&mut sql, "name", name, false);
    }
    if let Some(kind) = f.kind {
        sql.push(" AND type = ").arg(kind.code());
    }
    if let Some(category) = f.category {
        sql.push(" AND category = ").arg(category.code());
    }
    if let Some(level) = f.level {
        sql.push(" AND level = ").arg(level.code());
    }
    if let Some(care) = f.care_type {
        sql.push(" AND care_type = ").arg(care.code());
    }
    let (rows, total): (Vec<ServiceRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {SERVICE_COLUMNS}"),
        &sql,
        "code, id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(MedicalService::from).collect(), total))
}

pub async fn get_service(tx: &mut Tx, key: store::Arg) -> Result<Option<MedicalService>> {
    let row: Option<ServiceRow> = fetch_one(tx, "medical_services", SERVICE_COLUMNS, key).await?;
    Ok(row.map(MedicalService::from))
}

pub async fn service_code_taken(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<bool> {
    code_taken(tx, "medical_services", code, except).await
}

pub async fn save_service(
    tx: &mut Tx,
    s: &MedicalService,
    expected_version: Option<i64>,
) -> Result<bool> {
    let done = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO medical_services (code, name, category, type, level, package_type, manual_price, price,
                    maximum_amount, care_type, frequency, patient_category, version, created_at, updated_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            ),
            Some(_) => sqlx::query(
                "UPDATE medical_services SET code = $1, name = $2, category = $3, type = $4, level = $5,
                    package_type = $6, manual_price = $7, price = $8, maximum_amount = $9, care_type = $10,
                    frequency = $11, patient_category = $12, version = $13, created_at = $14, updated_at = $15
                 WHERE id = $16 AND version = $17 AND deleted_at IS NULL",
            ),
        };
        let mut query = query
            .bind(&s.code)
            .bind(&s.name)
            .bind(s.category.map(|c| c.code()))
            .bind(s.kind.code())
            .bind(s.level.code())
            .bind(s.package_type.code())
            .bind(s.manual_price)
            .bind(s.price)
            .bind(s.maximum_amount)
            .bind(s.care_type.code())
            .bind(s.frequency)
            .bind(s.patient_category)
            .bind(s.version)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(s.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(done == 1)
}

// ---------------------------------------------------------------- price lists

impl PriceListKind {
    pub fn table(self) -> &'static str {
        match self {
            PriceListKind::Items => "item_pricelists",
            PriceListKind::Services => "service_pricelists",
        }
    }

    fn lines_table(self) -> &'static str {
        match self {
            PriceListKind::Items => "item_pricelist_lines",
            PriceListKind::Services => "service_pricelist_lines",
        }
    }

    /// `item_id` or `service_id`: the line column, and the JSON field of a line.
    pub fn line_field(self) -> &'static str {
        match self {
            PriceListKind::Items => "item_id",
            PriceListKind::Services => "service_id",
        }
    }

    pub fn register_table(self) -> &'static str {
        match self {
            PriceListKind::Items => "medical_items",
            PriceListKind::Services => "medical_services",
        }
    }

    /// The health-facility column naming a list of this kind.
    fn facility_column(self) -> &'static str {
        match self {
            PriceListKind::Items => "items_pricelist_id",
            PriceListKind::Services => "services_pricelist_id",
        }
    }
}

#[derive(sqlx::FromRow)]
struct PriceListRow {
    id: Uuid,
    name: String,
    location_id: Option<Uuid>,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<PriceListRow> for PriceList {
    fn from(r: PriceListRow) -> Self {
        PriceList {
            id: r.id,
            name: r.name,
            location_id: r.location_id,
            lines: Vec::new(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const PRICELIST_COLUMNS: &str = "id, name, location_id, version, created_at, updated_at";

#[derive(Debug, Default, Clone)]
pub struct PriceListFilter {
    pub name: Option<String>,
    pub location_id: Option<Uuid>,
    /// `None` = every list; otherwise national lists and those of these locations.
    pub scope: Option<Vec<Uuid>>,
}

pub async fn list_pricelists(
    tx: &mut Tx,
    kind: PriceListKind,
    f: &PriceListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PriceList>, i64)> {
    let mut sql = Sql::new(&format!(" FROM {} WHERE deleted_at IS NULL", kind.table()));
    if let Some(name) = &f.name {
        like(&mut sql, "name", name, false);
    }
    if let Some(location) = f.location_id {
        sql.push(" AND location_id = ").arg(location);
    }
    if let Some(visible) = &f.scope {
        sql.push(" AND (location_id IS NULL OR location_id IN ")
            .list(visible.iter().copied())
            .push(")");
    }
    let (rows, total): (Vec<PriceListRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {PRICELIST_COLUMNS}"),
        &sql,
        "name, id",
        limit,
        offset,
    )
    .await?;
    let mut lists: Vec<PriceList> = rows.into_iter().map(PriceList::from).collect();
    for list in &mut lists {
        list.lines = lines(tx, kind, list.id).await?;
    }
    Ok((lists, total))
}

pub async fn get_pricelist(
    tx: &mut Tx,
    kind: PriceListKind,
    id: Uuid,
) -> Result<Option<PriceList>> {
    let sql = format!(
        "SELECT {PRICELIST_COLUMNS} FROM {} WHERE id = $1 AND deleted_at IS NULL",
        kind.table()
    );
    let row: Option<PriceListRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
    });
    let Some(row) = row else { return Ok(None) };
    let mut list = PriceList::from(row);
    list.lines = lines(tx, kind, id).await?;
    Ok(Some(list))
}

/// The lines of a list with their price-list price, in register-code order.
pub async fn lines(tx: &mut Tx, kind: PriceListKind, id: Uuid) -> Result<Vec<PriceListLine>> {
    let sql = format!(
        "SELECT l.{col}, l.price_overrule, r.price FROM {lines} l JOIN {reg} r ON r.id = l.{col}
         WHERE l.pricelist_id = $1 ORDER BY r.code, r.id",
        col = kind.line_field(),
        lines = kind.lines_table(),
        reg = kind.register_table()
    );
    let rows: Vec<(Uuid, Option<i64>, i64)> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(register_id, price_overrule, price)| PriceListLine {
            register_id,
            price_overrule,
            price: rules::pricelist_price(price, price_overrule),
        })
        .collect())
}

/// Insert, or (with `expected_version`) overwrite the current list if still at that version;
/// the lines are replaced. False if the version moved on.
pub async fn save_pricelist(
    tx: &mut Tx,
    kind: PriceListKind,
    p: &PriceList,
    expected_version: Option<i64>,
) -> Result<bool> {
    let table = kind.table();
    let statement = match expected_version {
        None => format!(
            "INSERT INTO {table} (name, location_id, version, created_at, updated_at, id) VALUES ($1, $2, $3, $4, $5, $6)"
        ),
        Some(_) => format!(
            "UPDATE {table} SET name = $1, location_id = $2, version = $3, created_at = $4, updated_at = $5
             WHERE id = $6 AND version = $7 AND deleted_at IS NULL"
        ),
    };
    let done = on_tx!(tx, conn => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(&p.name)
            .bind(p.location_id)
            .bind(p.version)
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(p.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    if done != 1 {
        return Ok(false);
    }
    let clear = format!("DELETE FROM {} WHERE pricelist_id = $1", kind.lines_table());
    on_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(clear))
            .bind(p.id)
            .execute(&mut **conn)
            .await?;
    });
    // Multi-row inserts: a national list can hold every item of the register.
    for chunk in p.lines.chunks(200) {
        let mut sql = Sql::new(&format!(
            "INSERT INTO {} (pricelist_id, {}, price_overrule) VALUES ",
            kind.lines_table(),
            kind.line_field()
        ));
        for (i, line) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            // `Arg` has no NULL; an overrule is a typed integer, safe to write inline.
            let overrule = line
                .price_overrule
                .map_or_else(|| "NULL".to_string(), |v| v.to_string());
            sql.push("(")
                .arg(p.id)
                .push(", ")
                .arg(line.register_id)
                .push(&format!(", {overrule})"));
        }
        on_tx!(tx, conn => {
            bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
                .execute(&mut **conn)
                .await?;
        });
    }
    Ok(true)
}

/// How many current health facilities use this list.
pub async fn facilities_using(tx: &mut Tx, kind: PriceListKind, id: Uuid) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM health_facilities WHERE deleted_at IS NULL AND {} = $1",
        kind.facility_column()
    );
    let (n,): (i64,) = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n)
}

/// How many current price lists of `kind` hold a line for this item or service.
pub async fn pricelists_holding(
    tx: &mut Tx,
    kind: PriceListKind,
    register_id: Uuid,
) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM {lines} l JOIN {lists} p ON p.id = l.pricelist_id
         WHERE p.deleted_at IS NULL AND l.{col} = $1",
        lines = kind.lines_table(),
        lists = kind.table(),
        col = kind.line_field()
    );
    let (n,): (i64,) = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(register_id)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n)
}

/// The regions above these districts.
pub async fn regions_of(tx: &mut Tx, districts: &[Uuid]) -> Result<Vec<Uuid>> {
    if districts.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(
        "SELECT DISTINCT parent_id FROM locations WHERE parent_id IS NOT NULL AND deleted_at IS NULL AND id IN ",
    );
    sql.list(districts.iter().copied());
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
