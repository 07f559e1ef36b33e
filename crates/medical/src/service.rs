//! Use cases of the medical registers and price lists: rights, district scope, rules, audit.

use crate::model::*;
use crate::rules;
use crate::store::{self as sql, DiagnosisFilter, ItemFilter, PriceListFilter, ServiceFilter};
use kernel::{
    Actor, Checks, Error, PageParams, Paged, Result, Right, Scope, audit, required_version,
};
use location::model::LocationType;
use store::{Arg, Db, Tx};
use uuid::Uuid;

pub const DIAGNOSIS: &str = "diagnosis";
pub const MEDICAL_ITEM: &str = "medical_item";
pub const MEDICAL_SERVICE: &str = "medical_service";
pub const ITEM_PRICELIST: &str = "item_pricelist";
pub const SERVICE_PRICELIST: &str = "service_pricelist";

/// Registers: diagnoses upload (writing the ICD register).
pub const DIAGNOSES_UPLOAD: Right = Right(131001);
pub const ITEM_SEARCH: Right = Right(122101);
pub const ITEM_ADD: Right = Right(122102);
pub const ITEM_EDIT: Right = Right(122103);
pub const ITEM_DELETE: Right = Right(122104);
pub const SERVICE_SEARCH: Right = Right(121401);
pub const SERVICE_ADD: Right = Right(121402);
pub const SERVICE_EDIT: Right = Right(121403);
pub const SERVICE_DELETE: Right = Right(121404);

/// The rights of one kind of price list: search, add, edit, delete, duplicate.
pub struct PriceListRights {
    pub search: Right,
    pub add: Right,
    pub edit: Right,
    pub delete: Right,
    pub duplicate: Right,
}

impl PriceListKind {
    pub fn rights(self) -> PriceListRights {
        let base = match self {
            PriceListKind::Items => 121300,
            PriceListKind::Services => 121200,
        };
        PriceListRights {
            search: Right(base + 1),
            add: Right(base + 2),
            edit: Right(base + 3),
            delete: Right(base + 4),
            duplicate: Right(base + 5),
        }
    }

    pub fn entity(self) -> &'static str {
        match self {
            PriceListKind::Items => ITEM_PRICELIST,
            PriceListKind::Services => SERVICE_PRICELIST,
        }
    }

    fn label(self) -> &'static str {
        match self {
            PriceListKind::Items => "item price list",
            PriceListKind::Services => "service price list",
        }
    }
}

/// A path id: a UUID, else a code.
fn key(id: &str) -> Arg {
    match kernel::parse_uuid(id) {
        Some(uuid) => Arg::Uuid(uuid),
        None => Arg::Text(id.trim().to_string()),
    }
}

fn duplicate_code(what: &str, code: &str) -> Error {
    Error::conflict(
        "duplicate_code",
        format!("the {what} code {code} is already used by another {what}"),
    )
}

// ---------------------------------------------------------------- diagnoses

