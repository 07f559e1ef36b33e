//! SQL for claims and their lines, and the read model submission adjudicates on.

use crate::model::*;
use crate::rules::{self, CareType, History, LineKind, PastClaim, Provision};
use kernel::Result;
use product::model::{LimitationType, PriceOrigin};
use std::collections::HashMap;
use store::{Sql, Tx, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

// ---------------------------------------------------------------- claims

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Uuid,
    code: String,
    health_facility_id: Uuid,
    district_id: Uuid,
    insuree_id: Uuid,
    chfid: String,
    admin_id: Option<Uuid>,
    date_claimed: Date,
    date_from: Date,
    date_to: Option<Date>,
    visit_type: String,
    icd: String,
    secondary_icd: String,
    explanation: Option<String>,
    guarantee_no: Option<String>,
    refer_from_id: Option<Uuid>,
    refer_to_id: Option<Uuid>,
    referral_code: Option<String>,
    status: String,
    review_status: String,
    feedback_status: String,
    rejection_reason: Option<i16>,
    decision: Option<String>,
    category: Option<String>,
    flags: String,
    claimed: i64,
    approved: Option<i64>,
    valuated: Option<i64>,
    remunerated: Option<i64>,
    submitted_at: Option<OffsetDateTime>,
    processed_at: Option<OffsetDateTime>,
    risk: Option<i64>,
    reviewer_id: Option<Uuid>,
    review_selected_at: Option<OffsetDateTime>,
    reviewed_at: Option<OffsetDateTime>,
    adjustment: Option<String>,
    batch_run_id: Option<Uuid>,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ClaimRow> for Claim {
    fn from(r: ClaimRow) -> Self {
        Claim {
            id: r.id,
            code: r.code,
            health_facility_id: r.health_facility_id,
            district_id: r.district_id,
            insuree_id: r.insuree_id,
            chfid: r.chfid,
            admin_id: r.admin_id,
            date_claimed: r.date_claimed,
            date_from: r.date_from,
            date_to: r.date_to,
            visit_type: VisitType::from_code(&r.visit_type).unwrap_or(VisitType::Other),
            icd: r.icd,
            secondary_icd: serde_json::from_str(&r.secondary_icd).unwrap_or_default(),
            explanation: r.explanation,
            guarantee_no: r.guarantee_no,
            refer_from_id: r.refer_from_id,
            refer_to_id: r.refer_to_id,
            referral_code: r.referral_code,
            status: ClaimStatus::from_code(&r.status).unwrap_or(ClaimStatus::Entered),
            review_status: ReviewStatus::from_code(&r.review_status).unwrap_or(ReviewStatus::Idle),
            feedback_status: ReviewStatus::from_code(&r.feedback_status)
                .unwrap_or(ReviewStatus::Idle),
            rejection_reason: r.rejection_reason.and_then(|c| Reason::from_code(c.into())),
            decision: r.decision,
            category: r.category.as_deref().and_then(Category::from_code),
            flags: serde_json::from_str(&r.flags).unwrap_or_default(),
            claimed: r.claimed,
            approved: r.approved,
            valuated: r.valuated,
            remunerated: r.remunerated,
            submitted_at: r.submitted_at,
            processed_at: r.processed_at,
            risk: r.risk,
            reviewer_id: r.reviewer_id,
            review_selected_at: r.review_selected_at,
            reviewed_at: r.reviewed_at,
            adjustment: r.adjustment,
            feedback: None,
            batch_run_id: r.batch_run_id,
            items: Vec::new(),
            services: Vec::new(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const CLAIM_COLUMNS: &str = "c.id, c.code, c.health_facility_id, c.district_id, c.insuree_id, \
     (SELECT i.chfid FROM insurees i WHERE i.id = c.insuree_id) AS chfid, c.admin_id, c.date_claimed, c.date_from, \
     c.date_to, c.visit_type, c.icd, c.secondary_icd, c.explanation, c.guarantee_no, c.refer_from_id, c.refer_to_id, \
     c.referral_code, c.status, c.review_status, c.feedback_status, c.rejection_reason, c.decision, c.category, \
     c.flags, c.claimed, c.approved, c.valuated, c.remunerated, c.submitted_at, c.processed_at, c.risk, \
     c.reviewer_id, c.review_selected_at, c.reviewed_at, c.adjustment, c.batch_run_id, c.version, c.created_at, \
     c.updated_at";

const CLAIM_WRITE_COLUMNS: &str = "code, health_facility_id, district_id, insuree_id, admin_id, date_claimed, date_from, \
     date_to, visit_type, icd, secondary_icd, explanation, guarantee_no, refer_from_id, refer_to_id, referral_code, \
     status, review_status, feedback_status, rejection_reason, decision, category, flags, claimed, approved, valuated, \
     remunerated, submitted_at, processed_at, risk, reviewer_id, review_selected_at, reviewed_at, adjustment, \
     batch_run_id, version, created_at, updated_at, id";

/// Bind a claim's columns in the order of [`CLAIM_WRITE_COLUMNS`].
macro_rules! bind_claim {
    ($query:expr, $c:expr) => {{
        let c = $c;
        $query
            .bind(&c.code)
            .bind(c.health_facility_id)
            .bind(c.district_id)
            .bind(c.insuree_id)
            .bind(c.admin_id)
            .bind(c.date_claimed)
            .bind(c.date_from)
            .bind(c.date_to)
            .bind(c.visit_type.code())
            .bind(&c.icd)
            .bind(serde_json::to_string(&c.secondary_icd).unwrap_or_else(|_| "[]".into()))
            .bind(&c.explanation)
            .bind(&c.guarantee_no)
            .bind(c.refer_from_id)
            .bind(c.refer_to_id)
            .bind(&c.referral_code)
            .bind(c.status.code())
            .bind(c.review_status.code())
            .bind(c.feedback_status.code())
            .bind(c.rejection_reason.map(|r| r.code()))
            .bind(&c.decision)
            .bind(c.category.map(|k| k.code()))
            .bind(serde_json::to_string(&c.flags).unwrap_or_else(|_| "[]".into()))
            .bind(c.claimed)
            .bind(c.approved)
            .bind(c.valuated)
            .bind(c.remunerated)
            .bind(c.submitted_at)
            .bind(c.processed_at)
            .bind(c.risk)
            .bind(c.reviewer_id)
            .bind(c.review_selected_at)
            .bind(c.reviewed_at)
            .bind(&c.adjustment)
            .bind(c.batch_run_id)
            .bind(c.version)
            .bind(c.created_at)
            .bind(c.updated_at)
            .bind(c.id)
    }};
}

/// Insert a new claim, or (with `expected_version`) overwrite the current one if it is still at
/// that version. False if the version moved on. The lines are written by [`replace_lines`].
pub async fn save_claim(tx: &mut Tx, c: &Claim, expected_version: Option<i64>) -> Result<bool> {
    Ok(write_claim(tx, c, expected_version).await? == 1)
}

/// [`save_claim`]'s statement: the rows written, or the database's own error.
async fn write_claim(
    tx: &mut Tx,
    c: &Claim,
    expected_version: Option<i64>,
) -> std::result::Result<u64, sqlx::Error> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO claims ({CLAIM_WRITE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, \
                 $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)"
            ))),
            Some(_) => sqlx::query(CLAIM_UPDATE),
        };
        let query = bind_claim!(query, c);
        let query = match expected_version {
            Some(v) => query.bind(v),
            None => query,
        };
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(written)
}

/// A line as read with its claim: every column prefixed `l_`, so that the claim's and the
/// line's columns can share one row.
#[derive(sqlx::FromRow)]
struct LineRow {
    #[sqlx(rename = "l_id")]
    id: Uuid,
    #[sqlx(rename = "l_kind")]
    kind: String,
    #[sqlx(rename = "l_register_id")]
    register_id: Uuid,
    #[sqlx(rename = "l_code")]
    code: Option<String>,
    #[sqlx(rename = "l_name")]
    name: Option<String>,
    #[sqlx(rename = "l_qty")]
    qty: i64,
    #[sqlx(rename = "l_price_asked")]
    price_asked: i64,
    #[sqlx(rename = "l_explanation")]
    explanation: Option<String>,
    #[sqlx(rename = "l_status")]
    status: String,
    #[sqlx(rename = "l_rejection_reason")]
    rejection_reason: Option<i16>,
    #[sqlx(rename = "l_rule")]
    rule: Option<String>,
    #[sqlx(rename = "l_decision")]
    decision: Option<String>,
    #[sqlx(rename = "l_compared")]
    compared: Option<String>,
    #[sqlx(rename = "l_qty_approved")]
    qty_approved: Option<i64>,
    #[sqlx(rename = "l_price_adjusted")]
    price_adjusted: Option<i64>,
    #[sqlx(rename = "l_product_id")]
    product_id: Option<Uuid>,
    #[sqlx(rename = "l_policy_id")]
    policy_id: Option<Uuid>,
    #[sqlx(rename = "l_price_origin")]
    price_origin: Option<String>,
    #[sqlx(rename = "l_limitation")]
    limitation: Option<String>,
    #[sqlx(rename = "l_limitation_value")]
    limitation_value: Option<i64>,
    #[sqlx(rename = "l_price_approved")]
    price_approved: Option<i64>,
    #[sqlx(rename = "l_justification")]
    justification: Option<String>,
    #[sqlx(rename = "l_deductible")]
    deductible: Option<i64>,
    #[sqlx(rename = "l_exceed_ceiling")]
    exceed_ceiling: Option<i64>,
    #[sqlx(rename = "l_exceed_ceiling_category")]
    exceed_ceiling_category: Option<i64>,
    #[sqlx(rename = "l_valuated")]
    valuated: Option<i64>,
    #[sqlx(rename = "l_remunerated")]
    remunerated: Option<i64>,
}

impl LineRow {
    fn into_line(self) -> (LineKind, ClaimLine) {
        let kind = LineKind::from_code(&self.kind).unwrap_or(LineKind::Item);
        let line = ClaimLine {
            id: self.id,
            register_id: self.register_id,
            code: self.code.unwrap_or_default(),
            name: self.name.unwrap_or_default(),
            qty: self.qty,
            price_asked: self.price_asked,
            explanation: self.explanation,
            status: LineStatus::from_code(&self.status).unwrap_or(LineStatus::Passed),
            rejection_reason: self
                .rejection_reason
                .and_then(|c| Reason::from_code(c.into())),
            rule: self.rule,
            decision: self.decision,
            compared: self.compared.and_then(|c| serde_json::from_str(&c).ok()),
            qty_approved: self.qty_approved,
            price_adjusted: self.price_adjusted,
            product_id: self.product_id,
            policy_id: self.policy_id,
            price_origin: self
                .price_origin
                .as_deref()
                .and_then(PriceOrigin::from_code),
            limitation: self
                .limitation
                .as_deref()
                .and_then(LimitationType::from_code),
            limitation_value: self.limitation_value,
            price_approved: self.price_approved,
            justification: self.justification,
            deductible: self.deductible,
            exceed_ceiling: self.exceed_ceiling,
            exceed_ceiling_category: self.exceed_ceiling_category,
            valuated: self.valuated,
            remunerated: self.remunerated,
        };
        (kind, line)
    }
}

const LINE_COLUMNS: &str = "l.id AS l_id, l.kind AS l_kind, l.register_id AS l_register_id, \
     COALESCE(it.code, sv.code) AS l_code, COALESCE(it.name, sv.name) AS l_name, l.qty AS l_qty, \
     l.price_asked AS l_price_asked, l.explanation AS l_explanation, l.status AS l_status, \
     l.rejection_reason AS l_rejection_reason, l.rule AS l_rule, l.decision AS l_decision, l.compared AS l_compared, \
     l.qty_approved AS l_qty_approved, l.price_adjusted AS l_price_adjusted, l.product_id AS l_product_id, \
     l.policy_id AS l_policy_id, l.price_origin AS l_price_origin, l.limitation AS l_limitation, \
     l.limitation_value AS l_limitation_value, l.price_approved AS l_price_approved, \
     l.justification AS l_justification, l.deductible AS l_deductible, l.exceed_ceiling AS l_exceed_ceiling, \
     l.exceed_ceiling_category AS l_exceed_ceiling_category, l.valuated AS l_valuated, l.remunerated AS l_remunerated";

const LINE_WRITE_COLUMNS: &str = "claim_id, position, kind, register_id, qty, price_asked, explanation, status, \
     rejection_reason, rule, decision, compared, qty_approved, price_adjusted, product_id, policy_id, price_origin, \
     limitation, limitation_value, price_approved, justification, deductible, exceed_ceiling, \
     exceed_ceiling_category, valuated, remunerated, id";

/// One line to write: its claim, position and kind with the line.
pub struct LineWrite<'a> {
    pub claim_id: Uuid,
    pub position: i32,
    pub kind: LineKind,
    pub line: &'a ClaimLine,
}

