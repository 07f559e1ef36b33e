//! SQL for policies, insuree policies, payers and contributions.

use crate::model::*;
use kernel::Result;
use store::{Sql, Tx, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

// ---------------------------------------------------------------- policies

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: Uuid,
    family_id: Uuid,
    product_id: Uuid,
    officer_id: Option<Uuid>,
    previous_policy_id: Option<Uuid>,
    stage: String,
    status: String,
    status_reason: Option<String>,
    value: i64,
    enroll_date: Date,
    start_date: Date,
    effective_date: Option<Date>,
    expiry_date: Date,
    district_id: Uuid,
    is_offline: bool,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<PolicyRow> for Policy {
    fn from(r: PolicyRow) -> Self {
        Policy {
            id: r.id,
            family_id: r.family_id,
            product_id: r.product_id,
            officer_id: r.officer_id,
            previous_policy_id: r.previous_policy_id,
            stage: Stage::from_code(&r.stage).unwrap_or(Stage::New),
            status: PolicyStatus::from_name(&r.status).unwrap_or(PolicyStatus::Idle),
            status_reason: r.status_reason,
            value: r.value,
            enroll_date: r.enroll_date,
            start_date: r.start_date,
            effective_date: r.effective_date,
            expiry_date: r.expiry_date,
            district_id: r.district_id,
            is_offline: r.is_offline,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const POLICY_COLUMNS: &str = "p.id, p.family_id, p.product_id, p.officer_id, p.previous_policy_id, p.stage, p.status, \
     p.status_reason, p.value, p.enroll_date, p.start_date, p.effective_date, p.expiry_date, p.district_id, p.is_offline, \
     p.version, p.created_at, p.updated_at";

const POLICY_WRITE_COLUMNS: &str = "family_id, product_id, officer_id, previous_policy_id, stage, status, status_reason, \
     value, enroll_date, start_date, effective_date, expiry_date, district_id, is_offline, version, updated_at, created_at, id";

/// Bind a policy's columns in the order of [`POLICY_WRITE_COLUMNS`].
macro_rules! bind_policy {
    ($query:expr, $p:expr) => {{
        let p = $p;
        $query
            .bind(p.family_id)
            .bind(p.product_id)
            .bind(p.officer_id)
            .bind(p.previous_policy_id)
            .bind(p.stage.code())
            .bind(p.status.name())
            .bind(&p.status_reason)
            .bind(p.value)
            .bind(p.enroll_date)
            .bind(p.start_date)
            .bind(p.effective_date)
            .bind(p.expiry_date)
            .bind(p.district_id)
            .bind(p.is_offline)
            .bind(p.version)
            .bind(p.updated_at)
            .bind(p.created_at)
            .bind(p.id)
    }};
}

/// Filters of the policy list.
#[derive(Debug, Default, Clone)]
pub struct PolicyFilter {
    pub family_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// Policies covering this insuree.
    pub insuree_id: Option<Uuid>,
    pub status: Option<PolicyStatus>,
    pub district_id: Option<Uuid>,
    /// `None` = everyone; otherwise the districts the actor holds.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

fn policy_where(f: &PolicyFilter) -> Sql {
    let mut sql = Sql::new(" FROM policies p WHERE p.deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "p.updated_at");
    }
    if let Some(id) = f.family_id {
        sql.push(" AND p.family_id = ").arg(id);
    }
    if let Some(id) = f.product_id {
        sql.push(" AND p.product_id = ").arg(id);
    }
    if let Some(id) = f.insuree_id {
        sql.push(
            " AND p.id IN (SELECT ip.policy_id FROM insuree_policies ip WHERE ip.deleted_at IS NULL AND ip.insuree_id = ",
        )
        .arg(id)
        .push(")");
    }
    if let Some(status) = f.status {
        sql.push(" AND p.status = ").arg(status.name());
    }
    if let Some(id) = f.district_id {
        sql.push(" AND p.district_id = ").arg(id);
    }
    if let Some(scope) = &f.scope {
        sql.push(" AND p.district_id IN ")
            .list(scope.iter().copied());
    }
    sql
}

pub async fn list_policies(
    tx: &mut Tx,
    filter: &PolicyFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Policy>, i64)> {
    let (rows, total): (Vec<PolicyRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {POLICY_COLUMNS}"),
        &policy_where(filter),
        "p.enroll_date DESC, p.id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(Policy::from).collect(), total))
}

pub async fn get_policy(tx: &mut Tx, id: Uuid) -> Result<Option<Policy>> {
    let sql =
        format!("SELECT {POLICY_COLUMNS} FROM policies p WHERE p.id = $1 AND p.deleted_at IS NULL");
    let row: Option<PolicyRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **conn).await?
    });
    Ok(row.map(Policy::from))
}

/// The current policies of a family, latest expiry first.
pub async fn family_policies(tx: &mut Tx, family: Uuid) -> Result<Vec<Policy>> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policies p WHERE p.family_id = $1 AND p.deleted_at IS NULL \
         ORDER BY p.expiry_date DESC, p.id"
    );
    let rows: Vec<PolicyRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(family).fetch_all(&mut **conn).await?
    });
    Ok(rows.into_iter().map(Policy::from).collect())
}

