//! The medical module's tables: tblICDCodes, tblItems, tblServices, tblPLItems, tblPLItemsDetail,
//! tblPLServices, tblPLServicesDetail, then the price lists of each facility of tblHF.
//!
//! openIMIS UUIDs are kept (tblICDCodes has none: a diagnosis gets a UUID derived from its
//! ICDID, so that a second run finds it again). Prices are decimals in the export and are
//! converted to minor units exactly (`kernel::money::parse_money`), never through a float.

use crate::csvfile::{self, Row};
use crate::{
    History, LegacyIds, Progress, Report, Skipped, TableRun, import_entry, legacy_map,
    mark_deleted_with, placeholder,
};
use kernel::{Actor, Checks, audit};
use medical::model::*;
use medical::rules;
use medical::service as medical_service;
use medical::store as sql;
use std::collections::HashMap;
use std::path::Path;
use store::{Db, Tx};
use uuid::Uuid;

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
#[allow(dead_code)] // filled by this module's import
pub(crate) struct Ids {
    /// tblICDCodes.ICDID → diagnosis.
    pub(crate) diagnoses: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblItems.ItemID → medical item.
    pub(crate) items: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblServices.ServiceID → medical service.
    pub(crate) services: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblPLItems.PLItemID → item price list.
    pub(crate) item_pricelists: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblPLServices.PLServiceID → service price list.
    pub(crate) service_pricelists: std::collections::HashMap<i64, uuid::Uuid>,
    /// Price lists deleted in openIMIS: written as current lists, given their lines and their
    /// facilities, and closed at the end of this module's import ([`close_deleted_lists`]).
    pub(crate) deleted_lists: HashMap<Uuid, (PriceListKind, time::OffsetDateTime)>,
}

fn pricelist_table(kind: PriceListKind) -> &'static str {
    match kind {
        PriceListKind::Items => "item_pricelists",
        PriceListKind::Services => "service_pricelists",
    }
}