/// Bind what a line's submission, review and valuation decided, from `status` to
/// `remunerated` in the order of [`LINE_WRITE_COLUMNS`].
macro_rules! bind_line_outcome {
    ($query:expr, $l:expr) => {{
        let l: &ClaimLine = $l;
        $query
            .bind(l.status.code())
            .bind(l.rejection_reason.map(|r| r.code()))
            .bind(&l.rule)
            .bind(&l.decision)
            .bind(l.compared.as_ref().map(|c| c.to_string()))
            .bind(l.qty_approved)
            .bind(l.price_adjusted)
            .bind(l.product_id)
            .bind(l.policy_id)
            .bind(l.price_origin.map(|o| o.code()))
            .bind(l.limitation.map(|o| o.code()))
            .bind(l.limitation_value)
            .bind(l.price_approved)
            .bind(&l.justification)
            .bind(l.deductible)
            .bind(l.exceed_ceiling)
            .bind(l.exceed_ceiling_category)
            .bind(l.valuated)
            .bind(l.remunerated)
    }};
}

/// Bind a line's columns in the order of [`LINE_WRITE_COLUMNS`].
macro_rules! bind_line {
    ($query:expr, $w:expr) => {{
        let w: &LineWrite = $w;
        let l = w.line;
        let query = $query
            .bind(w.claim_id)
            .bind(w.position)
            .bind(w.kind.code())
            .bind(l.register_id)
            .bind(l.qty)
            .bind(l.price_asked)
            .bind(&l.explanation);
        bind_line_outcome!(query, l).bind(l.id)
    }};
}

/// Replace the lines of a claim: items first, then services, in their order.
pub async fn replace_lines(tx: &mut Tx, claim: &Claim) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM claim_lines WHERE claim_id = $1")
            .bind(claim.id)
            .execute(&mut **conn)
            .await?;
    });
    let writes = line_writes(std::slice::from_ref(claim));
    if !writes.is_empty() {
        store::bulk_insert!(tx, "claim_lines", LINE_WRITE_COLUMNS, &writes, bind_line)?;
    }
    Ok(())
}

/// The lines of claims to write, items first, then services, in their order.
fn line_writes(claims: &[Claim]) -> Vec<LineWrite<'_>> {
    claims
        .iter()
        .flat_map(|claim| {
            claim
                .items
                .iter()
                .map(|l| (LineKind::Item, l))
                .chain(claim.services.iter().map(|l| (LineKind::Service, l)))
                .enumerate()
                .map(|(position, (kind, line))| LineWrite {
                    claim_id: claim.id,
                    position: position as i32,
                    kind,
                    line,
                })
        })
        .collect()
}

/// Insert many new claims with their lines (a generated or imported scheme): COPY on
/// PostgreSQL, multi-row INSERTs on SQLite.
pub async fn insert_claims_bulk(tx: &mut Tx, claims: &[Claim]) -> Result<()> {
    if claims.is_empty() {
        return Ok(());
    }
    store::bulk_insert!(tx, "claims", CLAIM_WRITE_COLUMNS, claims, bind_claim)?;
    let lines = line_writes(claims);
    store::bulk_insert!(tx, "claim_lines", LINE_WRITE_COLUMNS, &lines, bind_line)?;
    Ok(())
}

/// One ledger row: the claim, the policy that paid it, the insuree and what it used.
pub struct LedgerRow {
    pub claim_id: Uuid,
    pub policy_id: Uuid,
    pub insuree_id: Uuid,
    pub used: rules::valuation::Used,
    pub created_at: OffsetDateTime,
}

const LEDGER_WRITE_COLUMNS: &str = "claim_id, policy_id, insuree_id, ded_g, ded_ip, ded_op, rem_g, rem_ip, rem_op, \
     rem_surgery, rem_delivery, rem_antenatal, rem_hospitalization, rem_consultation, created_at";

macro_rules! bind_ledger {
    ($query:expr, $r:expr) => {{
        let r: &LedgerRow = $r;
        let u = &r.used;
        $query
            .bind(r.claim_id)
            .bind(r.policy_id)
            .bind(r.insuree_id)
            .bind(u.ded)
            .bind(u.ded_ip)
            .bind(u.ded_op)
            .bind(u.rem)
            .bind(u.rem_ip)
            .bind(u.rem_op)
            .bind(u.rem_surgery)
            .bind(u.rem_delivery)
            .bind(u.rem_antenatal)
            .bind(u.rem_hospitalization)
            .bind(u.rem_consultation)
            .bind(r.created_at)
    }};
}

/// Insert many ledger rows of new claims.
pub async fn insert_ledger_bulk(tx: &mut Tx, rows: &[LedgerRow]) -> Result<()> {
    if !rows.is_empty() {
        store::bulk_insert!(tx, "claim_ded_rem", LEDGER_WRITE_COLUMNS, rows, bind_ledger)?;
    }
    Ok(())
}

