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
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO claims ({CLAIM_WRITE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, \
                 $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)"
            ))),
            Some(_) => sqlx::query(
                "UPDATE claims SET code = $1, health_facility_id = $2, district_id = $3, insuree_id = $4, \
                 admin_id = $5, date_claimed = $6, date_from = $7, date_to = $8, visit_type = $9, icd = $10, \
                 secondary_icd = $11, explanation = $12, guarantee_no = $13, refer_from_id = $14, refer_to_id = $15, \
                 referral_code = $16, status = $17, review_status = $18, feedback_status = $19, \
                 rejection_reason = $20, decision = $21, category = $22, flags = $23, claimed = $24, approved = $25, \
                 valuated = $26, remunerated = $27, submitted_at = $28, processed_at = $29, risk = $30, \
                 reviewer_id = $31, review_selected_at = $32, reviewed_at = $33, adjustment = $34, \
                 batch_run_id = $35, version = $36, created_at = $37, updated_at = $38 \
                 WHERE id = $39 AND version = $40 AND deleted_at IS NULL",
            ),
        };
        let query = bind_claim!(query, c);
        let query = match expected_version {
            Some(v) => query.bind(v),
            None => query,
        };
        query.execute(&mut **conn).await?.rows_affected()
    });
    Ok(written == 1)
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: Uuid,
    kind: String,
    register_id: Uuid,
    code: Option<String>,
    name: Option<String>,
    qty: i64,
    price_asked: i64,
    explanation: Option<String>,
    status: String,
    rejection_reason: Option<i16>,
    rule: Option<String>,
    decision: Option<String>,
    compared: Option<String>,
    qty_approved: Option<i64>,
    price_adjusted: Option<i64>,
    product_id: Option<Uuid>,
    policy_id: Option<Uuid>,
    price_origin: Option<String>,
    limitation: Option<String>,
    limitation_value: Option<i64>,
    price_approved: Option<i64>,
    justification: Option<String>,
    deductible: Option<i64>,
    exceed_ceiling: Option<i64>,
    exceed_ceiling_category: Option<i64>,
    valuated: Option<i64>,
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

const LINE_COLUMNS: &str = "l.id, l.kind, l.register_id, COALESCE(it.code, sv.code) AS code, \
     COALESCE(it.name, sv.name) AS name, l.qty, l.price_asked, l.explanation, l.status, l.rejection_reason, l.rule, \
     l.decision, l.compared, l.qty_approved, l.price_adjusted, l.product_id, l.policy_id, l.price_origin, l.limitation, \
     l.limitation_value, l.price_approved, l.justification, l.deductible, l.exceed_ceiling, l.exceed_ceiling_category, \
     l.valuated, l.remunerated";

/// The lines with their item's or service's code and name.
const LINE_FROM: &str = "claim_lines l \
     LEFT JOIN medical_items it ON l.kind = 'I' AND it.id = l.register_id \
     LEFT JOIN medical_services sv ON l.kind = 'S' AND sv.id = l.register_id";

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

/// Bind a line's columns in the order of [`LINE_WRITE_COLUMNS`].
macro_rules! bind_line {
    ($query:expr, $w:expr) => {{
        let w: &LineWrite = $w;
        let l = w.line;
        $query
            .bind(w.claim_id)
            .bind(w.position)
            .bind(w.kind.code())
            .bind(l.register_id)
            .bind(l.qty)
            .bind(l.price_asked)
            .bind(&l.explanation)
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
            .bind(l.id)
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
    let writes: Vec<LineWrite> = claim
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
        .collect();
    if !writes.is_empty() {
        store::bulk_insert!(tx, "claim_lines", LINE_WRITE_COLUMNS, &writes, bind_line)?;
    }
    Ok(())
}

/// A current claim with its lines.
pub async fn get_claim(tx: &mut Tx, id: Uuid) -> Result<Option<Claim>> {
    let sql =
        format!("SELECT {CLAIM_COLUMNS} FROM claims c WHERE c.id = $1 AND c.deleted_at IS NULL");
    let row: Option<ClaimRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **conn).await?
    });
    let Some(row) = row else {
        return Ok(None);
    };
    let mut claim = Claim::from(row);
    let sql =
        format!("SELECT {LINE_COLUMNS} FROM {LINE_FROM} WHERE l.claim_id = $1 ORDER BY l.position");
    let lines: Vec<LineRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&mut **conn).await?
    });
    for row in lines {
        match row.into_line() {
            (LineKind::Item, line) => claim.items.push(line),
            (LineKind::Service, line) => claim.services.push(line),
        }
    }
    if claim.feedback_status != ReviewStatus::Idle {
        claim.feedback = feedback(tx, id).await?;
    }
    Ok(Some(claim))
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
    /// `None` = everyone; otherwise the districts the actor holds.
    pub scope: Option<Vec<Uuid>>,
}