/// Mark the price lists deleted in openIMIS deleted (again on a second run: the same values).
async fn close_deleted_lists(db: &Db, ids: &LegacyIds) -> anyhow::Result<()> {
    if ids.medical.deleted_lists.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for (id, (kind, at)) in &ids.medical.deleted_lists {
        crate::mark_deleted(&mut tx, pricelist_table(*kind), *id, *at).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn import(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    if let Some(rows) = csvfile::read(dir, "tblICDCodes")? {
        ids.medical.diagnoses = diagnosis_map(&rows);
        import_register(
            db,
            ("tblICDCodes", "ICDID", &ids.medical.diagnoses),
            &rows,
            actor,
            progress,
            report,
            diagnosis_from_row,
        )
        .await?;
    }
    if let Some(rows) = csvfile::read(dir, "tblItems")? {
        ids.medical.items = legacy_map(&rows, "ItemID", "ItemUUID");
        import_register(
            db,
            ("tblItems", "ItemID", &ids.medical.items),
            &rows,
            actor,
            progress,
            report,
            item_from_row,
        )
        .await?;
    }
    if let Some(rows) = csvfile::read(dir, "tblServices")? {
        ids.medical.services = legacy_map(&rows, "ServiceID", "ServiceUUID");
        import_register(
            db,
            ("tblServices", "ServiceID", &ids.medical.services),
            &rows,
            actor,
            progress,
            report,
            service_from_row,
        )
        .await?;
    }
    for layout in [ITEM_LISTS, SERVICE_LISTS] {
        import_pricelists(db, dir, &layout, actor, progress, report, ids).await?;
    }
    link_facilities(db, dir, actor, progress, report, ids).await?;
    close_deleted_lists(db, ids).await
}

// ---------------------------------------------------------------- registers

/// One row of a register, ready to store.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Entry {
    Diagnosis(Diagnosis),
    Item(MedicalItem),
    Service(MedicalService),
}

impl Entry {
    fn id(&self) -> Uuid {
        match self {
            Entry::Diagnosis(d) => d.id,
            Entry::Item(i) => i.id,
            Entry::Service(s) => s.id,
        }
    }

    fn code(&self) -> &str {
        match self {
            Entry::Diagnosis(d) => &d.code,
            Entry::Item(i) => &i.code,
            Entry::Service(s) => &s.code,
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Entry::Diagnosis(_) => "diagnosis",
            Entry::Item(_) => "item",
            Entry::Service(_) => "service",
        }
    }

    fn table(&self) -> &'static str {
        match self {
            Entry::Diagnosis(_) => "diagnoses",
            Entry::Item(_) => "medical_items",
            Entry::Service(_) => "medical_services",
        }
    }

    fn entity(&self) -> &'static str {
        match self {
            Entry::Diagnosis(_) => medical_service::DIAGNOSIS,
            Entry::Item(_) => medical_service::MEDICAL_ITEM,
            Entry::Service(_) => medical_service::MEDICAL_SERVICE,
        }
    }

    /// The same record under another code.
    fn with_code(&self, code: String) -> Entry {
        match self {
            Entry::Diagnosis(d) => Entry::Diagnosis(Diagnosis { code, ..d.clone() }),
            Entry::Item(i) => Entry::Item(MedicalItem { code, ..i.clone() }),
            Entry::Service(s) => Entry::Service(MedicalService { code, ..s.clone() }),
        }
    }

    /// Is it there already, current or deleted?
    async fn exists(&self, tx: &mut Tx) -> kernel::Result<bool> {
        ::registry::store::row_exists(tx, self.table(), self.id()).await
    }

    async fn code_taken(&self, tx: &mut Tx) -> kernel::Result<bool> {
        let (code, id) = (self.code(), Some(self.id()));
        match self {
            Entry::Diagnosis(_) => sql::diagnosis_code_taken(tx, code, id).await,
            Entry::Item(_) => sql::item_code_taken(tx, code, id).await,
            Entry::Service(_) => sql::service_code_taken(tx, code, id).await,
        }
    }

    async fn save(&self, tx: &mut Tx) -> anyhow::Result<()> {
        match self {
            Entry::Diagnosis(d) => sql::save_diagnosis(tx, d, None).await?,
            Entry::Item(i) => sql::save_item(tx, i, None).await?,
            Entry::Service(s) => sql::save_service(tx, s, None).await?,
        };
        Ok(())
    }

    /// Insert it with its import record and its older versions; one deleted in openIMIS (at
    /// `deleted_at`) as a deleted record, its code free for a current one.
    async fn insert(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        history: &History<'_>,
        deleted_at: Option<time::OffsetDateTime>,
    ) -> anyhow::Result<()> {
        let (entity, id) = (self.entity(), self.id());
        match deleted_at {
            None => self.save(tx).await?,
            Some(at) => {
                self.with_code(placeholder(id)).save(tx).await?;
                mark_deleted_with(tx, self.table(), "code", self.code(), id, at).await?;
            }
        }
        import_entry(actor, entity, id, "import", self, deleted_at)?
            .append(tx)
            .await?;
        history.append(tx, actor, entity, id).await
    }
}

/// Import the current rows of one register table, and those deleted in openIMIS as deleted
/// records; older versions become the records' audit history.
async fn import_register(
    db: &Db,
    (table, id_column, records): (&'static str, &str, &HashMap<i64, Uuid>),
    rows: &[Row],
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    parse: fn(&Row) -> Result<Entry, String>,
) -> anyhow::Result<()> {
    let history = History::new(table, rows, id_column, records);
    let mut run = TableRun::new(db, table, rows.len(), progress);
    for row in rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let (entry, deleted_at) = match parse(row).and_then(|e| Ok((e, row.deleted_at()?))) {
            Ok(parsed) => parsed,
            Err(reason) => {
                run.skip(row, reason);
                continue;
            }
        };
        let tx = run.tx().await?;
        if entry.exists(tx).await? {
            run.counted(true, deleted_at.is_some());
        } else if deleted_at.is_none() && entry.code_taken(tx).await? {
            let reason = format!(
                "the {what} code {} is already used by another {what}",
                entry.code(),
                what = entry.what()
            );
            run.skip(row, reason);
            continue;
        } else {
            entry.insert(tx, actor, &history, deleted_at).await?;
            run.counted(false, deleted_at.is_some());
        }
        run.done().await?;
    }
    run.finish(report).await
}