/// Insert a new claim with its lines and its audit record. On PostgreSQL one statement (the
/// claim, its lines and the record as data-modifying CTEs), on SQLite three. False, with
/// nothing written, when the facility already has a current claim with its code.
pub async fn insert_claim_recorded(
    tx: &mut Tx,
    c: &Claim,
    record: kernel::audit::Entry,
) -> Result<bool> {
    let lines = line_writes(std::slice::from_ref(c));
    let sql = recorded_insert_sql(lines.len(), tx.engine());
    let written = on_tx!(tx, conn => {
        let mut query = kernel::bind_audit_entry!(
            bind_claim!(sqlx::query(sqlx::AssertSqlSafe(sql)), c),
            &record
        );
        for w in &lines {
            query = bind_line!(query, w);
        }
        query.execute(&mut **conn).await.map(|_| ())
    });
    match written {
        Ok(_) => Ok(true),
        Err(e) if store::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// [`insert_claim_recorded`]'s SQL: the claim (`$1`–`$39`), its audit record (`$40`–`$47`) and
/// its lines (from `$48`, a row each), sent at once. On PostgreSQL one statement (the three as
/// data-modifying CTEs); on SQLite three statements in one query string (sqlx runs them in turn
/// on the connection's thread: one trip instead of three, inside the writer slot). A reused code
/// fails the first insert, and nothing is written.
fn recorded_insert_sql(lines: usize, engine: store::Engine) -> String {
    use std::fmt::Write;
    let width = LINE_WRITE_COLUMNS.split(',').count();
    let claim_values = (1..=39)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let record = kernel::audit::Entry::COLUMNS;
    let mut line_values = String::new();
    for r in 0..lines {
        let first = 48 + r * width;
        let values: Vec<String> = (first..first + width).map(|i| format!("${i}")).collect();
        let _ = write!(
            line_values,
            "{}({})",
            if r > 0 { ", " } else { "" },
            values.join(", ")
        );
    }
    match engine {
        store::Engine::Postgres => {
            let mut sql = format!(
                "WITH c AS (INSERT INTO claims ({CLAIM_WRITE_COLUMNS}) VALUES ({claim_values}) RETURNING id), \
                 a AS (INSERT INTO audit_log ({record}) SELECT $40, $41, $42, $43, $44, $45, $46, $47 FROM c)"
            );
            if lines > 0 {
                let _ = write!(
                    sql,
                    ", l AS (INSERT INTO claim_lines ({LINE_WRITE_COLUMNS}) VALUES {line_values})"
                );
            }
            sql.push_str(" SELECT COUNT(*) FROM c");
            sql
        }
        store::Engine::Sqlite => {
            let mut sql = format!(
                "INSERT INTO claims ({CLAIM_WRITE_COLUMNS}) VALUES ({claim_values}); \
                 INSERT INTO audit_log ({record}) VALUES ($40, $41, $42, $43, $44, $45, $46, $47)"
            );
            if lines > 0 {
                let _ = write!(
                    sql,
                    "; INSERT INTO claim_lines ({LINE_WRITE_COLUMNS}) VALUES {line_values}"
                );
            }
            sql
        }
    }
}

/// Insert a new claim with its lines. False, with nothing written, when the facility already
/// has a current claim with its code (the unique index says so: no read before the write).
pub async fn insert_claim(tx: &mut Tx, c: &Claim) -> Result<bool> {
    match write_claim(tx, c, None).await {
        Ok(_) => {}
        Err(e) if store::is_unique_violation(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let lines = line_writes(std::slice::from_ref(c));
    if !lines.is_empty() {
        store::bulk_insert!(tx, "claim_lines", LINE_WRITE_COLUMNS, &lines, bind_line)?;
    }
    Ok(true)
}

/// The decisions and amounts of a claim's lines, column by column, for PostgreSQL's UNNEST.
struct LineArrays {
    id: Vec<Uuid>,
    status: Vec<String>,
    rejection_reason: Vec<Option<i16>>,
    rule: Vec<Option<String>>,
    decision: Vec<Option<String>>,
    compared: Vec<Option<String>>,
    qty_approved: Vec<Option<i64>>,
    price_adjusted: Vec<Option<i64>>,
    product_id: Vec<Option<Uuid>>,
    policy_id: Vec<Option<Uuid>>,
    price_origin: Vec<Option<String>>,
    limitation: Vec<Option<String>>,
    limitation_value: Vec<Option<i64>>,
    price_approved: Vec<Option<i64>>,
    justification: Vec<Option<String>>,
    deductible: Vec<Option<i64>>,
    exceed_ceiling: Vec<Option<i64>>,
    exceed_ceiling_category: Vec<Option<i64>>,
    valuated: Vec<Option<i64>>,
    remunerated: Vec<Option<i64>>,
}

impl LineArrays {
    fn of(claim: &Claim) -> LineArrays {
        let lines: Vec<&ClaimLine> = claim.items.iter().chain(claim.services.iter()).collect();
        let col = |f: fn(&ClaimLine) -> Option<i64>| lines.iter().map(|l| f(l)).collect();
        LineArrays {
            id: lines.iter().map(|l| l.id).collect(),
            status: lines.iter().map(|l| l.status.code().to_string()).collect(),
            rejection_reason: lines
                .iter()
                .map(|l| l.rejection_reason.map(|r| r.code()))
                .collect(),
            rule: lines.iter().map(|l| l.rule.clone()).collect(),
            decision: lines.iter().map(|l| l.decision.clone()).collect(),
            compared: lines
                .iter()
                .map(|l| l.compared.as_ref().map(|c| c.to_string()))
                .collect(),
            qty_approved: col(|l| l.qty_approved),
            price_adjusted: col(|l| l.price_adjusted),
            product_id: lines.iter().map(|l| l.product_id).collect(),
            policy_id: lines.iter().map(|l| l.policy_id).collect(),
            price_origin: lines
                .iter()
                .map(|l| l.price_origin.map(|o| o.code().to_string()))
                .collect(),
            limitation: lines
                .iter()
                .map(|l| l.limitation.map(|o| o.code().to_string()))
                .collect(),
            limitation_value: col(|l| l.limitation_value),
            price_approved: col(|l| l.price_approved),
            justification: lines.iter().map(|l| l.justification.clone()).collect(),
            deductible: col(|l| l.deductible),
            exceed_ceiling: col(|l| l.exceed_ceiling),
            exceed_ceiling_category: col(|l| l.exceed_ceiling_category),
            valuated: col(|l| l.valuated),
            remunerated: col(|l| l.remunerated),
        }
    }

    /// The UPDATE of the lines from arrays bound as `$first`… (20 of them), of the claim whose
    /// id is `claim` (a parameter or a subquery).
    fn update_sql(first: usize, claim: &str) -> String {
        let types = [
            "UUID", "TEXT", "SMALLINT", "TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT", "UUID", "UUID",
            "TEXT", "TEXT", "BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT",
            "BIGINT",
        ];
        let arrays: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("${}::{t}[]", first + i))
            .collect();
        format!(
            "UPDATE claim_lines l SET status = v.status, rejection_reason = v.rejection_reason, rule = v.rule, \
             decision = v.decision, compared = v.compared, qty_approved = v.qty_approved, \
             price_adjusted = v.price_adjusted, product_id = v.product_id, policy_id = v.policy_id, \
             price_origin = v.price_origin, limitation = v.limitation, limitation_value = v.limitation_value, \
             price_approved = v.price_approved, justification = v.justification, deductible = v.deductible, \
             exceed_ceiling = v.exceed_ceiling, exceed_ceiling_category = v.exceed_ceiling_category, \
             valuated = v.valuated, remunerated = v.remunerated \
             FROM UNNEST({}) AS v(id, status, rejection_reason, rule, decision, compared, qty_approved, \
             price_adjusted, product_id, policy_id, price_origin, limitation, limitation_value, price_approved, \
             justification, deductible, exceed_ceiling, exceed_ceiling_category, valuated, remunerated) \
             WHERE l.id = v.id AND l.claim_id = {claim}",
            arrays.join(", ")
        )
    }
}

/// Bind [`LineArrays`] in the order of [`LineArrays::update_sql`] (a query or a query_as).
macro_rules! bind_line_arrays {
    ($query:expr, $arrays:expr) => {{
        let a: LineArrays = $arrays;
        $query
            .bind(a.id)
            .bind(a.status)
            .bind(a.rejection_reason)
            .bind(a.rule)
            .bind(a.decision)
            .bind(a.compared)
            .bind(a.qty_approved)
            .bind(a.price_adjusted)
            .bind(a.product_id)
            .bind(a.policy_id)
            .bind(a.price_origin)
            .bind(a.limitation)
            .bind(a.limitation_value)
            .bind(a.price_approved)
            .bind(a.justification)
            .bind(a.deductible)
            .bind(a.exceed_ceiling)
            .bind(a.exceed_ceiling_category)
            .bind(a.valuated)
            .bind(a.remunerated)
    }};
}

/// Write the decisions and amounts of a claim's lines, whose set has not changed since they
/// were read (submission, processing, review). One statement on PostgreSQL; SQLite, in-process,
/// runs one per line.
pub async fn update_lines(tx: &mut Tx, claim: &Claim) -> Result<()> {
    if claim.items.is_empty() && claim.services.is_empty() {
        return Ok(());
    }
    if let Some(conn) = tx.postgres() {
        let sql = LineArrays::update_sql(1, "$21");
        bind_line_arrays!(sqlx::query(sqlx::AssertSqlSafe(sql)), LineArrays::of(claim))
            .bind(claim.id)
            .execute(conn)
            .await?;
        return Ok(());
    }
    on_tx!(tx, conn => {
        for l in claim.items.iter().chain(claim.services.iter()) {
            let query = sqlx::query(
                "UPDATE claim_lines SET status = $1, rejection_reason = $2, rule = $3, decision = $4, compared = $5, \
                 qty_approved = $6, price_adjusted = $7, product_id = $8, policy_id = $9, price_origin = $10, \
                 limitation = $11, limitation_value = $12, price_approved = $13, justification = $14, \
                 deductible = $15, exceed_ceiling = $16, exceed_ceiling_category = $17, valuated = $18, \
                 remunerated = $19 WHERE id = $20 AND claim_id = $21",
            );
            bind_line_outcome!(query, l)
            .bind(l.id)
            .bind(claim.id)
            .execute(&mut **conn)
            .await?;
        }
    });
    Ok(())
}

/// The UPDATE of [`save_claim`] at an expected version, parameters `$1`…`$40`.
const CLAIM_UPDATE: &str = "UPDATE claims SET code = $1, health_facility_id = $2, district_id = $3, insuree_id = $4, \
     admin_id = $5, date_claimed = $6, date_from = $7, date_to = $8, visit_type = $9, icd = $10, \
     secondary_icd = $11, explanation = $12, guarantee_no = $13, refer_from_id = $14, refer_to_id = $15, \
     referral_code = $16, status = $17, review_status = $18, feedback_status = $19, \
     rejection_reason = $20, decision = $21, category = $22, flags = $23, claimed = $24, approved = $25, \
     valuated = $26, remunerated = $27, submitted_at = $28, processed_at = $29, risk = $30, \
     reviewer_id = $31, review_selected_at = $32, reviewed_at = $33, adjustment = $34, \
     batch_run_id = $35, version = $36, created_at = $37, updated_at = $38 \
     WHERE id = $39 AND version = $40 AND deleted_at IS NULL";

/// Write a claim a step changed (submission, processing) at the version read: the claim, its
/// lines (the same set) and its audit record. On PostgreSQL one statement, the three writes as
/// data-modifying CTEs that write nothing unless the claim was still at `expected_version`
/// (a round trip per write was a large part of a submission); on SQLite three. False when the
/// version moved on.
pub async fn write_step(
    tx: &mut Tx,
    after: &Claim,
    expected_version: i64,
    record: kernel::audit::Entry,
) -> Result<bool> {
    if let Some(conn) = tx.postgres() {
        // With no lines the arrays are empty and the lines' UPDATE writes nothing.
        let sql = format!(
            "WITH c AS ({CLAIM_UPDATE} RETURNING id), l AS ({}), \
             a AS (INSERT INTO audit_log ({}) SELECT $61, $62, $63, $64, $65, $66, $67, $68 FROM c) \
             SELECT COUNT(*) FROM c",
            LineArrays::update_sql(41, "(SELECT id FROM c)"),
            kernel::audit::Entry::COLUMNS
        );
        let query =
            bind_claim!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), after).bind(expected_version);
        let query = bind_line_arrays!(query, LineArrays::of(after));
        let (n,): (i64,) = kernel::bind_audit_entry!(query, &record)
            .fetch_one(conn)
            .await?;
        return Ok(n == 1);
    }
    if !save_claim(tx, after, Some(expected_version)).await? {
        return Ok(false);
    }
    update_lines(tx, after).await?;
    record.append(tx).await?;
    Ok(true)
}

/// A current claim with its lines, in one statement (a row per line, the claim's columns on
/// each).
pub async fn get_claim(tx: &mut Tx, id: Uuid) -> Result<Option<Claim>> {
    Ok(read_claim(tx, id, false).await?.map(|(claim, _)| claim))
}

/// What adjudication reads of a claim's own world: its facility, the patient, and each line's
/// item or service priced at the facility.
#[derive(Debug, Clone, Default)]
pub struct Surroundings {
    /// None when the facility was deleted.
    pub facility: Option<ClaimFacility>,
    /// (insurance number, deleted, gender, date of birth).
    pub patient: Option<(String, bool, String, Date)>,
    pub priced: HashMap<(LineKind, Uuid), Priced>,
}

/// The facility, patient and price columns of [`read_claim`] with its surroundings (aliases `h`, `i`,
/// `it`, `sv` and the price-list lines `ipl`, `spl`).
const SURROUNDING_COLUMNS: &str = "h.id AS h_id, h.code AS h_code, h.name AS h_name, h.level AS h_level, \
     h.care_type AS h_care_type, h.location_id AS h_location_id, h.items_pricelist_id AS h_items_pricelist_id, \
     h.services_pricelist_id AS h_services_pricelist_id, i.chfid AS p_chfid, i.deleted_at IS NOT NULL AS p_deleted, \
     i.gender AS p_gender, i.dob AS p_dob, COALESCE(it.id, sv.id) AS r_id, \
     COALESCE(it.deleted_at, sv.deleted_at) IS NULL AS r_current, COALESCE(it.price, sv.price) AS r_price, \
     CASE WHEN ipl.item_id IS NOT NULL THEN COALESCE(ipl.price_overrule, it.price) \
          WHEN spl.service_id IS NOT NULL THEN COALESCE(spl.price_overrule, sv.price) END AS r_list_price, \
     COALESCE(it.care_type, sv.care_type) AS r_care_type, \
     COALESCE(it.patient_category, sv.patient_category) AS r_patient_category, \
     COALESCE(it.frequency, sv.frequency) AS r_frequency, \
     COALESCE(it.maximum_amount, sv.maximum_amount) AS r_maximum_amount, sv.category AS r_category";

const SURROUNDING_JOINS: &str = "LEFT JOIN health_facilities h ON h.id = c.health_facility_id AND h.deleted_at IS NULL \
     LEFT JOIN insurees i ON i.id = c.insuree_id \
     LEFT JOIN item_pricelist_lines ipl ON l.kind = 'I' AND ipl.item_id = l.register_id \
          AND ipl.pricelist_id = h.items_pricelist_id \
     LEFT JOIN service_pricelist_lines spl ON l.kind = 'S' AND spl.service_id = l.register_id \
          AND spl.pricelist_id = h.services_pricelist_id";

/// Decode the surroundings' columns of one row into `s`: the facility and patient from the
/// first row, the line's item or service from every row that has one.
/// (A macro: the row's type differs by engine.)
macro_rules! surroundings_of {
    ($row:expr, $first:expr, $kind:expr, $s:expr) => {{
        let (row, first, kind, s): (_, bool, Option<LineKind>, &mut Surroundings) =
            ($row, $first, $kind, $s);
        use sqlx::Row as _;
        if first {
            let facility: Option<Uuid> = row.try_get("h_id")?;
            if let Some(id) = facility {
                s.facility = Some(ClaimFacility {
                    id,
                    code: row
                        .try_get::<Option<String>, _>("h_code")?
                        .unwrap_or_default(),
                    name: row
                        .try_get::<Option<String>, _>("h_name")?
                        .unwrap_or_default(),
                    level: row
                        .try_get::<Option<String>, _>("h_level")?
                        .unwrap_or_default(),
                    care_type: row
                        .try_get::<Option<String>, _>("h_care_type")?
                        .unwrap_or_default(),
                    location_id: row
                        .try_get::<Option<Uuid>, _>("h_location_id")?
                        .unwrap_or(id),
                    items_pricelist_id: row.try_get("h_items_pricelist_id")?,
                    services_pricelist_id: row.try_get("h_services_pricelist_id")?,
                });
            }
            let chfid: Option<String> = row.try_get("p_chfid")?;
            let dob: Option<Date> = row.try_get("p_dob")?;
            if let (Some(chfid), Some(dob)) = (chfid, dob) {
                s.patient = Some((
                    chfid,
                    row.try_get::<Option<bool>, _>("p_deleted")?
                        .unwrap_or(false),
                    row.try_get::<Option<String>, _>("p_gender")?
                        .unwrap_or_default(),
                    dob,
                ));
            }
        }
        let register: Option<Uuid> = row.try_get("r_id")?;
        if let (Some(kind), Some(id)) = (kind, register) {
            let priced = Priced {
                id,
                code: row
                    .try_get::<Option<String>, _>("l_code")?
                    .unwrap_or_default(),
                name: row
                    .try_get::<Option<String>, _>("l_name")?
                    .unwrap_or_default(),
                current: row
                    .try_get::<Option<bool>, _>("r_current")?
                    .unwrap_or(false),
                price: row.try_get::<Option<i64>, _>("r_price")?.unwrap_or(0),
                list_price: row.try_get("r_list_price")?,
                care_type: row
                    .try_get::<Option<String>, _>("r_care_type")?
                    .unwrap_or_default(),
                patient_category: row
                    .try_get::<Option<i64>, _>("r_patient_category")?
                    .unwrap_or(0),
                frequency: row.try_get("r_frequency")?,
                maximum_amount: row.try_get("r_maximum_amount")?,
                category: row.try_get("r_category")?,
            };
            s.priced.insert((kind, id), priced);
        }
    }};
}

/// A current claim with its lines, in one statement, and with `surroundings` its
/// [`Surroundings`] in the same statement (what submission would otherwise read in three);
/// without, they are empty.
pub async fn read_claim(
    tx: &mut Tx,
    id: Uuid,
    surroundings: bool,
) -> Result<Option<(Claim, Surroundings)>> {
    let (columns, joins) = if surroundings {
        (format!(", {SURROUNDING_COLUMNS}"), SURROUNDING_JOINS)
    } else {
        (String::new(), "")
    };
    let sql = format!(
        "SELECT {CLAIM_COLUMNS}, {LINE_COLUMNS}{columns} FROM claims c \
         LEFT JOIN claim_lines l ON l.claim_id = c.id \
         LEFT JOIN medical_items it ON l.kind = 'I' AND it.id = l.register_id \
         LEFT JOIN medical_services sv ON l.kind = 'S' AND sv.id = l.register_id {joins} \
         WHERE c.id = $1 AND c.deleted_at IS NULL ORDER BY l.position"
    );
    let mut around = Surroundings::default();
    let (head, lines): (Option<ClaimRow>, Vec<LineRow>) = on_tx!(tx, conn => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&mut **conn).await?;
        let mut head = None;
        let mut lines: Vec<LineRow> = Vec::with_capacity(rows.len());
        for row in &rows {
            let first = head.is_none();
            if first {
                head = Some(sqlx::FromRow::from_row(row)?);
            }
            let line: Option<Uuid> = sqlx::Row::try_get(row, "l_id")?;
            let mut kind = None;
            if line.is_some() {
                let l: LineRow = sqlx::FromRow::from_row(row)?;
                kind = LineKind::from_code(&l.kind);
                lines.push(l);
            }
            if surroundings {
                surroundings_of!(row, first, kind, &mut around);
            }
        }
        (head, lines)
    });
    let Some(head) = head else {
        return Ok(None);
    };
    let mut claim = Claim::from(head);
    for row in lines {
        match row.into_line() {
            (LineKind::Item, line) => claim.items.push(line),
            (LineKind::Service, line) => claim.services.push(line),
        }
    }
    if claim.feedback_status != ReviewStatus::Idle {
        claim.feedback = feedback(tx, id).await?;
    }
    Ok(Some((claim, around)))
}

