//! SQL for families, insurees and their photos.

use crate::model::*;
use crate::rules;
use kernel::Result;
use store::{Engine, Sql, Tx, bind_args, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

// ---------------------------------------------------------------- insurees

#[derive(sqlx::FromRow)]
struct InsureeRow {
    id: Uuid,
    family_id: Option<Uuid>,
    chfid: String,
    last_name: String,
    other_names: String,
    gender: String,
    dob: Date,
    head: bool,
    marital: Option<String>,
    relationship: Option<i64>,
    profession: Option<i64>,
    education: Option<i64>,
    passport: Option<String>,
    type_of_id: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    current_address: Option<String>,
    geolocation: Option<String>,
    current_village_id: Option<Uuid>,
    health_facility_id: Option<Uuid>,
    card_issued: bool,
    status: String,
    status_date: Option<Date>,
    status_reason: Option<String>,
    photo_date: Option<Date>,
    district_id: Option<Uuid>,
    is_offline: bool,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

fn small(v: Option<i64>) -> Option<i16> {
    v.and_then(|v| i16::try_from(v).ok())
}

impl From<InsureeRow> for Insuree {
    fn from(r: InsureeRow) -> Self {
        Insuree {
            id: r.id,
            family_id: r.family_id,
            chfid: r.chfid,
            last_name: r.last_name,
            other_names: r.other_names,
            gender: Gender::from_code(&r.gender).unwrap_or(Gender::Other),
            dob: r.dob,
            head: r.head,
            marital: r.marital.as_deref().and_then(Marital::from_code),
            relationship: small(r.relationship),
            profession: small(r.profession),
            education: small(r.education),
            passport: r.passport,
            type_of_id: r.type_of_id.as_deref().and_then(IdType::from_code),
            phone: r.phone,
            email: r.email,
            current_address: r.current_address,
            geolocation: r.geolocation,
            current_village_id: r.current_village_id,
            health_facility_id: r.health_facility_id,
            card_issued: r.card_issued,
            status: InsureeStatus::from_code(&r.status).unwrap_or(InsureeStatus::Active),
            status_date: r.status_date,
            status_reason: r.status_reason,
            photo_date: r.photo_date,
            district_id: r.district_id,
            is_offline: r.is_offline,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const INSUREE_COLUMNS: &str = "i.id, i.family_id, i.chfid, i.last_name, i.other_names, i.gender, i.dob, i.head, i.marital, \
     i.relationship, i.profession, i.education, i.passport, i.type_of_id, i.phone, i.email, i.current_address, i.geolocation, \
     i.current_village_id, i.health_facility_id, i.card_issued, i.status, i.status_date, i.status_reason, i.photo_date, \
     i.district_id, i.is_offline, i.version, i.created_at, i.updated_at";

/// Filters of the insuree list.
#[derive(Debug, Default, Clone)]
pub struct InsureeFilter {
    /// Exact insurance number.
    pub chfid: Option<String>,
    /// Prefix of the last name, the other names or the insurance number.
    pub q: Option<String>,
    pub dob_from: Option<Date>,
    pub dob_to: Option<Date>,
    /// The family's village.
    pub village_id: Option<Uuid>,
    pub district_id: Option<Uuid>,
    pub family_id: Option<Uuid>,
    pub gender: Option<Gender>,
    pub status: Option<InsureeStatus>,
    /// `None` = everyone; otherwise the districts the actor holds.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
    /// Has a current claim claimed on or after this day (FHIR's `claimDateFrom`). The claims
    /// table is the claim module's; the registry names it in this one term of SQL only.
    pub claimed_since: Option<Date>,
}

/// `column >= prefix AND column < upper`: a range a B-tree index answers on both engines.
fn push_prefix(sql: &mut Sql, column: &str, prefix: &str) {
    sql.push(column).push(" >= ").arg(prefix.to_string());
    if let Some(upper) = rules::prefix_upper(prefix) {
        sql.push(" AND ").push(column).push(" < ").arg(upper);
    }
}

/// A date argument: native on PostgreSQL, ISO text on SQLite (as sqlx stores it there).
fn push_date(sql: &mut Sql, engine: Engine, date: Date) {
    let text = date.to_string();
    match engine {
        Engine::Sqlite => sql.arg(text),
        Engine::Postgres => sql.push("CAST(").arg(text).push(" AS DATE)"),
    };
}

/// The filters other than `q`, each as ` AND …`. `plus_district` hides the district terms from
/// SQLite's index choice (`+column`), so that a name branch walks its name index rather than a
/// whole district.
fn push_filters(sql: &mut Sql, f: &InsureeFilter, engine: Engine, plus_district: bool) {
    if let Some(chfid) = f.chfid.as_deref().map(str::trim) {
        sql.push(" AND i.chfid = ").arg(chfid.to_string());
    }
    if let Some(d) = f.dob_from {
        sql.push(" AND i.dob >= ");
        push_date(sql, engine, d);
    }
    if let Some(d) = f.dob_to {
        sql.push(" AND i.dob <= ");
        push_date(sql, engine, d);
    }
    if let Some(v) = f.village_id {
        sql.push(" AND i.family_id IN (SELECT id FROM families WHERE location_id = ")
            .arg(v)
            .push(" AND deleted_at IS NULL)");
    }
    let district = if plus_district && engine == Engine::Sqlite {
        " AND +i.district_id"
    } else {
        " AND i.district_id"
    };
    if let Some(d) = f.district_id {
        sql.push(district).push(" = ").arg(d);
    }
    if let Some(fam) = f.family_id {
        sql.push(" AND i.family_id = ").arg(fam);
    }
    if let Some(g) = f.gender {
        sql.push(" AND i.gender = ").arg(g.code());
    }
    if let Some(s) = f.status {
        sql.push(" AND i.status = ").arg(s.code());
    }
    for range in &f.updated {
        range.push_to(sql, "i.updated_at");
    }
    if let Some(d) = f.claimed_since {
        sql.push(
            " AND EXISTS (SELECT 1 FROM claims c WHERE c.insuree_id = i.id \
             AND c.deleted_at IS NULL AND c.date_claimed >= ",
        );
        push_date(sql, engine, d);
        sql.push(")");
    }
    if let Some(districts) = &f.scope {
        sql.push(district)
            .push(" IN ")
            .list(districts.iter().copied());
    }
}

/// One way a `q` prefix matches: on the last name, the other names or the insurance number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Branch {
    LastName,
    OtherNames,
    Chfid,
}

impl Branch {
    fn push(self, sql: &mut Sql, q: &str) {
        match self {
            Branch::LastName => push_prefix(sql, "i.last_name_key", &rules::name_key(q)),
            Branch::OtherNames => push_prefix(sql, "i.other_names_key", &rules::name_key(q)),
            Branch::Chfid => push_prefix(sql, "i.chfid", q),
        }
    }

    /// The branches a prefix can match: names never start with a digit, so digits are a number.
    fn of(q: &str) -> &'static [Branch] {
        if q.chars().all(|c| c.is_ascii_digit()) {
            &[Branch::Chfid]
        } else {
            &[Branch::LastName, Branch::OtherNames, Branch::Chfid]
        }
    }
}

const ORDER: &str = "i.last_name_key, i.other_names_key, i.id";

/// A `q` search, answered branch by branch so that each walks its own index in order: the page
/// is the merge of each branch's first `offset + limit` rows (never a sort of every match), and
/// the total adds up each branch's matches not already counted by the branches before it.
async fn list_by_prefix(
    tx: &mut Tx,
    f: &InsureeFilter,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Insuree>, i64)> {
    let engine = tx.engine();
    let branches = Branch::of(q);
    let mut page = Sql::new(&format!(
        "SELECT {INSUREE_COLUMNS} FROM insurees i WHERE i.id IN (SELECT id FROM ("
    ));
    let mut count = Sql::new("SELECT ");
    for (n, branch) in branches.iter().enumerate() {
        let plus = *branch != Branch::LastName;
        if n > 0 {
            page.push(" UNION ");
            count.push(" + ");
        }
        page.push(
            "SELECT id, last_name_key, other_names_key FROM (SELECT i.id, i.last_name_key, i.other_names_key \
             FROM insurees i WHERE i.deleted_at IS NULL",
        );
        push_filters(&mut page, f, engine, plus);
        page.push(" AND ");
        branch.push(&mut page, q);
        page.push(&format!(" ORDER BY {ORDER} LIMIT "))
            .arg(offset.saturating_add(limit))
            .push(&format!(") AS b{n}"));

        count.push("(SELECT COUNT(*) FROM insurees i WHERE i.deleted_at IS NULL");
        push_filters(&mut count, f, engine, plus);
        count.push(" AND ");
        branch.push(&mut count, q);
        for before in &branches[..n] {
            count.push(" AND NOT (");
            before.push(&mut count, q);
            count.push(")");
        }
        count.push(")");
    }
    page.push(") AS u ORDER BY last_name_key, other_names_key, id LIMIT ")
        .arg(limit)
        .push(" OFFSET ")
        .arg(offset)
        .push(&format!(") ORDER BY {ORDER}"));
    let (rows, total): (Vec<InsureeRow>, (i64,)) = on_tx!(tx, conn => {
        let rows = bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(page.text.clone())), page.args)
            .fetch_all(&mut **conn)
            .await?;
        let total = bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(count.text.clone())), count.args)
            .fetch_one(&mut **conn)
            .await?;
        (rows, total)
    });
    Ok((rows.into_iter().map(Insuree::from).collect(), total.0))
}

