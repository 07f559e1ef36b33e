//! Use cases of families and insurees: rights, district scope, rules, audit.

use crate::config::Config;
use crate::model::*;
use crate::rules;
use crate::store::{self as sql, FamilyFilter, InsureeFilter};
use kernel::{
    Actor, Checks, Error, FieldError, PageParams, Paged, Result, Right, audit, required_version,
};
use location::model::LocationType;
use serde::Serialize;
use store::{Db, Tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub const FAMILY: &str = "family";
pub const INSUREE: &str = "insuree";

pub const FAMILY_SEARCH: Right = Right(101001);
pub const FAMILY_ADD: Right = Right(101002);
pub const FAMILY_EDIT: Right = Right(101003);
pub const FAMILY_DELETE: Right = Right(101004);
pub const INSUREE_SEARCH: Right = Right(101101);
pub const INSUREE_ADD: Right = Right(101102);
pub const INSUREE_EDIT: Right = Right(101103);
pub const INSUREE_DELETE: Right = Right(101104);
pub const INSUREE_ENQUIRE: Right = Right(101105);

type HookFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// What the policy module adds to the registry's use cases. The registry cannot depend on it
/// (policies depend on families): the composition root hands its functions to the HTTP layer.
#[derive(Clone, Copy)]
pub struct PolicyHooks {
    /// The policies covering an insuree, for the insuree's detail.
    pub insuree_policies: for<'a> fn(&'a mut Tx, Uuid) -> HookFuture<'a, Vec<serde_json::Value>>,
    /// A member joined a family (family, insuree, date), in the joining transaction.
    pub member_joined: for<'a> fn(&'a mut Tx, &'a Actor, Uuid, Uuid, Date) -> HookFuture<'a, ()>,
}

impl PolicyHooks {
    /// No policy module: no policies to show, nothing to do when a member joins.
    pub const NONE: PolicyHooks = PolicyHooks {
        insuree_policies: |_, _| Box::pin(async { Ok(Vec::new()) }),
        member_joined: |_, _, _, _, _| Box::pin(async { Ok(()) }),
    };
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The district of a village; a 422 on `field` when the id is no current village.
async fn village_district(tx: &mut Tx, field: &str, id: Uuid) -> Result<Uuid> {
    let districts = location::service::check_locations(tx, field, &[id], LocationType::Village)
        .await
        .map_err(|e| match e {
            Error::Invalid(fields) => Error::Invalid(
                fields
                    .into_iter()
                    .map(|f| FieldError::new(field, &f.code, f.message))
                    .collect(),
            ),
            other => other,
        })?;
    districts[0].ok_or_else(|| Error::invalid(field, "wrong_level", "this village has no district"))
}

/// A family by UUID; one outside the actor's districts is not found.
async fn find_family(tx: &mut Tx, actor: &Actor, id: &str) -> Result<FamilyView> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_family(tx, uuid).await?,
        None => None,
    };
    match found {
        Some(f) if actor.sees_district(Some(f.family.district_id)) => Ok(f),
        _ => Err(Error::not_found("family", id)),
    }
}

/// An insuree by UUID or insurance number; one outside the actor's districts is not found.
async fn find_insuree(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Insuree> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_insuree(tx, uuid).await?,
        None => sql::get_insuree_by_chfid(tx, id.trim()).await?,
    };
    match found {
        Some(i) if actor.sees_district(i.district_id) => Ok(i),
        _ => Err(Error::not_found("insuree", id)),
    }
}

// ---------------------------------------------------------------- families

