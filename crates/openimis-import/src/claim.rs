//! The claim module's tables: tblBatchRun, tblClaim with tblClaimItems and tblClaimServices,
//! and tblClaimDedRem.
//!
//! Claims arrive as openIMIS left them: statuses, amounts, the category, and on every line the
//! verdict, the reason, the approved quantity and prices, the product and policy that paid it and
//! what the deductible and the ceilings took. Nothing is adjudicated or valuated again. A claim is
//! written with its lines in one transaction (the three files are counted apart).
//!
//! openIMIS deletes a claim by closing its row (ValidityTo, no LegacyID) and leaves its lines
//! and its ledger rows open: the claim comes as a deleted record (not listed, its code free for a
//! current claim) with its lines and its ledger rows, which count in the running deductibles and
//! ceilings as they did in openIMIS. A current claim of an insuree, or a line or ledger row under
//! a policy, deleted in openIMIS stands: the registry and policy imports keep those as deleted
//! records. tblBatchRun,
//! tblClaimItems and tblClaimServices have no UUID column: each row gets a name-based UUID made
//! from its id, so that a second run finds it again.

use crate::csvfile::{self, Row};
use crate::{
    History, LegacyIds, Progress, Report, TableRun, import_entry, legacy_map, mark_deleted_with,
    placeholder,
};
use ::claim::model::*;
use ::claim::rules::valuation::Used;
use ::claim::service::{BATCH_RUN, CLAIM};
use ::claim::store as sql;
use ::registry::store::row_exists;
use kernel::{Actor, audit};
use product::model::{LimitationType, PriceOrigin};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use store::{Db, Tx, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The namespace of the UUIDs given to rows that have none in openIMIS (the same as policy.rs's:
/// the table's name is part of each UUID's name).
const NAMESPACE: Uuid = Uuid::from_u128(0x81ca4078_23c9_48af_b4d6_7b79b4d40c09);

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
pub(crate) struct Ids {
    /// tblBatchRun.RunID → batch run (history rows map to their current run).
    pub(crate) batch_runs: HashMap<i64, Uuid>,
    /// tblClaim.ClaimID → claim (history rows map to their current or deleted claim).
    pub(crate) claims: HashMap<i64, Uuid>,
}

pub(crate) async fn import(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let claims = ClaimFile::read(dir)?;
    let runs = import_batch_runs(db, dir, actor, progress, report, ids, &claims.rows).await?;
    ids.claim.claims = legacy_map(&claims.rows, "ClaimID", "ClaimUUID");
    let ids = &*ids;
    // Insurees and policies deleted in openIMIS are there as deleted records: a current claim
    // or ledger row that names one stands.
    let refs = Refs {
        ids,
        insurees: Legacy {
            map: &ids.registry.insurees,
            table: "insurees",
            what: "insuree",
        },
        policies: Legacy {
            map: &ids.policy.policies,
            table: "policies",
            what: "policy",
        },
        present_runs: &runs,
    };
    let present = import_claims(db, dir, actor, progress, report, &refs, &claims).await?;
    import_ded_rem(db, dir, actor, progress, report, &refs, &claims, &present).await
}

// ---------------------------------------------------------------- reading rows

/// The UUID of a row of a table that has no UUID column: the same on every run (see
/// `policy::derived_uuid`: version 8 over SHA-256 of the namespace and the name).
fn derived_uuid(table: &str, id: i64) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(NAMESPACE.as_bytes());
    hash.update(format!("{table}:{id}").as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn required_int(row: &Row, column: &str) -> Result<i64, String> {
    row.int(column)?.ok_or_else(|| format!("{column} is empty"))
}

fn required_date(row: &Row, column: &str) -> Result<Date, String> {
    row.date(column)?
        .ok_or_else(|| format!("{column} is empty"))
}

/// A text column of at most `max` characters (`None` when empty).
fn text_max(row: &Row, column: &str, max: usize) -> Result<Option<String>, String> {
    match row.get(column) {
        Some(v) if v.chars().count() > max => Err(format!(
            "{column} has {} characters; at most {max} are allowed",
            v.chars().count()
        )),
        v => Ok(v.map(str::to_string)),
    }
}

/// An amount that may be empty and is never negative, in minor units.
fn amount(row: &Row, column: &str) -> Result<Option<i64>, String> {
    match row.money(column)? {
        Some(v) if v < 0 => Err(format!("{column} is negative")),
        v => Ok(v),
    }
}

/// A quantity ("2.00") that may be empty and is never negative.
fn quantity(row: &Row, column: &str) -> Result<Option<i64>, String> {
    match row.whole(column)? {
        Some(v) if v < 0 => Err(format!("{column} is negative")),
        v => Ok(v),
    }
}

fn stamp(row: &Row) -> Result<OffsetDateTime, String> {
    Ok(row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros))
}

/// A one-letter code of one of Bima's lists (`None` when empty).
fn letter<T>(
    row: &Row,
    column: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, String> {
    row.get(column)
        .map(|v| parse(v).ok_or_else(|| format!("{column} \"{v}\" is not {allowed}")))
        .transpose()
}

/// An openIMIS status bitmask (1, 2, 4, 8, 16) as one of `statuses`, in that order.
fn bitmask<T: Copy>(row: &Row, column: &str, statuses: [T; 5]) -> Result<Option<T>, String> {
    let Some(code) = row.int(column)? else {
        return Ok(None);
    };
    [1, 2, 4, 8, 16]
        .iter()
        .position(|c| *c == code)
        .map(|i| statuses[i])
        .map(Some)
        .ok_or_else(|| format!("{column} {code} is not 1, 2, 4, 8 or 16"))
}

fn reason(row: &Row, column: &str) -> Result<Option<Reason>, String> {
    row.int(column)?
        .map(|code| {
            Reason::from_code(code)
                .ok_or_else(|| format!("{column} {code} is not an openIMIS rejection reason"))
        })
        .transpose()
}

/// How the ids of one openIMIS table resolve, and which Bima table holds their rows.
struct Legacy<'a> {
    /// Current ids and history ids → the current record's UUID (for insurees and policies,
    /// deleted records' ids too).
    map: &'a HashMap<i64, Uuid>,
    table: &'static str,
    what: &'static str,
}

impl Legacy<'_> {
    /// The record `column` names and what the database must hold for it (`None` when empty).
    fn resolve(&self, row: &Row, column: &str) -> Result<Option<(Uuid, Needs)>, String> {
        let Some(legacy) = row.int(column)? else {
            return Ok(None);
        };
        if let Some(uuid) = self.map.get(&legacy) {
            let missing = format!("the {} {legacy} was not imported", self.what);
            return Ok(Some((*uuid, self.needs(*uuid, missing))));
        }
        let article = if self.what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        Err(format!(
            "{column} {legacy} is not {article} {} of this export",
            self.what
        ))
    }

    fn required(&self, row: &Row, column: &str) -> Result<(Uuid, Needs), String> {
        self.resolve(row, column)?
            .ok_or_else(|| format!("{column} is empty"))
    }

    fn needs(&self, id: Uuid, missing: String) -> Needs {
        Needs {
            table: self.table,
            id,
            missing,
        }
    }
}

/// A row that must be in the database for a claim or a line to stand.
struct Needs {
    table: &'static str,
    id: Uuid,
    /// Why the row cannot be imported without it.
    missing: String,
}

/// What the database holds of the rows that claims name, asked once per row named.
#[derive(Default)]
struct Known {
    present: HashMap<(&'static str, Uuid), bool>,
    diagnoses: HashMap<Uuid, Option<String>>,
}

impl Known {
    async fn exists(&mut self, tx: &mut Tx, table: &'static str, id: Uuid) -> anyhow::Result<bool> {
        if let Some(found) = self.present.get(&(table, id)) {
            return Ok(*found);
        }
        let found = row_exists(tx, table, id).await?;
        self.present.insert((table, id), found);
        Ok(found)
    }

    /// The first reason a needed row is missing.
    async fn check(&mut self, tx: &mut Tx, needs: &[Needs]) -> anyhow::Result<Result<(), String>> {
        for n in needs {
            if !self.exists(tx, n.table, n.id).await? {
                return Ok(Err(n.missing.clone()));
            }
        }
        Ok(Ok(()))
    }

    /// The ICD code of an imported diagnosis (one deleted in openIMIS too: a claim keeps the
    /// code it was made with).
    async fn diagnosis(&mut self, tx: &mut Tx, id: Uuid) -> anyhow::Result<Option<String>> {
        if let Some(code) = self.diagnoses.get(&id) {
            return Ok(code.clone());
        }
        let code: Option<(String,)> = on_tx!(tx, conn => {
            sqlx::query_as("SELECT code FROM diagnoses WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?
        });
        let code = code.map(|(c,)| c);
        self.diagnoses.insert(id, code.clone());
        Ok(code)
    }
}

// ---------------------------------------------------------------- batch runs

/// A batch run of a row: done, with the number of current claims it valuated.
fn batch_run_from_row(
    row: &Row,
    ids: &LegacyIds,
    valuated: &HashMap<i64, i64>,
) -> Result<BatchRun, String> {
    let legacy = required_int(row, "RunID")?;
    let location_id = ids.region_or_district(row.int("LocationId")?, "the batch run")?;
    let year = required_int(row, "RunYear")?;
    let year = i32::try_from(year).map_err(|_| format!("RunYear {year} is out of range"))?;
    let month = required_int(row, "RunMonth")?;
    let month = u8::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| format!("RunMonth {month} is not a month"))?;
    let run_date = match row.timestamp("RunDate")? {
        Some(at) => at,
        None => stamp(row)?,
    };
    Ok(BatchRun {
        id: derived_uuid("tblBatchRun", legacy),
        location_id,
        year,
        month,
        status: BatchStatus::Done,
        progress: 100,
        claims_valuated: valuated.get(&legacy).copied().unwrap_or(0),
        error: None,
        run_date,
        finished_at: Some(run_date),
        indexes: Vec::new(),
        version: 1,
    })
}

/// Answers the batch runs present after the run (imported now or earlier).
async fn import_batch_runs(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
    claims: &[Row],
) -> anyhow::Result<HashSet<Uuid>> {
    let mut present = HashSet::new();
    let Some(rows) = csvfile::read(dir, "tblBatchRun")? else {
        return Ok(present);
    };
    // Current runs keep their id; a history row maps to the run its LegacyID names.
    for row in rows.iter().filter(|r| r.is_current()) {
        if let Ok(Some(legacy)) = row.int("RunID") {
            ids.claim
                .batch_runs
                .insert(legacy, derived_uuid("tblBatchRun", legacy));
        }
    }
    for row in rows.iter().filter(|r| !r.is_current()) {
        if let (Ok(Some(legacy)), Ok(Some(current))) = (row.int("RunID"), row.int("LegacyID"))
            && let Some(uuid) = ids.claim.batch_runs.get(&current).copied()
        {
            ids.claim.batch_runs.insert(legacy, uuid);
        }
    }
    // How many current claims each run valuated.
    let mut valuated: HashMap<i64, i64> = HashMap::new();
    for claim in claims {
        if claim.is_current()
            && let Ok(Some(run)) = claim.int("RunID")
        {
            *valuated.entry(run).or_default() += 1;
        }
    }
    let mut run = TableRun::new(db, "tblBatchRun", rows.len(), progress);
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match batch_run_from_row(row, ids, &valuated) {
            Err(reason) => run.skip(row, reason),
            Ok(batch) => {
                let tx = run.tx().await?;
                if row_exists(tx, "batch_runs", batch.id).await? {
                    run.count.unchanged += 1;
                } else if sql::batch_run_exists(tx, batch.location_id, batch.year, batch.month)
                    .await?
                {
                    run.skip(
                        row,
                        format!(
                            "a batch run of {} for {}-{:02} is already recorded",
                            sql::scope_key(batch.location_id),
                            batch.year,
                            batch.month
                        ),
                    );
                    continue;
                } else {
                    // Recorded as a run that went through: done, at 100 %.
                    sql::insert_batch_run(tx, &batch).await?;
                    sql::set_batch_progress(
                        tx,
                        batch.id,
                        BatchStatus::Done,
                        batch.progress,
                        batch.claims_valuated,
                        None,
                        batch.run_date,
                    )
                    .await?;
                    audit::append(
                        tx,
                        actor,
                        BATCH_RUN,
                        batch.id,
                        "import",
                        None::<&()>,
                        Some(&batch),
                    )
                    .await?;
                    run.count.imported += 1;
                }
                present.insert(batch.id);
                run.done().await?;
            }
        }
    }
    run.finish(report).await?;
    Ok(present)
}

// ---------------------------------------------------------------- claims

/// tblClaim, read once for the claims and for the ledger.
struct ClaimFile {
    rows: Vec<Row>,
    /// ClaimID → the ClaimID of its record: itself for a current claim or one deleted in
    /// openIMIS, the record its LegacyID names for a history row.
    records: HashMap<i64, i64>,
    /// Every ClaimID of the file.
    in_file: HashSet<i64>,
}

impl ClaimFile {
    fn read(dir: &Path) -> anyhow::Result<ClaimFile> {
        let rows = csvfile::read(dir, "tblClaim")?.unwrap_or_default();
        let mut records = HashMap::new();
        let mut in_file = HashSet::new();
        let is_record = |r: &Row| r.is_current() || r.is_deleted();
        for row in &rows {
            if let Ok(Some(id)) = row.int("ClaimID") {
                in_file.insert(id);
                if is_record(row) {
                    records.insert(id, id);
                }
            }
        }
        for row in rows.iter().filter(|r| !is_record(r)) {
            if let (Ok(Some(id)), Ok(Some(legacy))) = (row.int("ClaimID"), row.int("LegacyID"))
                && records.get(&legacy) == Some(&legacy)
            {
                records.insert(id, legacy);
            }
        }
        Ok(ClaimFile {
            rows,
            records,
            in_file,
        })
    }

    /// The claim (current or deleted in openIMIS) a `ClaimID` names: `Ok(Some)`; `Ok(None)`
    /// when it names a history row that leads to no claim (the row is history too); `Err` when
    /// the export has no such claim.
    fn claim_of(&self, row: &Row) -> Result<Option<i64>, String> {
        let legacy = required_int(row, "ClaimID")?;
        match self.records.get(&legacy) {
            Some(current) => Ok(Some(*current)),
            None if self.in_file.contains(&legacy) => Ok(None),
            None => Err(format!("ClaimID {legacy} is not a claim of this export")),
        }
    }
}

/// How this module resolves the ids a claim, a line or a ledger row names.
struct Refs<'a> {
    ids: &'a LegacyIds,
    insurees: Legacy<'a>,
    policies: Legacy<'a>,
    /// The batch runs present after their import.
    present_runs: &'a HashSet<Uuid>,
}