/// The first problem found by a register's checks, as a skip reason.
fn first_problem(code: &str, checks: Checks) -> Result<(), String> {
    match checks.finish() {
        Err(kernel::Error::Invalid(fields)) => Err(format!(
            "{code}: {}: {}",
            fields[0].field, fields[0].message
        )),
        _ => Ok(()),
    }
}

/// tblICDCodes has no UUID column: derive a stable one from the ICDID (a version-8 UUID).
fn diagnosis_uuid(row: &Row) -> Result<Uuid, String> {
    if row.get("ICDUUID").is_some() {
        return row.uuid("ICDUUID");
    }
    let icd = row.int("ICDID")?.ok_or("ICDID is empty")?;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(b"tblICD");
    bytes[8..].copy_from_slice(&icd.to_be_bytes());
    bytes[6] = 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(Uuid::from_bytes(bytes))
}

fn diagnosis_map(rows: &[Row]) -> HashMap<i64, Uuid> {
    let mut map = HashMap::new();
    let is_record = |r: &&Row| r.is_current() || r.is_deleted();
    for r in rows.iter().filter(is_record) {
        if let (Ok(Some(id)), Ok(uuid)) = (r.int("ICDID"), diagnosis_uuid(r)) {
            map.insert(id, uuid);
        }
    }
    for r in rows.iter().filter(|r| !is_record(r)) {
        if let (Ok(Some(id)), Ok(Some(legacy))) = (r.int("ICDID"), r.int("LegacyID"))
            && let Some(uuid) = map.get(&legacy).copied()
        {
            map.insert(id, uuid);
        }
    }
    map
}

fn stamp(row: &Row) -> Result<time::OffsetDateTime, String> {
    Ok(row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros))
}

