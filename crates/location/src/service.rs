//! Use cases of locations and health facilities: rights, district scope, rules, audit.

use crate::model::*;
use crate::rules;
use crate::store::{self as sql, FacilityFilter, LocationFilter};
use kernel::{
    Actor, Checks, Error, PageParams, Paged, Result, Right, Scope, audit, required_version,
};
use store::{Db, Tx};
use uuid::Uuid;

/// Which of a facility's price lists (`items_pricelist_id`, `services_pricelist_id`) do not
/// exist. Price lists belong to the medical module, which location cannot depend on: the
/// composition root hands its check to the HTTP layer.
pub type PriceListCheck = for<'a> fn(
    &'a mut Tx,
    Option<Uuid>,
    Option<Uuid>,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Vec<&'static str>>> + Send + 'a>,
>;

pub const LOCATION: &str = "location";
pub const HEALTH_FACILITY: &str = "health_facility";

/// The location-list scope of an actor: their districts and the regions they hold entirely.
async fn location_scope(tx: &mut Tx, actor: &Actor) -> Result<Option<(Vec<Uuid>, Vec<Uuid>)>> {
    match actor.scope() {
        Scope::All => Ok(None),
        Scope::Districts(held) => {
            let regions = sql::fully_held_regions(tx, &held).await?;
            Ok(Some((held, regions)))
        }
    }
}

/// May the actor see this location?
async fn sees_location(tx: &mut Tx, actor: &Actor, location: &Location) -> Result<bool> {
    Ok(match location_scope(tx, actor).await? {
        None => true,
        Some((districts, regions)) => {
            location.district_id.is_some_and(|d| districts.contains(&d))
                || regions.contains(&location.id)
        }
    })
}

/// Find a location by UUID or code; one outside the actor's scope is not found.
async fn find_location(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Location> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_location(tx, uuid).await?,
        None => sql::get_location_by_code(tx, id.trim()).await?,
    };
    match found {
        Some(l) if sees_location(tx, actor, &l).await? => Ok(l),
        _ => Err(Error::not_found("location", id)),
    }
}