pub async fn list_insurees(
    tx: &mut Tx,
    filter: &InsureeFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Insuree>, i64)> {
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        return list_by_prefix(tx, filter, q, limit, offset).await;
    }
    let engine = tx.engine();
    let mut from_where = Sql::new(" FROM insurees i WHERE i.deleted_at IS NULL");
    push_filters(&mut from_where, filter, engine, false);
    let (rows, total): (Vec<InsureeRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {INSUREE_COLUMNS}"),
        &from_where,
        ORDER,
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(Insuree::from).collect(), total))
}

async fn fetch_insuree(tx: &mut Tx, condition: &str, arg: store::Arg) -> Result<Option<Insuree>> {
    let sql = format!(
        "SELECT {INSUREE_COLUMNS} FROM insurees i WHERE {condition} AND i.deleted_at IS NULL"
    );
    let args = [arg];
    let row: Option<InsureeRow> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.map(Insuree::from))
}

/// Where a family lives and who heads it.
#[derive(Debug, Clone, Copy)]
pub struct FamilySummary {
    pub village: Uuid,
    pub head: Option<Uuid>,
}

/// The village and head of each of these families (current ones, within `scope` when one is
/// given).
pub async fn family_summaries(
    tx: &mut Tx,
    families: &[Uuid],
    scope: Option<&[Uuid]>,
) -> Result<std::collections::HashMap<Uuid, FamilySummary>> {
    if families.is_empty() {
        return Ok(Default::default());
    }
    let mut sql = Sql::new(
        "SELECT id, location_id, head_insuree_id FROM families WHERE deleted_at IS NULL AND id IN ",
    );
    sql.list(families.iter().copied());
    if let Some(districts) = scope {
        sql.push(" AND district_id IN ")
            .list(districts.iter().copied());
    }
    let rows: Vec<(Uuid, Uuid, Option<Uuid>)> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, village, head)| (id, FamilySummary { village, head }))
        .collect())
}