fn code_of<T: Copy>(
    row: &Row,
    column: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<T, String> {
    let v = row.text(column)?;
    parse(v).ok_or_else(|| format!("{column} \"{v}\" is not {allowed}"))
}

pub(crate) fn diagnosis_from_row(row: &Row) -> Result<Entry, String> {
    let input = DiagnosisInput {
        code: row.text("ICDCode")?.to_string(),
        name: row.text("ICDName")?.to_string(),
        version: None,
    };
    let mut checks = Checks::new();
    let (code, name) = rules::check_diagnosis(&input, &mut checks);
    first_problem(&code, checks)?;
    let at = stamp(row)?;
    Ok(Entry::Diagnosis(Diagnosis {
        id: diagnosis_uuid(row)?,
        code,
        name,
        version: 1,
        created_at: at,
        updated_at: at,
    }))
}

pub(crate) fn item_from_row(row: &Row) -> Result<Entry, String> {
    let input = MedicalItemInput {
        code: row.text("ItemCode")?.to_string(),
        name: row.text("ItemName")?.to_string(),
        kind: code_of(row, "ItemType", ItemType::from_code, "D or M")?,
        package: row.get("ItemPackage").map(str::to_string),
        price: row.money("ItemPrice")?.ok_or("ItemPrice is empty")?,
        quantity: row.whole("Quantity")?,
        maximum_amount: row.whole("MaximumAmount")?,
        care_type: code_of(row, "ItemCareType", CareType::from_code, "O, I or B")?,
        frequency: row.int("ItemFrequency")?,
        patient_category: row.int("ItemPatCat")?.unwrap_or(EVERYONE),
        version: None,
    };
    let mut checks = Checks::new();
    let clean = rules::check_item(&input, &mut checks);
    first_problem(&clean.code, checks)?;
    let at = stamp(row)?;
    Ok(Entry::Item(MedicalItem {
        id: row.uuid("ItemUUID")?,
        code: clean.code,
        name: clean.name,
        kind: clean.kind,
        package: clean.package,
        price: clean.price,
        quantity: clean.quantity,
        maximum_amount: clean.maximum_amount,
        care_type: clean.care_type,
        frequency: clean.frequency,
        patient_category: clean.patient_category,
        version: 1,
        created_at: at,
        updated_at: at,
    }))
}

pub(crate) fn service_from_row(row: &Row) -> Result<Entry, String> {
    let category = match row.get("ServCategory") {
        None => None,
        Some(_) => Some(code_of(
            row,
            "ServCategory",
            ServiceCategory::from_code,
            "S, D, A, H, C, O or V",
        )?),
    };
    let package_type = match row.get("ServPackageType") {
        None => None,
        Some(_) => Some(code_of(
            row,
            "ServPackageType",
            PackageType::from_code,
            "S, P or F",
        )?),
    };
    let input = MedicalServiceInput {
        code: row.text("ServCode")?.to_string(),
        name: row.text("ServName")?.to_string(),
        category,
        kind: code_of(row, "ServType", ServiceType::from_code, "P or C")?,
        level: code_of(row, "ServLevel", ServiceLevel::from_code, "S, V, D or H")?,
        package_type,
        manual_price: row.bool("manualPrice"),
        price: row.money("ServPrice")?.ok_or("ServPrice is empty")?,
        maximum_amount: row.whole("MaximumAmount")?,
        care_type: code_of(row, "ServCareType", CareType::from_code, "O, I or B")?,
        frequency: row.int("ServFrequency")?,
        patient_category: row.int("ServPatCat")?.unwrap_or(EVERYONE),
        version: None,
    };
    let mut checks = Checks::new();
    let clean = rules::check_service(&input, &mut checks);
    first_problem(&clean.code, checks)?;
    let at = stamp(row)?;
    Ok(Entry::Service(MedicalService {
        id: row.uuid("ServiceUUID")?,
        code: clean.code,
        name: clean.name,
        category: clean.category,
        kind: clean.kind,
        level: clean.level,
        package_type: clean.package_type.unwrap_or(PackageType::Simple),
        manual_price: clean.manual_price,
        price: clean.price,
        maximum_amount: clean.maximum_amount,
        care_type: clean.care_type,
        frequency: clean.frequency,
        patient_category: clean.patient_category,
        version: 1,
        created_at: at,
        updated_at: at,
    }))
}

// ---------------------------------------------------------------- price lists

/// The columns of one kind of price list in the export.
struct ListLayout {
    kind: PriceListKind,
    table: &'static str,
    id: &'static str,
    uuid: &'static str,
    name: &'static str,
    detail_table: &'static str,
    /// The item or service column of a detail row.
    register: &'static str,
}

const ITEM_LISTS: ListLayout = ListLayout {
    kind: PriceListKind::Items,
    table: "tblPLItems",
    id: "PLItemID",
    uuid: "PLItemUUID",
    name: "PLItemName",
    detail_table: "tblPLItemsDetail",
    register: "ItemID",
};

const SERVICE_LISTS: ListLayout = ListLayout {
    kind: PriceListKind::Services,
    table: "tblPLServices",
    id: "PLServiceID",
    uuid: "PLServiceUUID",
    name: "PLServName",
    detail_table: "tblPLServicesDetail",
    register: "ServiceID",
};

fn pricelist_from_row(
    row: &Row,
    layout: &ListLayout,
    ids: &LegacyIds,
) -> Result<PriceList, String> {
    let input = PriceListInput {
        name: row.text(layout.name)?.to_string(),
        location_id: None,
        lines: Vec::new(),
        version: None,
    };
    let mut checks = Checks::new();
    let name = rules::check_pricelist(&input, layout.kind.line_field(), &mut checks);
    first_problem(&name, checks)?;
    let location_id = ids.region_or_district(row.int("LocationId")?, "the price list")?;
    let at = stamp(row)?;
    Ok(PriceList {
        id: row.uuid(layout.uuid)?,
        name,
        location_id,
        lines: Vec::new(),
        version: 1,
        created_at: at,
        updated_at: at,
    })
}

/// One current detail row: the row, the item or service, the price overrule.
type DetailLine<'r> = (&'r Row, Uuid, Option<i64>);