/// The current claims among `ids`: which exist (for the 404 naming the others).
pub async fn existing(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT id FROM claims WHERE deleted_at IS NULL AND id IN ");
    sql.list(ids.iter().copied());
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The current claim of a facility with this code, other than `except`.
pub async fn code_taken(
    tx: &mut Tx,
    facility: Uuid,
    code: &str,
    except: Option<Uuid>,
) -> Result<Option<Uuid>> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id FROM claims WHERE health_facility_id = $1 AND code = $2 AND deleted_at IS NULL",
        )
        .bind(facility)
        .bind(code)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(found.map(|(id,)| id).filter(|id| Some(*id) != except))
}

/// Filters of the claim list.
#[derive(Debug, Default, Clone)]
pub struct ClaimFilter {
    pub status: Option<ClaimStatus>,
    pub review_status: Option<ReviewStatus>,
    pub health_facility_id: Option<Uuid>,
    pub insuree_id: Option<Uuid>,
    pub code: Option<String>,
    pub date_from: Option<Date>,
    pub date_to: Option<Date>,
    /// Only claims whose feedback was asked for (selected, delivered or bypassed).
    pub feedback_requested: bool,
    /// `None` = everyone; otherwise the districts the actor holds.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
    /// Count at most this many (a total above it means "more").
    pub count_at_most: Option<i64>,
}

fn claim_where(f: &ClaimFilter) -> Sql {
    let mut sql = Sql::new(" FROM claims c WHERE c.deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut sql, "c.updated_at");
    }
    if f.feedback_requested {
        sql.push(" AND c.feedback_status IN ('selected', 'delivered', 'bypassed')");
    }
    if let Some(s) = f.status {
        sql.push(" AND c.status = ").arg(s.code());
    }
    if let Some(s) = f.review_status {
        sql.push(" AND c.review_status = ").arg(s.code());
    }
    if let Some(id) = f.health_facility_id {
        sql.push(" AND c.health_facility_id = ").arg(id);
    }
    if let Some(id) = f.insuree_id {
        sql.push(" AND c.insuree_id = ").arg(id);
    }
    if let Some(code) = &f.code {
        sql.push(" AND c.code = ").arg(code.as_str());
    }
    if let Some(d) = f.date_from {
        sql.push(" AND c.date_from >= ").arg(d);
    }
    if let Some(d) = f.date_to {
        sql.push(" AND c.date_from <= ").arg(d);
    }
    if let Some(scope) = &f.scope {
        sql.push(" AND c.district_id IN ")
            .list(scope.iter().copied());
    }
    sql
}

pub async fn list_claims(
    tx: &mut Tx,
    filter: &ClaimFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ClaimSummary>, i64)> {
    let from_where = claim_where(filter);
    let (rows, total): (Vec<ClaimRow>, i64) = store::fetch_page_capped(
        tx,
        &format!("SELECT {CLAIM_COLUMNS}"),
        &from_where,
        &from_where,
        "c.date_claimed DESC, c.code, c.id",
        limit,
        offset,
        filter.count_at_most,
    )
    .await?;
    Ok((
        rows.into_iter().map(|r| Claim::from(r).summary()).collect(),
        total,
    ))
}

// ---------------------------------------------------------------- what submission reads

/// An item or service of the registers with its price at one facility.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Priced {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// The register still holds it.
    pub current: bool,
    /// The register price.
    pub price: i64,
    /// The facility's price-list price: its overrule, else the register price; none when the
    /// facility's list does not hold it (or the facility has no list).
    pub list_price: Option<i64>,
    pub care_type: String,
    pub patient_category: i64,
    pub frequency: Option<i64>,
    pub maximum_amount: Option<i64>,
    /// Services only.
    pub category: Option<String>,
}

impl Priced {
    pub fn care_type(&self) -> CareType {
        CareType::from_code(&self.care_type).unwrap_or(CareType::Both)
    }
}

/// How a line names its item or service.
pub enum RegisterKey<'a> {
    /// By code, among the current rows (entry).
    Codes(&'a [String]),
    /// By id, current or not (submission).
    Ids(&'a [Uuid]),
}

/// What to price of one kind: the facility's list of that kind, and the items or services.
pub struct PriceAsk<'a> {
    pub kind: LineKind,
    pub list: Option<Uuid>,
    pub key: RegisterKey<'a>,
}