/// Insert a new policy, or (with `expected_version`) overwrite the current one if it is still at
/// that version. False if the version moved on.
pub async fn save_policy(tx: &mut Tx, p: &Policy, expected_version: Option<i64>) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO policies ({POLICY_WRITE_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
            ))),
            Some(_) => sqlx::query(
                "UPDATE policies SET family_id = $1, product_id = $2, officer_id = $3, previous_policy_id = $4, \
                 stage = $5, status = $6, status_reason = $7, value = $8, enroll_date = $9, start_date = $10, \
                 effective_date = $11, expiry_date = $12, district_id = $13, is_offline = $14, version = $15, \
                 updated_at = $16, created_at = $17 WHERE id = $18 AND version = $19 AND deleted_at IS NULL",
            ),
        };
        let query = bind_policy!(query, p);
        let query = match expected_version {
            Some(v) => query.bind(v),
            None => query,
        };
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(written == 1)
}

/// Many new policies at once (bulk loads: demo schemes, imports).
pub async fn insert_policies_bulk(tx: &mut Tx, policies: &[Policy]) -> Result<()> {
    store::bulk_insert!(tx, "policies", POLICY_WRITE_COLUMNS, policies, bind_policy)?;
    Ok(())
}

/// Policies past their expiry date that are not expired yet: `(id, version, status)`.
pub async fn due_to_expire(
    tx: &mut Tx,
    today: Date,
    limit: i64,
) -> Result<Vec<(Uuid, i64, String)>> {
    let rows = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id, version, status FROM policies \
             WHERE deleted_at IS NULL AND status IN ('idle', 'active', 'suspended', 'ready') AND expiry_date < $1 \
             ORDER BY expiry_date, id LIMIT $2",
        )
        .bind(today)
        .bind(limit)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows)
}

/// Mark policies expired (those still at the given version).
pub async fn expire(tx: &mut Tx, ids: &[(Uuid, i64)], now: OffsetDateTime) -> Result<u64> {
    let mut done = 0;
    for (id, version) in ids {
        done += on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE policies SET status = 'expired', version = version + 1, updated_at = $1 \
                 WHERE id = $2 AND version = $3 AND deleted_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(version)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
    }
    Ok(done)
}

pub async fn delete_policy(
    tx: &mut Tx,
    id: Uuid,
    version: i64,
    now: OffsetDateTime,
) -> Result<bool> {
    let deleted = store::soft_delete(tx, "policies", id, version, now).await?;
    if deleted {
        on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE insuree_policies SET deleted_at = $1, updated_at = $1 WHERE policy_id = $2 AND deleted_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut **conn)
            .await?;
        });
    }
    Ok(deleted)
}