impl Refs<'_> {
    fn facility(&self, row: &Row, column: &str) -> Result<Option<(Uuid, Uuid)>, String> {
        let Some(legacy) = row.int(column)? else {
            return Ok(None);
        };
        let id =
            *self.ids.facilities.get(&legacy).ok_or_else(|| {
                format!("{column} {legacy} is not a health facility of this export")
            })?;
        let district = *self
            .ids
            .facility_districts
            .get(&id)
            .ok_or_else(|| format!("the health facility {legacy} was not imported"))?;
        Ok(Some((id, district)))
    }
}

/// A claim read from its row, before the database is asked about what it names.
struct Parsed {
    claim: Claim,
    /// ICDID, ICDID1…4 that are set: (column, diagnosis, why it would be missing).
    diagnoses: Vec<(&'static str, Uuid, String)>,
    needs: Vec<Needs>,
    /// The Claimed column was empty: Σ quantity × asked price of its lines.
    claimed_missing: bool,
}

fn claim_from_row(row: &Row, refs: &Refs, admins: &Legacy) -> Result<Parsed, String> {
    let id = row.uuid("ClaimUUID")?;
    let code = text_max(row, "ClaimCode", 50)?.ok_or("ClaimCode is empty")?;
    let (health_facility_id, district_id) = refs.facility(row, "HFID")?.ok_or("HFID is empty")?;
    let mut needs = Vec::new();
    let (insuree_id, insuree) = refs.insurees.required(row, "InsureeID")?;
    needs.push(insuree);
    let admin_id = match admins.resolve(row, "ClaimAdminId")? {
        None => None,
        Some((user, admin)) => {
            needs.push(admin);
            Some(user)
        }
    };
    let diagnosis = Legacy {
        map: &refs.ids.medical.diagnoses,
        table: "diagnoses",
        what: "diagnosis",
    };
    let mut diagnoses = Vec::new();
    for column in ["ICDID", "ICDID1", "ICDID2", "ICDID3", "ICDID4"] {
        if let Some((uuid, needs)) = diagnosis.resolve(row, column)? {
            diagnoses.push((column, uuid, needs.missing));
        }
    }
    if diagnoses.first().is_none_or(|d| d.0 != "ICDID") {
        return Err("ICDID is empty".into());
    }
    let batch_run_id =
        match row.int("RunID")? {
            None => None,
            Some(legacy) => {
                let run =
                    *refs.ids.claim.batch_runs.get(&legacy).ok_or_else(|| {
                        format!("RunID {legacy} is not a batch run of this export")
                    })?;
                if !refs.present_runs.contains(&run) {
                    return Err(format!("the batch run {legacy} was not imported"));
                }
                Some(run)
            }
        };
    let status = bitmask(
        row,
        "ClaimStatus",
        [
            ClaimStatus::Rejected,
            ClaimStatus::Entered,
            ClaimStatus::Checked,
            ClaimStatus::Processed,
            ClaimStatus::Valuated,
        ],
    )?
    .ok_or("ClaimStatus is empty")?;
    let reviews = [
        ReviewStatus::Idle,
        ReviewStatus::NotSelected,
        ReviewStatus::Selected,
        ReviewStatus::Delivered,
        ReviewStatus::Bypassed,
    ];
    let processed_at = match row.timestamp("ProcessStamp")? {
        Some(at) => Some(at),
        None => row
            .date("DateProcessed")?
            .map(|d| d.midnight().assume_utc()),
    };
    let stamp = stamp(row)?;
    let claimed = amount(row, "Claimed")?;
    Ok(Parsed {
        claim: Claim {
            id,
            code,
            health_facility_id,
            district_id,
            insuree_id,
            // Read back from the insuree.
            chfid: String::new(),
            admin_id,
            date_claimed: required_date(row, "DateClaimed")?,
            date_from: required_date(row, "DateFrom")?,
            date_to: row.date("DateTo")?,
            visit_type: letter(row, "VisitType", VisitType::from_code, "E, R or O")?
                .unwrap_or(VisitType::Other),
            // Filled in from the diagnoses.
            icd: String::new(),
            secondary_icd: Vec::new(),
            explanation: row.get("Explanation").map(str::to_string),
            guarantee_no: text_max(row, "GuaranteeId", 50)?,
            refer_from_id: refs.facility(row, "ReferFrom")?.map(|f| f.0),
            refer_to_id: refs.facility(row, "ReferTo")?.map(|f| f.0),
            referral_code: text_max(row, "referral_code", 50)?,
            status,
            review_status: bitmask(row, "ReviewStatus", reviews)?.unwrap_or(ReviewStatus::Idle),
            feedback_status: bitmask(row, "FeedbackStatus", reviews)?.unwrap_or(ReviewStatus::Idle),
            rejection_reason: reason(row, "RejectionReason")?,
            decision: None,
            category: letter(
                row,
                "ClaimCategory",
                Category::from_code,
                "S, D, A, H, C, O or V",
            )?,
            flags: Vec::new(),
            claimed: claimed.unwrap_or(0),
            approved: amount(row, "Approved")?,
            valuated: amount(row, "Valuated")?,
            remunerated: amount(row, "Remunerated")?,
            submitted_at: row.timestamp("SubmitStamp")?,
            processed_at,
            risk: None,
            reviewer_id: None,
            review_selected_at: None,
            reviewed_at: row.timestamp("ValidityFromReview")?,
            adjustment: row.get("Adjustment").map(str::to_string),
            feedback: None,
            batch_run_id,
            items: Vec::new(),
            services: Vec::new(),
            version: 1,
            created_at: stamp,
            updated_at: stamp,
        },
        diagnoses,
        needs,
        claimed_missing: claimed.is_none(),
    })
}

/// The claim of a row with its diagnoses' codes; the outer error is the database's, the inner
/// one the reason to skip.
async fn checked_claim(
    tx: &mut Tx,
    known: &mut Known,
    parsed: Parsed,
) -> anyhow::Result<Result<(Claim, bool), String>> {
    if let Err(reason) = known.check(tx, &parsed.needs).await? {
        return Ok(Err(reason));
    }
    let mut claim = parsed.claim;
    for (column, uuid, missing) in parsed.diagnoses {
        let Some(code) = known.diagnosis(tx, uuid).await? else {
            return Ok(Err(missing));
        };
        if column == "ICDID" {
            claim.icd = code;
        } else {
            claim.secondary_icd.push(code);
        }
    }
    Ok(Ok((claim, parsed.claimed_missing)))
}

// ---------------------------------------------------------------- claim lines

/// The columns that differ between tblClaimItems and tblClaimServices.
struct LineTable {
    table: &'static str,
    kind: LineKind,
    id: &'static str,
    status: &'static str,
    register: &'static str,
    register_table: &'static str,
    what: &'static str,
}

const ITEMS: LineTable = LineTable {
    table: "tblClaimItems",
    kind: LineKind::Item,
    id: "ClaimItemID",
    status: "ClaimItemStatus",
    register: "ItemID",
    register_table: "medical_items",
    what: "medical item",
};

const SERVICES: LineTable = LineTable {
    table: "tblClaimServices",
    kind: LineKind::Service,
    id: "ClaimServiceID",
    status: "ClaimServiceStatus",
    register: "ServiceID",
    register_table: "medical_services",
    what: "medical service",
};

/// A current line of a current claim, waiting for its claim.
struct Pending<'r> {
    row: &'r Row,
    kind: LineKind,
    /// Its id in its file: lines are ordered by it.
    legacy: i64,
    line: ClaimLine,
    needs: Vec<Needs>,
}