pub async fn list_diagnoses(
    db: &Db,
    _actor: &Actor,
    filter: DiagnosisFilter,
    page: PageParams,
) -> Result<Paged<Diagnosis>> {
    let mut tx = db.read().await?;
    let (items, total) = sql::list_diagnoses(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

async fn find_diagnosis(tx: &mut Tx, id: &str) -> Result<Diagnosis> {
    sql::get_diagnosis(tx, key(id))
        .await?
        .ok_or_else(|| Error::not_found("diagnosis", id))
}

/// Anyone logged in may read the ICD register.
pub async fn get_diagnosis(db: &Db, _actor: &Actor, id: &str) -> Result<Diagnosis> {
    let mut tx = db.read().await?;
    find_diagnosis(&mut tx, id).await
}

async fn check_diagnosis(
    tx: &mut Tx,
    input: &DiagnosisInput,
    except: Option<Uuid>,
) -> Result<(String, String)> {
    let mut checks = Checks::new();
    let (code, name) = rules::check_diagnosis(input, &mut checks);
    checks.finish()?;
    if sql::diagnosis_code_taken(tx, &code, except).await? {
        return Err(duplicate_code("diagnosis", &code));
    }
    Ok((code, name))
}

pub async fn create_diagnosis(db: &Db, actor: &Actor, input: DiagnosisInput) -> Result<Diagnosis> {
    actor.require(DIAGNOSES_UPLOAD)?;
    let mut tx = db.begin().await?;
    let (code, name) = check_diagnosis(&mut tx, &input, None).await?;
    let now = audit::now_micros();
    let d = Diagnosis {
        id: Uuid::now_v7(),
        code,
        name,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::save_diagnosis(&mut tx, &d, None).await?;
    audit::append(
        &mut tx,
        actor,
        DIAGNOSIS,
        d.id,
        "create",
        None::<&()>,
        Some(&d),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

pub async fn update_diagnosis(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: DiagnosisInput,
) -> Result<Diagnosis> {
    actor.require(DIAGNOSES_UPLOAD)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_diagnosis(&mut tx, id).await?;
    let (code, name) = check_diagnosis(&mut tx, &input, Some(before.id)).await?;
    if version != before.version {
        return Err(Error::stale("diagnosis"));
    }
    let after = Diagnosis {
        code,
        name,
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::save_diagnosis(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("diagnosis"));
    }
    audit::append(
        &mut tx,
        actor,
        DIAGNOSIS,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_diagnosis(
    db: &Db,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
) -> Result<()> {
    actor.require(DIAGNOSES_UPLOAD)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_diagnosis(&mut tx, id).await?;
    let kind = audit::Deletable {
        entity: DIAGNOSIS,
        table: "diagnoses",
        label: "diagnosis",
    };
    audit::soft_delete(&mut tx, actor, kind, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- items

pub async fn list_items(
    db: &Db,
    actor: &Actor,
    filter: ItemFilter,
    page: PageParams,
) -> Result<Paged<MedicalItem>> {
    actor.require(ITEM_SEARCH)?;
    let mut tx = db.read().await?;
    let (items, total) = sql::list_items(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

async fn find_item(tx: &mut Tx, id: &str) -> Result<MedicalItem> {
    sql::get_item(tx, key(id))
        .await?
        .ok_or_else(|| Error::not_found("medical item", id))
}

pub async fn get_item(db: &Db, actor: &Actor, id: &str) -> Result<MedicalItem> {
    actor.require(ITEM_SEARCH)?;
    let mut tx = db.read().await?;
    find_item(&mut tx, id).await
}

async fn check_item(
    tx: &mut Tx,
    input: &MedicalItemInput,
    except: Option<Uuid>,
) -> Result<MedicalItemInput> {
    let mut checks = Checks::new();
    let clean = rules::check_item(input, &mut checks);
    checks.finish()?;
    if sql::item_code_taken(tx, &clean.code, except).await? {
        return Err(duplicate_code("item", &clean.code));
    }
    Ok(clean)
}

fn item_from_input(input: MedicalItemInput, base: MedicalItem) -> MedicalItem {
    MedicalItem {
        code: input.code,
        name: input.name,
        kind: input.kind,
        package: input.package,
        price: input.price,
        quantity: input.quantity,
        maximum_amount: input.maximum_amount,
        care_type: input.care_type,
        frequency: input.frequency,
        patient_category: input.patient_category,
        ..base
    }
}

pub async fn create_item(db: &Db, actor: &Actor, input: MedicalItemInput) -> Result<MedicalItem> {
    actor.require(ITEM_ADD)?;
    let mut tx = db.begin().await?;
    let input = check_item(&mut tx, &input, None).await?;
    let now = audit::now_micros();
    let blank = MedicalItem {
        id: Uuid::now_v7(),
        code: String::new(),
        name: String::new(),
        kind: input.kind,
        package: None,
        price: 0,
        quantity: None,
        maximum_amount: None,
        care_type: input.care_type,
        frequency: None,
        patient_category: EVERYONE,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let item = item_from_input(input, blank);
    sql::save_item(&mut tx, &item, None).await?;
    audit::append(
        &mut tx,
        actor,
        MEDICAL_ITEM,
        item.id,
        "create",
        None::<&()>,
        Some(&item),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

pub async fn update_item(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: MedicalItemInput,
) -> Result<MedicalItem> {
    actor.require(ITEM_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_item(&mut tx, id).await?;
    let input = check_item(&mut tx, &input, Some(before.id)).await?;
    if version != before.version {
        return Err(Error::stale("medical item"));
    }
    let mut after = item_from_input(input, before.clone());
    after.version = before.version + 1;
    after.updated_at = audit::now_micros();
    if !sql::save_item(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("medical item"));
    }
    audit::append(
        &mut tx,
        actor,
        MEDICAL_ITEM,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_item(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(ITEM_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_item(&mut tx, id).await?;
    let lists = sql::pricelists_holding(&mut tx, PriceListKind::Items, before.id).await?;
    if lists > 0 {
        return Err(Error::conflict(
            "in_use",
            format!(
                "item {} cannot be deleted: {lists} price lists still hold it",
                before.code
            ),
        ));
    }
    let kind = audit::Deletable {
        entity: MEDICAL_ITEM,
        table: "medical_items",
        label: "medical item",
    };
    audit::soft_delete(&mut tx, actor, kind, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- services

pub async fn list_services(
    db: &Db,
    actor: &Actor,
    filter: ServiceFilter,
    page: PageParams,
) -> Result<Paged<MedicalService>> {
    actor.require(SERVICE_SEARCH)?;
    let mut tx = db.read().await?;
    let (items, total) = sql::list_services(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

async fn find_service(tx: &mut Tx, id: &str) -> Result<MedicalService> {
    sql::get_service(tx, key(id))
        .await?
        .ok_or_else(|| Error::not_found("medical service", id))
}

pub async fn get_service(db: &Db, actor: &Actor, id: &str) -> Result<MedicalService> {
    actor.require(SERVICE_SEARCH)?;
    let mut tx = db.read().await?;
    find_service(&mut tx, id).await
}

async fn check_service(
    tx: &mut Tx,
    input: &MedicalServiceInput,
    except: Option<Uuid>,
) -> Result<MedicalServiceInput> {
    let mut checks = Checks::new();
    let clean = rules::check_service(input, &mut checks);
    checks.finish()?;
    if sql::service_code_taken(tx, &clean.code, except).await? {
        return Err(duplicate_code("service", &clean.code));
    }
    Ok(clean)
}

fn service_from_input(input: MedicalServiceInput, base: MedicalService) -> MedicalService {
    MedicalService {
        code: input.code,
        name: input.name,
        category: input.category,
        kind: input.kind,
        level: input.level,
        package_type: input.package_type.unwrap_or(base.package_type),
        manual_price: input.manual_price,
        price: input.price,
        maximum_amount: input.maximum_amount,
        care_type: input.care_type,
        frequency: input.frequency,
        patient_category: input.patient_category,
        ..base
    }
}

pub async fn create_service(
    db: &Db,
    actor: &Actor,
    input: MedicalServiceInput,
) -> Result<MedicalService> {
    actor.require(SERVICE_ADD)?;
    let mut tx = db.begin().await?;
    let input = check_service(&mut tx, &input, None).await?;
    let now = audit::now_micros();
    let blank = MedicalService {
        id: Uuid::now_v7(),
        code: String::new(),
        name: String::new(),
        category: None,
        kind: input.kind,
        level: input.level,
        package_type: PackageType::Simple,
        manual_price: false,
        price: 0,
        maximum_amount: None,
        care_type: input.care_type,
        frequency: None,
        patient_category: EVERYONE,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let service = service_from_input(input, blank);
    sql::save_service(&mut tx, &service, None).await?;
    audit::append(
        &mut tx,
        actor,
        MEDICAL_SERVICE,
        service.id,
        "create",
        None::<&()>,
        Some(&service),
    )
    .await?;
    tx.commit().await?;
    Ok(service)
}

pub async fn update_service(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: MedicalServiceInput,
) -> Result<MedicalService> {
    actor.require(SERVICE_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_service(&mut tx, id).await?;
    let input = check_service(&mut tx, &input, Some(before.id)).await?;
    if version != before.version {
        return Err(Error::stale("medical service"));
    }
    let mut after = service_from_input(input, before.clone());
    after.version = before.version + 1;
    after.updated_at = audit::now_micros();
    if !sql::save_service(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("medical service"));
    }
    audit::append(
        &mut tx,
        actor,
        MEDICAL_SERVICE,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_service(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(SERVICE_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_service(&mut tx, id).await?;
    let lists = sql::pricelists_holding(&mut tx, PriceListKind::Services, before.id).await?;
    if lists > 0 {
        return Err(Error::conflict(
            "in_use",
            format!(
                "service {} cannot be deleted: {lists} price lists still hold it",
                before.code
            ),
        ));
    }
    let kind = audit::Deletable {
        entity: MEDICAL_SERVICE,
        table: "medical_services",
        label: "medical service",
    };
    audit::soft_delete(&mut tx, actor, kind, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- price lists

/// The locations whose price lists an actor sees besides the national ones: their districts
/// and the regions above them. `None`: every list.
async fn visible_locations(tx: &mut Tx, actor: &Actor) -> Result<Option<Vec<Uuid>>> {
    match actor.scope() {
        Scope::All => Ok(None),
        Scope::Districts(held) => {
            let mut visible = sql::regions_of(tx, &held).await?;
            visible.extend(held);
            Ok(Some(visible))
        }
    }
}

/// May the actor change a list at `location`? Their own districts, a region whose every
/// district they hold, and national lists only with every district.
async fn may_write_at(tx: &mut Tx, actor: &Actor, location: Option<Uuid>) -> Result<bool> {
    Ok(match (actor.scope(), location) {
        (Scope::All, _) => true,
        (Scope::Districts(_), None) => false,
        (Scope::Districts(held), Some(l)) => {
            held.contains(&l)
                || location::store::fully_held_regions(tx, &held)
                    .await?
                    .contains(&l)
        }
    })
}

async fn find_pricelist(
    tx: &mut Tx,
    actor: &Actor,
    kind: PriceListKind,
    id: &str,
) -> Result<PriceList> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_pricelist(tx, kind, uuid).await?,
        None => None,
    };
    let visible = visible_locations(tx, actor).await?;
    match found {
        Some(p)
            if p.location_id.is_none()
                || visible
                    .as_ref()
                    .is_none_or(|v| p.location_id.is_some_and(|l| v.contains(&l))) =>
        {
            Ok(p)
        }
        _ => Err(Error::not_found(kind.label(), id)),
    }
}

pub async fn list_pricelists(
    db: &Db,
    actor: &Actor,
    kind: PriceListKind,
    mut filter: PriceListFilter,
    page: PageParams,
) -> Result<Paged<PriceList>> {
    actor.require(kind.rights().search)?;
    let mut tx = db.read().await?;
    filter.scope = visible_locations(&mut tx, actor).await?;
    let (items, total) =
        sql::list_pricelists(&mut tx, kind, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_pricelist(
    db: &Db,
    actor: &Actor,
    kind: PriceListKind,
    id: &str,
) -> Result<PriceList> {
    actor.require(kind.rights().search)?;
    let mut tx = db.read().await?;
    find_pricelist(&mut tx, actor, kind, id).await
}

/// Check a price-list input: the fields, the location (a region or district the actor may
/// write at), and that every line names a current item or service. Returns the trimmed name.
async fn check_pricelist(
    tx: &mut Tx,
    actor: &Actor,
    kind: PriceListKind,
    input: &PriceListInput,
) -> Result<String> {
    let mut checks = Checks::new();
    let name = rules::check_pricelist(input, kind.line_field(), &mut checks);
    if let Some(l) = input.location_id {
        match location::store::get_location(tx, l).await? {
            Some(loc) if matches!(loc.kind, LocationType::Region | LocationType::District) => {}
            Some(loc) => checks.push(
                "location_id",
                "wrong_level",
                format!(
                    "a price list belongs to a region or a district, not a {}",
                    loc.kind.label()
                ),
            ),
            None => checks.push("location_id", "not_found", "this location does not exist"),
        }
    }
    let ids: Vec<Uuid> = input.lines.iter().map(|(id, _)| *id).collect();
    let found = match kind {
        PriceListKind::Items => sql::existing_items(tx, &ids).await?,
        PriceListKind::Services => sql::existing_services(tx, &ids).await?,
    };
    let what = match kind {
        PriceListKind::Items => "item",
        PriceListKind::Services => "service",
    };
    for (i, id) in ids.iter().enumerate() {
        if !found.contains(id) {
            checks.push(
                format!("lines[{i}].{}", kind.line_field()),
                "not_found",
                format!("there is no {what} {id}"),
            );
        }
    }
    checks.finish()?;
    if !may_write_at(tx, actor, input.location_id).await? {
        return Err(Error::invalid(
            "location_id",
            "outside_districts",
            match input.location_id {
                None => "only a user who holds every district can change a national price list",
                Some(_) => "this location is not one of your districts or fully held regions",
            },
        ));
    }
    Ok(name)
}

fn lines_of(input: &PriceListInput) -> Vec<PriceListLine> {
    input
        .lines
        .iter()
        .map(|(id, overrule)| PriceListLine {
            register_id: *id,
            price_overrule: *overrule,
            price: 0,
        })
        .collect()
}

pub async fn create_pricelist(
    db: &Db,
    actor: &Actor,
    kind: PriceListKind,
    input: PriceListInput,
) -> Result<PriceList> {
    actor.require(kind.rights().add)?;
    let mut tx = db.begin().await?;
    let name = check_pricelist(&mut tx, actor, kind, &input).await?;
    let now = audit::now_micros();
    let mut list = PriceList {
        id: Uuid::now_v7(),
        name,
        location_id: input.location_id,
        lines: lines_of(&input),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::save_pricelist(&mut tx, kind, &list, None).await?;
    list.lines = sql::lines(&mut tx, kind, list.id).await?;
    audit::append(
        &mut tx,
        actor,
        kind.entity(),
        list.id,
        "create",
        None::<&()>,
        Some(&list),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

pub async fn update_pricelist(
    db: &Db,
    actor: &Actor,
    kind: PriceListKind,
    id: &str,
    input: PriceListInput,
) -> Result<PriceList> {
    actor.require(kind.rights().edit)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_pricelist(&mut tx, actor, kind, id).await?;
    if !may_write_at(&mut tx, actor, before.location_id).await? {
        return Err(Error::Forbidden {
            code: "outside_districts",
            message: "this price list is outside the districts you may change".into(),
        });
    }
    let name = check_pricelist(&mut tx, actor, kind, &input).await?;
    if version != before.version {
        return Err(Error::stale(kind.label()));
    }
    let mut after = PriceList {
        name,
        location_id: input.location_id,
        lines: lines_of(&input),
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::save_pricelist(&mut tx, kind, &after, Some(version)).await? {
        return Err(Error::stale(kind.label()));
    }
    after.lines = sql::lines(&mut tx, kind, after.id).await?;
    audit::append(
        &mut tx,
        actor,
        kind.entity(),
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_pricelist(
    db: &Db,
    actor: &Actor,
    kind: PriceListKind,
    id: &str,
    version: Option<i64>,
) -> Result<()> {
    actor.require(kind.rights().delete)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_pricelist(&mut tx, actor, kind, id).await?;
    if !may_write_at(&mut tx, actor, before.location_id).await? {
        return Err(Error::Forbidden {
            code: "outside_districts",
            message: "this price list is outside the districts you may change".into(),
        });
    }
    let facilities = sql::facilities_using(&mut tx, kind, before.id).await?;
    if facilities > 0 {
        return Err(Error::conflict(
            "in_use",
            format!(
                "the {} \"{}\" cannot be deleted: {facilities} health facilities use it",
                kind.label(),
                before.name
            ),
        ));
    }
    let deletable = audit::Deletable {
        entity: kind.entity(),
        table: kind.table(),
        label: kind.label(),
    };
    audit::soft_delete(&mut tx, actor, deletable, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

/// A copy of a list (same location and lines) under a new name.
pub async fn duplicate_pricelist(
    db: &Db,
    actor: &Actor,
    kind: PriceListKind,
    id: &str,
    input: DuplicateInput,
) -> Result<PriceList> {
    actor.require(kind.rights().duplicate)?;
    let mut tx = db.begin().await?;
    let source = find_pricelist(&mut tx, actor, kind, id).await?;
    let copy = PriceListInput {
        name: input.name,
        location_id: source.location_id,
        lines: source
            .lines
            .iter()
            .map(|l| (l.register_id, l.price_overrule))
            .collect(),
        version: None,
    };
    let name = check_pricelist(&mut tx, actor, kind, &copy).await?;
    let now = audit::now_micros();
    let mut list = PriceList {
        id: Uuid::now_v7(),
        name,
        location_id: copy.location_id,
        lines: lines_of(&copy),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::save_pricelist(&mut tx, kind, &list, None).await?;
    list.lines = sql::lines(&mut tx, kind, list.id).await?;
    audit::append(
        &mut tx,
        actor,
        kind.entity(),
        list.id,
        "create",
        None::<&()>,
        Some(&list),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// Audit-history guards: whoever can read an entry can read its history.
pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![
        (
            DIAGNOSIS,
            kernel::audit_guard(|db, actor, id| async move {
                get_diagnosis(&db, &actor, &id.to_string())
                    .await
                    .map(|_| ())
            }),
        ),
        (
            MEDICAL_ITEM,
            kernel::audit_guard(|db, actor, id| async move {
                get_item(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            MEDICAL_SERVICE,
            kernel::audit_guard(|db, actor, id| async move {
                get_service(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            ITEM_PRICELIST,
            kernel::audit_guard(|db, actor, id| async move {
                get_pricelist(&db, &actor, PriceListKind::Items, &id.to_string())
                    .await
                    .map(|_| ())
            }),
        ),
        (
            SERVICE_PRICELIST,
            kernel::audit_guard(|db, actor, id| async move {
                get_pricelist(&db, &actor, PriceListKind::Services, &id.to_string())
                    .await
                    .map(|_| ())
            }),
        ),
    ]
}

/// For health facilities: which of the price lists a facility names do not exist
/// (wired into the location module by the composition root).
pub fn facility_pricelists<'a>(
    tx: &'a mut Tx,
    items: Option<Uuid>,
    services: Option<Uuid>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<&'static str>>> + Send + 'a>> {
    Box::pin(async move {
        let mut missing = Vec::new();
        for (field, kind, id) in [
            ("items_pricelist_id", PriceListKind::Items, items),
            ("services_pricelist_id", PriceListKind::Services, services),
        ] {
            if let Some(id) = id
                && sql::get_pricelist(tx, kind, id).await?.is_none()
            {
                missing.push(field);
            }
        }
        Ok(missing)
    })
}