// ---------------------------------------------------------------- insuree policies

#[derive(sqlx::FromRow)]
struct InsureePolicyRow {
    id: Uuid,
    insuree_id: Uuid,
    policy_id: Uuid,
    enrollment_date: Date,
    start_date: Date,
    effective_date: Option<Date>,
    expiry_date: Date,
    is_offline: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<InsureePolicyRow> for InsureePolicy {
    fn from(r: InsureePolicyRow) -> Self {
        InsureePolicy {
            id: r.id,
            insuree_id: r.insuree_id,
            policy_id: r.policy_id,
            enrollment_date: r.enrollment_date,
            start_date: r.start_date,
            effective_date: r.effective_date,
            expiry_date: r.expiry_date,
            is_offline: r.is_offline,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const IP_COLUMNS: &str = "id, insuree_id, policy_id, enrollment_date, start_date, effective_date, expiry_date, is_offline, \
     created_at, updated_at";

const IP_WRITE_COLUMNS: &str = "insuree_id, policy_id, enrollment_date, start_date, effective_date, expiry_date, \
     is_offline, created_at, updated_at, id";

macro_rules! bind_insuree_policy {
    ($query:expr, $ip:expr) => {{
        let ip = $ip;
        $query
            .bind(ip.insuree_id)
            .bind(ip.policy_id)
            .bind(ip.enrollment_date)
            .bind(ip.start_date)
            .bind(ip.effective_date)
            .bind(ip.expiry_date)
            .bind(ip.is_offline)
            .bind(ip.created_at)
            .bind(ip.updated_at)
            .bind(ip.id)
    }};
}

pub async fn insert_insuree_policies(tx: &mut Tx, rows: &[InsureePolicy]) -> Result<()> {
    store::bulk_insert!(
        tx,
        "insuree_policies",
        IP_WRITE_COLUMNS,
        rows,
        bind_insuree_policy
    )?;
    Ok(())
}

/// The current insuree policies of a policy.
pub async fn policy_insurees(tx: &mut Tx, policy: Uuid) -> Result<Vec<InsureePolicy>> {
    let sql = format!(
        "SELECT {IP_COLUMNS} FROM insuree_policies WHERE policy_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
    );
    let rows: Vec<InsureePolicyRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(policy).fetch_all(&mut **conn).await?
    });
    Ok(rows.into_iter().map(InsureePolicy::from).collect())
}

/// Copy a policy's start, effective and expiry dates onto every member's window.
pub async fn set_insuree_windows(tx: &mut Tx, policy: &Policy, now: OffsetDateTime) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE insuree_policies SET start_date = $1, effective_date = $2, expiry_date = $3, updated_at = $4 \
             WHERE policy_id = $5 AND deleted_at IS NULL",
        )
        .bind(policy.start_date)
        .bind(policy.effective_date)
        .bind(policy.expiry_date)
        .bind(now)
        .bind(policy.id)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// Cover the members of a policy still waiting for a top-up, from `date`.
pub async fn cover_waiting(
    tx: &mut Tx,
    policy: Uuid,
    date: Date,
    now: OffsetDateTime,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE insuree_policies SET effective_date = $1, updated_at = $2 \
             WHERE policy_id = $3 AND deleted_at IS NULL AND effective_date IS NULL",
        )
        .bind(date)
        .bind(now)
        .bind(policy)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// End an insuree's windows in the policies of families other than `family` on `last_day` at
/// the latest (the insuree moved to `family`).
pub async fn end_windows_elsewhere(
    tx: &mut Tx,
    insuree: Uuid,
    family: Uuid,
    last_day: Date,
    now: OffsetDateTime,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE insuree_policies SET expiry_date = $1, updated_at = $2 \
             WHERE insuree_id = $3 AND deleted_at IS NULL AND expiry_date > $1 \
             AND policy_id IN (SELECT id FROM policies WHERE family_id <> $4)",
        )
        .bind(last_day)
        .bind(now)
        .bind(insuree)
        .bind(family)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// End every window of a policy on `last_day` at the latest (a cancellation).
pub async fn end_insuree_windows(
    tx: &mut Tx,
    policy: Uuid,
    last_day: Date,
    now: OffsetDateTime,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE insuree_policies SET expiry_date = $1, updated_at = $2 \
             WHERE policy_id = $3 AND deleted_at IS NULL AND expiry_date > $1",
        )
        .bind(last_day)
        .bind(now)
        .bind(policy)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// One window of an insuree with its policy, the product's cache key (version, last change in
/// microseconds) and the number of members the policy covers.
pub struct Cover {
    pub window: InsureePolicy,
    pub policy: Policy,
    pub product_stamp: (i64, i64),
    pub members: i64,
}

/// The columns of one window with its policy, product stamp and member count (aliases `ip`, `p`,
/// `pr`), decoded by [`CoverageRow`].
const COVER_COLUMNS: &str = "ip.id AS ip_id, ip.enrollment_date AS ip_enrollment_date, ip.start_date AS ip_start_date, \
     ip.effective_date AS ip_effective_date, ip.expiry_date AS ip_expiry_date, ip.is_offline AS ip_is_offline, \
     ip.created_at AS ip_created_at, ip.updated_at AS ip_updated_at, \
     pr.version AS product_version, pr.updated_at AS product_updated_at, \
     (SELECT COUNT(*) FROM insuree_policies m WHERE m.policy_id = p.id AND m.deleted_at IS NULL) AS members";

/// The windows of one insuree with their policies, latest expiry first, in one statement.
pub async fn insuree_coverage(tx: &mut Tx, insuree: Uuid) -> Result<Vec<Cover>> {
    let sql = format!(
        "SELECT {COVER_COLUMNS}, {POLICY_COLUMNS} \
         FROM insuree_policies ip JOIN policies p ON p.id = ip.policy_id JOIN products pr ON pr.id = p.product_id \
         WHERE ip.insuree_id = $1 AND ip.deleted_at IS NULL AND p.deleted_at IS NULL AND pr.deleted_at IS NULL \
         ORDER BY ip.expiry_date DESC, p.id"
    );
    let rows: Vec<CoverageRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(insuree).fetch_all(&mut **conn).await?
    });
    Ok(rows.into_iter().map(|r| r.into_cover(insuree)).collect())
}