pub async fn get_insuree(tx: &mut Tx, id: Uuid) -> Result<Option<Insuree>> {
    fetch_insuree(tx, "i.id = $1", store::Arg::Uuid(id)).await
}

pub async fn get_insuree_by_chfid(tx: &mut Tx, chfid: &str) -> Result<Option<Insuree>> {
    fetch_insuree(tx, "i.chfid = $1", store::Arg::Text(chfid.to_string())).await
}

#[derive(sqlx::FromRow)]
struct InsureeWithVillage {
    #[sqlx(flatten)]
    insuree: InsureeRow,
    village: Option<Uuid>,
}

/// A current insuree by UUID or insurance number with the village of their family, in one read.
pub async fn get_insuree_with_village(
    tx: &mut Tx,
    key: store::Arg,
) -> Result<Option<(Insuree, Option<Uuid>)>> {
    let column = match key {
        store::Arg::Uuid(_) => "i.id",
        _ => "i.chfid",
    };
    let sql = format!(
        "SELECT {INSUREE_COLUMNS}, f.location_id AS village FROM insurees i \
         LEFT JOIN families f ON f.id = i.family_id AND f.deleted_at IS NULL \
         WHERE {column} = $1 AND i.deleted_at IS NULL"
    );
    let args = [key];
    let row: Option<InsureeWithVillage> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.map(|r| (Insuree::from(r.insuree), r.village)))
}