fn line_from_row(
    row: &Row,
    t: &LineTable,
    refs: &Refs,
) -> Result<(i64, ClaimLine, Vec<Needs>), String> {
    let legacy = required_int(row, t.id)?;
    let registers = match t.kind {
        LineKind::Item => &refs.ids.medical.items,
        LineKind::Service => &refs.ids.medical.services,
    };
    let (register_id, register) = Legacy {
        map: registers,
        table: t.register_table,
        what: t.what,
    }
    .required(row, t.register)?;
    let mut needs = vec![register];
    let policy_id = match refs.policies.resolve(row, "PolicyID")? {
        None => None,
        Some((policy, needed)) => {
            needs.push(needed);
            Some(policy)
        }
    };
    let products = Legacy {
        map: &refs.ids.product.products,
        table: "products",
        what: "product",
    };
    let product_id = match products.resolve(row, "ProdID")? {
        None => None,
        Some((product, needed)) => {
            needs.push(needed);
            Some(product)
        }
    };
    let status = match row.int(t.status)? {
        Some(1) => LineStatus::Passed,
        Some(2) => LineStatus::Rejected,
        Some(other) => return Err(format!("{} {other} is not 1 or 2", t.status)),
        None => return Err(format!("{} is empty", t.status)),
    };
    let limitation = letter(row, "Limitation", LimitationType::from_code, "C or F")?;
    // Co-insurance: the percent the insurer pays ("100.00"); a fixed amount: money per unit.
    let limitation_value = match (limitation, row.money("LimitationValue")?) {
        (_, None) => None,
        (Some(LimitationType::CoInsurance), Some(v)) if v % 100 == 0 => Some(v / 100),
        (Some(LimitationType::CoInsurance), Some(_)) => {
            return Err(format!(
                "LimitationValue \"{}\" is not a whole percentage",
                row.get("LimitationValue").unwrap_or("")
            ));
        }
        (_, Some(v)) => Some(v),
    };
    let line = ClaimLine {
        id: derived_uuid(t.table, legacy),
        register_id,
        // Read back from the register.
        code: String::new(),
        name: String::new(),
        qty: quantity(row, "QtyProvided")?.ok_or("QtyProvided is empty")?,
        price_asked: amount(row, "PriceAsked")?.ok_or("PriceAsked is empty")?,
        explanation: row.get("Explanation").map(str::to_string),
        status,
        rejection_reason: reason(row, "RejectionReason")?,
        rule: None,
        decision: None,
        compared: None,
        qty_approved: quantity(row, "QtyApproved")?,
        price_adjusted: amount(row, "PriceAdjusted")?,
        product_id,
        policy_id,
        price_origin: letter(row, "PriceOrigin", PriceOrigin::from_code, "P, O or R")?,
        limitation,
        limitation_value,
        price_approved: amount(row, "PriceApproved")?,
        justification: row.get("Justification").map(str::to_string),
        deductible: amount(row, "DeductableAmount")?,
        exceed_ceiling: amount(row, "ExceedCeilingAmount")?,
        exceed_ceiling_category: amount(row, "ExceedCeilingAmountCategory")?,
        valuated: amount(row, "PriceValuated")?,
        remunerated: amount(row, "RemuneratedAmount")?,
    };
    Ok((legacy, line, needs))
}

