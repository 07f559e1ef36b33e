//! The policy module's tables: tblPayer, tblPolicy, tblInsureePolicy, tblPremium.
//!
//! Policies arrive as openIMIS left them: status, stage, value and the enrolment, start,
//! effective and expiry dates are kept, not recomputed, and contributions are recorded without
//! running the activation rule again (a policy openIMIS shows as idle stays idle whatever was
//! paid towards it). openIMIS has no column for the policy a renewal continues, so
//! `previous_policy_id` stays empty. tblInsureePolicy has no UUID column: each row gets a
//! name-based UUID made from its id, so that a second run finds it again. Policies and insuree
//! policies deleted in openIMIS come as deleted records (`deleted_at` = ValidityTo), like the
//! registry's: not listed, not counted for cover, still there for the claims that name them;
//! so do contributions deleted in openIMIS (not counted in what a policy was paid).

use crate::csvfile::{self, Row};
use crate::{
    CHUNK, ChunkOutcome, History, LegacyIds, Parsed, Progress, Report, TableRun, begin_chunk,
    chunk_entry, import_entry, legacy_map, mark_deleted, mark_deleted_with, placeholder,
    write_chunks,
};
use ::policy::model::*;
use ::policy::service::{CONTRIBUTION, PAYER, POLICY};
use ::policy::store as sql;
use ::registry::store::row_exists;
use kernel::{Actor, audit};
use location::model::LocationType;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use store::{Db, Tx};
use time::Date;
use uuid::Uuid;

/// The namespace of the UUIDs given to rows that have none in openIMIS.
const NAMESPACE: Uuid = Uuid::from_u128(0x81ca4078_23c9_48af_b4d6_7b79b4d40c09);

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
pub(crate) struct Ids {
    /// tblPayer.PayerID → payer (history rows map to their current payer).
    pub(crate) payers: HashMap<i64, Uuid>,
    /// tblPolicy.PolicyID → policy (history rows map to their current or deleted policy).
    pub(crate) policies: HashMap<i64, Uuid>,
}

/// What a contribution copies from its policy: the product and the district.
#[derive(Clone, Copy)]
struct Placed {
    product_id: Uuid,
    district_id: Uuid,
}