/// The current members of a family, head first.
pub async fn members(tx: &mut Tx, family: Uuid) -> Result<Vec<Insuree>> {
    let rows: Vec<InsureeRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {INSUREE_COLUMNS} FROM insurees i WHERE i.family_id = $1 AND i.deleted_at IS NULL
             ORDER BY i.head DESC, i.dob, i.id"
        )))
        .bind(family)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows.into_iter().map(Insuree::from).collect())
}

/// Is `chfid` the number of a current insuree other than `except`?
pub async fn chfid_taken(tx: &mut Tx, chfid: &str, except: Option<Uuid>) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM insurees WHERE chfid = $1 AND deleted_at IS NULL")
            .bind(chfid)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

/// The current insurees holding any of these numbers, number → insuree, asked in a few large
/// statements (an import asks once for a whole file).
pub async fn current_chfid_holders(
    tx: &mut Tx,
    chfids: &[&str],
) -> Result<std::collections::HashMap<String, Uuid>> {
    let mut holders = std::collections::HashMap::new();
    for chfids in chfids.chunks(store::keys_per_lookup(tx.engine())) {
        let found: Vec<(String, Uuid)> =
            match tx.postgres() {
                Some(conn) => sqlx::query_as(
                    "SELECT chfid, id FROM insurees WHERE chfid = ANY($1) AND deleted_at IS NULL",
                )
                .persistent(false)
                .bind(chfids)
                .fetch_all(conn)
                .await?,
                None => {
                    // Anonymous placeholders: numbered ones make binding thousands quadratic.
                    let sql = format!(
                        "SELECT chfid, id FROM insurees WHERE deleted_at IS NULL AND chfid IN ({})",
                        store::anonymous(chfids.len())
                    );
                    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false);
                    for chfid in chfids {
                        query = query.bind(*chfid);
                    }
                    query.fetch_all(tx.sqlite().expect("SQLite")).await?
                }
            };
        holders.extend(found);
    }
    Ok(holders)
}

const INSUREE_WRITE_COLUMNS: &str = "family_id, chfid, last_name, other_names, last_name_key, other_names_key, gender, dob, \
     head, marital, relationship, profession, education, passport, type_of_id, phone, email, current_address, geolocation, \
     current_village_id, health_facility_id, card_issued, status, status_date, status_reason, photo_date, district_id, \
     is_offline, version, updated_at, created_at, id";

/// Bind an insuree's columns in the order of [`INSUREE_WRITE_COLUMNS`].
macro_rules! bind_insuree {
    ($query:expr, $i:expr) => {{
        let i = $i;
        $query
            .bind(i.family_id)
            .bind(&i.chfid)
            .bind(&i.last_name)
            .bind(&i.other_names)
            .bind(rules::name_key(&i.last_name))
            .bind(rules::name_key(&i.other_names))
            .bind(i.gender.code())
            .bind(i.dob)
            .bind(i.head)
            .bind(i.marital.map(|m| m.code()))
            .bind(i.relationship.map(i64::from))
            .bind(i.profession.map(i64::from))
            .bind(i.education.map(i64::from))
            .bind(&i.passport)
            .bind(i.type_of_id.map(|t| t.code()))
            .bind(&i.phone)
            .bind(&i.email)
            .bind(&i.current_address)
            .bind(&i.geolocation)
            .bind(i.current_village_id)
            .bind(i.health_facility_id)
            .bind(i.card_issued)
            .bind(i.status.code())
            .bind(i.status_date)
            .bind(&i.status_reason)
            .bind(i.photo_date)
            .bind(i.district_id)
            .bind(i.is_offline)
            .bind(i.version)
            .bind(i.updated_at)
            .bind(i.created_at)
            .bind(i.id)
    }};
}