/// Items and services by code or id, each priced at the facility's list of its kind, in one
/// statement: (kind, priced).
pub async fn priced(tx: &mut Tx, asks: &[PriceAsk<'_>]) -> Result<Vec<(LineKind, Priced)>> {
    let mut sql = Sql::new("");
    let mut parts = 0;
    for ask in asks {
        let (table, lines, column, category) = match ask.kind {
            LineKind::Item => (
                "medical_items",
                "item_pricelist_lines",
                "item_id",
                "CAST(NULL AS TEXT)",
            ),
            LineKind::Service => (
                "medical_services",
                "service_pricelist_lines",
                "service_id",
                "r.category",
            ),
        };
        let empty = match &ask.key {
            RegisterKey::Codes(c) => c.is_empty(),
            RegisterKey::Ids(i) => i.is_empty(),
        };
        if empty {
            continue;
        }
        if parts > 0 {
            sql.push(" UNION ALL ");
        }
        parts += 1;
        sql.push(&format!(
            "SELECT '{kind}' AS kind, r.id, r.code, r.name, r.deleted_at IS NULL AS current, r.price, \
             CASE WHEN pl.{column} IS NULL THEN NULL ELSE COALESCE(pl.price_overrule, r.price) END AS list_price, \
             r.care_type, r.patient_category, r.frequency, r.maximum_amount, {category} AS category \
             FROM {table} r LEFT JOIN {lines} pl ON pl.{column} = r.id AND pl.pricelist_id = ",
            kind = ask.kind.code()
        ));
        // A facility without a list: a key that matches no list.
        sql.arg(ask.list.unwrap_or(Uuid::nil()));
        match &ask.key {
            RegisterKey::Codes(codes) => {
                sql.push(" WHERE r.deleted_at IS NULL AND r.code IN ")
                    .list(codes.iter().map(String::as_str));
            }
            RegisterKey::Ids(ids) => {
                sql.push(" WHERE r.id IN ").list(ids.iter().copied());
            }
        }
    }
    if parts == 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, Priced)> = on_tx!(tx, conn => {
        let rows = store::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = sqlx::Row::try_get(row, "kind")?;
            out.push((kind, sqlx::FromRow::from_row(row)?));
        }
        out
    });
    Ok(rows
        .into_iter()
        .map(|(kind, p)| (LineKind::from_code(&kind).unwrap_or(LineKind::Item), p))
        .collect())
}

/// Another claim of the same visit: its code and its lines' (kind, item or service).
pub type SameVisit = (String, Vec<(String, Uuid)>);

/// What submission reads of the insuree's other claims, and of the diagnosis codes.
#[derive(Debug, Default)]
pub struct Neighbours {
    /// What the insuree received in their other submitted, unrejected claims: every passed line
    /// and every claim with its category, dated by the claim's target date.
    pub history: History,
    /// The other current, unrejected claims of the same insuree at the same facility on the same
    /// dates, with their lines' items and services.
    pub same_visit: Vec<SameVisit>,
    /// Which of the codes asked about are current ICD codes.
    pub known_diagnoses: Vec<String>,
}

/// The insuree's other current claims that were not rejected, with their lines, and which of
/// `codes` are current ICD codes: one statement, from which the history the rules measure limits
/// against and the flags of a same-visit claim are both drawn.
pub async fn neighbours(tx: &mut Tx, claim: &Claim, codes: &[String]) -> Result<Neighbours> {
    let mut sql = Sql::new(
        "SELECT 'C' AS tag, c.id, c.code, c.status, c.category, c.health_facility_id, c.date_from, c.date_to, \
         l.kind, l.register_id, l.status AS line_status, COALESCE(l.qty_approved, l.qty) AS qty \
         FROM claims c LEFT JOIN claim_lines l ON l.claim_id = c.id \
         WHERE c.insuree_id = ",
    );
    sql.arg(claim.insuree_id)
        .push(" AND c.id <> ")
        .arg(claim.id)
        .push(" AND c.deleted_at IS NULL AND c.status <> 'rejected'");
    if !codes.is_empty() {
        sql.push(
            " UNION ALL SELECT 'D', NULL, d.code, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
             FROM diagnoses d WHERE d.deleted_at IS NULL AND d.code IN ",
        )
        .list(codes.iter().map(String::as_str));
    }
    sql.push(" ORDER BY 1, 2");
    // (tag, claim, code, status, category, facility, from, to, line kind, item or service,
    // line status, units)
    type Row = (
        String,
        Option<Uuid>,
        String,
        Option<String>,
        Option<String>,
        Option<Uuid>,
        Option<Date>,
        Option<Date>,
        Option<String>,
        Option<Uuid>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    let mut out = Neighbours::default();
    let visit_to = claim.date_to.unwrap_or(claim.date_from);
    let mut last = None;
    for (tag, id, code, status, category, facility, from, to, kind, register, line_status, qty) in
        rows
    {
        let (Some(id), Some(from)) = (id, from) else {
            if tag == "D" {
                out.known_diagnoses.push(code);
            }
            continue;
        };
        let new_claim = last != Some(id);
        last = Some(id);
        // Submitted and not rejected: what the insuree received.
        let submitted = matches!(
            status.as_deref(),
            Some("checked" | "processed" | "valuated")
        );
        let date = to.unwrap_or(from);
        if submitted && new_claim {
            out.history.claims.push(PastClaim {
                category: category.as_deref().and_then(rules::Category::from_code),
                date,
            });
        }
        if submitted
            && line_status.as_deref() == Some(LineStatus::Passed.code())
            && let (Some(kind), Some(register_id), Some(qty)) = (&kind, register, qty)
        {
            out.history.provisions.push(Provision {
                kind: LineKind::from_code(kind).unwrap_or(LineKind::Item),
                register_id,
                date,
                qty,
            });
        }
        // The same visit: same facility and dates (entered claims too).
        if facility == Some(claim.health_facility_id) && from == claim.date_from && date == visit_to
        {
            if new_claim {
                out.same_visit.push((code, Vec::new()));
            }
            if let (Some(kind), Some(register), Some(visit)) =
                (kind, register, out.same_visit.last_mut())
            {
                visit.1.push((kind, register));
            }
        }
    }
    Ok(out)
}

/// The facility and the patient of a claim, in one statement.
pub async fn facility_and_patient(
    tx: &mut Tx,
    facility: Uuid,
    insuree: Uuid,
) -> Result<Option<(ClaimFacility, (String, bool, String, Date))>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        facility: ClaimFacility,
        chfid: String,
        deleted: bool,
        gender: String,
        dob: Date,
    }
    let row: Option<Row> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT h.id, h.code, h.name, h.level, h.care_type, h.location_id, h.items_pricelist_id, \
             h.services_pricelist_id, i.chfid, i.deleted_at IS NOT NULL AS deleted, i.gender, i.dob \
             FROM health_facilities h JOIN insurees i ON i.id = $2 WHERE h.id = $1 AND h.deleted_at IS NULL",
        )
        .bind(facility)
        .bind(insuree)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row.map(|r| (r.facility, (r.chfid, r.deleted, r.gender, r.dob))))
}

// ---------------------------------------------------------------- the ledger

/// The ledger's amount columns, in the order of [`used_from`].
const LEDGER_COLUMNS: [&str; 11] = [
    "ded_g",
    "ded_ip",
    "ded_op",
    "rem_g",
    "rem_ip",
    "rem_op",
    "rem_surgery",
    "rem_delivery",
    "rem_antenatal",
    "rem_hospitalization",
    "rem_consultation",
];

fn used_from(v: &[i64]) -> rules::valuation::Used {
    rules::valuation::Used {
        ded: v[0],
        ded_ip: v[1],
        ded_op: v[2],
        rem: v[3],
        rem_ip: v[4],
        rem_op: v[5],
        rem_surgery: v[6],
        rem_delivery: v[7],
        rem_antenatal: v[8],
        rem_hospitalization: v[9],
        rem_consultation: v[10],
    }
}

/// What claims other than `except` used under each of `policies`: this insuree's share and the
/// whole policy's, in one statement. Policies without ledger rows are absent.
pub async fn ledgers(
    tx: &mut Tx,
    insuree: Uuid,
    policies: &[Uuid],
    except: Option<Uuid>,
) -> Result<HashMap<Uuid, rules::valuation::Ledger>> {
    if policies.is_empty() {
        return Ok(HashMap::new());
    }
    // PostgreSQL sums BIGINT as NUMERIC: cast back.
    let mut sql = Sql::new("SELECT policy_id");
    for column in LEDGER_COLUMNS {
        sql.push(", CAST(SUM(CASE WHEN insuree_id = ")
            .arg(insuree)
            .push(&format!(" THEN {column} ELSE 0 END) AS BIGINT)"));
    }
    for column in LEDGER_COLUMNS {
        sql.push(&format!(", CAST(SUM({column}) AS BIGINT)"));
    }
    sql.push(" FROM claim_ded_rem WHERE policy_id IN ")
        .list(policies.iter().copied())
        .push(" AND claim_id <> ")
        .arg(except.unwrap_or(Uuid::nil()))
        .push(" GROUP BY policy_id");
    let rows: Vec<(Uuid, Vec<i64>)> = on_tx!(tx, conn => {
        let rows = store::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let policy: Uuid = sqlx::Row::try_get(row, 0)?;
            let mut sums = Vec::with_capacity(2 * LEDGER_COLUMNS.len());
            for i in 1..=2 * LEDGER_COLUMNS.len() {
                sums.push(sqlx::Row::try_get::<Option<i64>, _>(row, i)?.unwrap_or(0));
            }
            out.push((policy, sums));
        }
        out
    });
    Ok(rows
        .into_iter()
        .map(|(policy, sums)| {
            let (mine, all) = sums.split_at(LEDGER_COLUMNS.len());
            let ledger = rules::valuation::Ledger {
                insuree: used_from(mine),
                policy: used_from(all),
            };
            (policy, ledger)
        })
        .collect())
}

/// The members a policy covers on `day`.
pub async fn members_on(tx: &mut Tx, policy: Uuid, day: Date) -> Result<i64> {
    let (n,): (i64,) = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT COUNT(*) FROM insuree_policies WHERE policy_id = $1 AND deleted_at IS NULL \
             AND effective_date IS NOT NULL AND effective_date <= $2 AND expiry_date >= $2",
        )
        .bind(policy)
        .bind(day)
        .fetch_one(&mut **conn)
        .await?
    });
    Ok(n)
}

/// Replace a claim's ledger rows (the claim of `insuree`): one per policy that paid it.
pub async fn replace_ded_rem(
    tx: &mut Tx,
    claim: Uuid,
    insuree: Uuid,
    rows: &[(Uuid, rules::valuation::Used)],
    at: OffsetDateTime,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM claim_ded_rem WHERE claim_id = $1")
            .bind(claim)
            .execute(&mut **conn)
            .await?;
        for (policy, u) in rows {
            sqlx::query(
                "INSERT INTO claim_ded_rem (claim_id, policy_id, insuree_id, ded_g, ded_ip, ded_op, rem_g, rem_ip, \
                 rem_op, rem_surgery, rem_delivery, rem_antenatal, rem_hospitalization, rem_consultation, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(claim)
            .bind(*policy)
            .bind(insuree)
            .bind(u.ded)
            .bind(u.ded_ip)
            .bind(u.ded_op)
            .bind(u.rem)
            .bind(u.rem_ip)
            .bind(u.rem_op)
            .bind(u.rem_surgery)
            .bind(u.rem_delivery)
            .bind(u.rem_antenatal)
            .bind(u.rem_hospitalization)
            .bind(u.rem_consultation)
            .bind(at)
            .execute(&mut **conn)
            .await?;
        }
    });
    Ok(())
}

// ---------------------------------------------------------------- review and feedback

#[derive(sqlx::FromRow)]
struct FeedbackRow {
    officer_id: Option<Uuid>,
    requested_at: OffsetDateTime,
    answered_at: Option<OffsetDateTime>,
    care_rendered: Option<bool>,
    payment_asked: Option<bool>,
    drug_prescribed: Option<bool>,
    drug_received: Option<bool>,
    assessment: Option<i16>,
    feedback_date: Option<Date>,
}