/// How an enquiry names the insuree.
pub enum InsureeKey<'a> {
    Id(Uuid),
    Chfid(&'a str),
}

/// What an eligibility enquiry reads: the insuree, the item and service asked about and the
/// insuree's windows.
pub struct Enquiry {
    pub insuree_id: Uuid,
    pub chfid: String,
    pub dob: Date,
    pub district_id: Option<Uuid>,
    /// The id of the item asked about by code; None when no item was asked or none has the code.
    pub item_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    /// Latest expiry first.
    pub covers: Vec<Cover>,
}

#[derive(sqlx::FromRow)]
struct EnquiryHead {
    i_id: Uuid,
    i_chfid: String,
    i_dob: Date,
    i_district_id: Option<Uuid>,
    item_id: Option<Uuid>,
    service_id: Option<Uuid>,
    /// Set when the row carries a window whose policy and product are current.
    pr_id: Option<Uuid>,
}

/// Everything an eligibility enquiry reads, in one statement (one round trip on the hot path):
/// the current insuree, the ids of the item and service codes, and the insuree's windows with
/// their policies. None when no current insuree has the key.
pub async fn enquiry(
    tx: &mut Tx,
    key: InsureeKey<'_>,
    item: Option<&str>,
    service: Option<&str>,
) -> Result<Option<Enquiry>> {
    let (column, key) = match key {
        InsureeKey::Id(id) => ("i.id", store::Arg::Uuid(id)),
        InsureeKey::Chfid(chfid) => ("i.chfid", store::Arg::Text(chfid.to_string())),
    };
    let sql = format!(
        "SELECT i.id AS i_id, i.chfid AS i_chfid, i.dob AS i_dob, i.district_id AS i_district_id, \
         (SELECT it.id FROM medical_items it WHERE it.code = $2 AND it.deleted_at IS NULL) AS item_id, \
         (SELECT sv.id FROM medical_services sv WHERE sv.code = $3 AND sv.deleted_at IS NULL) AS service_id, \
         pr.id AS pr_id, {COVER_COLUMNS}, {POLICY_COLUMNS} \
         FROM insurees i \
         LEFT JOIN insuree_policies ip ON ip.insuree_id = i.id AND ip.deleted_at IS NULL \
         LEFT JOIN policies p ON p.id = ip.policy_id AND p.deleted_at IS NULL \
         LEFT JOIN products pr ON pr.id = p.product_id AND pr.deleted_at IS NULL \
         WHERE {column} = $1 AND i.deleted_at IS NULL \
         ORDER BY ip.expiry_date DESC, p.id"
    );
    // An absent code binds as an empty one, which no current item or service has.
    let args = [
        key,
        store::Arg::Text(item.unwrap_or_default().to_string()),
        store::Arg::Text(service.unwrap_or_default().to_string()),
    ];
    let rows: Vec<(EnquiryHead, Option<CoverageRow>)> = on_tx!(tx, conn => {
        let rows = store::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
            .fetch_all(&mut **conn)
            .await?;
        let mut decoded = Vec::with_capacity(rows.len());
        for row in &rows {
            let head: EnquiryHead = sqlx::FromRow::from_row(row)?;
            let cover = match head.pr_id {
                Some(_) => Some(sqlx::FromRow::from_row(row)?),
                None => None,
            };
            decoded.push((head, cover));
        }
        decoded
    });
    let mut rows = rows.into_iter();
    let Some((head, first)) = rows.next() else {
        return Ok(None);
    };
    let insuree = head.i_id;
    let covers = first
        .into_iter()
        .chain(rows.filter_map(|(_, c)| c))
        .map(|r| r.into_cover(insuree))
        .collect();
    Ok(Some(Enquiry {
        insuree_id: insuree,
        chfid: head.i_chfid,
        dob: head.i_dob,
        district_id: head.i_district_id,
        item_id: head.item_id,
        service_id: head.service_id,
        covers,
    }))
}

fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

#[derive(sqlx::FromRow)]
struct CoverageRow {
    ip_id: Uuid,
    ip_enrollment_date: Date,
    ip_start_date: Date,
    ip_effective_date: Option<Date>,
    ip_expiry_date: Date,
    ip_is_offline: bool,
    ip_created_at: OffsetDateTime,
    ip_updated_at: OffsetDateTime,
    product_version: i64,
    product_updated_at: OffsetDateTime,
    members: i64,
    #[sqlx(flatten)]
    policy: PolicyRow,
}

impl CoverageRow {
    fn into_cover(self, insuree: Uuid) -> Cover {
        let window = InsureePolicy {
            id: self.ip_id,
            insuree_id: insuree,
            policy_id: self.policy.id,
            enrollment_date: self.ip_enrollment_date,
            start_date: self.ip_start_date,
            effective_date: self.ip_effective_date,
            expiry_date: self.ip_expiry_date,
            is_offline: self.ip_is_offline,
            created_at: self.ip_created_at,
            updated_at: self.ip_updated_at,
        };
        Cover {
            window,
            policy: Policy::from(self.policy),
            product_stamp: (self.product_version, micros(self.product_updated_at)),
            members: self.members,
        }
    }
}

// ---------------------------------------------------------------- contributions

#[derive(sqlx::FromRow)]
struct ContributionRow {
    id: Uuid,
    policy_id: Uuid,
    product_id: Uuid,
    payer_id: Option<Uuid>,
    amount: i64,
    receipt: String,
    pay_date: Date,
    pay_type: String,
    is_photo_fee: bool,
    district_id: Uuid,
    is_offline: bool,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ContributionRow> for Contribution {
    fn from(r: ContributionRow) -> Self {
        Contribution {
            id: r.id,
            policy_id: r.policy_id,
            product_id: r.product_id,
            payer_id: r.payer_id,
            amount: r.amount,
            receipt: r.receipt,
            pay_date: r.pay_date,
            pay_type: PayType::from_code(&r.pay_type).unwrap_or(PayType::Cash),
            is_photo_fee: r.is_photo_fee,
            district_id: r.district_id,
            is_offline: r.is_offline,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const CONTRIBUTION_COLUMNS: &str = "c.id, c.policy_id, c.product_id, c.payer_id, c.amount, c.receipt, c.pay_date, \
     c.pay_type, c.is_photo_fee, c.district_id, c.is_offline, c.version, c.created_at, c.updated_at";

const CONTRIBUTION_WRITE_COLUMNS: &str = "policy_id, product_id, payer_id, amount, receipt, pay_date, pay_type, \
     is_photo_fee, district_id, is_offline, version, created_at, updated_at, id";

macro_rules! bind_contribution {
    ($query:expr, $c:expr) => {{
        let c = $c;
        $query
            .bind(c.policy_id)
            .bind(c.product_id)
            .bind(c.payer_id)
            .bind(c.amount)
            .bind(&c.receipt)
            .bind(c.pay_date)
            .bind(c.pay_type.code())
            .bind(c.is_photo_fee)
            .bind(c.district_id)
            .bind(c.is_offline)
            .bind(c.version)
            .bind(c.created_at)
            .bind(c.updated_at)
            .bind(c.id)
    }};
}

pub async fn insert_contributions(tx: &mut Tx, rows: &[Contribution]) -> Result<()> {
    store::bulk_insert!(
        tx,
        "contributions",
        CONTRIBUTION_WRITE_COLUMNS,
        rows,
        bind_contribution
    )?;
    Ok(())
}

/// Filters of the contribution list.
#[derive(Debug, Default, Clone)]
pub struct ContributionFilter {
    pub policy_id: Option<Uuid>,
    pub payer_id: Option<Uuid>,
    pub receipt: Option<String>,
    /// Paid on or after this day.
    pub paid_from: Option<time::Date>,
    pub scope: Option<Vec<Uuid>>,
}

pub async fn list_contributions(
    tx: &mut Tx,
    f: &ContributionFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Contribution>, i64)> {
    let mut sql = Sql::new(" FROM contributions c WHERE c.deleted_at IS NULL");
    if let Some(id) = f.policy_id {
        sql.push(" AND c.policy_id = ").arg(id);
    }
    if let Some(id) = f.payer_id {
        sql.push(" AND c.payer_id = ").arg(id);
    }
    if let Some(r) = &f.receipt {
        sql.push(" AND c.receipt = ").arg(r.trim().to_string());
    }
    if let Some(d) = f.paid_from {
        sql.push(" AND c.pay_date >= ").arg(store::Arg::Date(d));
    }
    if let Some(scope) = &f.scope {
        sql.push(" AND c.district_id IN ")
            .list(scope.iter().copied());
    }
    let (rows, total): (Vec<ContributionRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {CONTRIBUTION_COLUMNS}"),
        &sql,
        "c.pay_date DESC, c.id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(Contribution::from).collect(), total))
}

pub async fn get_contribution(tx: &mut Tx, id: Uuid) -> Result<Option<Contribution>> {
    let sql = format!(
        "SELECT {CONTRIBUTION_COLUMNS} FROM contributions c WHERE c.id = $1 AND c.deleted_at IS NULL"
    );
    let row: Option<ContributionRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **conn).await?
    });
    Ok(row.map(Contribution::from))
}

/// Non-photo money paid towards a policy and the number of those payments.
pub async fn paid(tx: &mut Tx, policy: Uuid) -> Result<(i64, i64)> {
    let row: (Option<i64>, i64) = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT CAST(SUM(amount) AS BIGINT), COUNT(*) FROM contributions \
             WHERE policy_id = $1 AND deleted_at IS NULL AND NOT is_photo_fee",
        )
        .bind(policy)
        .fetch_one(&mut **conn)
        .await?
    });
    Ok((row.0.unwrap_or(0), row.1))
}