/// Insert a new insuree, or (with `expected_version`) overwrite the current one if it is still
/// at that version. False if the version moved on.
pub async fn save_insuree(tx: &mut Tx, i: &Insuree, expected_version: Option<i64>) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO insurees (family_id, chfid, last_name, other_names, last_name_key, other_names_key, gender, dob,
                    head, marital, relationship, profession, education, passport, type_of_id, phone, email, current_address,
                    geolocation, current_village_id, health_facility_id, card_issued, status, status_date, status_reason,
                    photo_date, district_id, is_offline, version, updated_at, created_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                    $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)",
            ),
            Some(_) => sqlx::query(
                "UPDATE insurees SET family_id = $1, chfid = $2, last_name = $3, other_names = $4, last_name_key = $5,
                    other_names_key = $6, gender = $7, dob = $8, head = $9, marital = $10, relationship = $11, profession = $12,
                    education = $13, passport = $14, type_of_id = $15, phone = $16, email = $17, current_address = $18,
                    geolocation = $19, current_village_id = $20, health_facility_id = $21, card_issued = $22, status = $23,
                    status_date = $24, status_reason = $25, photo_date = $26, district_id = $27, is_offline = $28,
                    version = $29, updated_at = $30, created_at = $31
                 WHERE id = $32 AND version = $33 AND deleted_at IS NULL",
            ),
        };
        let mut query = bind_insuree!(query, i);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(written == 1)
}

pub async fn delete_insuree(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    at: OffsetDateTime,
) -> Result<bool> {
    Ok(store::soft_delete(tx, "insurees", id, version, at).await?)
}

/// Re-point the district of every current member of a family (its village moved district).
pub async fn set_members_district(tx: &mut Tx, family: Uuid, district: Uuid) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE insurees SET district_id = $1 WHERE family_id = $2 AND deleted_at IS NULL")
            .bind(district)
            .bind(family)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

// ---------------------------------------------------------------- families

#[derive(sqlx::FromRow)]
struct FamilyRow {
    id: Uuid,
    head_insuree_id: Option<Uuid>,
    location_id: Uuid,
    district_id: Uuid,
    poverty: Option<bool>,
    family_type: Option<String>,
    address: Option<String>,
    ethnicity: Option<String>,
    confirmation_no: Option<String>,
    confirmation_type: Option<String>,
    is_offline: bool,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    head_chfid: Option<String>,
    head_last_name: Option<String>,
    head_other_names: Option<String>,
}

