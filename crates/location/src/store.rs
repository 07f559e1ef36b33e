//! SQL for locations, health facilities and catchments.

use crate::model::*;
use kernel::Result;
use store::{Sql, Tx, bind_args, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct LocationRow {
    id: Uuid,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<Uuid>,
    district_id: Option<Uuid>,
    male_population: Option<i64>,
    female_population: Option<i64>,
    other_population: Option<i64>,
    families: Option<i64>,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<LocationRow> for Location {
    fn from(r: LocationRow) -> Self {
        Location {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: LocationType::from_code(&r.kind).unwrap_or(LocationType::Village),
            parent_id: r.parent_id,
            district_id: r.district_id,
            male_population: r.male_population,
            female_population: r.female_population,
            other_population: r.other_population,
            families: r.families,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const LOCATION_COLUMNS: &str = "id, code, name, type AS kind, parent_id, district_id, male_population, female_population, other_population, families, version, created_at, updated_at";

/// Filters of the location list.
#[derive(Debug, Default, Clone)]
pub struct LocationFilter {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<LocationType>,
    pub parent_id: Option<Uuid>,
    pub district_id: Option<Uuid>,
    /// `None` = every location; otherwise the districts held and the regions fully held.
    pub scope: Option<(Vec<Uuid>, Vec<Uuid>)>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

/// `%` and `_` typed by a user match themselves.
pub fn like_pattern(text: &str, prefix_only: bool) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    if prefix_only {
        format!("{escaped}%")
    } else {
        format!("%{escaped}%")
    }
}

fn location_where(f: &LocationFilter) -> Sql {
    let mut sql = Sql::new(" FROM locations WHERE deleted_at IS NULL");
    if let Some(code) = &f.code {
        sql.push(" AND LOWER(code) LIKE ")
            .arg(like_pattern(code, true))
            .push(" ESCAPE '\\'");
    }
    if let Some(name) = &f.name {
        sql.push(" AND LOWER(name) LIKE ")
            .arg(like_pattern(name, false))
            .push(" ESCAPE '\\'");
    }
    if let Some(kind) = f.kind {
        sql.push(" AND type = ").arg(kind.code());
    }
    if let Some(parent) = f.parent_id {
        sql.push(" AND parent_id = ").arg(parent);
    }
    if let Some(district) = f.district_id {
        sql.push(" AND district_id = ").arg(district);
    }
    for range in &f.updated {
        range.push_to(&mut sql, "updated_at");
    }
    if let Some((districts, regions)) = &f.scope {
        sql.push(" AND (district_id IN ")
            .list(districts.iter().copied())
            .push(" OR id IN ")
            .list(regions.iter().copied())
            .push(")");
    }
    sql
}

pub async fn list_locations(
    tx: &mut Tx,
    filter: &LocationFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Location>, i64)> {
    let (rows, total): (Vec<LocationRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {LOCATION_COLUMNS}"),
        &location_where(filter),
        "code, id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(Location::from).collect(), total))
}

pub async fn get_location(tx: &mut Tx, id: Uuid) -> Result<Option<Location>> {
    let row: Option<LocationRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {LOCATION_COLUMNS} FROM locations WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row.map(Location::from))
}

pub async fn get_location_by_code(tx: &mut Tx, code: &str) -> Result<Option<Location>> {
    let row: Option<LocationRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {LOCATION_COLUMNS} FROM locations WHERE code = $1 AND deleted_at IS NULL"
        )))
        .bind(code)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row.map(Location::from))
}

/// Is `code` used by a current location other than `except`?
pub async fn location_code_taken(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM locations WHERE code = $1 AND deleted_at IS NULL")
            .bind(code)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

pub async fn insert_location(tx: &mut Tx, l: &Location) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO locations (id, code, name, type, parent_id, district_id, male_population, female_population,
                 other_population, families, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(l.id)
        .bind(&l.code)
        .bind(&l.name)
        .bind(l.kind.code())
        .bind(l.parent_id)
        .bind(l.district_id)
        .bind(l.male_population)
        .bind(l.female_population)
        .bind(l.other_population)
        .bind(l.families)
        .bind(l.version)
        .bind(l.created_at)
        .bind(l.updated_at)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// Write `l` over the row if it is still at `expected_version`; false if it moved on.
pub async fn update_location(tx: &mut Tx, l: &Location, expected_version: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE locations SET code = $1, name = $2, parent_id = $3, district_id = $4, male_population = $5,
                 female_population = $6, other_population = $7, families = $8, version = $9, updated_at = $10
             WHERE id = $11 AND version = $12 AND deleted_at IS NULL",
        )
        .bind(&l.code)
        .bind(&l.name)
        .bind(l.parent_id)
        .bind(l.district_id)
        .bind(l.male_population)
        .bind(l.female_population)
        .bind(l.other_population)
        .bind(l.families)
        .bind(l.version)
        .bind(l.updated_at)
        .bind(l.id)
        .bind(expected_version)
        .execute(&mut **conn)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

pub async fn delete_location(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    at: OffsetDateTime,
) -> Result<bool> {
    Ok(store::soft_delete(tx, "locations", id, version, at).await?)
}

/// Re-point the district of a ward or village and everything under it.
pub async fn set_subtree_district(tx: &mut Tx, root: Uuid, district: Option<Uuid>) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE locations SET district_id = $1
             WHERE id = $2 OR parent_id = $2 OR parent_id IN (SELECT id FROM locations WHERE parent_id = $2)",
        )
        .bind(district)
        .bind(root)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// How many current records still hang from this location: child locations and facilities.
pub async fn dependants(tx: &mut Tx, id: Uuid) -> Result<(i64, i64)> {
    let (children, facilities): ((i64,), (i64,)) = on_tx!(tx, conn => {
        let children = sqlx::query_as("SELECT COUNT(*) FROM locations WHERE parent_id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_one(&mut **conn)
            .await?;
        let facilities = sqlx::query_as(
            "SELECT COUNT(*) FROM health_facilities h WHERE h.deleted_at IS NULL
               AND (h.location_id = $1 OR EXISTS (SELECT 1 FROM health_facility_catchments c WHERE c.health_facility_id = h.id AND c.location_id = $1))",
        )
        .bind(id)
        .fetch_one(&mut **conn)
        .await?;
        (children, facilities)
    });
    Ok((children.0, facilities.0))
}

/// The regions all of whose current districts are among `held`: openIMIS's strict rule for
/// when a district user also sees the region above.
pub async fn fully_held_regions(tx: &mut Tx, held: &[Uuid]) -> Result<Vec<Uuid>> {
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(
        "SELECT parent_id FROM locations WHERE type = 'D' AND deleted_at IS NULL AND parent_id IN \
         (SELECT parent_id FROM locations WHERE id IN ",
    );
    sql.list(held.iter().copied())
        .push(") GROUP BY parent_id HAVING SUM(CASE WHEN id IN ")
        .list(held.iter().copied())
        .push(" THEN 1 ELSE 0 END) = COUNT(*)");
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The types of the given current locations, for checking references (ids not found are absent).
pub async fn location_types(
    tx: &mut Tx,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, LocationType, Option<Uuid>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql =
        Sql::new("SELECT id, type, district_id FROM locations WHERE deleted_at IS NULL AND id IN ");
    sql.list(ids.iter().copied());
    let rows: Vec<(Uuid, String, Option<Uuid>)> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(id, t, d)| LocationType::from_code(&t).map(|t| (id, t, d)))
        .collect())
}

// ---------------------------------------------------------------- health facilities

#[derive(sqlx::FromRow)]
struct FacilityRow {
    id: Uuid,
    code: String,
    name: String,
    acc_code: Option<String>,
    legal_form: String,
    level: String,
    sub_level: Option<String>,
    location_id: Uuid,
    address: Option<String>,
    phone: Option<String>,
    fax: Option<String>,
    email: Option<String>,
    care_type: String,
    items_pricelist_id: Option<Uuid>,
    services_pricelist_id: Option<Uuid>,
    offline: bool,
    contract_start_date: Option<Date>,
    contract_end_date: Option<Date>,
    status: String,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<FacilityRow> for HealthFacility {
    fn from(r: FacilityRow) -> Self {
        HealthFacility {
            id: r.id,
            code: r.code,
            name: r.name,
            acc_code: r.acc_code,
            legal_form: LegalForm::from_code(&r.legal_form).unwrap_or(LegalForm::Government),
            level: FacilityLevel::from_code(&r.level).unwrap_or(FacilityLevel::Dispensary),
            sub_level: r.sub_level.as_deref().and_then(FacilitySubLevel::from_code),
            location_id: r.location_id,
            address: r.address,
            phone: r.phone,
            fax: r.fax,
            email: r.email,
            care_type: CareType::from_code(&r.care_type).unwrap_or(CareType::Both),
            items_pricelist_id: r.items_pricelist_id,
            services_pricelist_id: r.services_pricelist_id,
            offline: r.offline,
            contract_start_date: r.contract_start_date,
            contract_end_date: r.contract_end_date,
            status: FacilityStatus::from_code(&r.status).unwrap_or(FacilityStatus::Active),
            catchments: Vec::new(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const FACILITY_COLUMNS: &str = "id, code, name, acc_code, legal_form, level, sub_level, location_id, address, phone, fax, email, care_type, items_pricelist_id, services_pricelist_id, offline, contract_start_date, contract_end_date, status, version, created_at, updated_at";

#[derive(Debug, Default, Clone)]
pub struct FacilityFilter {
    pub code: Option<String>,
    pub name: Option<String>,
    pub district_id: Option<Uuid>,
    pub region_id: Option<Uuid>,
    pub level: Option<FacilityLevel>,
    pub legal_form: Option<LegalForm>,
    pub status: Option<FacilityStatus>,
    /// `None` = every facility; otherwise the districts the actor holds.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

fn facility_where(f: &FacilityFilter) -> Sql {
    let mut sql = Sql::new(" FROM health_facilities WHERE deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "updated_at");
    }
    if let Some(code) = &f.code {
        sql.push(" AND LOWER(code) LIKE ")
            .arg(like_pattern(code, true))
            .push(" ESCAPE '\\'");
    }
    if let Some(name) = &f.name {
        sql.push(" AND LOWER(name) LIKE ")
            .arg(like_pattern(name, false))
            .push(" ESCAPE '\\'");
    }
    if let Some(d) = f.district_id {
        sql.push(" AND location_id = ").arg(d);
    }
    if let Some(r) = f.region_id {
        sql.push(" AND location_id IN (SELECT id FROM locations WHERE parent_id = ")
            .arg(r)
            .push(")");
    }
    if let Some(level) = f.level {
        sql.push(" AND level = ").arg(level.code());
    }
    if let Some(form) = f.legal_form {
        sql.push(" AND legal_form = ").arg(form.code());
    }
    if let Some(status) = f.status {
        sql.push(" AND status = ").arg(status.code());
    }
    if let Some(districts) = &f.scope {
        sql.push(" AND location_id IN ")
            .list(districts.iter().copied());
    }
    sql
}

pub async fn list_facilities(
    tx: &mut Tx,
    filter: &FacilityFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<HealthFacility>, i64)> {
    let (rows, total): (Vec<FacilityRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {FACILITY_COLUMNS}"),
        &facility_where(filter),
        "code, id",
        limit,
        offset,
    )
    .await?;
    let mut facilities: Vec<HealthFacility> = rows.into_iter().map(HealthFacility::from).collect();
    for f in &mut facilities {
        f.catchments = catchments(tx, f.id).await?;
    }
    Ok((facilities, total))
}

pub async fn get_facility(tx: &mut Tx, id: Uuid) -> Result<Option<HealthFacility>> {
    fetch_facility(tx, "id = $1", store::Arg::Uuid(id)).await
}

pub async fn get_facility_by_code(tx: &mut Tx, code: &str) -> Result<Option<HealthFacility>> {
    fetch_facility(tx, "code = $1", store::Arg::Text(code.to_string())).await
}

async fn fetch_facility(
    tx: &mut Tx,
    condition: &str,
    arg: store::Arg,
) -> Result<Option<HealthFacility>> {
    let sql = format!(
        "SELECT {FACILITY_COLUMNS} FROM health_facilities WHERE {condition} AND deleted_at IS NULL"
    );
    let args = [arg];
    let row: Option<FacilityRow> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
            .fetch_optional(&mut **conn)
            .await?
    });
    let Some(row) = row else { return Ok(None) };
    let mut facility = HealthFacility::from(row);
    facility.catchments = catchments(tx, facility.id).await?;
    Ok(Some(facility))
}

pub async fn catchments(tx: &mut Tx, facility: Uuid) -> Result<Vec<Catchment>> {
    let rows: Vec<(Uuid, i64)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT location_id, catchment FROM health_facility_catchments WHERE health_facility_id = $1 ORDER BY location_id")
            .bind(facility)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(location_id, catchment)| Catchment {
            location_id,
            catchment,
        })
        .collect())
}

pub async fn facility_code_taken(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM health_facilities WHERE code = $1 AND deleted_at IS NULL")
            .bind(code)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

/// Insert a new facility, or (when `expected_version` is given) overwrite the current one if it
/// is still at that version. Catchments are replaced. False if the version moved on.
pub async fn save_facility(
    tx: &mut Tx,
    f: &HealthFacility,
    expected_version: Option<i64>,
) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO health_facilities (code, name, acc_code, legal_form, level, sub_level, location_id, address,
                    phone, fax, email, care_type, items_pricelist_id, services_pricelist_id, offline, contract_start_date,
                    contract_end_date, status, version, updated_at, created_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
            ),
            Some(_) => sqlx::query(
                "UPDATE health_facilities SET code = $1, name = $2, acc_code = $3, legal_form = $4, level = $5, sub_level = $6,
                    location_id = $7, address = $8, phone = $9, fax = $10, email = $11, care_type = $12,
                    items_pricelist_id = $13, services_pricelist_id = $14, offline = $15, contract_start_date = $16,
                    contract_end_date = $17, status = $18, version = $19, updated_at = $20, created_at = $21
                 WHERE id = $22 AND version = $23 AND deleted_at IS NULL",
            ),
        };
        let mut query = query
            .bind(&f.code)
            .bind(&f.name)
            .bind(&f.acc_code)
            .bind(f.legal_form.code())
            .bind(f.level.code())
            .bind(f.sub_level.map(|s| s.code()))
            .bind(f.location_id)
            .bind(&f.address)
            .bind(&f.phone)
            .bind(&f.fax)
            .bind(&f.email)
            .bind(f.care_type.code())
            .bind(f.items_pricelist_id)
            .bind(f.services_pricelist_id)
            .bind(f.offline)
            .bind(f.contract_start_date)
            .bind(f.contract_end_date)
            .bind(f.status.code())
            .bind(f.version)
            .bind(f.updated_at)
            .bind(f.created_at)
            .bind(f.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    if written != 1 {
        return Ok(false);
    }
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM health_facility_catchments WHERE health_facility_id = $1")
            .bind(f.id)
            .execute(&mut **conn)
            .await?;
        for c in &f.catchments {
            sqlx::query("INSERT INTO health_facility_catchments (health_facility_id, location_id, catchment) VALUES ($1, $2, $3)")
                .bind(f.id)
                .bind(c.location_id)
                .bind(c.catchment)
                .execute(&mut **conn)
                .await?;
        }
    });
    Ok(true)
}

pub async fn delete_facility(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    at: OffsetDateTime,
) -> Result<bool> {
    Ok(store::soft_delete(tx, "health_facilities", id, version, at).await?)
}