/// Is this receipt already used by a current contribution of the product, or of the payer?
pub async fn receipt_taken(
    tx: &mut Tx,
    product: Uuid,
    payer: Option<Uuid>,
    receipt: &str,
) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id FROM contributions WHERE deleted_at IS NULL AND receipt = $1 \
             AND (product_id = $2 OR payer_id = $3) LIMIT 1",
        )
        .bind(receipt)
        .bind(product)
        .bind(payer)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(found.is_some())
}

/// The product and payer of every current contribution recorded under any of these receipts
/// for these products or payers, receipt → (product, payer), asked in a few large statements
/// (an import asks once for a whole file; see [`receipt_taken`]).
pub async fn receipts_recorded(
    tx: &mut Tx,
    receipts: &[&str],
    products: &[Uuid],
    payers: &[Uuid],
) -> Result<std::collections::HashMap<String, Vec<(Uuid, Option<Uuid>)>>> {
    let mut recorded: std::collections::HashMap<String, Vec<(Uuid, Option<Uuid>)>> =
        Default::default();
    let per_lookup = store::keys_per_lookup(tx.engine()) - products.len() - payers.len();
    for receipts in receipts.chunks(per_lookup.max(1)) {
        let found: Vec<(String, Uuid, Option<Uuid>)> = match tx.postgres() {
            Some(conn) => {
                // By the product's or the payer's receipts, so that their unique indexes answer.
                sqlx::query_as(
                    "SELECT receipt, product_id, payer_id FROM contributions \
                     WHERE deleted_at IS NULL AND receipt = ANY($1) \
                     AND (product_id = ANY($2) OR payer_id = ANY($3))",
                )
                .persistent(false)
                .bind(receipts)
                .bind(products)
                .bind(payers)
                .fetch_all(conn)
                .await?
            }
            None => {
                // Anonymous placeholders (numbered ones make binding thousands quadratic); an
                // empty list matches nothing, as `NULL` does.
                let list = |n: usize| match n {
                    0 => "NULL".to_string(),
                    n => store::anonymous(n),
                };
                let sql = format!(
                    "SELECT receipt, product_id, payer_id FROM contributions WHERE deleted_at IS NULL \
                     AND receipt IN ({}) AND (product_id IN ({}) OR payer_id IN ({}))",
                    list(receipts.len()),
                    list(products.len()),
                    list(payers.len())
                );
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false);
                for receipt in receipts {
                    query = query.bind(*receipt);
                }
                for id in products.iter().chain(payers) {
                    query = query.bind(*id);
                }
                query.fetch_all(tx.sqlite().expect("SQLite")).await?
            }
        };
        for (receipt, product, payer) in found {
            recorded.entry(receipt).or_default().push((product, payer));
        }
    }
    Ok(recorded)
}