impl From<FamilyRow> for FamilyView {
    fn from(r: FamilyRow) -> Self {
        FamilyView {
            family: Family {
                id: r.id,
                head_insuree_id: r.head_insuree_id,
                location_id: r.location_id,
                district_id: r.district_id,
                poverty: r.poverty,
                family_type: r.family_type.as_deref().and_then(FamilyType::from_code),
                address: r.address,
                ethnicity: r.ethnicity,
                confirmation_no: r.confirmation_no,
                confirmation_type: r
                    .confirmation_type
                    .as_deref()
                    .and_then(ConfirmationType::from_code),
                is_offline: r.is_offline,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            head_chfid: r.head_chfid,
            head_last_name: r.head_last_name,
            head_other_names: r.head_other_names,
        }
    }
}

const FAMILY_SELECT: &str = "SELECT f.id, f.head_insuree_id, f.location_id, f.district_id, f.poverty, f.family_type, \
     f.address, f.ethnicity, f.confirmation_no, f.confirmation_type, f.is_offline, f.version, f.created_at, f.updated_at, \
     h.chfid AS head_chfid, h.last_name AS head_last_name, h.other_names AS head_other_names";

const FAMILY_FROM: &str =
    " FROM families f LEFT JOIN insurees h ON h.id = f.head_insuree_id AND h.deleted_at IS NULL";

#[derive(Debug, Default, Clone)]
pub struct FamilyFilter {
    /// The family's village.
    pub location_id: Option<Uuid>,
    pub district_id: Option<Uuid>,
    /// Exact insurance number of the head.
    pub head_chfid: Option<String>,
    /// Prefix of the head's last name.
    pub head_last_name: Option<String>,
    pub poverty: Option<bool>,
    pub family_type: Option<FamilyType>,
    /// `None` = every family; otherwise the districts the actor holds.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
    /// Count at most this many (a total above it means "more").
    pub count_at_most: Option<i64>,
}

fn family_where(f: &FamilyFilter) -> Sql {
    family_where_from(f, FAMILY_FROM)
}

/// The filter over `from`: the families with their heads, or (to count them when no term
/// names the head) the families alone.
fn family_where_from(f: &FamilyFilter, from: &str) -> Sql {
    let mut sql = Sql::new(from);
    sql.push(" WHERE f.deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "f.updated_at");
    }
    if let Some(l) = f.location_id {
        sql.push(" AND f.location_id = ").arg(l);
    }
    if let Some(d) = f.district_id {
        sql.push(" AND f.district_id = ").arg(d);
    }
    if let Some(chfid) = &f.head_chfid {
        sql.push(" AND h.chfid = ").arg(chfid.trim().to_string());
    }
    if let Some(name) = f.head_last_name.as_deref().map(rules::name_key) {
        sql.push(" AND ");
        push_prefix(&mut sql, "h.last_name_key", &name);
    }
    if let Some(p) = f.poverty {
        sql.push(" AND f.poverty = ").arg(p);
    }
    if let Some(t) = f.family_type {
        sql.push(" AND f.family_type = ").arg(t.code());
    }
    if let Some(districts) = &f.scope {
        sql.push(" AND f.district_id IN ")
            .list(districts.iter().copied());
    }
    sql
}

pub async fn list_families(
    tx: &mut Tx,
    filter: &FamilyFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<FamilyView>, i64)> {
    let count = if filter.head_chfid.is_none() && filter.head_last_name.is_none() {
        family_where_from(filter, " FROM families f")
    } else {
        family_where(filter)
    };
    let (rows, total): (Vec<FamilyRow>, i64) = store::fetch_page_capped(
        tx,
        FAMILY_SELECT,
        &family_where(filter),
        &count,
        "f.id",
        limit,
        offset,
        filter.count_at_most,
    )
    .await?;
    Ok((rows.into_iter().map(FamilyView::from).collect(), total))
}

pub async fn get_family(tx: &mut Tx, id: Uuid) -> Result<Option<FamilyView>> {
    let row: Option<FamilyRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{FAMILY_SELECT}{FAMILY_FROM} WHERE f.id = $1 AND f.deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row.map(FamilyView::from))
}

const FAMILY_WRITE_COLUMNS: &str = "head_insuree_id, location_id, district_id, poverty, family_type, address, ethnicity, \
     confirmation_no, confirmation_type, is_offline, version, updated_at, created_at, id";

/// Bind a family's columns in the order of [`FAMILY_WRITE_COLUMNS`].
macro_rules! bind_family {
    ($query:expr, $f:expr) => {{
        let f = $f;
        $query
            .bind(f.head_insuree_id)
            .bind(f.location_id)
            .bind(f.district_id)
            .bind(f.poverty)
            .bind(f.family_type.map(|t| t.code()))
            .bind(&f.address)
            .bind(&f.ethnicity)
            .bind(&f.confirmation_no)
            .bind(f.confirmation_type.map(|t| t.code()))
            .bind(f.is_offline)
            .bind(f.version)
            .bind(f.updated_at)
            .bind(f.created_at)
            .bind(f.id)
    }};
}