async fn feedback(tx: &mut Tx, claim: Uuid) -> Result<Option<Feedback>> {
    let row: Option<FeedbackRow> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT officer_id, requested_at, answered_at, care_rendered, payment_asked, drug_prescribed, \
             drug_received, assessment, feedback_date FROM claim_feedback WHERE claim_id = $1",
        )
        .bind(claim)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row.map(|r| Feedback {
        officer_id: r.officer_id,
        requested_at: r.requested_at,
        answered_at: r.answered_at,
        care_rendered: r.care_rendered,
        payment_asked: r.payment_asked,
        drug_prescribed: r.drug_prescribed,
        drug_received: r.drug_received,
        assessment: r.assessment.map(i64::from),
        feedback_date: r.feedback_date,
    }))
}

/// Write a claim's feedback (asked, or asked and answered).
pub async fn save_feedback(tx: &mut Tx, claim: Uuid, f: &Feedback) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM claim_feedback WHERE claim_id = $1")
            .bind(claim)
            .execute(&mut **conn)
            .await?;
        sqlx::query(
            "INSERT INTO claim_feedback (claim_id, officer_id, requested_at, answered_at, care_rendered, \
             payment_asked, drug_prescribed, drug_received, assessment, feedback_date) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(claim)
        .bind(f.officer_id)
        .bind(f.requested_at)
        .bind(f.answered_at)
        .bind(f.care_rendered)
        .bind(f.payment_asked)
        .bind(f.drug_prescribed)
        .bind(f.drug_received)
        .bind(f.assessment.map(|a| a as i16))
        .bind(f.feedback_date)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// What a draw for review looks at: a checked claim not selected yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: Uuid,
    pub approved: Option<i64>,
    pub risk: Option<i64>,
    pub flags: String,
}

/// Checked claims not selected for review, in the scope and filters of a draw.
pub async fn review_candidates(tx: &mut Tx, filter: &ClaimFilter) -> Result<Vec<Candidate>> {
    let mut sql = Sql::new("SELECT c.id, c.approved, c.risk, c.flags");
    let from = claim_where(filter);
    sql.push(&from.text);
    sql.args.extend(from.args);
    sql.push(
        " AND c.status = 'checked' AND c.review_status IN ('idle', 'not_selected') ORDER BY c.id",
    );
    let rows: Vec<Candidate> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows)
}

/// The review queue of `officer` (claims selected for them or for nobody in particular, oldest
/// selection first) and the reviews they delivered since `since`: (selected at, reviewed at).
pub async fn review_rows(
    tx: &mut Tx,
    filter: &ClaimFilter,
    officer: Option<Uuid>,
    since: OffsetDateTime,
) -> Result<(Vec<Claim>, Vec<(Option<OffsetDateTime>, OffsetDateTime)>)> {
    let mut sql = Sql::new(&format!("SELECT {CLAIM_COLUMNS}"));
    let from = claim_where(filter);
    sql.push(&from.text);
    sql.args.extend(from.args.clone());
    sql.push(" AND c.status = 'checked' AND c.review_status = 'selected'");
    if let Some(officer) = officer {
        sql.push(" AND (c.reviewer_id IS NULL OR c.reviewer_id = ")
            .arg(officer)
            .push(")");
    }
    sql.push(" ORDER BY c.review_selected_at, c.id");
    let open: Vec<ClaimRow> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    let mut sql = Sql::new("SELECT c.review_selected_at, c.reviewed_at");
    sql.push(&from.text);
    sql.args.extend(from.args);
    sql.push(" AND c.review_status = 'delivered' AND c.reviewed_at >= ")
        .arg(since);
    if let Some(officer) = officer {
        sql.push(" AND c.reviewer_id = ").arg(officer);
    }
    let delivered: Vec<(Option<OffsetDateTime>, OffsetDateTime)> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok((open.into_iter().map(Claim::from).collect(), delivered))
}

// ---------------------------------------------------------------- batch runs

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: Uuid,
    location_id: Option<Uuid>,
    run_year: i32,
    run_month: i32,
    run_date: OffsetDateTime,
    status: String,
    progress: i32,
    claims_valuated: i64,
    error: Option<String>,
    finished_at: Option<OffsetDateTime>,
    version: i64,
}

const BATCH_COLUMNS: &str = "id, location_id, run_year, run_month, run_date, status, progress, claims_valuated, error, \
     finished_at, version";

impl From<BatchRow> for BatchRun {
    fn from(r: BatchRow) -> Self {
        BatchRun {
            id: r.id,
            location_id: r.location_id,
            year: r.run_year,
            month: r.run_month as u8,
            status: BatchStatus::from_code(&r.status).unwrap_or(BatchStatus::Failed),
            progress: i64::from(r.progress),
            claims_valuated: r.claims_valuated,
            error: r.error,
            run_date: r.run_date,
            finished_at: r.finished_at,
            indexes: Vec::new(),
            version: r.version,
        }
    }
}

/// The scope key of a run: its location, or the nation.
pub fn scope_key(location: Option<Uuid>) -> String {
    location.map_or_else(|| "national".to_string(), |l| l.to_string())
}

pub async fn batch_run_exists(
    tx: &mut Tx,
    location: Option<Uuid>,
    year: i32,
    month: u8,
) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id FROM batch_runs WHERE scope_key = $1 AND run_year = $2 AND run_month = $3 AND deleted_at IS NULL",
        )
        .bind(scope_key(location))
        .bind(year)
        .bind(i32::from(month))
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(found.is_some())
}

pub async fn insert_batch_run(tx: &mut Tx, run: &BatchRun) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO batch_runs (id, location_id, scope_key, run_year, run_month, run_date, status, progress, \
             claims_valuated, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 1, $8, $9)",
        )
        .bind(run.id)
        .bind(run.location_id)
        .bind(scope_key(run.location_id))
        .bind(run.year)
        .bind(i32::from(run.month))
        .bind(run.run_date)
        .bind(run.status.code())
        .bind(run.run_date)
        .bind(run.run_date)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

pub async fn get_batch_run(tx: &mut Tx, id: Uuid) -> Result<Option<BatchRun>> {
    let sql =
        format!("SELECT {BATCH_COLUMNS} FROM batch_runs WHERE id = $1 AND deleted_at IS NULL");
    let row: Option<BatchRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **conn).await?
    });
    let Some(row) = row else { return Ok(None) };
    let mut run = BatchRun::from(row);
    run.indexes = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT product_id, care_type, period_start, period_end, allocated, percent, claimed_points, rel_index \
             FROM relative_indexes WHERE batch_run_id = $1 ORDER BY product_id, care_type",
        )
        .bind(id)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(Some(run))
}

/// Batch runs, latest first: those in `scope` (with the national ones) or all.
pub async fn list_batch_runs(tx: &mut Tx, scope: Option<&[Uuid]>) -> Result<Vec<BatchRun>> {
    let mut sql = Sql::new(&format!(
        "SELECT {BATCH_COLUMNS} FROM batch_runs WHERE deleted_at IS NULL"
    ));
    if let Some(scope) = scope {
        sql.push(" AND (location_id IS NULL OR location_id IN ")
            .list(scope.iter().copied())
            .push(" OR location_id IN (SELECT parent_id FROM locations WHERE id IN ")
            .list(scope.iter().copied())
            .push("))");
    }
    sql.push(" ORDER BY run_year DESC, run_month DESC, run_date DESC LIMIT 500");
    let rows: Vec<BatchRow> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(BatchRun::from).collect())
}

/// Is `location` the region of one of `districts`?
pub async fn is_region_of(tx: &mut Tx, location: Uuid, districts: &[Uuid]) -> Result<bool> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM locations WHERE parent_id = ");
    sql.arg(location)
        .push(" AND id IN ")
        .list(districts.iter().copied());
    let (n,): (i64,) = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n > 0)
}

/// Runs left running (a crash or a stop): to resume.
pub async fn unfinished_batch_runs(tx: &mut Tx) -> Result<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM batch_runs WHERE status = 'running' AND deleted_at IS NULL ORDER BY run_date")
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub async fn set_batch_progress(
    tx: &mut Tx,
    id: Uuid,
    status: BatchStatus,
    progress: i64,
    claims: i64,
    error: Option<&str>,
    at: OffsetDateTime,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE batch_runs SET status = $1, progress = $2, claims_valuated = $3, error = $4, updated_at = $5, \
             finished_at = CASE WHEN $6 THEN $7 ELSE finished_at END WHERE id = $8",
        )
        .bind(status.code())
        .bind(progress as i32)
        .bind(claims)
        .bind(error)
        .bind(at)
        .bind(status != BatchStatus::Running)
        .bind(at)
        .bind(id)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// The filter of the claims a run covers: those of facilities in its location (a district, or
/// a region's districts), or everywhere for a national run. Adds ` AND …` with `c` the claims.
fn run_scope(sql: &mut Sql, location: Option<Uuid>) {
    if let Some(location) = location {
        sql.push(" AND (c.district_id = ")
            .arg(location)
            .push(" OR c.district_id IN (SELECT l.id FROM locations l WHERE l.parent_id = ")
            .arg(location)
            .push("))");
    }
}

/// The current products of exactly this location (none: national) valid on `day`.
pub async fn products_of(tx: &mut Tx, location: Option<Uuid>, day: Date) -> Result<Vec<Uuid>> {
    let mut sql = Sql::new("SELECT id FROM products WHERE deleted_at IS NULL AND date_from <= ");
    sql.arg(day).push(" AND date_to >= ").arg(day);
    match location {
        Some(l) => {
            sql.push(" AND location_id = ").arg(l);
        }
        None => {
            sql.push(" AND location_id IS NULL");
        }
    }
    sql.push(" ORDER BY id");
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The non-photo contributions of the product's policies that left idle, with their policies'
/// dates.
pub async fn product_contributions(tx: &mut Tx, product: Uuid) -> Result<Vec<rules::batch::Paid>> {
    let rows: Vec<(i64, Date, Option<Date>, Date)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT k.amount, k.pay_date, p.effective_date, p.expiry_date FROM contributions k \
             JOIN policies p ON p.id = k.policy_id WHERE p.product_id = $1 AND k.deleted_at IS NULL \
             AND p.deleted_at IS NULL AND NOT k.is_photo_fee AND p.status <> 'idle'",
        )
        .bind(product)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(amount, pay_date, effective, expiry)| {
            Some(rules::batch::Paid {
                amount,
                pay_date,
                policy_effective: effective?,
                policy_expiry: expiry,
            })
        })
        .collect())
}

/// Which stays count as in-patient for a product's care type: `I` claim type (a stay of more
/// than a day) or `H` facility level (a hospital).
pub fn care_filter(sql: &mut Sql, care: &str, interpretation_by_facility: bool) {
    let hospital = if interpretation_by_facility {
        "(SELECT h.level FROM health_facilities h WHERE h.id = c.health_facility_id) = 'H'"
    } else {
        "COALESCE(c.date_to, c.date_from) <> c.date_from"
    };
    match care {
        "I" => {
            sql.push(&format!(" AND {hospital}"));
        }
        "O" => {
            sql.push(&format!(" AND NOT ({hospital})"));
        }
        _ => {}
    }
}

