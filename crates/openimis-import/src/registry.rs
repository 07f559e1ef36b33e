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
    CHUNK, History, LegacyIds, Progress, Report, TableRun, import_entry, legacy_map_with_deleted,
    mark_deleted,
};
use ::registry::model::*;
use ::registry::service::{FAMILY, INSUREE};
use ::registry::store as sql;
use kernel::{Actor, audit};
use location::model::LocationType;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use store::{Db, Tx, on_tx};
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
    ids.registry.families = legacy_map_with_deleted(&families, "FamilyID", "FamilyUUID");
    ids.registry.insurees = legacy_map_with_deleted(&insurees, "InsureeID", "InsureeUUID");

    let history = History::new("tblFamilies", &families, "FamilyID", &ids.registry.families);
    let mut run = TableRun::new(db, "tblFamilies", families.len(), progress);
    for chunk in families.chunks(CHUNK) {
        let mut chunk_tx = db.begin().await?;
        let mut parsed = Vec::with_capacity(chunk.len());
        for row in chunk {
            if !row.is_current() && !row.is_deleted() {
                run.count.history += 1;
                continue;
            }
            match family_from_row(row, ids).and_then(|f| Ok((f, row.deleted_at()?))) {
                Err(reason) => run.skip(row, reason),
                Ok(family) => parsed.push(family),
            }
        }
        let tx = &mut chunk_tx;
        let ids_of: Vec<Uuid> = parsed.iter().map(|(f, _)| f.id).collect();
        let present = store::existing_ids(tx, "families", &ids_of).await?;
        let (mut new, mut entries) = (Vec::new(), Vec::new());
        for (family, deleted_at) in parsed {
            let was = present.contains(&family.id);
            if !was {
                if let Some(at) = deleted_at {
                    sql::save_family(tx, &family, None).await?;
                    mark_deleted(tx, "families", family.id, at).await?;
                }
                let f = &family;
                entries.push(import_entry(actor, FAMILY, f.id, "import", f, deleted_at)?);
                entries.extend(history.entries(actor, FAMILY, f.id)?);
            }
            run.counted(was, deleted_at.is_some());
            ids.registry
                .placed
                .insert(family.id, (family.district_id, family.head_insuree_id));
            if deleted_at.is_none() && !was {
                new.push(family);
            }
        }
        sql::insert_families_bulk(tx, &new).await?;
        audit::append_many(tx, &entries).await?;
        chunk_tx.commit().await?;
        run.chunk_done(chunk.len());
    }
    run.finish(report).await?;

    let history = History::new("tblInsuree", &insurees, "InsureeID", &ids.registry.insurees);
    let mut run = TableRun::new(db, "tblInsuree", insurees.len(), progress);
    for chunk in insurees.chunks(CHUNK) {
        let mut chunk_tx = db.begin().await?;
        let mut parsed = Vec::with_capacity(chunk.len());
        for row in chunk {
            if !row.is_current() && !row.is_deleted() {
                run.count.history += 1;
                continue;
            }
            let insuree = insuree_from_row(row, ids, &ids.registry.placed)
                .and_then(|i| Ok((i, row.deleted_at()?)));
            match insuree {
                Err(reason) => run.skip(row, reason),
                Ok(insuree) => parsed.push((row, insuree)),
            }
        }
        let tx = &mut chunk_tx;
        let ids_of: Vec<Uuid> = parsed.iter().map(|(_, (i, _))| i.id).collect();
        let present = store::existing_ids(tx, "insurees", &ids_of).await?;
        // Numbers are unique among current insurees: those of this chunk's new current
        // insurees that another insuree already holds, and repeats within the chunk.
        let asked: Vec<&str> = parsed
            .iter()
            .filter(|(_, (i, at))| at.is_none() && !present.contains(&i.id))
            .map(|(_, (i, _))| i.chfid.as_str())
            .collect();
        let mut holders = sql::current_chfid_holders(tx, &asked).await?;
        let (mut new, mut entries) = (Vec::new(), Vec::new());
        for (row, (insuree, deleted_at)) in parsed {
            let was = present.contains(&insuree.id);
            if !was {
                if let Some(at) = deleted_at {
                    insert_deleted_insuree(tx, &insuree, at).await?;
                } else {
                    match holders.get(&insuree.chfid) {
                        Some(holder) if *holder != insuree.id => {
                            run.skip(
                                row,
                                format!(
                                    "the insurance number {} is already used by another insuree",
                                    insuree.chfid
                                ),
                            );
                            continue;
                        }
                        _ => {
                            holders.insert(insuree.chfid.clone(), insuree.id);
                        }
                    }
                }
                let i = &insuree;
                entries.push(import_entry(actor, INSUREE, i.id, "import", i, deleted_at)?);
                entries.extend(history.entries(actor, INSUREE, i.id)?);
            }
            run.counted(was, deleted_at.is_some());
            ids.registry.present_insurees.insert(insuree.id);
            if deleted_at.is_none() && !was {
                new.push(insuree);
            }
        }
        sql::insert_insurees_bulk(tx, &new).await?;
        audit::append_many(tx, &entries).await?;
        chunk_tx.commit().await?;
        run.chunk_done(chunk.len());
    }
    run.finish(report).await
}

/// Insert an insuree deleted at `at`. Its number may be a current insuree's, which the unique
/// index of current numbers would refuse on insert: the row goes in under a placeholder that no
/// insurance number can be (it holds a space and its own UUID), then takes its number and its
/// deletion in one statement, in the same transaction.
async fn insert_deleted_insuree(
    tx: &mut Tx,
    insuree: &Insuree,
    at: OffsetDateTime,
) -> anyhow::Result<()> {
    let placeholder = Insuree {
        chfid: format!("deleted {}", insuree.id),
        ..insuree.clone()
    };
    sql::save_insuree(tx, &placeholder, None).await?;
    on_tx!(tx, conn => {
        sqlx::query("UPDATE insurees SET chfid = $1, deleted_at = $2 WHERE id = $3")
            .bind(&insuree.chfid)
            .bind(at)
            .bind(insuree.id)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
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

fn family_from_row(row: &Row, ids: &LegacyIds) -> Result<Family, String> {
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

fn insuree_from_row(
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