fn claim_where(f: &ClaimFilter) -> Sql {
    let mut sql = Sql::new(" FROM claims c WHERE c.deleted_at IS NULL");
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
    let (rows, total): (Vec<ClaimRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {CLAIM_COLUMNS}"),
        &claim_where(filter),
        "c.date_claimed DESC, c.code, c.id",
        limit,
        offset,
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

/// What the insuree received in their other submitted, unrejected claims: every passed line
/// and every claim with its category, dated by the claim's target date. One statement.
pub async fn history(tx: &mut Tx, insuree: Uuid, except: Uuid) -> Result<History> {
    // (claim, category, from, to, line kind, item or service, units)
    type Row = (
        Uuid,
        Option<String>,
        Date,
        Option<Date>,
        Option<String>,
        Option<Uuid>,
        Option<i64>,
    );
    let rows: Vec<Row> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.id, c.category, c.date_from, c.date_to, l.kind, l.register_id, COALESCE(l.qty_approved, l.qty) \
             FROM claims c LEFT JOIN claim_lines l ON l.claim_id = c.id AND l.status = 'passed' \
             WHERE c.insuree_id = $1 AND c.id <> $2 AND c.deleted_at IS NULL \
             AND c.status IN ('checked', 'processed', 'valuated') ORDER BY c.id",
        )
        .bind(insuree)
        .bind(except)
        .fetch_all(&mut **conn)
        .await?
    });
    let mut history = History::default();
    let mut last = None;
    for (claim, category, from, to, kind, register, qty) in rows {
        let date = to.unwrap_or(from);
        if last != Some(claim) {
            last = Some(claim);
            history.claims.push(PastClaim {
                category: category.as_deref().and_then(rules::Category::from_code),
                date,
            });
        }
        if let (Some(kind), Some(register_id), Some(qty)) = (kind, register, qty) {
            history.provisions.push(Provision {
                kind: LineKind::from_code(&kind).unwrap_or(LineKind::Item),
                register_id,
                date,
                qty,
            });
        }
    }
    Ok(history)
}

/// Another claim of the same visit: its code and its lines' (kind, item or service).
pub type SameVisit = (String, Vec<(String, Uuid)>);

/// What a submission's flags look at, in one statement: the other current, unrejected claims of
/// the same insuree at the same facility on the same dates with their lines' items and
/// services, and which of `codes` are current ICD codes.
pub async fn flag_facts(
    tx: &mut Tx,
    claim: &Claim,
    codes: &[String],
) -> Result<(Vec<SameVisit>, Vec<String>)> {
    let mut sql = Sql::new(
        "SELECT 'V' AS tag, c.code, l.kind, l.register_id FROM claims c \
         LEFT JOIN claim_lines l ON l.claim_id = c.id \
         WHERE c.insuree_id = ",
    );
    sql.arg(claim.insuree_id)
        .push(" AND c.health_facility_id = ")
        .arg(claim.health_facility_id)
        .push(" AND c.date_from = ")
        .arg(claim.date_from)
        .push(" AND COALESCE(c.date_to, c.date_from) = ")
        .arg(claim.date_to.unwrap_or(claim.date_from))
        .push(" AND c.id <> ")
        .arg(claim.id)
        .push(" AND c.deleted_at IS NULL AND c.status <> 'rejected'");
    if !codes.is_empty() {
        sql.push(
            " UNION ALL SELECT 'D' AS tag, d.code, CAST(NULL AS TEXT), NULL FROM diagnoses d \
             WHERE d.deleted_at IS NULL AND d.code IN ",
        )
        .list(codes.iter().map(String::as_str));
    }
    let rows: Vec<(String, String, Option<String>, Option<Uuid>)> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    let mut visits: Vec<SameVisit> = Vec::new();
    let mut known = Vec::new();
    for (tag, code, kind, register) in rows {
        if tag == "D" {
            known.push(code);
            continue;
        }
        // A facility's claim codes are unique: the code names the claim.
        let at = match visits.iter().position(|(c, _)| *c == code) {
            Some(i) => i,
            None => {
                visits.push((code, Vec::new()));
                visits.len() - 1
            }
        };
        if let (Some(kind), Some(register)) = (kind, register) {
            visits[at].1.push((kind, register));
        }
    }
    Ok((visits, known))
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

/// Replace this claim's ledger rows: one per policy that paid it.
pub async fn replace_ded_rem(
    tx: &mut Tx,
    claim: &Claim,
    rows: &[(Uuid, rules::valuation::Used)],
    at: OffsetDateTime,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM claim_ded_rem WHERE claim_id = $1")
            .bind(claim.id)
            .execute(&mut **conn)
            .await?;
        for (policy, u) in rows {
            sqlx::query(
                "INSERT INTO claim_ded_rem (claim_id, policy_id, insuree_id, ded_g, ded_ip, ded_op, rem_g, rem_ip, \
                 rem_op, rem_surgery, rem_delivery, rem_antenatal, rem_hospitalization, rem_consultation, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(claim.id)
            .bind(*policy)
            .bind(claim.insuree_id)
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

/// Processed claims of the run's scope processed by the end of the month and not yet in a run,
/// at most `limit`.
pub async fn claims_to_valuate(
    tx: &mut Tx,
    location: Option<Uuid>,
    end: Date,
    limit: i64,
) -> Result<Vec<Uuid>> {
    let mut sql = Sql::new(
        "SELECT c.id FROM claims c WHERE c.deleted_at IS NULL AND c.status = 'processed' AND c.batch_run_id IS NULL \
         AND c.processed_at < ",
    );
    sql.arg(end.next_day().unwrap_or(end).midnight().assume_utc());
    run_scope(&mut sql, location);
    sql.push(" ORDER BY c.id LIMIT ").arg(limit);
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        store::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

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