/// The valuated amounts of the product's relative-price lines in processed claims of the run's
/// scope processed within [start, end].
pub async fn relative_points(
    tx: &mut Tx,
    product: Uuid,
    location: Option<Uuid>,
    start: Date,
    end: Date,
    care: &str,
    by_facility: bool,
) -> Result<i64> {
    let mut sql = Sql::new(
        "SELECT CAST(COALESCE(SUM(l.valuated), 0) AS BIGINT) FROM claim_lines l JOIN claims c ON c.id = l.claim_id \
         WHERE c.deleted_at IS NULL AND c.status = 'processed' AND l.status = 'passed' AND l.price_origin = 'R' \
         AND l.product_id = ",
    );
    sql.arg(product)
        .push(" AND c.processed_at >= ")
        .arg(start.midnight().assume_utc())
        .push(" AND c.processed_at < ")
        .arg(end.next_day().unwrap_or(end).midnight().assume_utc());
    run_scope(&mut sql, location);
    care_filter(&mut sql, care, by_facility);
    let (n,): (i64,) = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n)
}

pub async fn save_index(tx: &mut Tx, run: Uuid, i: &RelativeIndex) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM relative_indexes WHERE batch_run_id = $1 AND product_id = $2 AND care_type = $3")
            .bind(run)
            .bind(i.product_id)
            .bind(&i.care_type)
            .execute(&mut **conn)
            .await?;
        sqlx::query(
            "INSERT INTO relative_indexes (batch_run_id, product_id, care_type, period_start, period_end, allocated, \
             percent, claimed_points, rel_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(run)
        .bind(i.product_id)
        .bind(&i.care_type)
        .bind(i.period_start)
        .bind(i.period_end)
        .bind(i.allocated)
        .bind(i.percent)
        .bind(i.claimed_points)
        .bind(i.rel_index)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// How many claims the run valued.
pub async fn count_run_claims(tx: &mut Tx, run: Uuid) -> Result<i64> {
    let (n,): (i64,) = on_tx!(tx, conn => {
        sqlx::query_as("SELECT COUNT(*) FROM claims WHERE batch_run_id = $1 AND deleted_at IS NULL")
            .bind(run)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n)
}

/// How many claims the run has left to value.
pub async fn count_claims_to_valuate(
    tx: &mut Tx,
    location: Option<Uuid>,
    end: Date,
) -> Result<i64> {
    let mut sql = Sql::new(
        "SELECT COUNT(*) FROM claims c WHERE c.deleted_at IS NULL AND c.status = 'processed' AND c.batch_run_id IS NULL \
         AND c.processed_at < ",
    );
    sql.arg(end.next_day().unwrap_or(end).midnight().assume_utc());
    run_scope(&mut sql, location);
    let (n,): (i64,) = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n)
}

/// A processed claim as the batch run values it: what it needs to pay each passed line.
#[derive(Debug, Clone)]
pub struct RunClaim {
    pub id: Uuid,
    pub version: i64,
    pub at_hospital: bool,
    pub multi_day: bool,
    /// The passed lines: (line, relative-price product, valuated).
    pub lines: Vec<(Uuid, Option<Uuid>, i64)>,
}

/// The next `limit` claims the run values, after `after` in id order, with their passed lines:
/// one statement. Keyset paging, so that each chunk starts where the last one ended instead of
/// walking past the claims already valued.
pub async fn run_chunk(
    tx: &mut Tx,
    location: Option<Uuid>,
    end: Date,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<RunClaim>> {
    let mut sql = Sql::new(
        "SELECT c.id, c.version, h.level, c.date_from, c.date_to, l.id, l.price_origin, l.product_id, l.valuated \
         FROM claims c JOIN health_facilities h ON h.id = c.health_facility_id \
         LEFT JOIN claim_lines l ON l.claim_id = c.id AND l.status = 'passed' \
         WHERE c.id IN (SELECT c.id FROM claims c WHERE c.deleted_at IS NULL AND c.status = 'processed' \
         AND c.batch_run_id IS NULL AND c.processed_at < ",
    );
    sql.arg(end.next_day().unwrap_or(end).midnight().assume_utc());
    if let Some(after) = after {
        sql.push(" AND c.id > ").arg(after);
    }
    run_scope(&mut sql, location);
    sql.push(" ORDER BY c.id LIMIT ")
        .arg(limit)
        .push(") ORDER BY c.id");
    type Row = (
        Uuid,
        i64,
        String,
        Date,
        Option<Date>,
        Option<Uuid>,
        Option<String>,
        Option<Uuid>,
        Option<i64>,
    );
    let rows: Vec<Row> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    let mut claims: Vec<RunClaim> = Vec::new();
    for (id, version, level, from, to, line, origin, product, valuated) in rows {
        if claims.last().is_none_or(|c| c.id != id) {
            claims.push(RunClaim {
                id,
                version,
                at_hospital: rules::FacilityLevel::from_code(&level)
                    == Some(rules::FacilityLevel::Hospital),
                multi_day: to.is_some_and(|to| to != from),
                lines: Vec::new(),
            });
        }
        if let (Some(line), Some(claim)) = (line, claims.last_mut()) {
            let relative = (origin.as_deref() == Some(PriceOrigin::Relative.code()))
                .then_some(product)
                .flatten();
            claim.lines.push((line, relative, valuated.unwrap_or(0)));
        }
    }
    Ok(claims)
}

/// A claim the run valued: its new remuneration and sentence.
pub struct RunValued {
    pub id: Uuid,
    pub version: i64,
    pub remunerated: i64,
    pub decision: String,
}

/// Write what a chunk of the run valued: each line's remuneration, and each claim valuated in
/// the run at its next version. One statement per table on PostgreSQL. Answers how many claims
/// were still at the version read (fewer: someone changed one meanwhile).
pub async fn write_run_chunk(
    tx: &mut Tx,
    run: Uuid,
    at: OffsetDateTime,
    claims: &[RunValued],
    lines: &[(Uuid, i64)],
) -> Result<u64> {
    let written = match tx {
        Tx::Postgres(conn) => {
            let (line_ids, paid): (Vec<Uuid>, Vec<i64>) = lines.iter().copied().unzip();
            sqlx::query(
                "UPDATE claim_lines l SET remunerated = v.paid \
                 FROM UNNEST($1::UUID[], $2::BIGINT[]) AS v(id, paid) WHERE l.id = v.id",
            )
            .bind(&line_ids)
            .bind(&paid)
            .execute(&mut **conn)
            .await?;
            let ids: Vec<Uuid> = claims.iter().map(|c| c.id).collect();
            let versions: Vec<i64> = claims.iter().map(|c| c.version).collect();
            let remunerated: Vec<i64> = claims.iter().map(|c| c.remunerated).collect();
            let decisions: Vec<&str> = claims.iter().map(|c| c.decision.as_str()).collect();
            sqlx::query(
                "UPDATE claims c SET status = 'valuated', remunerated = v.remunerated, decision = v.decision, \
                 batch_run_id = $5, version = c.version + 1, updated_at = $6 \
                 FROM UNNEST($1::UUID[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[]) AS v(id, version, remunerated, decision) \
                 WHERE c.id = v.id AND c.version = v.version AND c.deleted_at IS NULL",
            )
            .bind(&ids)
            .bind(&versions)
            .bind(&remunerated)
            .bind(&decisions)
            .bind(run)
            .bind(at)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        }
        _ => {
            // SQLite runs in-process: a prepared statement per row costs no round trip.
            let mut written = 0;
            on_tx!(tx, conn => {
                for (id, paid) in lines {
                    sqlx::query("UPDATE claim_lines SET remunerated = $1 WHERE id = $2")
                        .bind(*paid)
                        .bind(*id)
                        .execute(&mut **conn)
                        .await?;
                }
                for c in claims {
                    written += sqlx::query(
                        "UPDATE claims SET status = 'valuated', remunerated = $1, decision = $2, batch_run_id = $3, \
                         version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6 AND deleted_at IS NULL",
                    )
                    .bind(c.remunerated)
                    .bind(&c.decision)
                    .bind(run)
                    .bind(at)
                    .bind(c.id)
                    .bind(c.version)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected();
                }
            });
            written
        }
    };
    Ok(written)
}

/// What a run paid each facility.
pub async fn statement(tx: &mut Tx, run: Uuid) -> Result<Vec<FacilityStatement>> {
    let rows: Vec<(Uuid, String, String, i64, i64, i64, i64)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT h.id, h.code, h.name, COUNT(*), CAST(COALESCE(SUM(c.approved), 0) AS BIGINT), \
             CAST(COALESCE(SUM(c.valuated), 0) AS BIGINT), CAST(COALESCE(SUM(c.remunerated), 0) AS BIGINT) \
             FROM claims c JOIN health_facilities h ON h.id = c.health_facility_id \
             WHERE c.batch_run_id = $1 AND c.deleted_at IS NULL GROUP BY h.id, h.code, h.name ORDER BY h.code",
        )
        .bind(run)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(health_facility_id, code, name, claims, approved, valuated, remunerated)| {
                FacilityStatement {
                    health_facility_id,
                    code,
                    name,
                    claims,
                    approved,
                    valuated,
                    remunerated,
                }
            },
        )
        .collect())
}

// ---------------------------------------------------------------- capitation

/// A facility that may share a product's capitation: (id, level, sub-level, district).
pub type CapitationFacility = (Uuid, String, Option<String>, Uuid);

/// The current facilities of the product's location (its district, its region's districts, or
/// everywhere), and those elsewhere that claimed for the product over [start, end].
pub async fn capitation_facilities(
    tx: &mut Tx,
    product: Uuid,
    location: Option<Uuid>,
    start: Date,
    end: Date,
) -> Result<(Vec<CapitationFacility>, Vec<Uuid>)> {
    let mut sql = Sql::new(
        "SELECT h.id, h.level, h.sub_level, h.location_id FROM health_facilities h WHERE h.deleted_at IS NULL",
    );
    if let Some(l) = location {
        sql.push(" AND (h.location_id = ")
            .arg(l)
            .push(" OR h.location_id IN (SELECT d.id FROM locations d WHERE d.parent_id = ")
            .arg(l)
            .push("))");
    }
    sql.push(" ORDER BY h.code");
    let inside: Vec<CapitationFacility> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    let mut sql = Sql::new(
        "SELECT DISTINCT c.health_facility_id FROM claims c JOIN claim_lines l ON l.claim_id = c.id \
         WHERE c.deleted_at IS NULL AND c.status IN ('processed', 'valuated') AND l.status = 'passed' AND l.product_id = ",
    );
    sql.arg(product)
        .push(" AND c.processed_at >= ")
        .arg(start.midnight().assume_utc())
        .push(" AND c.processed_at < ")
        .arg(end.next_day().unwrap_or(end).midnight().assume_utc());
    let claimed: Vec<(Uuid,)> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok((inside, claimed.into_iter().map(|(id,)| id).collect()))
}