pub async fn list_families(
    db: &Db,
    actor: &Actor,
    mut filter: FamilyFilter,
    page: PageParams,
) -> Result<Paged<FamilyView>> {
    actor.require(FAMILY_SEARCH)?;
    filter.scope = actor.district_filter();
    let mut tx = db.read().await?;
    let (items, total) = sql::list_families(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_family(db: &Db, actor: &Actor, id: &str) -> Result<FamilyDetail> {
    actor.require(FAMILY_SEARCH)?;
    let mut tx = db.read().await?;
    let family = find_family(&mut tx, actor, id).await?;
    let members = sql::members(&mut tx, family.family.id).await?;
    Ok(FamilyDetail { family, members })
}

/// Check the database side of an insuree input: the insurance number (validated when new,
/// unique among current insurees), the current village and the FSP. `prefix` names nested fields.
async fn check_insuree_refs(
    tx: &mut Tx,
    config: &Config,
    input: &InsureeInput,
    before: Option<&Insuree>,
    prefix: &str,
) -> Result<()> {
    let chfid = input.chfid.trim();
    let mut checks = Checks::new();
    // A number kept as it was (for instance an imported one) is not checked again.
    if before.is_none_or(|b| b.chfid != chfid)
        && let Err(problem) = rules::check_insuree_number(chfid, config)
    {
        checks.push(
            format!("{prefix}chfid"),
            problem.code(),
            problem.message(chfid),
        );
    }
    if let Some(village) = input.current_village_id {
        let field = format!("{prefix}current_village_id");
        if let Err(Error::Invalid(fields)) = village_district(tx, &field, village).await {
            for f in fields {
                checks.push(f.field, &f.code, f.message);
            }
        }
    }
    if let Some(hf) = input.health_facility_id
        && location::store::get_facility(tx, hf).await?.is_none()
    {
        checks.push(
            format!("{prefix}health_facility_id"),
            "not_found",
            format!("health facility {hf} does not exist"),
        );
    }
    checks.finish()?;
    if sql::chfid_taken(tx, chfid, before.map(|b| b.id)).await? {
        return Err(Error::conflict(
            "duplicate_code",
            format!("the insurance number {chfid} is already used by another insuree"),
        ));
    }
    Ok(())
}

/// The insuree as the input describes it, over `base` (a blank new one or the current row).
fn insuree_from_input(input: InsureeInput, base: Insuree) -> Insuree {
    let status = input.status.unwrap_or(InsureeStatus::Active);
    let active = status == InsureeStatus::Active;
    Insuree {
        chfid: input.chfid.trim().to_string(),
        last_name: input.last_name.trim().to_string(),
        other_names: input.other_names.trim().to_string(),
        gender: input.gender,
        dob: input.dob,
        marital: input.marital,
        relationship: input.relationship,
        profession: input.profession,
        education: input.education,
        passport: trimmed(&input.passport),
        type_of_id: input.type_of_id,
        phone: trimmed(&input.phone),
        email: trimmed(&input.email),
        current_address: trimmed(&input.current_address),
        geolocation: trimmed(&input.geolocation),
        current_village_id: input.current_village_id,
        health_facility_id: input.health_facility_id,
        card_issued: input.card_issued,
        status,
        status_date: if active { None } else { input.status_date },
        status_reason: if active {
            None
        } else {
            trimmed(&input.status_reason)
        },
        is_offline: input.is_offline,
        ..base
    }
}

fn new_insuree(
    family: Uuid,
    district: Uuid,
    head: bool,
    input: InsureeInput,
    now: OffsetDateTime,
) -> Insuree {
    let blank = Insuree {
        id: Uuid::now_v7(),
        family_id: Some(family),
        chfid: String::new(),
        last_name: String::new(),
        other_names: String::new(),
        gender: input.gender,
        dob: input.dob,
        head,
        marital: None,
        relationship: None,
        profession: None,
        education: None,
        passport: None,
        type_of_id: None,
        phone: None,
        email: None,
        current_address: None,
        geolocation: None,
        current_village_id: None,
        health_facility_id: None,
        card_issued: false,
        status: InsureeStatus::Active,
        status_date: None,
        status_reason: None,
        photo_date: None,
        district_id: Some(district),
        is_offline: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    insuree_from_input(input, blank)
}

/// A new family (version 1) headed by `head`, as `input` describes it.
fn new_family(
    id: Uuid,
    head: Uuid,
    input: &FamilyInput,
    district: Uuid,
    now: OffsetDateTime,
) -> Family {
    family_from_input(
        input,
        district,
        Family {
            id,
            head_insuree_id: Some(head),
            location_id: input.location_id,
            district_id: district,
            poverty: None,
            family_type: None,
            address: None,
            ethnicity: None,
            confirmation_no: None,
            confirmation_type: None,
            is_offline: false,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )
}

fn family_from_input(input: &FamilyInput, district: Uuid, base: Family) -> Family {
    Family {
        location_id: input.location_id,
        district_id: district,
        poverty: input.poverty,
        family_type: input.family_type,
        address: trimmed(&input.address),
        ethnicity: trimmed(&input.ethnicity),
        confirmation_no: trimmed(&input.confirmation_no),
        confirmation_type: input.confirmation_type,
        is_offline: input.is_offline,
        ..base
    }
}

/// The village of a family, within the actor's districts; returns its district.
async fn family_village(tx: &mut Tx, actor: &Actor, village: Uuid) -> Result<Uuid> {
    let district = village_district(tx, "location_id", village).await?;
    if !actor.sees_district(Some(district)) {
        return Err(Error::invalid(
            "location_id",
            "outside_districts",
            "this village is not in one of your districts",
        ));
    }
    Ok(district)
}

/// Create a family with its head in one step.
pub async fn create_family(
    db: &Db,
    actor: &Actor,
    config: &Config,
    mut input: FamilyInput,
) -> Result<FamilyDetail> {
    actor.require(FAMILY_ADD)?;
    let mut checks = Checks::new();
    rules::check_family(&input, &mut checks);
    let Some(head) = input.head.take() else {
        checks.push(
            "head",
            "required",
            "a family is created with its head: send the head insuree as \"head\"",
        );
        return Err(checks.finish().unwrap_err());
    };
    rules::check_insuree(&head, today(), "head.", &mut checks);
    if head.family_id.is_some() {
        checks.push(
            "head.family_id",
            "not_allowed",
            "the head joins the family being created",
        );
    }
    checks.finish()?;
    let mut tx = db.begin().await?;
    let district = family_village(&mut tx, actor, input.location_id).await?;
    check_insuree_refs(&mut tx, config, &head, None, "head.").await?;
    let now = audit::now_micros();
    let id = Uuid::now_v7();
    let head = new_insuree(id, district, true, head, now);
    let family = new_family(id, head.id, &input, district, now);
    sql::save_family(&mut tx, &family, None).await?;
    sql::save_insuree(&mut tx, &head, None).await?;
    audit::append(
        &mut tx,
        actor,
        FAMILY,
        id,
        "create",
        None::<&()>,
        Some(&family),
    )
    .await?;
    audit::append(
        &mut tx,
        actor,
        INSUREE,
        head.id,
        "create",
        None::<&()>,
        Some(&head),
    )
    .await?;
    tx.commit().await?;
    Ok(FamilyDetail {
        family: FamilyView {
            family,
            head_chfid: Some(head.chfid.clone()),
            head_last_name: Some(head.last_name.clone()),
            head_other_names: Some(head.other_names.clone()),
        },
        members: vec![head],
    })
}

/// Change a family's own fields (its head and members change through their own calls).
pub async fn update_family(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: FamilyInput,
) -> Result<FamilyDetail> {
    actor.require(FAMILY_EDIT)?;
    let version = required_version(input.version)?;
    let mut checks = Checks::new();
    rules::check_family(&input, &mut checks);
    if input.head.is_some() {
        checks.push(
            "head",
            "not_allowed",
            "change the head's details through /api/v1/insurees, or name another head through /api/v1/families/{id}/head",
        );
    }
    checks.finish()?;
    let mut tx = db.begin().await?;
    let before = find_family(&mut tx, actor, id).await?;
    let district = family_village(&mut tx, actor, input.location_id).await?;
    if version != before.family.version {
        return Err(Error::stale("family"));
    }
    let mut after = family_from_input(&input, district, before.family.clone());
    after.version += 1;
    after.updated_at = audit::now_micros();
    if !sql::save_family(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("family"));
    }
    if district != before.family.district_id {
        sql::set_members_district(&mut tx, after.id, district).await?;
    }
    audit::append(
        &mut tx,
        actor,
        FAMILY,
        after.id,
        "update",
        Some(&before.family),
        Some(&after),
    )
    .await?;
    let members = sql::members(&mut tx, after.id).await?;
    tx.commit().await?;
    Ok(FamilyDetail {
        family: FamilyView {
            family: after,
            ..before
        },
        members,
    })
}

/// Make a member the head of their family (the former head stays a member).
pub async fn set_head(
    db: &Db,
    actor: &Actor,
    family_id: &str,
    insuree_id: Uuid,
    version: Option<i64>,
) -> Result<FamilyDetail> {
    actor.require(FAMILY_EDIT)?;
    let mut tx = db.begin().await?;
    let before = find_family(&mut tx, actor, family_id).await?;
    if version.is_some_and(|v| v != before.family.version) {
        return Err(Error::stale("family"));
    }
    let new_head = match sql::get_insuree(&mut tx, insuree_id).await? {
        Some(i) if i.family_id == Some(before.family.id) => i,
        _ => {
            return Err(Error::invalid(
                "insuree_id",
                "not_a_member",
                format!("insuree {insuree_id} is not a member of this family"),
            ));
        }
    };
    let now = audit::now_micros();
    if before.family.head_insuree_id != Some(new_head.id) {
        if let Some(old_id) = before.family.head_insuree_id
            && let Some(old) = sql::get_insuree(&mut tx, old_id).await?
        {
            let after = Insuree {
                head: false,
                version: old.version + 1,
                updated_at: now,
                ..old.clone()
            };
            if !sql::save_insuree(&mut tx, &after, Some(old.version)).await? {
                return Err(Error::stale("insuree"));
            }
            audit::append(
                &mut tx,
                actor,
                INSUREE,
                old.id,
                "update",
                Some(&old),
                Some(&after),
            )
            .await?;
        }
        let after = Insuree {
            head: true,
            version: new_head.version + 1,
            updated_at: now,
            ..new_head.clone()
        };
        if !sql::save_insuree(&mut tx, &after, Some(new_head.version)).await? {
            return Err(Error::stale("insuree"));
        }
        audit::append(
            &mut tx,
            actor,
            INSUREE,
            after.id,
            "update",
            Some(&new_head),
            Some(&after),
        )
        .await?;
        let family = Family {
            head_insuree_id: Some(new_head.id),
            version: before.family.version + 1,
            updated_at: now,
            ..before.family.clone()
        };
        if !sql::save_family(&mut tx, &family, Some(before.family.version)).await? {
            return Err(Error::stale("family"));
        }
        audit::append(
            &mut tx,
            actor,
            FAMILY,
            family.id,
            "set_head",
            Some(&before.family),
            Some(&family),
        )
        .await?;
    }
    let family = sql::get_family(&mut tx, before.family.id)
        .await?
        .ok_or_else(|| Error::not_found("family", family_id))?;
    let members = sql::members(&mut tx, family.family.id).await?;
    tx.commit().await?;
    Ok(FamilyDetail { family, members })
}

/// Delete a family: its members are deleted with it, or detached (left without a family).
pub async fn delete_family(
    db: &Db,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
    delete_members: bool,
) -> Result<()> {
    actor.require(FAMILY_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_family(&mut tx, actor, id).await?;
    if version != before.family.version {
        return Err(Error::stale("family"));
    }
    let now = audit::now_micros();
    for member in sql::members(&mut tx, before.family.id).await? {
        if delete_members {
            if !sql::delete_insuree(&mut tx, member.id, member.version, now).await? {
                return Err(Error::stale("insuree"));
            }
            audit::append(
                &mut tx,
                actor,
                INSUREE,
                member.id,
                "delete",
                Some(&member),
                None::<&()>,
            )
            .await?;
        } else {
            let after = Insuree {
                family_id: None,
                head: false,
                version: member.version + 1,
                updated_at: now,
                ..member.clone()
            };
            if !sql::save_insuree(&mut tx, &after, Some(member.version)).await? {
                return Err(Error::stale("insuree"));
            }
            audit::append(
                &mut tx,
                actor,
                INSUREE,
                member.id,
                "detach",
                Some(&member),
                Some(&after),
            )
            .await?;
        }
    }
    if !sql::delete_family(&mut tx, before.family.id, version, now).await? {
        return Err(Error::stale("family"));
    }
    audit::append(
        &mut tx,
        actor,
        FAMILY,
        before.family.id,
        "delete",
        Some(&before.family),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- insurees

pub async fn list_insurees(
    db: &Db,
    actor: &Actor,
    mut filter: InsureeFilter,
    page: PageParams,
) -> Result<Paged<Insuree>> {
    actor.require(INSUREE_SEARCH)?;
    filter.scope = actor.district_filter();
    let mut tx = db.read().await?;
    let (items, total) = sql::list_insurees(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

/// The village and head of each of these families, for records already read that name them
/// (families outside the actor's districts are left out).
pub async fn family_summaries(
    db: &Db,
    actor: &Actor,
    families: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, sql::FamilySummary>> {
    actor.require(INSUREE_SEARCH)?;
    let mut tx = db.read().await?;
    let scope = actor.district_filter();
    sql::family_summaries(&mut tx, families, scope.as_deref()).await
}

/// One insuree, by UUID or insurance number, and the village their family lives in (what a FHIR
/// Patient shows), in one read.
pub async fn get_insuree_and_village(
    db: &Db,
    actor: &Actor,
    id: &str,
) -> Result<(Insuree, Option<Uuid>)> {
    if !actor.has(INSUREE_ENQUIRE) {
        actor.require(INSUREE_SEARCH)?;
    }
    let key = match kernel::parse_uuid(id) {
        Some(uuid) => store::Arg::Uuid(uuid),
        None => store::Arg::Text(id.trim().to_string()),
    };
    let mut tx = db.read_one().await?;
    match sql::get_insuree_with_village(&mut tx, key).await? {
        Some((i, village)) if actor.sees_district(i.district_id) => Ok((i, village)),
        _ => Err(Error::not_found("insuree", id)),
    }
}

/// One insuree, by UUID or insurance number, with their family.
pub async fn get_insuree(
    db: &Db,
    actor: &Actor,
    hooks: PolicyHooks,
    id: &str,
) -> Result<InsureeDetail> {
    if !actor.has(INSUREE_ENQUIRE) {
        actor.require(INSUREE_SEARCH)?;
    }
    let mut tx = db.read().await?;
    let insuree = find_insuree(&mut tx, actor, id).await?;
    let family = match insuree.family_id {
        Some(f) => sql::get_family(&mut tx, f).await?,
        None => None,
    };
    let policies = (hooks.insuree_policies)(&mut tx, insuree.id).await?;
    Ok(InsureeDetail {
        insuree,
        family,
        policies,
    })
}

/// Add a member to a family.
pub async fn create_insuree(
    db: &Db,
    actor: &Actor,
    config: &Config,
    hooks: PolicyHooks,
    input: InsureeInput,
) -> Result<Insuree> {
    actor.require(INSUREE_ADD)?;
    let mut checks = Checks::new();
    rules::check_insuree(&input, today(), "", &mut checks);
    if input.family_id.is_none() {
        checks.push(
            "family_id",
            "required",
            "say which family the insuree joins (a new family is created with POST /api/v1/families)",
        );
    }
    checks.finish()?;
    let family_id = input.family_id.unwrap_or_default();
    let mut tx = db.begin().await?;
    let family = match sql::get_family(&mut tx, family_id).await? {
        Some(f) if actor.sees_district(Some(f.family.district_id)) => f.family,
        _ => {
            return Err(Error::invalid(
                "family_id",
                "not_found",
                format!("family {family_id} does not exist"),
            ));
        }
    };
    check_insuree_refs(&mut tx, config, &input, None, "").await?;
    let insuree = new_insuree(
        family.id,
        family.district_id,
        false,
        input,
        audit::now_micros(),
    );
    sql::save_insuree(&mut tx, &insuree, None).await?;
    audit::append(
        &mut tx,
        actor,
        INSUREE,
        insuree.id,
        "create",
        None::<&()>,
        Some(&insuree),
    )
    .await?;
    (hooks.member_joined)(&mut tx, actor, family.id, insuree.id, today()).await?;
    tx.commit().await?;
    Ok(insuree)
}

pub async fn update_insuree(
    db: &Db,
    actor: &Actor,
    config: &Config,
    id: &str,
    input: InsureeInput,
) -> Result<Insuree> {
    actor.require(INSUREE_EDIT)?;
    let version = required_version(input.version)?;
    let mut checks = Checks::new();
    rules::check_insuree(&input, today(), "", &mut checks);
    checks.finish()?;
    let mut tx = db.begin().await?;
    let before = find_insuree(&mut tx, actor, id).await?;
    if input.family_id.is_some() && input.family_id != before.family_id {
        return Err(Error::invalid(
            "family_id",
            "not_allowed",
            "move an insuree to another family with POST /api/v1/insurees/{id}/move",
        ));
    }
    check_insuree_refs(&mut tx, config, &input, Some(&before), "").await?;
    if version != before.version {
        return Err(Error::stale("insuree"));
    }
    let mut after = insuree_from_input(input, before.clone());
    after.version = before.version + 1;
    after.updated_at = audit::now_micros();
    if !sql::save_insuree(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("insuree"));
    }
    audit::append(
        &mut tx,
        actor,
        INSUREE,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Move a member to another family; a head must first hand over to another member.
pub async fn move_insuree(
    db: &Db,
    actor: &Actor,
    hooks: PolicyHooks,
    id: &str,
    family_id: Uuid,
    version: Option<i64>,
) -> Result<Insuree> {
    actor.require(INSUREE_EDIT)?;
    let mut tx = db.begin().await?;
    let before = find_insuree(&mut tx, actor, id).await?;
    if version.is_some_and(|v| v != before.version) {
        return Err(Error::stale("insuree"));
    }
    let target = match sql::get_family(&mut tx, family_id).await? {
        Some(f) if actor.sees_district(Some(f.family.district_id)) => f.family,
        _ => {
            return Err(Error::invalid(
                "family_id",
                "not_found",
                format!("family {family_id} does not exist"),
            ));
        }
    };
    match rules::check_move(before.family_id, target.id, before.head) {
        Ok(()) => {}
        Err(rules::MoveProblem::SameFamily) => {
            return Err(Error::invalid(
                "family_id",
                "same_family",
                "the insuree is already a member of this family",
            ));
        }
        Err(rules::MoveProblem::HeadOfFamily) => {
            return Err(Error::conflict(
                "head_of_family",
                format!(
                    "{} {} ({}) is the head of their family: name another head first",
                    before.other_names, before.last_name, before.chfid
                ),
            ));
        }
    }
    let after = move_into(&mut tx, actor, hooks, before, &target, false).await?;
    tx.commit().await?;
    Ok(after)
}

/// Write an insuree's move into `target` (as its head or a member), with its audit record and
/// the policy module's hook, in the caller's transaction.
async fn move_into(
    tx: &mut Tx,
    actor: &Actor,
    hooks: PolicyHooks,
    before: Insuree,
    target: &Family,
    head: bool,
) -> Result<Insuree> {
    let after = Insuree {
        family_id: Some(target.id),
        district_id: Some(target.district_id),
        head,
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::save_insuree(tx, &after, Some(before.version)).await? {
        return Err(Error::stale("insuree"));
    }
    audit::append(
        tx,
        actor,
        INSUREE,
        after.id,
        "move",
        Some(&before),
        Some(&after),
    )
    .await?;
    (hooks.member_joined)(tx, actor, target.id, after.id, today()).await?;
    Ok(after)
}

/// A family gathered from insurees already registered (FHIR's `Group` create): `head` (UUID
/// or insurance number) and `members` join it. When the head already heads a family, that
/// family is the one (`created` false) and `input` is not used; otherwise a new family is
/// created from `input` with the head moved into it. A member who heads another family must
/// first hand over (409), and nothing changes. One transaction.
pub async fn gather_family(
    db: &Db,
    actor: &Actor,
    hooks: PolicyHooks,
    input: FamilyInput,
    head: &str,
    members: &[String],
) -> Result<(FamilyDetail, bool)> {
    actor.require(FAMILY_ADD)?;
    actor.require(INSUREE_EDIT)?;
    let mut tx = db.begin().await?;
    let head = match find_insuree(&mut tx, actor, head).await {
        Ok(i) => i,
        Err(Error::NotFound { .. }) => {
            return Err(Error::invalid(
                "head",
                "not_found",
                format!("no insuree in your districts has the insurance number or id {head}"),
            ));
        }
        Err(e) => return Err(e),
    };
    let headed = match head.family_id.filter(|_| head.head) {
        Some(id) => sql::get_family(&mut tx, id).await?.map(|f| f.family),
        None => None,
    };
    let (target, created) = match headed {
        Some(family) => (family, false),
        None => {
            let mut checks = Checks::new();
            if input.location_id.is_nil() {
                checks.push(
                    "location_id",
                    "required",
                    format!(
                        "{} has no family: a new family needs the village where it lives",
                        head.chfid
                    ),
                );
            }
            rules::check_family(&input, &mut checks);
            checks.finish()?;
            let district = family_village(&mut tx, actor, input.location_id).await?;
            let now = audit::now_micros();
            let family = new_family(Uuid::now_v7(), head.id, &input, district, now);
            sql::save_family(&mut tx, &family, None).await?;
            audit::append(
                &mut tx,
                actor,
                FAMILY,
                family.id,
                "create",
                None::<&()>,
                Some(&family),
            )
            .await?;
            move_into(&mut tx, actor, hooks, head.clone(), &family, true).await?;
            (family, true)
        }
    };
    let mut joined = vec![head.id];
    for (i, named) in members.iter().enumerate() {
        let member = match find_insuree(&mut tx, actor, named).await {
            Ok(m) => m,
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid(
                    format!("members[{i}]"),
                    "not_found",
                    format!("no insuree in your districts has the insurance number or id {named}"),
                ));
            }
            Err(e) => return Err(e),
        };
        if joined.contains(&member.id) {
            continue;
        }
        joined.push(member.id);
        match rules::check_move(member.family_id, target.id, member.head) {
            Ok(()) => {
                move_into(&mut tx, actor, hooks, member, &target, false).await?;
            }
            Err(rules::MoveProblem::SameFamily) => {}
            Err(rules::MoveProblem::HeadOfFamily) => {
                return Err(Error::conflict(
                    "head_of_family",
                    format!(
                        "{} {} ({}) is the head of another family: name another head there first",
                        member.other_names, member.last_name, member.chfid
                    ),
                ));
            }
        }
    }
    let family = sql::get_family(&mut tx, target.id)
        .await?
        .ok_or_else(|| Error::not_found("family", target.id))?;
    let members = sql::members(&mut tx, target.id).await?;
    tx.commit().await?;
    Ok((FamilyDetail { family, members }, created))
}

pub async fn delete_insuree(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(INSUREE_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_insuree(&mut tx, actor, id).await?;
    if before.head && before.family_id.is_some() {
        return Err(Error::conflict(
            "head_of_family",
            format!(
                "{} {} ({}) is the head of their family: name another head first, or delete the family",
                before.other_names, before.last_name, before.chfid
            ),
        ));
    }
    if !sql::delete_insuree(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("insuree"));
    }
    audit::append(
        &mut tx,
        actor,
        INSUREE,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the audit trail records of a photo change (never the bytes).
#[derive(Serialize)]
struct PhotoNote {
    photo_date: Option<Date>,
    content_type: Option<String>,
    size: Option<i64>,
}

/// Store an insuree's photo; the bytes must be the image `declared` says they are.
pub async fn put_photo(
    db: &Db,
    actor: &Actor,
    id: &str,
    declared: Option<ImageKind>,
    bytes: &[u8],
    version: Option<i64>,
) -> Result<Insuree> {
    actor.require(INSUREE_EDIT)?;
    let kind = match (rules::image_kind(bytes), declared) {
        (Some(found), Some(said)) if found != said => {
            return Err(Error::invalid(
                "photo",
                "wrong_type",
                format!(
                    "the file was sent as {} but it is a {} image",
                    said.content_type(),
                    found.content_type()
                ),
            ));
        }
        (Some(found), _) => found,
        (None, _) => {
            return Err(Error::invalid(
                "photo",
                "not_an_image",
                "the photo must be a JPEG or PNG image",
            ));
        }
    };
    let mut tx = db.begin().await?;
    let before = find_insuree(&mut tx, actor, id).await?;
    if version.is_some_and(|v| v != before.version) {
        return Err(Error::stale("insuree"));
    }
    let old = sql::photo_info(&mut tx, before.id).await?;
    let now = audit::now_micros();
    let date = now.date();
    sql::save_photo(&mut tx, before.id, kind.content_type(), bytes, date, now).await?;
    let after = Insuree {
        photo_date: Some(date),
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    if !sql::save_insuree(&mut tx, &after, Some(before.version)).await? {
        return Err(Error::stale("insuree"));
    }
    let (old_type, old_size) = old.unzip();
    audit::append(
        &mut tx,
        actor,
        INSUREE,
        before.id,
        "photo",
        Some(&PhotoNote {
            photo_date: before.photo_date,
            content_type: old_type,
            size: old_size,
        }),
        Some(&PhotoNote {
            photo_date: Some(date),
            content_type: Some(kind.content_type().to_string()),
            size: Some(bytes.len() as i64),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn get_photo(db: &Db, actor: &Actor, id: &str) -> Result<Photo> {
    if !actor.has(INSUREE_ENQUIRE) {
        actor.require(INSUREE_SEARCH)?;
    }
    let mut tx = db.read().await?;
    let insuree = find_insuree(&mut tx, actor, id).await?;
    sql::get_photo(&mut tx, insuree.id)
        .await?
        .ok_or_else(|| Error::not_found("photo of insuree", id))
}

/// Audit-history guards: the history of a family or insuree is readable by whoever can read it.
pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![
        (
            FAMILY,
            kernel::audit_guard(|db, actor, id| async move {
                get_family(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            INSUREE,
            kernel::audit_guard(|db, actor, id| async move {
                get_insuree(&db, &actor, PolicyHooks::NONE, &id.to_string())
                    .await
                    .map(|_| ())
            }),
        ),
    ]
}