async fn import_pricelists(
    db: &Db,
    dir: &Path,
    layout: &ListLayout,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let kind = layout.kind;
    let entity = kind.entity();
    if let Some(rows) = csvfile::read(dir, layout.table)? {
        let map = legacy_map(&rows, layout.id, layout.uuid);
        match kind {
            PriceListKind::Items => ids.medical.item_pricelists = map,
            PriceListKind::Services => ids.medical.service_pricelists = map,
        }
        let mut run = TableRun::new(db, layout.table, rows.len(), progress);
        for row in &rows {
            if !row.is_current() && !row.is_deleted() {
                run.count.history += 1;
                run.bar.inc(1);
                continue;
            }
            let (list, deleted_at) = match pricelist_from_row(row, layout, ids)
                .and_then(|l| Ok((l, row.deleted_at()?)))
            {
                Ok(parsed) => parsed,
                Err(reason) => {
                    run.skip(row, reason);
                    continue;
                }
            };
            if let Some(at) = deleted_at {
                ids.medical.deleted_lists.insert(list.id, (kind, at));
            }
            let tx = run.tx().await?;
            let table = pricelist_table(kind);
            if ::registry::store::row_exists(tx, table, list.id).await? {
                run.counted(true, deleted_at.is_some());
            } else {
                sql::save_pricelist(tx, kind, &list, None).await?;
                import_entry(actor, entity, list.id, "import", &list, deleted_at)?
                    .append(tx)
                    .await?;
                run.counted(false, deleted_at.is_some());
            }
            run.done().await?;
        }
        run.finish(report).await?;
    }
    let Some(rows) = csvfile::read(dir, layout.detail_table)? else {
        return Ok(());
    };
    let (lists, register) = match kind {
        PriceListKind::Items => (&ids.medical.item_pricelists, &ids.medical.items),
        PriceListKind::Services => (&ids.medical.service_pricelists, &ids.medical.services),
    };
    let mut run = TableRun::new(db, layout.detail_table, rows.len(), progress);
    // Group the current lines by list, then add the missing ones to each list at once.
    let mut by_list: Vec<(Uuid, Vec<DetailLine>)> = Vec::new();
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = (|| -> Result<(Uuid, Uuid, Option<i64>), String> {
            let pl = row
                .int(layout.id)?
                .ok_or_else(|| format!("{} is empty", layout.id))?;
            let list = *lists
                .get(&pl)
                .ok_or_else(|| format!("{} {pl} is not a price list of this export", layout.id))?;
            let reg = row
                .int(layout.register)?
                .ok_or_else(|| format!("{} is empty", layout.register))?;
            let target = *register.get(&reg).ok_or_else(|| {
                format!("{} {reg} is not in this export's register", layout.register)
            })?;
            let overrule = row.money("PriceOverule")?;
            if overrule.is_some_and(|p| p < 0) {
                return Err("PriceOverule is negative".into());
            }
            Ok((list, target, overrule))
        })();
        match parsed {
            Ok((list, target, overrule)) => match by_list.iter_mut().find(|(l, _)| *l == list) {
                Some((_, lines)) => lines.push((row, target, overrule)),
                None => by_list.push((list, vec![(row, target, overrule)])),
            },
            Err(reason) => run.skip(row, reason),
        }
    }
    for (list_id, lines) in by_list {
        let tx = run.tx().await?;
        let Some(before) = sql::get_pricelist(tx, kind, list_id).await? else {
            // A list deleted in openIMIS that an earlier run closed took its lines first.
            if ids.medical.deleted_lists.contains_key(&list_id)
                && ::registry::store::row_exists(tx, pricelist_table(kind), list_id).await?
            {
                run.count.unchanged += lines.len() as u64;
                for _ in &lines {
                    run.done().await?;
                }
                continue;
            }
            for (row, _, _) in &lines {
                run.skip(row, "its price list was not imported".into());
            }
            continue;
        };
        let mut after = before.clone();
        let mut added = 0u64;
        let mut twice: Vec<&Row> = Vec::new();
        for (row, target, overrule) in &lines {
            if before.lines.iter().any(|l| l.register_id == *target) {
                continue;
            }
            if after.lines.iter().any(|l| l.register_id == *target) {
                twice.push(row);
                continue;
            }
            after.lines.push(PriceListLine {
                register_id: *target,
                price_overrule: *overrule,
                price: 0,
            });
            added += 1;
        }
        if added > 0 {
            after.version += 1;
            after.updated_at = audit::now_micros();
            if !sql::save_pricelist(tx, kind, &after, Some(before.version)).await? {
                anyhow::bail!("the price list {list_id} changed during the import");
            }
            after.lines = sql::lines(tx, kind, list_id).await?;
            audit::append(
                tx,
                actor,
                entity,
                list_id,
                "import",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        let stored = lines.len() - twice.len();
        run.count.imported += added;
        run.count.unchanged += stored as u64 - added;
        for row in twice {
            run.skip(row, "this line is listed twice in its price list".into());
        }
        for _ in 0..stored {
            run.done().await?;
        }
    }
    run.finish(report).await
}

// ---------------------------------------------------------------- facilities' price lists

/// Set each imported facility's item and service price list from tblHF.PLItemID / PLServiceID.
async fn link_facilities(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblHF")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblHF price lists", rows.len(), progress);
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let wanted = (|| -> Result<(Uuid, Option<Uuid>, Option<Uuid>), String> {
            let facility = row.uuid("HfUUID")?;
            let items = match row.int("PLItemID")? {
                None => None,
                Some(pl) => Some(*ids.medical.item_pricelists.get(&pl).ok_or_else(|| {
                    format!("PLItemID {pl} is not an item price list of this export")
                })?),
            };
            let services = match row.int("PLServiceID")? {
                None => None,
                Some(pl) => Some(*ids.medical.service_pricelists.get(&pl).ok_or_else(|| {
                    format!("PLServiceID {pl} is not a service price list of this export")
                })?),
            };
            Ok((facility, items, services))
        })();
        let (facility, items, services) = match wanted {
            Ok(w) => w,
            Err(reason) => {
                skip_hf(&mut run, row, reason);
                continue;
            }
        };
        let tx = run.tx().await?;
        let Some(before) = location::store::get_facility(tx, facility).await? else {
            skip_hf(&mut run, row, "its health facility was not imported".into());
            continue;
        };
        let mut missing = None;
        for (id, kind, column) in [
            (items, PriceListKind::Items, "PLItemID"),
            (services, PriceListKind::Services, "PLServiceID"),
        ] {
            if let Some(id) = id
                && !::registry::store::row_exists(tx, pricelist_table(kind), id).await?
            {
                missing = Some(format!("the price list of {column} was not imported"));
            }
        }
        if let Some(reason) = missing {
            skip_hf(&mut run, row, reason);
            continue;
        }
        if before.items_pricelist_id == items && before.services_pricelist_id == services {
            run.count.unchanged += 1;
        } else {
            let mut after = before.clone();
            after.items_pricelist_id = items;
            after.services_pricelist_id = services;
            after.version += 1;
            after.updated_at = audit::now_micros();
            if !location::store::save_facility(tx, &after, Some(before.version)).await? {
                anyhow::bail!(
                    "the health facility {} changed during the import",
                    before.code
                );
            }
            audit::append(
                tx,
                actor,
                location::service::HEALTH_FACILITY,
                facility,
                "import",
                Some(&before),
                Some(&after),
            )
            .await?;
            run.count.imported += 1;
        }
        run.done().await?;
    }
    run.finish(report).await
}

/// A skipped facility row is reported against tblHF.csv, the file the user knows.
fn skip_hf(run: &mut TableRun<'_>, row: &Row, reason: String) {
    run.count.skipped += 1;
    run.problems.push(Skipped {
        file: "tblHF.csv".into(),
        line: row.line,
        reason,
    });
    run.bar.inc(1);
}