/// Read one line file: history counted, unreadable rows skipped, the rest grouped by claim.
fn read_lines<'r>(
    run: &mut TableRun<'_>,
    rows: &'r [Row],
    t: &LineTable,
    claims: &ClaimFile,
    refs: &Refs,
    pending: &mut HashMap<i64, Vec<Pending<'r>>>,
) {
    for row in rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = match claims.claim_of(row) {
            Err(reason) => Err(reason),
            Ok(None) => Ok(None),
            Ok(Some(claim)) => line_from_row(row, t, refs).map(|l| Some((claim, l))),
        };
        match parsed {
            Err(reason) => run.skip(row, reason),
            // The line of an older version of a claim.
            Ok(None) => {
                run.count.history += 1;
                run.bar.inc(1);
            }
            Ok(Some((claim, (legacy, line, needs)))) => {
                pending.entry(claim).or_default().push(Pending {
                    row,
                    kind: t.kind,
                    legacy,
                    line,
                    needs,
                })
            }
        }
    }
}

/// The ids of the lines a claim has in the database.
async fn line_ids(tx: &mut Tx, claim: Uuid) -> anyhow::Result<HashSet<Uuid>> {
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM claim_lines WHERE claim_id = $1")
            .bind(claim)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The counting of the two line files.
struct LineRuns<'a> {
    items: TableRun<'a>,
    services: TableRun<'a>,
}

