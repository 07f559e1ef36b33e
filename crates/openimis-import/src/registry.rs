//! The registry module's tables: tblFamilies, tblInsuree.
//!
//! A family row points at its head (InsureeID) and an insuree row at its family (FamilyID).
//! Families go first, already naming their head's UUID (the id map covers the whole insuree
//! file, and `head_insuree_id` carries no foreign key); insurees follow, pointing at families
//! that now exist. openIMIS's UUIDs and insurance numbers are kept as they are: the number
//! validator is for new numbers only. Families and insurees deleted in openIMIS come as deleted
//! records (with their UUIDs and `deleted_at` = ValidityTo): not listed, not found by number,
//! still there for the policies, claims and ledger rows that name them.

use crate::csvfile::{self, Row};
use crate::{
    CHUNK, ChunkOutcome, History, LegacyIds, Parsed, Progress, Report, TableRun, begin_chunk,
    chunk_entry, import_entry, legacy_map, mark_deleted, mark_deleted_with, placeholder,
    write_chunks,
};
use ::registry::model::*;
use ::registry::service::{FAMILY, INSUREE};
use ::registry::store as sql;
use kernel::{Actor, audit};
use location::model::LocationType;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use store::{Db, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
pub(crate) struct Ids {
    /// tblFamilies.FamilyID → family.
    pub(crate) families: HashMap<i64, Uuid>,
    /// tblInsuree.InsureeID → insuree.
    pub(crate) insurees: HashMap<i64, Uuid>,
    /// Family → (district, head) of every family present after the run (imported now, found
    /// from an earlier run, or deleted).
    pub(crate) placed: HashMap<Uuid, (Uuid, Option<Uuid>)>,
    /// Every insuree present after the run.
    pub(crate) present_insurees: HashSet<Uuid>,
}

pub(crate) async fn import(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let families = csvfile::read(dir, "tblFamilies")?.unwrap_or_default();
    let insurees = csvfile::read(dir, "tblInsuree")?.unwrap_or_default();
    if families.is_empty() && insurees.is_empty() {
        return Ok(());
    }
    ids.registry.families = legacy_map(&families, "FamilyID", "FamilyUUID");
    ids.registry.insurees = legacy_map(&insurees, "InsureeID", "InsureeUUID");

    let history = History::new("tblFamilies", &families, "FamilyID", &ids.registry.families);
    let mut run = TableRun::new(db, "tblFamilies", families.len(), progress);
    let mut parsed = Vec::with_capacity(families.len());
    for row in &families {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match family_from_row(row, ids).and_then(|f| Ok((f, row.deleted_at()?))) {
            Err(reason) => run.skip(row, reason),
            Ok((record, deleted_at)) => {
                let placed = (record.district_id, record.head_insuree_id);
                ids.registry.placed.insert(record.id, placed);
                parsed.push(Parsed {
                    line: row.line,
                    deleted_at,
                    record,
                });
            }
        }
    }
    // What an earlier run already wrote, asked once for the whole file.
    let present = {
        let all: Vec<Uuid> = parsed.iter().map(|p| p.record.id).collect();
        store::existing_ids(&mut db.read().await?, "families", &all).await?
    };
    let chunks: Vec<_> = parsed.chunks(CHUNK).collect();
    write_chunks(&mut run, "families", &chunks, |chunk| {
        let (history, present) = (&history, &present);
        async move {
            let mut tx = begin_chunk(db).await?;
            let mut out = ChunkOutcome {
                rows: chunk.len(),
                ..ChunkOutcome::default()
            };
            let (mut new, mut entries, mut imported) = (Vec::new(), Vec::new(), Vec::new());
            for p in chunk.iter() {
                let (f, deleted_at) = (&p.record, p.deleted_at);
                let was = present.contains(&f.id);
                out.counted(was, deleted_at.is_some());
                if was {
                    continue;
                }
                match deleted_at {
                    Some(at) => {
                        sql::save_family(&mut tx, f, None).await?;
                        mark_deleted(&mut tx, "families", f.id, at).await?;
                        entries.push(import_entry(actor, FAMILY, f.id, "import", f, Some(at))?);
                    }
                    None => {
                        new.push(f.clone());
                        imported.push((f.id, p.line));
                    }
                }
                entries.extend(history.entries(actor, FAMILY, f.id)?);
            }
            entries.extend(chunk_entry(actor, FAMILY, "tblFamilies.csv", &imported)?);
            sql::insert_families_bulk(&mut tx, &new).await?;
            audit::append_sealed(&mut tx, &entries).await?;
            tx.commit().await?;
            Ok(out)
        }
    })
    .await?;
    run.finish(report).await?;

    let history = History::new("tblInsuree", &insurees, "InsureeID", &ids.registry.insurees);
    let mut run = TableRun::new(db, "tblInsuree", insurees.len(), progress);
    let mut parsed = Vec::with_capacity(insurees.len());
    // Numbers are unique among current insurees: of two current rows with one number, the
    // first in the file is imported.
    let mut numbers: HashSet<&str> = HashSet::new();
    for row in &insurees {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let insuree = insuree_from_row(row, ids, &ids.registry.placed)
            .and_then(|i| Ok((i, row.deleted_at()?)));
        match insuree {
            Err(reason) => run.skip(row, reason),
            Ok((record, None)) if !numbers.insert(row.get("CHFID").unwrap_or_default()) => {
                let reason = taken(&record.chfid);
                run.skip(row, reason)
            }
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
        store::existing_ids(&mut db.read().await?, "insurees", &all).await?
    };
    let chunks: Vec<_> = parsed.chunks(CHUNK).collect();
    // The numbers of the file's new current insurees that an insuree already holds.
    let holders = {
        let asked: Vec<&str> = parsed
            .iter()
            .filter(|p| p.deleted_at.is_none() && !present.contains(&p.record.id))
            .map(|p| p.record.chfid.as_str())
            .collect();
        sql::current_chfid_holders(&mut db.read().await?, &asked).await?
    };
    let present = write_chunks(&mut run, "insurees", &chunks, |chunk| {
        let (history, present, holders) = (&history, &present, &holders);
        async move {
            let mut tx = begin_chunk(db).await?;
            let mut out = ChunkOutcome {
                rows: chunk.len(),
                ..ChunkOutcome::default()
            };
            let (mut new, mut entries, mut imported) = (Vec::new(), Vec::new(), Vec::new());
            for p in chunk.iter() {
                let (i, deleted_at) = (&p.record, p.deleted_at);
                let was = present.contains(&i.id);
                if !was {
                    match deleted_at {
                        Some(at) => {
                            insert_deleted_insuree(&mut tx, i, at).await?;
                            let entry = import_entry(actor, INSUREE, i.id, "import", i, Some(at))?;
                            entries.push(entry);
                        }
                        None if holders.get(&i.chfid).is_some_and(|h| *h != i.id) => {
                            out.skipped.push((p.line, false, taken(&i.chfid)));
                            continue;
                        }
                        None => {
                            new.push(i.clone());
                            imported.push((i.id, p.line));
                        }
                    }
                    entries.extend(history.entries(actor, INSUREE, i.id)?);
                }
                out.counted(was, deleted_at.is_some());
                out.present.push(i.id);
            }
            entries.extend(chunk_entry(actor, INSUREE, "tblInsuree.csv", &imported)?);
            sql::insert_insurees_bulk(&mut tx, &new).await?;
            audit::append_sealed(&mut tx, &entries).await?;
            tx.commit().await?;
            Ok(out)
        }
    })
    .await?;
    ids.registry.present_insurees.extend(present);
    run.finish(report).await
}

fn taken(chfid: &str) -> String {
    format!("the insurance number {chfid} is already used by another insuree")
}

/// Insert an insuree deleted at `at` (its number may be a current insuree's: see
/// [`mark_deleted_with`]).
async fn insert_deleted_insuree(
    tx: &mut Tx,
    insuree: &Insuree,
    at: OffsetDateTime,
) -> anyhow::Result<()> {
    let parked = Insuree {
        chfid: placeholder(insuree.id),
        ..insuree.clone()
    };
    sql::save_insuree(tx, &parked, None).await?;
    mark_deleted_with(tx, "insurees", "chfid", &insuree.chfid, insuree.id, at).await
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

/// A letter code of one of the registry's lists (`None` when empty).
fn code<T>(
    row: &Row,
    column: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, String> {
    row.get(column)
        .map(|v| parse(v).ok_or_else(|| format!("{column} \"{v}\" is not one of {allowed}")))
        .transpose()
}

/// A numeric code from 1 to `max` (`None` when empty).
fn small_code(row: &Row, column: &str, max: i16) -> Result<Option<i16>, String> {
    row.int(column)?
        .map(|v| {
            i16::try_from(v)
                .ok()
                .filter(|v| (1..=max).contains(v))
                .ok_or_else(|| format!("{column} {v} is not a code from 1 to {max}"))
        })
        .transpose()
}

fn village(ids: &LegacyIds, column: &str, legacy: i64) -> Result<(Uuid, Uuid), String> {
    let id = *ids
        .locations
        .get(&legacy)
        .ok_or_else(|| format!("{column} {legacy} is not a location of this export"))?;
    match ids.location_types.get(&id) {
        Some((LocationType::Village, Some(district))) => Ok((id, *district)),
        Some((kind, _)) => Err(format!(
            "{column} {legacy} is a {}, not a village",
            kind.label()
        )),
        None => Err(format!("the location {legacy} was not imported")),
    }
}

pub(crate) fn family_from_row(row: &Row, ids: &LegacyIds) -> Result<Family, String> {
    let id = row.uuid("FamilyUUID")?;
    let legacy_location = row.int("LocationId")?.ok_or("LocationId is empty")?;
    let (location_id, district_id) = village(ids, "LocationId", legacy_location)?;
    let head = match row.int("InsureeID")? {
        None => None,
        Some(legacy) => Some(*ids.registry.insurees.get(&legacy).ok_or_else(|| {
            format!("the head InsureeID {legacy} is not an insuree of this export")
        })?),
    };
    let stamp = row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros);
    Ok(Family {
        id,
        head_insuree_id: head,
        location_id,
        district_id,
        poverty: row.get("Poverty").map(|_| row.bool("Poverty")),
        family_type: code(
            row,
            "FamilyType",
            FamilyType::from_code,
            "C, G, H, O, P, S, T",
        )?,
        address: text_max(row, "FamilyAddress", 200)?,
        ethnicity: text_max(row, "Ethnicity", 1)?,
        confirmation_no: text_max(row, "ConfirmationNo", 12)?,
        confirmation_type: code(
            row,
            "ConfirmationType",
            ConfirmationType::from_code,
            "A, B, C, D",
        )?,
        is_offline: row.bool("isOffline"),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    })
}

pub(crate) fn insuree_from_row(
    row: &Row,
    ids: &LegacyIds,
    placed: &HashMap<Uuid, (Uuid, Option<Uuid>)>,
) -> Result<Insuree, String> {
    let id = row.uuid("InsureeUUID")?;
    let chfid = row.text("CHFID")?.to_string();
    if chfid.chars().count() > ::registry::rules::CHFID_MAX {
        return Err(format!(
            "the insurance number {chfid} is longer than {} characters",
            ::registry::rules::CHFID_MAX
        ));
    }
    let (family_id, district_id, head) = match row.int("FamilyID")? {
        None => (None, None, false),
        Some(legacy) => {
            let family = *ids
                .registry
                .families
                .get(&legacy)
                .ok_or_else(|| format!("FamilyID {legacy} is not a family of this export"))?;
            let (district, head) = placed
                .get(&family)
                .ok_or_else(|| format!("the family {legacy} was not imported"))?;
            (Some(family), Some(*district), *head == Some(id))
        }
    };
    let current_village_id = match row.int("CurrentVillage")? {
        None => None,
        Some(legacy) => Some(village(ids, "CurrentVillage", legacy)?.0),
    };
    let health_facility_id = match row.int("HFID")? {
        None => None,
        Some(legacy) => Some(
            *ids.facilities
                .get(&legacy)
                .ok_or_else(|| format!("HFID {legacy} is not a facility of this export"))?,
        ),
    };
    let status = match row.get("status") {
        None => InsureeStatus::Active,
        Some(s) => InsureeStatus::from_openimis(s)
            .ok_or_else(|| format!("status \"{s}\" is not AC, IN or DE"))?,
    };
    let stamp = row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros);
    Ok(Insuree {
        id,
        family_id,
        chfid,
        last_name: text_max(row, "LastName", 100)?.ok_or("LastName is empty")?,
        other_names: text_max(row, "OtherNames", 100)?.ok_or("OtherNames is empty")?,
        gender: code(row, "Gender", Gender::from_code, "M, F, O")?.ok_or("Gender is empty")?,
        dob: row.date("DOB")?.ok_or("DOB is empty")?,
        head,
        marital: code(row, "Marital", Marital::from_code, "N, S, M, D, W")?,
        relationship: small_code(row, "Relationship", 8)?,
        profession: small_code(row, "Profession", 4)?,
        education: small_code(row, "Education", 7)?,
        passport: text_max(row, "passport", 25)?,
        type_of_id: code(row, "TypeOfId", IdType::from_code, "D, N, P, V")?,
        phone: text_max(row, "Phone", 50)?,
        email: text_max(row, "Email", 100)?,
        current_address: text_max(row, "CurrentAddress", 200)?,
        geolocation: text_max(row, "GeoLocation", 250)?,
        current_village_id,
        health_facility_id,
        card_issued: row.bool("CardIssued"),
        status,
        status_date: row.date("status_date")?,
        status_reason: text_max(row, "StatusReason", 5)?,
        photo_date: row.date("PhotoDate")?,
        district_id,
        is_offline: row.bool("isOffline"),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    })
}