// ---------------------------------------------------------------- payers

#[derive(sqlx::FromRow)]
struct PayerRow {
    id: Uuid,
    payer_type: String,
    name: String,
    address: Option<String>,
    location_id: Option<Uuid>,
    phone: Option<String>,
    fax: Option<String>,
    email: Option<String>,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<PayerRow> for Payer {
    fn from(r: PayerRow) -> Self {
        Payer {
            id: r.id,
            payer_type: PayerType::from_code(&r.payer_type).unwrap_or(PayerType::Other),
            name: r.name,
            address: r.address,
            location_id: r.location_id,
            phone: r.phone,
            fax: r.fax,
            email: r.email,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const PAYER_COLUMNS: &str = "id, payer_type, name, address, location_id, phone, fax, email, version, created_at, updated_at";

/// Payers, by name and type; within `scope` (districts), a district's payers are those of its
/// districts, and payers of a region or of the whole scheme are everyone's.
pub async fn list_payers(
    tx: &mut Tx,
    q: Option<&str>,
    payer_type: Option<PayerType>,
    scope: Option<&[Uuid]>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Payer>, i64)> {
    let mut sql = Sql::new(" FROM payers WHERE deleted_at IS NULL");
    if let Some(districts) = scope {
        sql.push(" AND (district_id IS NULL OR district_id IN ")
            .list(districts.iter().copied())
            .push(")");
    }
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        sql.push(" AND LOWER(name) LIKE ")
            .arg(format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
    }
    if let Some(t) = payer_type {
        sql.push(" AND payer_type = ").arg(t.code());
    }
    let (rows, total): (Vec<PayerRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {PAYER_COLUMNS}"),
        &sql,
        "name, id",
        limit,
        offset,
    )
    .await?;
    Ok((rows.into_iter().map(Payer::from).collect(), total))
}

/// The district a payer belongs to (none for a regional or national one).
pub async fn payer_district(tx: &mut Tx, id: Uuid) -> Result<Option<Uuid>> {
    let found: Option<(Option<Uuid>,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT district_id FROM payers WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.and_then(|(d,)| d))
}

pub async fn get_payer(tx: &mut Tx, id: Uuid) -> Result<Option<Payer>> {
    let sql = format!("SELECT {PAYER_COLUMNS} FROM payers WHERE id = $1 AND deleted_at IS NULL");
    let row: Option<PayerRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **conn).await?
    });
    Ok(row.map(Payer::from))
}

pub async fn save_payer(
    tx: &mut Tx,
    p: &Payer,
    district: Option<Uuid>,
    expected_version: Option<i64>,
) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO payers (payer_type, name, address, location_id, district_id, phone, fax, email, version, \
                 updated_at, created_at, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            ),
            Some(_) => sqlx::query(
                "UPDATE payers SET payer_type = $1, name = $2, address = $3, location_id = $4, district_id = $5, \
                 phone = $6, fax = $7, email = $8, version = $9, updated_at = $10, created_at = $11 \
                 WHERE id = $12 AND version = $13 AND deleted_at IS NULL",
            ),
        };
        let query = query
            .bind(p.payer_type.code())
            .bind(&p.name)
            .bind(&p.address)
            .bind(p.location_id)
            .bind(district)
            .bind(&p.phone)
            .bind(&p.fax)
            .bind(&p.email)
            .bind(p.version)
            .bind(p.updated_at)
            .bind(p.created_at)
            .bind(p.id);
        let query = match expected_version {
            Some(v) => query.bind(v),
            None => query,
        };
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(written == 1)
}

/// Does any current contribution name this payer?
pub async fn payer_in_use(tx: &mut Tx, payer: Uuid) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM contributions WHERE payer_id = $1 AND deleted_at IS NULL LIMIT 1")
            .bind(payer)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some())
}

/// A product's version and last change (microseconds): the key of the product cache.
pub async fn product_stamp(tx: &mut Tx, product: Uuid) -> Result<Option<(i64, i64)>> {
    let row: Option<(i64, OffsetDateTime)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT version, updated_at FROM products WHERE id = $1 AND deleted_at IS NULL")
            .bind(product)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.map(|(v, at)| (v, micros(at))))
}