pub(crate) async fn import(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let payers = import_payers(db, dir, actor, progress, report, ids).await?;
    let policies = import_policies(db, dir, actor, progress, report, ids).await?;
    import_insuree_policies(db, dir, actor, progress, report, ids, &policies).await?;
    import_contributions(db, dir, actor, progress, report, ids, &policies, &payers).await
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

fn letter<T>(
    row: &Row,
    column: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<T, String> {
    let v = row.text(column)?;
    parse(v).ok_or_else(|| format!("{column} \"{v}\" is not {allowed}"))
}

fn required_date(row: &Row, column: &str) -> Result<Date, String> {
    row.date(column)?
        .ok_or_else(|| format!("{column} is empty"))
}

/// An amount that must be there and not negative, in minor units.
fn amount(row: &Row, column: &str) -> Result<i64, String> {
    match row.money(column)? {
        None => Err(format!("{column} is empty")),
        Some(v) if v < 0 => Err(format!("{column} is negative")),
        Some(v) => Ok(v),
    }
}

fn stamp(row: &Row) -> Result<time::OffsetDateTime, String> {
    Ok(row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros))
}

/// The UUID of a row of a table that has no UUID column: the same on every run.
///
/// A name-based UUID as RFC 9562 (appendix B.2) builds it with SHA-256: version 8 over the first
/// 128 bits of SHA-256(namespace, name). `Uuid::new_v5` would need uuid's `v5` feature, which
/// the workspace leaves off; SHA-256 is already built for the audit chain.
fn derived_uuid(table: &str, id: i64) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(NAMESPACE.as_bytes());
    hash.update(format!("{table}:{id}").as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// What the database holds of the rows that policies name, asked once per row named.
#[derive(Default)]
struct Known {
    present: HashMap<(&'static str, Uuid), bool>,
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
}

// ---------------------------------------------------------------- payers

/// The payer of a row and its district (when its location is a district).
fn payer_from_row(row: &Row, ids: &LegacyIds) -> Result<(Payer, Option<Uuid>), String> {
    let id = row.uuid("PayerUUID")?;
    let payer_type = letter(row, "PayerType", PayerType::from_code, "C, D, G, L, O or P")?;
    let name = text_max(row, "PayerName", 100)?.ok_or("PayerName is empty")?;
    let location_id = ids.region_or_district(row.int("LocationId")?, &format!("payer {name}"))?;
    let district = location_id
        .filter(|l| matches!(ids.location_types.get(l), Some((LocationType::District, _))));
    let stamp = stamp(row)?;
    Ok((
        Payer {
            id,
            payer_type,
            name,
            address: text_max(row, "PayerAddress", 100)?,
            location_id,
            phone: text_max(row, "Phone", 50)?,
            fax: text_max(row, "Fax", 50)?,
            email: text_max(row, "eMail", 200)?,
            version: 1,
            created_at: stamp,
            updated_at: stamp,
        },
        district,
    ))
}

/// Answers the payers present after the run (imported now or earlier).
async fn import_payers(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<HashSet<Uuid>> {
    let mut present = HashSet::new();
    let Some(rows) = csvfile::read(dir, "tblPayer")? else {
        return Ok(present);
    };
    ids.policy.payers = legacy_map(&rows, "PayerID", "PayerUUID");
    let history = History::new("tblPayer", &rows, "PayerID", &ids.policy.payers);
    let mut run = TableRun::new(db, "tblPayer", rows.len(), progress);
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match payer_from_row(row, ids).and_then(|p| Ok((p, row.deleted_at()?))) {
            Err(reason) => run.skip(row, reason),
            Ok(((payer, district), deleted_at)) => {
                let tx = run.tx().await?;
                if row_exists(tx, "payers", payer.id).await? {
                    run.counted(true, deleted_at.is_some());
                } else {
                    // Payers have no unique code: a deleted one is written and closed.
                    sql::save_payer(tx, &payer, district, None).await?;
                    if let Some(at) = deleted_at {
                        mark_deleted(tx, "payers", payer.id, at).await?;
                    }
                    import_entry(actor, PAYER, payer.id, "import", &payer, deleted_at)?
                        .append(tx)
                        .await?;
                    history.append(tx, actor, PAYER, payer.id).await?;
                    run.counted(false, deleted_at.is_some());
                }
                present.insert(payer.id);
                run.done().await?;
            }
        }
    }
    run.finish(report).await?;
    Ok(present)
}

// ---------------------------------------------------------------- policies

/// The policy of a row; the outer error is the database's, the inner one the reason to skip.
async fn policy_from_row(
    tx: &mut Tx,
    known: &mut Known,
    row: &Row,
    ids: &LegacyIds,
    officers: &HashMap<i64, Uuid>,
) -> anyhow::Result<Result<Policy, String>> {
    let parsed = (|| -> Result<_, String> {
        let id = row.uuid("PolicyUUID")?;
        let family = row.int("FamilyID")?.ok_or("FamilyID is empty")?;
        let family_id = *ids
            .registry
            .families
            .get(&family)
            .ok_or_else(|| format!("FamilyID {family} is not a family of this export"))?;
        let product = row.int("ProdID")?.ok_or("ProdID is empty")?;
        let product_id = *ids
            .product
            .products
            .get(&product)
            .ok_or_else(|| format!("ProdID {product} is not a product of this export"))?;
        let officer = match row.int("OfficerID")? {
            None => None,
            Some(legacy) => Some((
                legacy,
                *officers.get(&legacy).ok_or_else(|| {
                    format!("OfficerID {legacy} is not an enrolment officer of this export")
                })?,
            )),
        };
        let code = row.int("PolicyStatus")?.ok_or("PolicyStatus is empty")?;
        let status = PolicyStatus::from_openimis(code)
            .ok_or_else(|| format!("PolicyStatus {code} is not 1, 2, 4, 8 or 16"))?;
        let stamp = stamp(row)?;
        let policy = Policy {
            id,
            family_id,
            product_id,
            officer_id: officer.map(|o| o.1),
            previous_policy_id: None,
            stage: letter(row, "PolicyStage", Stage::from_code, "N or R")?,
            status,
            status_reason: None,
            value: amount(row, "PolicyValue")?,
            enroll_date: required_date(row, "EnrollDate")?,
            start_date: required_date(row, "StartDate")?,
            effective_date: row.date("EffectiveDate")?,
            expiry_date: row.date("ExpiryDate")?.ok_or(
                "ExpiryDate is empty: a policy without an end of coverage cannot be imported",
            )?,
            // The family's, filled in below.
            district_id: Uuid::nil(),
            is_offline: row.bool("isOffline"),
            version: 1,
            created_at: stamp,
            updated_at: stamp,
        };
        Ok((policy, family, product, officer))
    })();
    let (mut policy, family, product, officer) = match parsed {
        Ok(parsed) => parsed,
        Err(reason) => return Ok(Err(reason)),
    };
    let Some((district, _)) = ids.registry.placed.get(&policy.family_id) else {
        return Ok(Err(format!("the family {family} was not imported")));
    };
    policy.district_id = *district;
    if !known.exists(tx, "products", policy.product_id).await? {
        return Ok(Err(format!("the product {product} was not imported")));
    }
    if let Some((legacy, user)) = officer
        && !known.exists(tx, "users", user).await?
    {
        return Ok(Err(format!(
            "the enrolment officer {legacy} was not imported"
        )));
    }
    Ok(Ok(policy))
}

/// Answers each policy present after the run (imported now or earlier) with its product and
/// district.
async fn import_policies(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<HashMap<Uuid, Placed>> {
    let mut placed = HashMap::new();
    let Some(rows) = csvfile::read(dir, "tblPolicy")? else {
        return Ok(placed);
    };
    ids.policy.policies = legacy_map(&rows, "PolicyID", "PolicyUUID");
    // Officers are users that keep their openIMIS UUID; a policy may name an older version.
    let officers = csvfile::read(dir, "tblOfficer")?
        .map(|r| legacy_map(&r, "OfficerID", "OfficerUUID"))
        .unwrap_or_default();
    let history = History::new("tblPolicy", &rows, "PolicyID", &ids.policy.policies);
    let mut known = Known::default();
    let mut run = TableRun::new(db, "tblPolicy", rows.len(), progress);
    let mut parsed = Vec::with_capacity(rows.len());
    let mut read = db.read().await?;
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let policy = policy_from_row(&mut read, &mut known, row, ids, &officers)
            .await?
            .and_then(|p| Ok((p, row.deleted_at()?)));
        match policy {
            Err(reason) => run.skip(row, reason),
            Ok((record, deleted_at)) => {
                let at = Placed {
                    product_id: record.product_id,
                    district_id: record.district_id,
                };
                placed.insert(record.id, at);
                parsed.push(Parsed {
                    line: row.line,
                    deleted_at,
                    record,
                });
            }
        }
    }
    drop(read);
    // What an earlier run already wrote, asked once for the whole file.
    let present = {
        let all: Vec<Uuid> = parsed.iter().map(|p| p.record.id).collect();
        store::existing_ids(&mut db.read().await?, "policies", &all).await?
    };
    let chunks: Vec<_> = parsed.chunks(CHUNK).collect();
    write_chunks(&mut run, "policies", &chunks, |chunk| {
        let (history, present) = (&history, &present);
        async move {
            let mut tx = begin_chunk(db).await?;
            let mut out = ChunkOutcome {
                rows: chunk.len(),
                ..ChunkOutcome::default()
            };
            let (mut new, mut entries, mut imported) = (Vec::new(), Vec::new(), Vec::new());
            for p in chunk.iter() {
                let (policy, deleted_at) = (&p.record, p.deleted_at);
                let was = present.contains(&policy.id);
                out.counted(was, deleted_at.is_some());
                if was {
                    continue;
                }
                let id = policy.id;
                match deleted_at {
                    Some(at) => {
                        sql::save_policy(&mut tx, policy, None).await?;
                        mark_deleted(&mut tx, "policies", id, at).await?;
                        entries.push(import_entry(actor, POLICY, id, "import", policy, Some(at))?);
                    }
                    None => {
                        new.push(policy.clone());
                        imported.push((id, p.line));
                    }
                }
                entries.extend(history.entries(actor, POLICY, id)?);
            }
            entries.extend(chunk_entry(actor, POLICY, "tblPolicy.csv", &imported)?);
            sql::insert_policies_bulk(&mut tx, &new).await?;
            audit::append_sealed(&mut tx, &entries).await?;
            tx.commit().await?;
            Ok(out)
        }
    })
    .await?;
    run.finish(report).await?;
    Ok(placed)
}

/// The policy a row names by `column`, if it is present.
fn placed_policy(
    row: &Row,
    column: &str,
    ids: &LegacyIds,
    policies: &HashMap<Uuid, Placed>,
) -> Result<(Uuid, Placed), String> {
    let legacy = row
        .int(column)?
        .ok_or_else(|| format!("{column} is empty"))?;
    let id = *ids
        .policy
        .policies
        .get(&legacy)
        .ok_or_else(|| format!("{column} {legacy} is not a policy of this export"))?;
    let placed = policies
        .get(&id)
        .ok_or_else(|| format!("the policy {legacy} was not imported"))?;
    Ok((id, *placed))
}

// ---------------------------------------------------------------- insuree policies

fn insuree_policy_from_row(
    row: &Row,
    ids: &LegacyIds,
    policies: &HashMap<Uuid, Placed>,
) -> Result<InsureePolicy, String> {
    let parsed = (|| -> Result<_, String> {
        let legacy = row
            .int("InsureePolicyID")?
            .ok_or("InsureePolicyID is empty")?;
        let insuree = row.int("InsureeID")?.ok_or("InsureeID is empty")?;
        let insuree_id = *ids
            .registry
            .insurees
            .get(&insuree)
            .ok_or_else(|| format!("InsureeID {insuree} is not an insuree of this export"))?;
        let (policy_id, _) = placed_policy(row, "PolicyId", ids, policies)?;
        let stamp = stamp(row)?;
        let ip = InsureePolicy {
            id: derived_uuid("tblInsureePolicy", legacy),
            insuree_id,
            policy_id,
            enrollment_date: required_date(row, "EnrollmentDate")?,
            start_date: required_date(row, "StartDate")?,
            effective_date: row.date("EffectiveDate")?,
            expiry_date: required_date(row, "ExpiryDate")?,
            is_offline: row.bool("isOffline"),
            created_at: stamp,
            updated_at: stamp,
        };
        Ok((ip, insuree))
    })();
    let (ip, insuree) = parsed?;
    if !ids.registry.present_insurees.contains(&ip.insuree_id) {
        return Err(format!("the insuree {insuree} was not imported"));
    }
    Ok(ip)
}

async fn import_insuree_policies(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
    policies: &HashMap<Uuid, Placed>,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblInsureePolicy")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblInsureePolicy", rows.len(), progress);
    let mut parsed = Vec::with_capacity(rows.len());
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match insuree_policy_from_row(row, ids, policies).and_then(|ip| Ok((ip, row.deleted_at()?)))
        {
            Err(reason) => run.skip(row, reason),
            Ok((record, deleted_at)) => parsed.push(Parsed {
                line: row.line,
                deleted_at,
                record,
            }),
        }
    }
    // What an earlier run already wrote, asked once for the whole file.
    let present = {
        let all: Vec<Uuid> = parsed.iter().map(|p| p.record.id).collect();
        store::existing_ids(&mut db.read().await?, "insuree_policies", &all).await?
    };
    let chunks: Vec<_> = parsed.chunks(CHUNK).collect();
    let present = &present;
    write_chunks(&mut run, "insuree_policies", &chunks, |chunk| async move {
        let mut tx = begin_chunk(db).await?;
        let mut out = ChunkOutcome {
            rows: chunk.len(),
            ..ChunkOutcome::default()
        };
        let (mut new, mut deleted, mut entries) = (Vec::new(), Vec::new(), Vec::new());
        // Coverage has no audit entity of its own: it is part of its policy's trail.
        let mut imported = Vec::new();
        for p in chunk.iter() {
            let (ip, deleted_at) = (&p.record, p.deleted_at);
            let was = present.contains(&ip.id);
            out.counted(was, deleted_at.is_some());
            if was {
                continue;
            }
            match deleted_at {
                Some(at) => {
                    let (policy, action) = (ip.policy_id, "import_member");
                    entries.push(import_entry(actor, POLICY, policy, action, ip, Some(at))?);
                    deleted.push((ip.id, at));
                }
                None => imported.push((ip.id, p.line)),
            }
            new.push(ip.clone());
        }
        entries.extend(chunk_entry(
            actor,
            POLICY,
            "tblInsureePolicy.csv",
            &imported,
        )?);
        sql::insert_insuree_policies(&mut tx, &new).await?;
        for (id, at) in deleted {
            mark_deleted(&mut tx, "insuree_policies", id, at).await?;
        }
        audit::append_sealed(&mut tx, &entries).await?;
        tx.commit().await?;
        Ok(out)
    })
    .await?;
    run.finish(report).await
}

// ---------------------------------------------------------------- contributions

/// Does a contribution's receipt clash with these (product, payer) pairs that already hold it?
fn clashes(same: &[(Uuid, Option<Uuid>)], c: &Contribution) -> bool {
    same.iter().any(|(product, payer)| {
        *product == c.product_id || (payer.is_some() && *payer == c.payer_id)
    })
}

fn receipt_taken(receipt: &str) -> String {
    format!("the receipt {receipt} is already recorded for this product or payer")
}

fn contribution_from_row(
    row: &Row,
    ids: &LegacyIds,
    policies: &HashMap<Uuid, Placed>,
    payers: &HashSet<Uuid>,
) -> Result<Contribution, String> {
    let id = row.uuid("PremiumUUID")?;
    let (policy_id, placed) = placed_policy(row, "PolicyID", ids, policies)?;
    let payer_id = match row.int("PayerID")? {
        None => None,
        Some(legacy) => {
            let payer = *ids
                .policy
                .payers
                .get(&legacy)
                .ok_or_else(|| format!("PayerID {legacy} is not a payer of this export"))?;
            if !payers.contains(&payer) {
                return Err(format!("the payer {legacy} was not imported"));
            }
            Some(payer)
        }
    };
    let receipt = text_max(row, "Receipt", 50)?.ok_or("Receipt is empty")?;
    let stamp = stamp(row)?;
    Ok(Contribution {
        id,
        policy_id,
        product_id: placed.product_id,
        payer_id,
        amount: amount(row, "Amount")?,
        receipt,
        pay_date: required_date(row, "PayDate")?,
        pay_type: letter(row, "PayType", PayType::from_code, "C, B, M or F")?,
        is_photo_fee: row.bool("isPhotoFee"),
        district_id: placed.district_id,
        is_offline: row.bool("isOffline"),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    })
}

#[allow(clippy::too_many_arguments)]
async fn import_contributions(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
    policies: &HashMap<Uuid, Placed>,
    payers: &HashSet<Uuid>,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblPremium")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblPremium", rows.len(), progress);
    let mut parsed = Vec::with_capacity(rows.len());
    // A receipt is unique per product, and per payer when there is one: of two rows of this
    // file that share one, the first is imported.
    let mut receipts: HashMap<&str, Vec<(Uuid, Option<Uuid>)>> = HashMap::new();
    let history = History::new(
        "tblPremium",
        &rows,
        "PremiumId",
        &legacy_map(&rows, "PremiumId", "PremiumUUID"),
    );
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let contribution = contribution_from_row(row, ids, policies, payers)
            .and_then(|c| Ok((c, row.deleted_at()?)));
        match contribution {
            Err(reason) => run.skip(row, reason),
            Ok((c, deleted_at)) => {
                // Receipts are unique among current contributions only.
                if deleted_at.is_none() {
                    let same = receipts
                        .entry(row.get("Receipt").unwrap_or_default())
                        .or_default();
                    if clashes(same, &c) {
                        run.skip(row, receipt_taken(&c.receipt));
                        continue;
                    }
                    same.push((c.product_id, c.payer_id));
                }
                parsed.push(Parsed {
                    line: row.line,
                    deleted_at,
                    record: c,
                });
            }
        }
    }
    // What an earlier run already wrote, asked once for the whole file.
    let present = {
        let all: Vec<Uuid> = parsed.iter().map(|p| p.record.id).collect();
        store::existing_ids(&mut db.read().await?, "contributions", &all).await?
    };
    let chunks: Vec<_> = parsed.chunks(CHUNK).collect();
    // The receipts of the file's new contributions that earlier ones hold.
    let taken = {
        let asked: Vec<&str> = parsed
            .iter()
            .filter(|p| p.deleted_at.is_none() && !present.contains(&p.record.id))
            .map(|p| p.record.receipt.as_str())
            .collect();
        let mut products: Vec<Uuid> = parsed.iter().map(|p| p.record.product_id).collect();
        let mut payers: Vec<Uuid> = parsed.iter().filter_map(|p| p.record.payer_id).collect();
        for ids in [&mut products, &mut payers] {
            ids.sort_unstable();
            ids.dedup();
        }
        sql::receipts_recorded(&mut db.read().await?, &asked, &products, &payers).await?
    };
    let (present, taken, history) = (&present, &taken, &history);
    write_chunks(&mut run, "contributions", &chunks, |chunk| async move {
        let mut tx = begin_chunk(db).await?;
        let mut out = ChunkOutcome {
            rows: chunk.len(),
            ..ChunkOutcome::default()
        };
        let (mut new, mut entries, mut imported) = (Vec::new(), Vec::new(), Vec::new());
        let mut deleted = Vec::new();
        for p in chunk.iter() {
            let (c, deleted_at) = (&p.record, p.deleted_at);
            let was = present.contains(&c.id);
            if was {
                out.counted(was, deleted_at.is_some());
                continue;
            }
            match deleted_at {
                // Kept under a placeholder receipt until it is marked deleted.
                Some(at) => {
                    entries.push(import_entry(
                        actor,
                        CONTRIBUTION,
                        c.id,
                        "import",
                        c,
                        Some(at),
                    )?);
                    deleted.push((c, at));
                    new.push(Contribution {
                        receipt: placeholder(c.id),
                        ..c.clone()
                    });
                }
                None if taken.get(&c.receipt).is_some_and(|same| clashes(same, c)) => {
                    out.skipped.push((p.line, false, receipt_taken(&c.receipt)));
                    continue;
                }
                None => {
                    imported.push((c.id, p.line));
                    new.push(c.clone());
                }
            }
            out.counted(was, deleted_at.is_some());
            entries.extend(history.entries(actor, CONTRIBUTION, c.id)?);
        }
        let file = "tblPremium.csv";
        entries.extend(chunk_entry(actor, CONTRIBUTION, file, &imported)?);
        sql::insert_contributions(&mut tx, &new).await?;
        for (c, at) in deleted {
            mark_deleted_with(&mut tx, "contributions", "receipt", &c.receipt, c.id, at).await?;
        }
        audit::append_sealed(&mut tx, &entries).await?;
        tx.commit().await?;
        Ok(out)
    })
    .await?;
    run.finish(report).await
}