impl<'a> LineRuns<'a> {
    fn of(&mut self, kind: LineKind) -> &mut TableRun<'a> {
        match kind {
            LineKind::Item => &mut self.items,
            LineKind::Service => &mut self.services,
        }
    }

    fn skip_all(&mut self, lines: &[Pending], reason: &str) {
        for p in lines {
            self.of(p.kind).skip(p.row, reason.to_string());
        }
    }
}

fn push_line(claim: &mut Claim, kind: LineKind, line: ClaimLine) {
    match kind {
        LineKind::Item => claim.items.push(line),
        LineKind::Service => claim.services.push(line),
    }
}

/// A claim present after the claims' run (imported now or earlier).
struct Present {
    insuree: Uuid,
    /// Deleted in openIMIS.
    deleted: bool,
}

/// Import the current claims and those deleted in openIMIS, with their lines. Answers the
/// claims present after the run.
async fn import_claims(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    refs: &Refs<'_>,
    claims: &ClaimFile,
) -> anyhow::Result<HashMap<Uuid, Present>> {
    let mut present = HashMap::new();
    let items = csvfile::read(dir, "tblClaimItems")?;
    let services = csvfile::read(dir, "tblClaimServices")?;
    if claims.rows.is_empty() && items.is_none() && services.is_none() {
        return Ok(present);
    }
    let (items, services) = (items.unwrap_or_default(), services.unwrap_or_default());
    // Claim administrators are users that keep their openIMIS UUID; a claim may name an older
    // version.
    let admin_map = csvfile::read(dir, "tblClaimAdmin")?
        .map(|r| legacy_map(&r, "ClaimAdminId", "ClaimAdminUUID"))
        .unwrap_or_default();
    let admins = Legacy {
        map: &admin_map,
        table: "users",
        what: "claim administrator",
    };
    let history = History::new("tblClaim", &claims.rows, "ClaimID", &refs.ids.claim.claims);
    let mut run = TableRun::new(db, "tblClaim", claims.rows.len(), progress);
    // The lines are written with their claims: only the claims' bar is drawn.
    let mut lines = LineRuns {
        items: TableRun::new(db, ITEMS.table, items.len(), Progress::Hidden),
        services: TableRun::new(db, SERVICES.table, services.len(), Progress::Hidden),
    };
    let mut pending: HashMap<i64, Vec<Pending>> = HashMap::new();
    read_lines(&mut lines.items, &items, &ITEMS, claims, refs, &mut pending);
    read_lines(
        &mut lines.services,
        &services,
        &SERVICES,
        claims,
        refs,
        &mut pending,
    );
    let mut known = Known::default();
    for row in &claims.rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let legacy = row.int("ClaimID").ok().flatten();
        let mut mine = legacy.and_then(|l| pending.remove(&l)).unwrap_or_default();
        // Items first, then services, each in the order of their ids.
        mine.sort_by_key(|p| (p.kind == LineKind::Service, p.legacy));
        let not_imported = format!(
            "the claim {} was not imported",
            legacy.map_or_else(String::new, |l| l.to_string())
        );
        let parsed = match legacy
            .ok_or_else(|| "ClaimID is empty".to_string())
            .and_then(|_| Ok((claim_from_row(row, refs, &admins)?, row.deleted_at()?)))
        {
            Ok((parsed, deleted_at)) => (parsed, deleted_at),
            Err(reason) => {
                run.skip(row, reason);
                lines.skip_all(&mine, &not_imported);
                continue;
            }
        };
        let (parsed, deleted_at) = parsed;
        let tx = run.tx().await?;
        let (mut claim, claimed_missing) = match checked_claim(tx, &mut known, parsed).await? {
            Ok(claim) => claim,
            Err(reason) => {
                run.skip(row, reason);
                lines.skip_all(&mine, &not_imported);
                continue;
            }
        };
        // Lines whose item, service, policy or product is missing are skipped; the claim stands.
        let mut good = Vec::new();
        for p in mine {
            match known.check(tx, &p.needs).await? {
                Ok(()) => good.push(p),
                Err(reason) => lines.of(p.kind).skip(p.row, reason),
            }
        }
        if row_exists(tx, "claims", claim.id).await? {
            let have = line_ids(tx, claim.id).await?;
            let (old, new): (Vec<Pending>, Vec<Pending>) =
                good.into_iter().partition(|p| have.contains(&p.line.id));
            for p in &old {
                lines.of(p.kind).count.unchanged += 1;
                lines.of(p.kind).done().await?;
            }
            // Lines the claim did not have when it was imported.
            if !new.is_empty() {
                match sql::get_claim(tx, claim.id).await? {
                    None if deleted_at.is_some() => {
                        lines.skip_all(&new, "its claim was deleted in openIMIS and is complete")
                    }
                    None => lines.skip_all(&new, "its claim was deleted in Bima"),
                    Some(before) => {
                        let mut after = before.clone();
                        for p in &new {
                            push_line(&mut after, p.kind, p.line.clone());
                        }
                        sql::replace_lines(tx, &after).await?;
                        audit::append(
                            tx,
                            actor,
                            CLAIM,
                            claim.id,
                            "import_lines",
                            Some(&before),
                            Some(&after),
                        )
                        .await?;
                        for p in &new {
                            lines.of(p.kind).count.imported += 1;
                            lines.of(p.kind).done().await?;
                        }
                    }
                }
            }
            run.counted(true, deleted_at.is_some());
        } else if deleted_at.is_none()
            && sql::code_taken(tx, claim.health_facility_id, &claim.code, None)
                .await?
                .is_some()
        {
            run.skip(
                row,
                format!(
                    "the claim code {} is already used by another claim of the health facility",
                    claim.code
                ),
            );
            lines.skip_all(&good, &not_imported);
            continue;
        } else {
            for p in &good {
                push_line(&mut claim, p.kind, p.line.clone());
            }
            if claimed_missing {
                claim.claimed = claim
                    .items
                    .iter()
                    .chain(&claim.services)
                    .map(|l| l.qty.saturating_mul(l.price_asked))
                    .fold(0i64, i64::saturating_add);
            }
            match deleted_at {
                None => {
                    sql::insert_claim(tx, &claim).await?;
                }
                // Its code may be a current claim's: kept under a placeholder until deleted.
                Some(at) => {
                    let parked = Claim {
                        code: placeholder(claim.id),
                        ..claim.clone()
                    };
                    sql::insert_claim(tx, &parked).await?;
                    mark_deleted_with(tx, "claims", "code", &claim.code, claim.id, at).await?;
                }
            }
            import_entry(actor, CLAIM, claim.id, "import", &claim, deleted_at)?
                .append(tx)
                .await?;
            history.append(tx, actor, CLAIM, claim.id).await?;
            run.counted(false, deleted_at.is_some());
            for p in &good {
                lines.of(p.kind).count.imported += 1;
                lines.of(p.kind).done().await?;
            }
        }
        present.insert(
            claim.id,
            Present {
                insuree: claim.insuree_id,
                deleted: deleted_at.is_some(),
            },
        );
        run.done().await?;
    }
    // Nothing is left unless the file repeats a ClaimID: those lines had no claim to go with.
    for (claim, rest) in pending {
        lines.skip_all(&rest, &format!("the claim {claim} was not imported"));
    }
    run.finish(report).await?;
    lines.items.finish(report).await?;
    lines.services.finish(report).await?;
    Ok(present)
}