/// A catchment: (facility, village, percent, the village's population and families).
pub type Catchment = (Uuid, Uuid, i64, i64, i64);

/// Every catchment.
pub async fn catchments(tx: &mut Tx) -> Result<Vec<Catchment>> {
    let rows = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT hc.health_facility_id, hc.location_id, hc.catchment, \
             COALESCE(v.male_population, 0) + COALESCE(v.female_population, 0) + COALESCE(v.other_population, 0), \
             COALESCE(v.families, 0) FROM health_facility_catchments hc JOIN locations v ON v.id = hc.location_id",
        )
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows)
}

/// Per village: the insurees and families the product covers at some time in [start, end].
pub async fn insured_by_village(
    tx: &mut Tx,
    product: Uuid,
    start: Date,
    end: Date,
) -> Result<Vec<(Uuid, i64, i64)>> {
    let rows = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT f.location_id, COUNT(DISTINCT ip.insuree_id), COUNT(DISTINCT p.family_id) \
             FROM insuree_policies ip JOIN policies p ON p.id = ip.policy_id JOIN families f ON f.id = p.family_id \
             WHERE p.product_id = $1 AND ip.deleted_at IS NULL AND p.deleted_at IS NULL \
             AND ip.effective_date IS NOT NULL AND ip.effective_date <= $2 AND ip.expiry_date >= $3 \
             GROUP BY f.location_id",
        )
        .bind(product)
        .bind(end)
        .bind(start)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows)
}

/// Per facility: the claims with lines of the product processed in [start, end], and the
/// approved value of those lines.
pub async fn visits_by_facility(
    tx: &mut Tx,
    product: Uuid,
    start: Date,
    end: Date,
) -> Result<Vec<(Uuid, i64, i64)>> {
    let rows = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.health_facility_id, COUNT(DISTINCT c.id), \
             CAST(COALESCE(SUM(COALESCE(l.qty_approved, l.qty) * COALESCE(l.price_approved, l.price_adjusted, 0)), 0) AS BIGINT) \
             FROM claims c JOIN claim_lines l ON l.claim_id = c.id \
             WHERE c.deleted_at IS NULL AND c.status IN ('processed', 'valuated') AND l.status = 'passed' \
             AND l.product_id = $1 AND c.processed_at >= $2 AND c.processed_at < $3 GROUP BY c.health_facility_id",
        )
        .bind(product)
        .bind(start.midnight().assume_utc())
        .bind(end.next_day().unwrap_or(end).midnight().assume_utc())
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows)
}

pub async fn save_capitation(tx: &mut Tx, run: Uuid, rows: &[CapitationPayment]) -> Result<()> {
    on_tx!(tx, conn => {
        for r in rows {
            sqlx::query("DELETE FROM capitation_payments WHERE batch_run_id = $1 AND product_id = $2 AND health_facility_id = $3")
                .bind(run)
                .bind(r.product_id)
                .bind(r.health_facility_id)
                .execute(&mut **conn)
                .await?;
            sqlx::query(
                "INSERT INTO capitation_payments (batch_run_id, product_id, health_facility_id, population, families, \
                 insured_insurees, insured_families, visits, adjusted, amount_population, amount_families, \
                 amount_insured_insurees, amount_insured_families, amount_visits, amount_adjusted, payment) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(run)
            .bind(r.product_id)
            .bind(r.health_facility_id)
            .bind(r.population)
            .bind(r.families)
            .bind(r.insured_insurees)
            .bind(r.insured_families)
            .bind(r.visits)
            .bind(r.adjusted)
            .bind(r.amount_population)
            .bind(r.amount_families)
            .bind(r.amount_insured_insurees)
            .bind(r.amount_insured_families)
            .bind(r.amount_visits)
            .bind(r.amount_adjusted)
            .bind(r.payment)
            .execute(&mut **conn)
            .await?;
        }
    });
    Ok(())
}

pub async fn capitation_of(tx: &mut Tx, run: Uuid) -> Result<Vec<CapitationPayment>> {
    let rows = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT cp.product_id, cp.health_facility_id, cp.population, cp.families, cp.insured_insurees, \
             cp.insured_families, cp.visits, cp.adjusted, cp.amount_population, cp.amount_families, \
             cp.amount_insured_insurees, cp.amount_insured_families, cp.amount_visits, cp.amount_adjusted, cp.payment \
             FROM capitation_payments cp JOIN health_facilities h ON h.id = cp.health_facility_id \
             WHERE cp.batch_run_id = $1 ORDER BY cp.product_id, h.code",
        )
        .bind(run)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows)
}

// ---------------------------------------------------------------- attachments

const ATTACHMENT_COLUMNS: &str = "id, claim_id, title, filename, content_type, size, created_at";

pub async fn insert_attachment(tx: &mut Tx, a: &Attachment, data: &[u8]) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO claim_attachments (id, claim_id, title, filename, content_type, size, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id)
        .bind(a.claim_id)
        .bind(&a.title)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(data)
        .bind(a.created_at)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

pub async fn attachments(tx: &mut Tx, claim: Uuid) -> Result<Vec<Attachment>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM claim_attachments WHERE claim_id = $1 ORDER BY created_at, id"
    );
    let rows = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(claim).fetch_all(&mut **conn).await?
    });
    Ok(rows)
}

/// One attachment of a claim with its bytes.
pub async fn attachment(
    tx: &mut Tx,
    claim: Uuid,
    id: Uuid,
) -> Result<Option<(Attachment, Vec<u8>)>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM claim_attachments WHERE claim_id = $1 AND id = $2"
    );
    let found: Option<Attachment> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(claim).bind(id).fetch_optional(&mut **conn).await?
    });
    let Some(found) = found else { return Ok(None) };
    let (data,): (Vec<u8>,) = on_tx!(tx, conn => {
        sqlx::query_as("SELECT data FROM claim_attachments WHERE id = $1").bind(id).fetch_one(&mut **conn).await?
    });
    Ok(Some((found, data)))
}

pub async fn delete_attachment(tx: &mut Tx, claim: Uuid, id: Uuid) -> Result<bool> {
    let n = on_tx!(tx, conn => {
        sqlx::query("DELETE FROM claim_attachments WHERE claim_id = $1 AND id = $2")
            .bind(claim)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

// ---------------------------------------------------------------- what eligibility reads

/// What the insuree's claims used under each of their policies: counts of claims per category
/// within each window, units of the item and service asked about, and the ledger's sums.
pub async fn usage(
    tx: &mut Tx,
    insuree: Uuid,
    item: Option<Uuid>,
    service: Option<Uuid>,
) -> Result<Vec<policy::service::ClaimsUsed>> {
    // (policy, claim, category, item or service asked about, its units)
    type UsedRow = (Uuid, Uuid, Option<String>, Option<Uuid>, Option<i64>);
    let rows: Vec<UsedRow> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT ip.policy_id, c.id, c.category, l.register_id, COALESCE(l.qty_approved, l.qty) \
             FROM insuree_policies ip JOIN claims c ON c.insuree_id = ip.insuree_id AND c.deleted_at IS NULL \
             AND c.status IN ('checked', 'processed', 'valuated') \
             AND COALESCE(c.date_to, c.date_from) >= ip.effective_date AND COALESCE(c.date_to, c.date_from) <= ip.expiry_date \
             LEFT JOIN claim_lines l ON l.claim_id = c.id AND l.status = 'passed' AND (l.register_id = $2 OR l.register_id = $3) \
             WHERE ip.insuree_id = $1 AND ip.deleted_at IS NULL AND ip.effective_date IS NOT NULL",
        )
        .bind(insuree)
        .bind(item.unwrap_or(Uuid::nil()))
        .bind(service.unwrap_or(Uuid::nil()))
        .fetch_all(&mut **conn)
        .await?
    });
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<policy::service::ClaimsUsed> = Vec::new();
    let mut counted: std::collections::HashSet<(Uuid, Uuid)> = std::collections::HashSet::new();
    for (policy_id, claim, category, register, qty) in rows {
        let at = match out.iter().position(|u| u.policy_id == policy_id) {
            Some(i) => i,
            None => {
                out.push(policy::service::ClaimsUsed {
                    policy_id,
                    ..Default::default()
                });
                out.len() - 1
            }
        };
        let used = &mut out[at];
        if counted.insert((policy_id, claim)) {
            let u = &mut used.usage;
            match category.as_deref().and_then(rules::Category::from_code) {
                Some(rules::Category::Consultation) => u.consultations += 1,
                Some(rules::Category::Surgery) => u.surgeries += 1,
                Some(rules::Category::Delivery) => u.deliveries += 1,
                Some(rules::Category::Hospitalization) => u.hospitalizations += 1,
                Some(rules::Category::Antenatal) => u.antenatal += 1,
                Some(rules::Category::Visit) | None => u.visits += 1,
                Some(rules::Category::Other) => {}
            }
        }
        match (register, qty) {
            (Some(r), Some(q)) if Some(r) == item => used.item_units += q,
            (Some(r), Some(q)) if Some(r) == service => used.service_units += q,
            _ => {}
        }
    }
    let policies: Vec<Uuid> = out.iter().map(|u| u.policy_id).collect();
    for (policy_id, l) in ledgers(tx, insuree, &policies, None).await? {
        if let Some(used) = out.iter_mut().find(|u| u.policy_id == policy_id) {
            let u = &mut used.usage;
            u.deductible_insuree = l.insuree.ded;
            u.deductible_policy = l.policy.ded;
            u.remunerated_insuree = l.insuree.rem;
            u.remunerated_policy = l.policy.rem;
            u.amount_consultation = l.insuree.rem_consultation;
            u.amount_surgery = l.insuree.rem_surgery;
            u.amount_delivery = l.insuree.rem_delivery;
            u.amount_hospitalization = l.insuree.rem_hospitalization;
            u.amount_antenatal = l.insuree.rem_antenatal;
        }
    }
    Ok(out)
}

/// A health facility as claims need it (no catchments).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimFacility {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub level: String,
    pub care_type: String,
    /// The district.
    pub location_id: Uuid,
    pub items_pricelist_id: Option<Uuid>,
    pub services_pricelist_id: Option<Uuid>,
}

impl ClaimFacility {
    pub fn level(&self) -> rules::FacilityLevel {
        rules::FacilityLevel::from_code(&self.level).unwrap_or(rules::FacilityLevel::Dispensary)
    }

    pub fn care_type(&self) -> CareType {
        CareType::from_code(&self.care_type).unwrap_or(CareType::Both)
    }
}

/// A current health facility, in one statement.
pub async fn facility(tx: &mut Tx, id: Uuid) -> Result<Option<ClaimFacility>> {
    let row = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id, code, name, level, care_type, location_id, items_pricelist_id, services_pricelist_id \
             FROM health_facilities WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row)
}