/// Insert a new family, or (with `expected_version`) overwrite the current one if it is still
/// at that version. False if the version moved on.
pub async fn save_family(tx: &mut Tx, f: &Family, expected_version: Option<i64>) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO families (head_insuree_id, location_id, district_id, poverty, family_type, address, ethnicity,
                    confirmation_no, confirmation_type, is_offline, version, updated_at, created_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            ),
            Some(_) => sqlx::query(
                "UPDATE families SET head_insuree_id = $1, location_id = $2, district_id = $3, poverty = $4, family_type = $5,
                    address = $6, ethnicity = $7, confirmation_no = $8, confirmation_type = $9, is_offline = $10,
                    version = $11, updated_at = $12, created_at = $13
                 WHERE id = $14 AND version = $15 AND deleted_at IS NULL",
            ),
        };
        let mut query = bind_family!(query, f);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(written == 1)
}

pub async fn delete_family(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    at: OffsetDateTime,
) -> Result<bool> {
    Ok(store::soft_delete(tx, "families", id, version, at).await?)
}

// ---------------------------------------------------------------- photos

/// Store (or replace) an insuree's photo.
pub async fn save_photo(
    tx: &mut Tx,
    insuree: Uuid,
    content_type: &str,
    bytes: &[u8],
    date: Date,
    at: OffsetDateTime,
) -> Result<()> {
    let size = bytes.len() as i64;
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO insuree_photos (insuree_id, content_type, bytes, size, photo_date, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (insuree_id) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes,
                 size = excluded.size, photo_date = excluded.photo_date, updated_at = excluded.updated_at",
        )
        .bind(insuree)
        .bind(content_type)
        .bind(bytes)
        .bind(size)
        .bind(date)
        .bind(at)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// The photo's content type and size, without its bytes.
pub async fn photo_info(tx: &mut Tx, insuree: Uuid) -> Result<Option<(String, i64)>> {
    let row: Option<(String, i64)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT content_type, size FROM insuree_photos WHERE insuree_id = $1")
            .bind(insuree)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row)
}

pub async fn get_photo(tx: &mut Tx, insuree: Uuid) -> Result<Option<Photo>> {
    let row: Option<(String, Vec<u8>)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT content_type, bytes FROM insuree_photos WHERE insuree_id = $1")
            .bind(insuree)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.map(|(content_type, bytes)| Photo {
        content_type,
        bytes,
    }))
}

/// Does a row with this id exist in `table` at all, current or deleted (imports keep ids)?
pub async fn row_exists(tx: &mut Tx, table: &'static str, id: Uuid) -> Result<bool> {
    let sql = format!("SELECT id FROM {table} WHERE id = $1");
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some())
}

/// Does the registry hold no family and no insuree at all, current or deleted (the condition for
/// loading it with its indexes built afterwards)?
pub async fn registry_is_empty(tx: &mut Tx) -> Result<bool> {
    let found: Option<(i32,)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT 1 FROM families UNION ALL SELECT 1 FROM insurees LIMIT 1",
        )
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(found.is_none())
}

/// Insert many new insurees at once (bulk loads: demo schemes, imports): one COPY on
/// PostgreSQL, multi-row statements under SQLite's limit on placeholders.
pub async fn insert_insurees_bulk(tx: &mut Tx, insurees: &[Insuree]) -> Result<()> {
    store::bulk_insert!(
        tx,
        "insurees",
        INSUREE_WRITE_COLUMNS,
        insurees,
        bind_insuree
    )?;
    Ok(())
}

/// Insert many new families at once (see [`insert_insurees_bulk`]).
pub async fn insert_families_bulk(tx: &mut Tx, families: &[Family]) -> Result<()> {
    store::bulk_insert!(tx, "families", FAMILY_WRITE_COLUMNS, families, bind_family)?;
    Ok(())
}