// ---------------------------------------------------------------- the ledger

/// One ledger row as the audit records it.
#[derive(Serialize)]
struct LedgerRow {
    policy_id: Uuid,
    #[serde(flatten)]
    used: Used,
}

pub(crate) fn used_from_row(row: &Row) -> Result<Used, String> {
    let v = |column: &str| amount(row, column).map(|a| a.unwrap_or(0));
    Ok(Used {
        ded: v("DedG")?,
        ded_ip: v("DedIP")?,
        ded_op: v("DedOP")?,
        rem: v("RemG")?,
        rem_ip: v("RemIP")?,
        rem_op: v("RemOP")?,
        rem_surgery: v("RemSurgery")?,
        rem_delivery: v("RemDelivery")?,
        rem_antenatal: v("RemAntenatal")?,
        rem_hospitalization: v("RemHospitalization")?,
        rem_consultation: v("RemConsult")?,
    })
}

type LedgerColumns = (Uuid, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);

/// The ledger rows a claim has in the database, by policy.
async fn ledger_of(tx: &mut Tx, claim: Uuid) -> anyhow::Result<Vec<(Uuid, Used)>> {
    let rows: Vec<LedgerColumns> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT policy_id, ded_g, ded_ip, ded_op, rem_g, rem_ip, rem_op, rem_surgery, rem_delivery, \
             rem_antenatal, rem_hospitalization, rem_consultation FROM claim_ded_rem WHERE claim_id = $1",
        )
        .bind(claim)
        .fetch_all(&mut **conn)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(policy, ded, ded_ip, ded_op, rem, rem_ip, rem_op, s, d, a, h, c)| {
                (
                    policy,
                    Used {
                        ded,
                        ded_ip,
                        ded_op,
                        rem,
                        rem_ip,
                        rem_op,
                        rem_surgery: s,
                        rem_delivery: d,
                        rem_antenatal: a,
                        rem_hospitalization: h,
                        rem_consultation: c,
                    },
                )
            },
        )
        .collect())
}