pub async fn list_locations(
    db: &Db,
    actor: &Actor,
    mut filter: LocationFilter,
    page: PageParams,
) -> Result<Paged<Location>> {
    actor.require(Right::LOCATION_SEARCH)?;
    let mut tx = db.read().await?;
    filter.scope = location_scope(&mut tx, actor).await?;
    let (items, total) = sql::list_locations(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_location(db: &Db, actor: &Actor, id: &str) -> Result<Location> {
    actor.require(Right::LOCATION_SEARCH)?;
    let mut tx = db.read().await?;
    find_location(&mut tx, actor, id).await
}

/// Check an input against the rules and the database; returns the parent, if any.
async fn check_location_input(
    tx: &mut Tx,
    actor: &Actor,
    input: &LocationInput,
    except: Option<Uuid>,
) -> Result<(LocationInput, Option<Location>)> {
    let mut checks = Checks::new();
    let code = checks.required("code", &input.code, 8);
    let name = checks.required("name", &input.name, 50);
    checks.non_negative("male_population", input.male_population);
    checks.non_negative("female_population", input.female_population);
    checks.non_negative("other_population", input.other_population);
    checks.non_negative("families", input.families);
    let parent = match input.parent_id {
        Some(pid) => match sql::get_location(tx, pid).await? {
            Some(p) if sees_location(tx, actor, &p).await? => Some(p),
            _ => {
                checks.push(
                    "parent_id",
                    "not_found",
                    "the parent location does not exist",
                );
                None
            }
        },
        None => None,
    };
    if input.parent_id.is_none() || parent.is_some() {
        rules::check_parent(input.kind, parent.as_ref().map(|p| p.kind), &mut checks);
    }
    if except.is_some_and(|id| Some(id) == input.parent_id) {
        checks.push("parent_id", "cycle", "a location cannot be its own parent");
    }
    checks.finish()?;
    if sql::location_code_taken(tx, &code, except).await? {
        return Err(Error::conflict(
            "duplicate_code",
            format!("the location code \"{code}\" is already used by another location"),
        ));
    }
    let clean = LocationInput {
        code,
        name,
        ..input.clone()
    };
    Ok((clean, parent))
}

/// The district a new or moved location belongs to.
fn district_for(kind: LocationType, id: Uuid, parent: Option<&Location>) -> Option<Uuid> {
    match kind {
        LocationType::Region => None,
        LocationType::District => Some(id),
        _ => parent.and_then(|p| p.district_id),
    }
}

/// Creating a location needs the right for its level and the parent within the actor's scope.
fn require_create(actor: &Actor, kind: LocationType) -> Result<()> {
    actor.require(Right::LOCATION_ADD)?;
    if kind == LocationType::Region {
        actor.require(Right::REGION_ADD)?;
    }
    Ok(())
}

pub async fn create_location(db: &Db, actor: &Actor, input: LocationInput) -> Result<Location> {
    require_create(actor, input.kind)?;
    let mut tx = db.begin().await?;
    let (input, parent) = check_location_input(&mut tx, actor, &input, None).await?;
    if input.kind == LocationType::District && !actor.is_admin {
        // A new district is outside every district list; only those who hold the whole region may add one.
        let (_, regions) = location_scope(&mut tx, actor).await?.unwrap_or_default();
        if !parent.as_ref().is_some_and(|p| regions.contains(&p.id)) {
            return Err(Error::forbidden(
                "only a user who holds every district of the region can add a district to it",
            ));
        }
    }
    let now = audit::now_micros();
    let id = Uuid::now_v7();
    let location = Location {
        id,
        code: input.code,
        name: input.name,
        kind: input.kind,
        parent_id: input.parent_id,
        district_id: district_for(input.kind, id, parent.as_ref()),
        male_population: input.male_population,
        female_population: input.female_population,
        other_population: input.other_population,
        families: input.families,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::insert_location(&mut tx, &location).await?;
    audit::append(
        &mut tx,
        actor,
        LOCATION,
        id,
        "create",
        None::<&()>,
        Some(&location),
    )
    .await?;
    tx.commit().await?;
    Ok(location)
}

pub async fn update_location(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: LocationInput,
) -> Result<Location> {
    actor.require(Right::LOCATION_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_location(&mut tx, actor, id).await?;
    if input.kind != before.kind {
        return Err(Error::invalid(
            "type",
            "immutable",
            "the type of a location cannot change",
        ));
    }
    let moved = input.parent_id != before.parent_id;
    if moved {
        actor.require(Right::LOCATION_MOVE)?;
    }
    let (input, parent) = check_location_input(&mut tx, actor, &input, Some(before.id)).await?;
    if version != before.version {
        return Err(Error::stale("location"));
    }
    let after = Location {
        code: input.code,
        name: input.name,
        parent_id: input.parent_id,
        district_id: district_for(before.kind, before.id, parent.as_ref()),
        male_population: input.male_population,
        female_population: input.female_population,
        other_population: input.other_population,
        families: input.families,
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::update_location(&mut tx, &after, version).await? {
        return Err(Error::stale("location"));
    }
    if moved && matches!(after.kind, LocationType::Ward | LocationType::Village) {
        sql::set_subtree_district(&mut tx, after.id, after.district_id).await?;
    }
    audit::append(
        &mut tx,
        actor,
        LOCATION,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_location(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(Right::LOCATION_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_location(&mut tx, actor, id).await?;
    let (children, facilities) = sql::dependants(&mut tx, before.id).await?;
    if children > 0 || facilities > 0 {
        return Err(Error::conflict(
            "in_use",
            format!(
                "{} {} cannot be deleted: {children} locations and {facilities} health facilities still belong to it",
                before.kind.label(),
                before.code
            ),
        ));
    }
    if !sql::delete_location(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("location"));
    }
    audit::append(
        &mut tx,
        actor,
        LOCATION,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// For other modules: check that every id is a current location of type `kind`; returns the
/// district of each, in the order given. Unknown or wrong-level ids are named in the error.
pub async fn check_locations(
    tx: &mut Tx,
    field: &str,
    ids: &[Uuid],
    kind: LocationType,
) -> Result<Vec<Option<Uuid>>> {
    let found = sql::location_types(tx, ids).await?;
    let mut checks = Checks::new();
    let mut districts = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match found.iter().find(|(f, _, _)| f == id) {
            Some((_, t, d)) if *t == kind => districts.push(*d),
            Some((_, t, _)) => {
                checks.push(
                    format!("{field}[{i}]"),
                    "wrong_level",
                    format!("{id} is a {}, not a {}", t.label(), kind.label()),
                );
            }
            None => checks.push(
                format!("{field}[{i}]"),
                "not_found",
                format!("location {id} does not exist"),
            ),
        }
    }
    checks.finish()?;
    Ok(districts)
}

// ---------------------------------------------------------------- health facilities

fn facility_scope(actor: &Actor) -> Option<Vec<Uuid>> {
    match actor.scope() {
        Scope::All => None,
        Scope::Districts(d) => Some(d),
    }
}

async fn find_facility(tx: &mut Tx, actor: &Actor, id: &str) -> Result<HealthFacility> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_facility(tx, uuid).await?,
        None => sql::get_facility_by_code(tx, id.trim()).await?,
    };
    match found {
        Some(f) if actor.sees_district(Some(f.location_id)) => Ok(f),
        _ => Err(Error::not_found("health facility", id)),
    }
}

pub async fn list_facilities(
    db: &Db,
    actor: &Actor,
    mut filter: FacilityFilter,
    page: PageParams,
) -> Result<Paged<HealthFacility>> {
    actor.require(Right::HF_SEARCH)?;
    filter.scope = facility_scope(actor);
    let mut tx = db.read().await?;
    let (items, total) =
        sql::list_facilities(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_facility(db: &Db, actor: &Actor, id: &str) -> Result<HealthFacility> {
    actor.require(Right::HF_SEARCH)?;
    let mut tx = db.read().await?;
    find_facility(&mut tx, actor, id).await
}

/// Check a facility input; the district and catchment villages must exist, be of the right
/// level and lie within the actor's districts.
async fn check_facility_input(
    tx: &mut Tx,
    actor: &Actor,
    input: &HealthFacilityInput,
    except: Option<Uuid>,
    pricelists: PriceListCheck,
) -> Result<()> {
    let mut checks = Checks::new();
    rules::check_facility(input, &mut checks);
    for field in pricelists(tx, input.items_pricelist_id, input.services_pricelist_id).await? {
        checks.push(field, "not_found", "this price list does not exist");
    }
    checks.finish()?;
    let district = check_locations(
        tx,
        "location_id",
        &[input.location_id],
        LocationType::District,
    )
    .await
    .map_err(|e| rename_field(e, "location_id[0]", "location_id"))?;
    if !actor.sees_district(district[0]) {
        return Err(Error::invalid(
            "location_id",
            "outside_districts",
            "this district is not one of yours",
        ));
    }
    let villages: Vec<Uuid> = input.catchments.iter().map(|c| c.location_id).collect();
    let village_districts = check_locations(tx, "catchments", &villages, LocationType::Village)
        .await
        .map_err(|e| match e {
            Error::Invalid(fields) => Error::Invalid(
                fields
                    .into_iter()
                    .map(|mut f| {
                        f.field = format!("{}.location_id", f.field);
                        f
                    })
                    .collect(),
            ),
            other => other,
        })?;
    for (i, d) in village_districts.iter().enumerate() {
        if !actor.sees_district(*d) {
            return Err(Error::invalid(
                format!("catchments[{i}].location_id"),
                "outside_districts",
                "this village is not in one of your districts",
            ));
        }
    }
    let code = input.code.trim();
    if sql::facility_code_taken(tx, code, except).await? {
        return Err(Error::conflict(
            "duplicate_code",
            format!("the health facility code \"{code}\" is already used by another facility"),
        ));
    }
    Ok(())
}

fn rename_field(error: Error, from: &str, to: &str) -> Error {
    match error {
        Error::Invalid(fields) => Error::Invalid(
            fields
                .into_iter()
                .map(|mut f| {
                    if f.field == from {
                        f.field = to.to_string();
                    }
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn facility_from_input(input: HealthFacilityInput, base: HealthFacility) -> HealthFacility {
    HealthFacility {
        code: input.code.trim().to_string(),
        name: input.name.trim().to_string(),
        acc_code: trimmed(&input.acc_code),
        legal_form: input.legal_form,
        level: input.level,
        sub_level: input.sub_level,
        location_id: input.location_id,
        address: trimmed(&input.address),
        phone: trimmed(&input.phone),
        fax: trimmed(&input.fax),
        email: trimmed(&input.email),
        care_type: input.care_type,
        items_pricelist_id: input.items_pricelist_id,
        services_pricelist_id: input.services_pricelist_id,
        offline: input.offline,
        contract_start_date: input.contract_start_date,
        contract_end_date: input.contract_end_date,
        status: input.status.unwrap_or(base.status),
        catchments: input.catchments,
        ..base
    }
}

pub async fn create_facility(
    db: &Db,
    actor: &Actor,
    input: HealthFacilityInput,
    pricelists: PriceListCheck,
) -> Result<HealthFacility> {
    actor.require(Right::HF_ADD)?;
    let mut tx = db.begin().await?;
    check_facility_input(&mut tx, actor, &input, None, pricelists).await?;
    let now = audit::now_micros();
    let blank = HealthFacility {
        id: Uuid::now_v7(),
        code: String::new(),
        name: String::new(),
        acc_code: None,
        legal_form: input.legal_form,
        level: input.level,
        sub_level: None,
        location_id: input.location_id,
        address: None,
        phone: None,
        fax: None,
        email: None,
        care_type: input.care_type,
        items_pricelist_id: None,
        services_pricelist_id: None,
        offline: false,
        contract_start_date: None,
        contract_end_date: None,
        status: FacilityStatus::Active,
        catchments: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let facility = facility_from_input(input, blank);
    sql::save_facility(&mut tx, &facility, None).await?;
    audit::append(
        &mut tx,
        actor,
        HEALTH_FACILITY,
        facility.id,
        "create",
        None::<&()>,
        Some(&facility),
    )
    .await?;
    tx.commit().await?;
    Ok(facility)
}

pub async fn update_facility(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: HealthFacilityInput,
    pricelists: PriceListCheck,
) -> Result<HealthFacility> {
    actor.require(Right::HF_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_facility(&mut tx, actor, id).await?;
    check_facility_input(&mut tx, actor, &input, Some(before.id), pricelists).await?;
    if version != before.version {
        return Err(Error::stale("health facility"));
    }
    let mut after = facility_from_input(input, before.clone());
    after.version = before.version + 1;
    after.updated_at = audit::now_micros();
    if !sql::save_facility(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("health facility"));
    }
    audit::append(
        &mut tx,
        actor,
        HEALTH_FACILITY,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_facility(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(Right::HF_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_facility(&mut tx, actor, id).await?;
    if !sql::delete_facility(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("health facility"));
    }
    audit::append(
        &mut tx,
        actor,
        HEALTH_FACILITY,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Audit-history guards: the history of a location or facility is readable by whoever can read it.
pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![
        (
            LOCATION,
            kernel::audit_guard(|db, actor, id| async move {
                get_location(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            HEALTH_FACILITY,
            kernel::audit_guard(|db, actor, id| async move {
                get_facility(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
    ]
}