/// One current ledger row of a present claim.
struct Entry<'r> {
    row: &'r Row,
    policy_id: Uuid,
    policy: Needs,
    used: Used,
    at: OffsetDateTime,
}

#[allow(clippy::too_many_arguments)]
async fn import_ded_rem(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    refs: &Refs<'_>,
    claims: &ClaimFile,
    present: &HashMap<Uuid, Present>,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblClaimDedRem")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblClaimDedRem", rows.len(), progress);
    // Grouped by claim, in the order claims first appear.
    let mut order: Vec<Uuid> = Vec::new();
    let mut by_claim: HashMap<Uuid, Vec<Entry>> = HashMap::new();
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = (|| -> Result<Option<(Uuid, Entry)>, String> {
            let Some(legacy) = claims.claim_of(row)? else {
                return Ok(None);
            };
            let not_imported = || format!("the claim {legacy} was not imported");
            let claim_id = *refs
                .ids
                .claim
                .claims
                .get(&legacy)
                .ok_or_else(not_imported)?;
            let insuree_id = present.get(&claim_id).ok_or_else(not_imported)?.insuree;
            let (policy_id, policy) = refs.policies.required(row, "PolicyID")?;
            if let Some((insuree, _)) = refs.insurees.resolve(row, "InsureeID")?
                && insuree != insuree_id
            {
                return Err(format!(
                    "InsureeID {} is not the insuree of the claim {legacy}",
                    row.get("InsureeID").unwrap_or("")
                ));
            }
            Ok(Some((
                claim_id,
                Entry {
                    row,
                    policy_id,
                    policy,
                    used: used_from_row(row)?,
                    at: stamp(row)?,
                },
            )))
        })();
        match parsed {
            Err(reason) => run.skip(row, reason),
            // The ledger of an older version of a claim.
            Ok(None) => {
                run.count.history += 1;
                run.bar.inc(1);
            }
            Ok(Some((claim, entry))) => {
                let entries = by_claim.entry(claim).or_default();
                if entries.iter().any(|e| e.policy_id == entry.policy_id) {
                    run.skip(
                        row,
                        format!(
                            "a second ledger row for the claim and the policy {}",
                            row.get("PolicyID").unwrap_or("")
                        ),
                    );
                } else {
                    if entries.is_empty() {
                        order.push(claim);
                    }
                    entries.push(entry);
                }
            }
        }
    }
    let mut known = Known::default();
    for claim_id in order {
        let entries = by_claim.remove(&claim_id).unwrap_or_default();
        let mut good = Vec::new();
        for e in entries {
            let tx = run.tx().await?;
            match known.check(tx, std::slice::from_ref(&e.policy)).await? {
                Ok(()) => good.push(e),
                Err(reason) => run.skip(e.row, reason),
            }
        }
        let tx = run.tx().await?;
        let have = ledger_of(tx, claim_id).await?;
        let (old, new): (Vec<Entry>, Vec<Entry>) = good
            .into_iter()
            .partition(|e| have.iter().any(|(p, _)| *p == e.policy_id));
        // Rows the claim did not have yet join the ones it has.
        let mut added = 0;
        if let Some(first) = new.first() {
            let claim = &present[&claim_id];
            // A claim deleted in openIMIS keeps its ledger; one deleted in Bima since takes none.
            let standing = claim.deleted || sql::get_claim(tx, claim_id).await?.is_some();
            match standing {
                false => {
                    for e in &new {
                        run.skip(e.row, "its claim was deleted in Bima".into());
                    }
                }
                true => {
                    let mut all = have;
                    all.extend(new.iter().map(|e| (e.policy_id, e.used)));
                    sql::replace_ded_rem(tx, claim_id, claim.insuree, &all, first.at).await?;
                    let rows: Vec<LedgerRow> = new
                        .iter()
                        .map(|e| LedgerRow {
                            policy_id: e.policy_id,
                            used: e.used,
                        })
                        .collect();
                    audit::append(
                        tx,
                        actor,
                        CLAIM,
                        claim_id,
                        "import_ded_rem",
                        None::<&()>,
                        Some(&rows),
                    )
                    .await?;
                    added = new.len();
                }
            }
        }
        run.count.imported += added as u64;
        run.count.unchanged += old.len() as u64;
        for _ in 0..old.len() + added {
            run.done().await?;
        }
    }
    run.finish(report).await
}
