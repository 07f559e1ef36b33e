//! Use cases of policies, contributions, payers and eligibility: rights, district scope, the
//! rules of `rules/`, audit.

use crate::model::*;
use crate::rules::contribution::{self as money, ContributionError, PolicyMoney};
use crate::rules::eligibility::{self, Coverage, LineTerms, Usage};
use crate::rules::members::{self, Join};
use crate::rules::period::{self, PeriodError};
use crate::rules::status::check_transition;
use crate::rules::value::{self, Member, ValueInput};
use crate::store::{self as sql, ContributionFilter, PolicyFilter};
use kernel::{Actor, Checks, Error, PageParams, Paged, Result, Right, audit};
use location::model::LocationType;
use product::model::Product;
use registry::model::{Insuree, InsureeStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use store::{Db, Tx};
use time::Date;
use uuid::Uuid;

pub const POLICY: &str = "policy";
pub const CONTRIBUTION: &str = "contribution";
pub const PAYER: &str = "payer";

pub const POLICY_SEARCH: Right = Right(101201);
pub const POLICY_ADD: Right = Right(101202);
pub const POLICY_EDIT: Right = Right(101203);
pub const POLICY_DELETE: Right = Right(101204);
pub const POLICY_RENEW: Right = Right(101205);
pub const CONTRIBUTION_SEARCH: Right = Right(101301);
pub const CONTRIBUTION_ADD: Right = Right(101302);
pub const CONTRIBUTION_DELETE: Right = Right(101304);
pub const PAYER_SEARCH: Right = Right(121801);
pub const PAYER_ADD: Right = Right(121802);
pub const PAYER_EDIT: Right = Right(121803);
pub const PAYER_DELETE: Right = Right(121804);
const INSUREE_ENQUIRE: Right = Right(101105);

/// What claims used under one policy for one insuree: the rules' [`Usage`], and the units of
/// the item and service asked about.
#[derive(Debug, Clone, Default)]
pub struct ClaimsUsed {
    pub policy_id: Uuid,
    pub usage: Usage,
    pub item_units: i64,
    pub service_units: i64,
}

/// The claims module's answer to "what has this insuree used": handed to the HTTP layer by the
/// composition root (policies cannot depend on claims, which depend on policies).
#[derive(Clone, Copy)]
pub struct ClaimsUsage(pub UsageFn);

/// (transaction, insuree, item asked about, service asked about) → use per policy.
pub type UsageFn =
    for<'a> fn(&'a mut Tx, Uuid, Option<Uuid>, Option<Uuid>) -> HookFuture<'a, Vec<ClaimsUsed>>;

impl ClaimsUsage {
    /// No claims module: nothing used.
    pub const NONE: ClaimsUsage = ClaimsUsage(|_, _, _, _| Box::pin(async { Ok(Vec::new()) }));
}

/// How the policy module is set up (`[policy]` in bima.toml, `BIMA_POLICY__*`).
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What a paid policy becomes: `contribution` → active at once; `payment` → ready until
    /// its payment is matched.
    pub activation: ActivationOption,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            activation: ActivationOption::Contribution,
        }
    }
}

fn period_error(e: PeriodError) -> Error {
    Error::invalid("product_id", "bad_product_periods", e.to_string())
}

/// A policy by UUID; one outside the actor's districts is not found.
async fn find_policy(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Policy> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_policy(tx, uuid).await?,
        None => None,
    };
    match found {
        Some(p) if actor.sees_district(Some(p.district_id)) => Ok(p),
        _ => Err(Error::not_found("policy", id)),
    }
}

/// Products by (id, version, last change): the terms eligibility needs on every call, read once.
type ProductCache = Mutex<HashMap<(Uuid, i64, i64), Arc<Product>>>;

fn product_cache() -> &'static ProductCache {
    static CACHE: OnceLock<ProductCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The current product by id, through the cache.
pub async fn load_product(tx: &mut Tx, id: Uuid) -> Result<Option<Arc<Product>>> {
    match sql::product_stamp(tx, id).await? {
        Some(stamp) => cached_product(tx, id, stamp).await,
        None => Ok(None),
    }
}

/// The product at this (version, last change): from the cache, or read once.
pub async fn cached_product(
    tx: &mut Tx,
    id: Uuid,
    (version, stamp): (i64, i64),
) -> Result<Option<Arc<Product>>> {
    let key = (id, version, stamp);
    if let Some(p) = product_cache()
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return Ok(Some(p));
    }
    let Some(product) = product::store::get_product(tx, id).await? else {
        return Ok(None);
    };
    let product = Arc::new(product);
    if let Ok(mut cache) = product_cache().lock() {
        if cache.len() > 1_000 {
            cache.clear();
        }
        cache.insert(key, product.clone());
    }
    Ok(Some(product))
}

/// The members a policy counts, in registration order (active insurees only).
fn value_members(members: &[Insuree]) -> Vec<Member> {
    members
        .iter()
        .filter(|m| m.status == InsureeStatus::Active)
        .map(|m| Member {
            dob: m.dob,
            relationship: m.relationship,
        })
        .collect()
}

/// Does the product serve the family's district (national, its region, or the district itself)?
async fn product_serves(tx: &mut Tx, product: &Product, district: Uuid) -> Result<bool> {
    let Some(area) = product.terms.location_id else {
        return Ok(true);
    };
    if area == district {
        return Ok(true);
    }
    let Some(d) = location::store::get_location(tx, district).await? else {
        return Ok(false);
    };
    Ok(d.kind == LocationType::District && d.parent_id == Some(area))
}

struct Enrolment {
    family_id: Uuid,
    district_id: Uuid,
    product: Arc<Product>,
    members: Vec<Insuree>,
    stage: Stage,
    enroll: Date,
    previous: Option<Policy>,
}

/// Check an enrolment and compute the policy's dates and value.
/// What is asked: enrol this family in this product on this date (renewing `previous`).
struct Ask {
    family_id: Uuid,
    product_id: Uuid,
    stage: Stage,
    enroll: Date,
    previous: Option<Policy>,
}

async fn plan(tx: &mut Tx, actor: &Actor, ask: Ask, today: Date) -> Result<(Enrolment, Quote)> {
    let Ask {
        family_id,
        product_id,
        stage,
        enroll,
        previous,
    } = ask;
    let family = match registry::store::get_family(tx, family_id).await? {
        Some(f) if actor.sees_district(Some(f.family.district_id)) => f.family,
        _ => {
            return Err(Error::invalid(
                "family_id",
                "not_found",
                format!("family {family_id} does not exist"),
            ));
        }
    };
    let Some(product) = load_product(tx, product_id).await? else {
        return Err(Error::invalid(
            "product_id",
            "not_found",
            format!("product {product_id} does not exist"),
        ));
    };
    let mut checks = Checks::new();
    if enroll > today {
        checks.push(
            "enroll_date",
            "in_future",
            format!("the enrolment date {enroll} is in the future"),
        );
    }
    if enroll < product.terms.date_from || enroll > product.terms.date_to {
        checks.push(
            "enroll_date",
            "outside_product",
            format!(
                "product {} can be enrolled in from {} to {}",
                product.terms.code, product.terms.date_from, product.terms.date_to
            ),
        );
    }
    if !product_serves(tx, &product, family.district_id).await? {
        checks.push(
            "product_id",
            "outside_area",
            format!(
                "product {} is not sold in the family's district",
                product.terms.code
            ),
        );
    }
    checks.finish()?;
    let members = registry::store::members(tx, family_id).await?;
    let previous_expiry = previous.as_ref().map(|p| p.expiry_date);
    let period = period::policy_period(&product.terms, stage, enroll, previous_expiry)
        .map_err(period_error)?;
    let counted = value_members(&members);
    let value = value::policy_value(&ValueInput {
        product: &product.terms,
        stage,
        members: &counted,
        enroll,
        start: period.start,
        previous_expiry,
    });
    let quote = Quote {
        stage,
        enroll_date: enroll,
        start_date: period.start,
        expiry_date: period.expiry,
        last_payment_date: period::last_payment_date(&product.terms, stage, enroll, period.start),
        value,
    };
    Ok((
        Enrolment {
            family_id,
            district_id: family.district_id,
            product,
            members,
            stage,
            enroll,
            previous,
        },
        quote,
    ))
}

/// The enrolment officer named on a policy must be a current, active user.
async fn check_officer(tx: &mut Tx, officer: Option<Uuid>) -> Result<()> {
    if let Some(id) = officer {
        match identity::store::get_user(tx, id).await? {
            Some(u) if u.active => {}
            _ => {
                return Err(Error::invalid(
                    "officer_id",
                    "not_found",
                    format!("no active user {id} can be the enrolment officer"),
                ));
            }
        }
    }
    Ok(())
}

/// Write a planned policy and its members' windows.
async fn write_policy(
    tx: &mut Tx,
    actor: &Actor,
    plan: Enrolment,
    quote: &Quote,
    officer_id: Option<Uuid>,
    is_offline: bool,
) -> Result<Policy> {
    let now = audit::now_micros();
    let policy = Policy {
        id: Uuid::now_v7(),
        family_id: plan.family_id,
        product_id: plan.product.id,
        officer_id,
        previous_policy_id: plan.previous.as_ref().map(|p| p.id),
        stage: plan.stage,
        status: PolicyStatus::Idle,
        status_reason: None,
        value: quote.value.value,
        enroll_date: plan.enroll,
        start_date: quote.start_date,
        effective_date: None,
        expiry_date: quote.expiry_date,
        district_id: plan.district_id,
        is_offline,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::save_policy(tx, &policy, None).await?;
    let covered: Vec<InsureePolicy> = plan
        .members
        .iter()
        .filter(|m| m.status == InsureeStatus::Active)
        .take(usize::try_from(plan.product.terms.premium.max_members).unwrap_or(0))
        .map(|m| InsureePolicy {
            id: Uuid::now_v7(),
            insuree_id: m.id,
            policy_id: policy.id,
            enrollment_date: plan.enroll,
            start_date: policy.start_date,
            effective_date: None,
            expiry_date: policy.expiry_date,
            is_offline,
            created_at: now,
            updated_at: now,
        })
        .collect();
    sql::insert_insuree_policies(tx, &covered).await?;
    audit::append(
        tx,
        actor,
        POLICY,
        policy.id,
        "create",
        None::<&()>,
        Some(&policy),
    )
    .await?;
    Ok(policy)
}

async fn detail(tx: &mut Tx, policy: Policy) -> Result<PolicyDetail> {
    let product = load_product(tx, policy.product_id).await?;
    let (paid, _) = sql::paid(tx, policy.id).await?;
    let insurees = sql::policy_insurees(tx, policy.id).await?;
    Ok(PolicyDetail {
        product_code: product
            .as_ref()
            .map(|p| p.terms.code.clone())
            .unwrap_or_default(),
        product_name: product
            .as_ref()
            .map(|p| p.terms.name.clone())
            .unwrap_or_default(),
        balance: (policy.value - paid).max(0),
        paid,
        insurees,
        policy,
    })
}

// ---------------------------------------------------------------- policies

pub async fn list_policies(
    db: &Db,
    actor: &Actor,
    mut filter: PolicyFilter,
    page: PageParams,
) -> Result<Paged<Policy>> {
    actor.require(POLICY_SEARCH)?;
    filter.scope = actor.district_filter();
    let mut tx = db.read().await?;
    let (items, total) = sql::list_policies(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_policy(db: &Db, actor: &Actor, id: &str) -> Result<PolicyDetail> {
    actor.require(POLICY_SEARCH)?;
    let mut tx = db.read().await?;
    let policy = find_policy(&mut tx, actor, id).await?;
    detail(&mut tx, policy).await
}

/// What a new policy of this family in this product would be, without creating it.
pub async fn quote(
    db: &Db,
    actor: &Actor,
    family_id: Uuid,
    product_id: Uuid,
    enroll: Date,
    today: Date,
) -> Result<Quote> {
    actor.require(POLICY_SEARCH)?;
    let mut tx = db.read().await?;
    let (_, quote) = plan(
        &mut tx,
        actor,
        Ask {
            family_id,
            product_id,
            stage: Stage::New,
            enroll,
            previous: None,
        },
        today,
    )
    .await?;
    Ok(quote)
}

/// Enrol a family in a product: a new, idle policy covering its members.
pub async fn create_policy(
    db: &Db,
    actor: &Actor,
    input: PolicyInput,
    today: Date,
) -> Result<PolicyDetail> {
    actor.require(POLICY_ADD)?;
    let mut tx = db.begin().await?;
    let (plan, quote) = plan(
        &mut tx,
        actor,
        Ask {
            family_id: input.family_id,
            product_id: input.product_id,
            stage: Stage::New,
            enroll: input.enroll_date,
            previous: None,
        },
        today,
    )
    .await?;
    check_officer(&mut tx, input.officer_id).await?;
    let policy = write_policy(
        &mut tx,
        actor,
        plan,
        &quote,
        input.officer_id,
        input.is_offline,
    )
    .await?;
    let detail = detail(&mut tx, policy).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Renew a policy: a new policy (stage R) of the same family, continuing the old one.
pub async fn renew_policy(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: RenewInput,
    today: Date,
) -> Result<PolicyDetail> {
    actor.require(POLICY_RENEW)?;
    let mut tx = db.begin().await?;
    let old = find_policy(&mut tx, actor, id).await?;
    if !matches!(old.status, PolicyStatus::Active | PolicyStatus::Expired) {
        return Err(Error::conflict(
            "not_renewable",
            format!(
                "only an active or expired policy can be renewed; this one is {}",
                old.status.name()
            ),
        ));
    }
    let product_id = match input.product_id {
        Some(p) => p,
        None => load_product(&mut tx, old.product_id)
            .await?
            .and_then(|p| p.terms.conversion_product_id)
            .unwrap_or(old.product_id),
    };
    let (plan, quote) = plan(
        &mut tx,
        actor,
        Ask {
            family_id: old.family_id,
            product_id,
            stage: Stage::Renewal,
            enroll: input.enroll_date,
            previous: Some(old),
        },
        today,
    )
    .await?;
    let officer = input
        .officer_id
        .or(plan.previous.as_ref().and_then(|p| p.officer_id));
    check_officer(&mut tx, input.officer_id).await?;
    let policy = write_policy(&mut tx, actor, plan, &quote, officer, false).await?;
    let detail = detail(&mut tx, policy).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Change an idle policy's enrolment date or officer; dates and value are computed again.
pub async fn update_policy(
    db: &Db,
    actor: &Actor,
    id: &str,
    change: PolicyChange,
    today: Date,
) -> Result<PolicyDetail> {
    actor.require(POLICY_EDIT)?;
    let mut tx = db.begin().await?;
    let before = find_policy(&mut tx, actor, id).await?;
    if before.status != PolicyStatus::Idle {
        return Err(Error::conflict(
            "not_idle",
            format!(
                "only an idle policy can be changed; this one is {}",
                before.status.name()
            ),
        ));
    }
    let previous = match before.previous_policy_id {
        Some(p) => sql::get_policy(&mut tx, p).await?,
        None => None,
    };
    let (_, quote) = plan(
        &mut tx,
        actor,
        Ask {
            family_id: before.family_id,
            product_id: before.product_id,
            stage: before.stage,
            enroll: change.enroll_date,
            previous,
        },
        today,
    )
    .await?;
    check_officer(&mut tx, change.officer_id).await?;
    let after = Policy {
        officer_id: change.officer_id.or(before.officer_id),
        enroll_date: change.enroll_date,
        start_date: quote.start_date,
        expiry_date: quote.expiry_date,
        value: quote.value.value,
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::save_policy(&mut tx, &after, Some(change.version)).await? {
        return Err(Error::stale("policy"));
    }
    sql::set_insuree_windows(&mut tx, &after, after.updated_at).await?;
    audit::append(
        &mut tx,
        actor,
        POLICY,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    let detail = detail(&mut tx, after).await?;
    tx.commit().await?;
    Ok(detail)
}

/// What a status change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Suspend,
    Reinstate,
    Cancel,
}

/// Suspend a policy (it covers nobody until reinstated), reinstate a suspended one, or cancel
/// one (its coverage ends on the given day; it expires then).
pub async fn change_status(
    db: &Db,
    actor: &Actor,
    id: &str,
    action: StatusAction,
    change: StatusChange,
    today: Date,
) -> Result<PolicyDetail> {
    actor.require(POLICY_EDIT)?;
    let mut tx = db.begin().await?;
    let before = find_policy(&mut tx, actor, id).await?;
    let reason = change
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let mut after = Policy {
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    let verb = match action {
        StatusAction::Suspend => {
            check_transition(before.status, PolicyStatus::Suspended).map_err(transition_error)?;
            after.status = PolicyStatus::Suspended;
            after.status_reason = reason;
            "suspend"
        }
        StatusAction::Reinstate => {
            if before.status != PolicyStatus::Suspended {
                return Err(transition_error(crate::rules::status::TransitionError {
                    from: before.status.name(),
                    to: PolicyStatus::Active.name(),
                }));
            }
            // A policy suspended before it was paid goes back to idle.
            let to = if before.effective_date.is_some() {
                PolicyStatus::Active
            } else {
                PolicyStatus::Idle
            };
            after.status = if to == PolicyStatus::Active && before.expiry_date < today {
                PolicyStatus::Expired
            } else {
                to
            };
            after.status_reason = None;
            "reinstate"
        }
        StatusAction::Cancel => {
            check_transition(before.status, PolicyStatus::Expired).map_err(transition_error)?;
            let last_day = change.date.unwrap_or(today);
            if last_day < before.start_date.min(before.enroll_date) {
                return Err(Error::invalid(
                    "date",
                    "before_start",
                    format!(
                        "the policy starts on {}; it cannot end before",
                        before.start_date
                    ),
                ));
            }
            after.expiry_date = last_day.min(before.expiry_date);
            if after.expiry_date < today || before.effective_date.is_none() {
                after.status = PolicyStatus::Expired;
            }
            after.status_reason = reason;
            "cancel"
        }
    };
    if !sql::save_policy(&mut tx, &after, Some(change.version)).await? {
        return Err(Error::stale("policy"));
    }
    if action == StatusAction::Cancel {
        sql::end_insuree_windows(&mut tx, after.id, after.expiry_date, after.updated_at).await?;
    }
    audit::append(
        &mut tx,
        actor,
        POLICY,
        after.id,
        verb,
        Some(&before),
        Some(&after),
    )
    .await?;
    let detail = detail(&mut tx, after).await?;
    tx.commit().await?;
    Ok(detail)
}

fn transition_error(e: crate::rules::status::TransitionError) -> Error {
    Error::conflict("bad_transition", e.to_string())
}

/// Delete a policy nobody has paid for yet, with its members' windows.
pub async fn delete_policy(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(POLICY_DELETE)?;
    let version = kernel::required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_policy(&mut tx, actor, id).await?;
    let (_, payments) = sql::paid(&mut tx, before.id).await?;
    if payments > 0 {
        return Err(Error::conflict(
            "in_use",
            format!("policy {id} has {payments} contributions; cancel it instead"),
        ));
    }
    if !sql::delete_policy(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("policy"));
    }
    audit::append(
        &mut tx,
        actor,
        POLICY,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The daily expiry: every policy whose expiry date has passed becomes expired. Answers how many.
pub async fn expire_policies(db: &Db, today: Date) -> Result<u64> {
    let actor = Actor::system("policy-expiry");
    let mut total = 0;
    loop {
        let mut tx = db.begin().await?;
        let due = sql::due_to_expire(&mut tx, today, 500).await?;
        if due.is_empty() {
            break;
        }
        let ids: Vec<(Uuid, i64)> = due.iter().map(|(id, v, _)| (*id, *v)).collect();
        let done = sql::expire(&mut tx, &ids, audit::now_micros()).await?;
        let summary = serde_json::json!({
            "expired": ids.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            "as_of": today,
        });
        audit::append(
            &mut tx,
            &actor,
            POLICY,
            Uuid::now_v7(),
            "expire",
            None::<&()>,
            Some(&summary),
        )
        .await?;
        tx.commit().await?;
        total += done;
        if done == 0 {
            break;
        }
    }
    Ok(total)
}

// ---------------------------------------------------------------- members

/// A member joined a family (new insuree, or moved in): add them to the family's policies that
/// are not over, as the product allows, and recompute each policy's value (registry hook).
pub async fn member_joined(
    tx: &mut Tx,
    actor: &Actor,
    family_id: Uuid,
    insuree_id: Uuid,
    joined: Date,
) -> Result<()> {
    // Coverage follows the family: a member who moved in leaves the old family's policies the
    // day before joining.
    if let Some(last_day) = joined.previous_day() {
        sql::end_windows_elsewhere(tx, insuree_id, family_id, last_day, audit::now_micros())
            .await?;
    }
    let members = registry::store::members(tx, family_id).await?;
    let counted = value_members(&members);
    for policy in sql::family_policies(tx, family_id).await? {
        if policy.expiry_date < joined || policy.status == PolicyStatus::Expired {
            continue;
        }
        let Some(product) = load_product(tx, policy.product_id).await? else {
            continue;
        };
        let current = sql::policy_insurees(tx, policy.id).await?;
        if current.iter().any(|ip| ip.insuree_id == insuree_id) {
            continue;
        }
        let previous_expiry = match policy.previous_policy_id {
            Some(p) => sql::get_policy(tx, p).await?.map(|p| p.expiry_date),
            None => None,
        };
        let value_after = value::policy_value(&ValueInput {
            product: &product.terms,
            stage: policy.stage,
            members: &counted,
            enroll: policy.enroll_date,
            start: policy.start_date,
            previous_expiry,
        })
        .value;
        let (paid, _) = sql::paid(tx, policy.id).await?;
        let join = members::member_joins(
            product.terms.premium.max_members,
            current.len() as i64 + 1,
            policy.effective_date,
            joined,
            policy.value,
            value_after,
            paid,
        );
        let Join::Covered { effective } = join else {
            continue;
        };
        let now = audit::now_micros();
        let ip = InsureePolicy {
            id: Uuid::now_v7(),
            insuree_id,
            policy_id: policy.id,
            enrollment_date: joined,
            start_date: policy.start_date,
            effective_date: effective,
            expiry_date: policy.expiry_date,
            is_offline: false,
            created_at: now,
            updated_at: now,
        };
        sql::insert_insuree_policies(tx, std::slice::from_ref(&ip)).await?;
        if value_after != policy.value {
            let after = Policy {
                value: value_after,
                version: policy.version + 1,
                updated_at: now,
                ..policy.clone()
            };
            if !sql::save_policy(tx, &after, Some(policy.version)).await? {
                return Err(Error::stale("policy"));
            }
            audit::append(
                tx,
                actor,
                POLICY,
                after.id,
                "member_added",
                Some(&policy),
                Some(&after),
            )
            .await?;
        }
    }
    Ok(())
}

/// The policies covering an insuree, for the insuree's detail (registry hook).
pub async fn insuree_policies(tx: &mut Tx, insuree: Uuid) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for sql::Cover {
        window: ip,
        policy,
        product_stamp,
        ..
    } in sql::insuree_coverage(tx, insuree).await?
    {
        let product = cached_product(tx, policy.product_id, product_stamp).await?;
        out.push(serde_json::json!({
            "policy_id": policy.id,
            "product_id": policy.product_id,
            "product_code": product.as_ref().map(|p| p.terms.code.clone()),
            "product_name": product.as_ref().map(|p| p.terms.name.clone()),
            "status": policy.status,
            "stage": policy.stage,
            "enroll_date": policy.enroll_date,
            "start_date": policy.start_date,
            "effective_date": ip.effective_date,
            "expiry_date": ip.expiry_date,
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------- contributions

pub async fn list_contributions(
    db: &Db,
    actor: &Actor,
    mut filter: ContributionFilter,
    page: PageParams,
) -> Result<Paged<Contribution>> {
    actor.require(CONTRIBUTION_SEARCH)?;
    filter.scope = actor.district_filter();
    let mut tx = db.read().await?;
    let (items, total) =
        sql::list_contributions(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

/// A contribution by UUID; one outside the actor's districts is not found.
async fn find_contribution(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Contribution> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_contribution(tx, uuid).await?,
        None => None,
    };
    match found {
        Some(c) if actor.sees_district(Some(c.district_id)) => Ok(c),
        _ => Err(Error::not_found("contribution", id)),
    }
}

pub async fn get_contribution(db: &Db, actor: &Actor, id: &str) -> Result<Contribution> {
    actor.require(CONTRIBUTION_SEARCH)?;
    let mut tx = db.read().await?;
    find_contribution(&mut tx, actor, id).await
}

fn contribution_error(e: ContributionError) -> Error {
    let field = match e {
        ContributionError::NotPositive | ContributionError::Overpays { .. } => "amount",
        ContributionError::BeforeEnrolment { .. } => "pay_date",
        ContributionError::NotPayable { .. } => "policy_id",
    };
    let code = match e {
        ContributionError::NotPositive => "not_positive",
        ContributionError::Overpays { .. } => "overpays",
        ContributionError::BeforeEnrolment { .. } => "before_enrolment",
        ContributionError::NotPayable { .. } => "not_payable",
    };
    Error::invalid(field, code, e.to_string())
}

/// Record a contribution; a policy whose contributions reach its value becomes active (or
/// ready), and so do its members' windows.
pub async fn create_contribution(
    db: &Db,
    actor: &Actor,
    config: &Config,
    input: ContributionInput,
    today: Date,
) -> Result<ContributionReceipt> {
    actor.require(CONTRIBUTION_ADD)?;
    let mut checks = Checks::new();
    let receipt = checks.required("receipt", &input.receipt, 50);
    if input.pay_date > today {
        checks.push(
            "pay_date",
            "in_future",
            format!("the payment date {} is in the future", input.pay_date),
        );
    }
    checks.finish()?;
    let mut tx = db.begin().await?;
    let policy = match sql::get_policy(&mut tx, input.policy_id).await? {
        Some(p) if actor.sees_district(Some(p.district_id)) => p,
        _ => {
            return Err(Error::invalid(
                "policy_id",
                "not_found",
                format!("policy {} does not exist", input.policy_id),
            ));
        }
    };
    if let Some(payer) = input.payer_id
        && sql::get_payer(&mut tx, payer).await?.is_none()
    {
        return Err(Error::invalid(
            "payer_id",
            "not_found",
            format!("payer {payer} does not exist"),
        ));
    }
    let said = format!("receipt {receipt} is already recorded for this product or payer");
    let reused = move || Error::invalid("receipt", "duplicate_receipt", said.clone());
    if sql::receipt_taken(&mut tx, policy.product_id, input.payer_id, &receipt).await? {
        return Err(reused());
    }
    let Some(product) = load_product(&mut tx, policy.product_id).await? else {
        return Err(Error::not_found("product", policy.product_id));
    };
    let (paid, installments) = sql::paid(&mut tx, policy.id).await?;
    let outcome = money::apply(
        &PolicyMoney {
            status: policy.status,
            value: policy.value,
            paid,
            installments,
            enroll: policy.enroll_date,
            start: policy.start_date,
            last_payment_date: period::last_payment_date(
                &product.terms,
                policy.stage,
                policy.enroll_date,
                policy.start_date,
            ),
            max_installments: product.terms.periods.max_installments,
        },
        &money::Payment {
            amount: input.amount,
            pay_date: input.pay_date,
            is_photo_fee: input.is_photo_fee,
            shortfall: input.shortfall,
        },
        config.activation,
    )
    .map_err(contribution_error)?;
    let now = audit::now_micros();
    let contribution = Contribution {
        id: Uuid::now_v7(),
        policy_id: policy.id,
        product_id: policy.product_id,
        payer_id: input.payer_id,
        amount: input.amount,
        receipt,
        pay_date: input.pay_date,
        pay_type: input.pay_type,
        is_photo_fee: input.is_photo_fee,
        district_id: policy.district_id,
        is_offline: input.is_offline,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    // The same receipt sent twice at once passes the check above in both requests; the
    // unique indexes let one through and refuse the other in the same words.
    sql::insert_contributions(&mut tx, std::slice::from_ref(&contribution))
        .await
        .map_err(|e| match e {
            Error::Conflict {
                code: "duplicate", ..
            } => reused(),
            other => other,
        })?;
    audit::append(
        &mut tx,
        actor,
        CONTRIBUTION,
        contribution.id,
        "create",
        None::<&()>,
        Some(&contribution),
    )
    .await?;
    let effective = outcome.effective_date.or(policy.effective_date);
    if outcome.status != policy.status || effective != policy.effective_date {
        let after = Policy {
            status: outcome.status,
            effective_date: effective,
            version: policy.version + 1,
            updated_at: now,
            ..policy.clone()
        };
        if !sql::save_policy(&mut tx, &after, Some(policy.version)).await? {
            return Err(Error::stale("policy"));
        }
        sql::set_insuree_windows(&mut tx, &after, now).await?;
        audit::append(
            &mut tx,
            actor,
            POLICY,
            after.id,
            "paid",
            Some(&policy),
            Some(&after),
        )
        .await?;
    } else if outcome.status == PolicyStatus::Active && outcome.balance == 0 && !input.is_photo_fee
    {
        // A top-up after members joined: those waiting for it are covered from this payment.
        sql::cover_waiting(&mut tx, policy.id, input.pay_date, now).await?;
    }
    tx.commit().await?;
    Ok(ContributionReceipt {
        contribution,
        outcome,
    })
}

/// Delete a contribution of a policy that is still idle (an activated policy is suspended or
/// cancelled instead).
pub async fn delete_contribution(
    db: &Db,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
) -> Result<()> {
    actor.require(CONTRIBUTION_DELETE)?;
    let version = kernel::required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_contribution(&mut tx, actor, id).await?;
    if let Some(policy) = sql::get_policy(&mut tx, before.policy_id).await?
        && policy.status != PolicyStatus::Idle
        && !before.is_photo_fee
    {
        return Err(Error::conflict(
            "policy_paid",
            format!(
                "this contribution paid a policy that is now {}; suspend or cancel the policy instead",
                policy.status.name()
            ),
        ));
    }
    let kind = audit::Deletable {
        entity: CONTRIBUTION,
        table: "contributions",
        label: "contribution",
    };
    audit::soft_delete(&mut tx, actor, kind, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- payers

pub async fn list_payers(
    db: &Db,
    actor: &Actor,
    q: Option<String>,
    payer_type: Option<PayerType>,
    page: PageParams,
) -> Result<Paged<Payer>> {
    actor.require(PAYER_SEARCH)?;
    let mut tx = db.read().await?;
    let scope = actor.district_filter();
    let (items, total) = sql::list_payers(
        &mut tx,
        q.as_deref(),
        payer_type,
        scope.as_deref(),
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(Paged::new(items, total, page))
}

/// A payer the actor may see: a district's payer only within the actor's districts (else 404,
/// as any record outside them).
async fn find_payer(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Payer> {
    let payer = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_payer(tx, uuid).await?,
        None => None,
    }
    .ok_or_else(|| Error::not_found("payer", id))?;
    if let Some(district) = sql::payer_district(tx, payer.id).await?
        && !actor.sees_district(Some(district))
    {
        return Err(Error::not_found("payer", id));
    }
    Ok(payer)
}

pub async fn get_payer(db: &Db, actor: &Actor, id: &str) -> Result<Payer> {
    actor.require(PAYER_SEARCH)?;
    let mut tx = db.read().await?;
    find_payer(&mut tx, actor, id).await
}

/// The payer as the input describes it over `base` (a blank new one or the current row), with
/// its fields checked and trimmed; answers it and its district (for a district location).
async fn checked_payer(
    tx: &mut Tx,
    input: PayerInput,
    base: Payer,
) -> Result<(Payer, Option<Uuid>)> {
    let mut checks = Checks::new();
    let name = checks.required("name", &input.name, 100);
    let address = checks.optional("address", input.address.as_deref(), 100);
    let phone = checks.optional("phone", input.phone.as_deref(), 50);
    let fax = checks.optional("fax", input.fax.as_deref(), 50);
    let email = checks.optional("email", input.email.as_deref(), 200);
    checks.finish()?;
    let district = match input.location_id {
        None => None,
        Some(l) => match location::store::get_location(tx, l).await? {
            Some(loc) if loc.kind == LocationType::District => Some(loc.id),
            Some(loc) if loc.kind == LocationType::Region => None,
            _ => {
                return Err(Error::invalid(
                    "location_id",
                    "not_found",
                    format!("{l} is not a region or district"),
                ));
            }
        },
    };
    let payer = Payer {
        payer_type: input.payer_type,
        name,
        address,
        location_id: input.location_id,
        phone,
        fax,
        email,
        ..base
    };
    Ok((payer, district))
}

pub async fn create_payer(db: &Db, actor: &Actor, input: PayerInput) -> Result<Payer> {
    actor.require(PAYER_ADD)?;
    let mut tx = db.begin().await?;
    let now = audit::now_micros();
    let blank = Payer {
        id: Uuid::now_v7(),
        payer_type: input.payer_type,
        name: String::new(),
        address: None,
        location_id: None,
        phone: None,
        fax: None,
        email: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let (payer, district) = checked_payer(&mut tx, input, blank).await?;
    if district.is_some() && !actor.sees_district(district) {
        return Err(Error::invalid(
            "location_id",
            "outside_districts",
            "this district is not one of yours",
        ));
    }
    sql::save_payer(&mut tx, &payer, district, None).await?;
    audit::append(
        &mut tx,
        actor,
        PAYER,
        payer.id,
        "create",
        None::<&()>,
        Some(&payer),
    )
    .await?;
    tx.commit().await?;
    Ok(payer)
}

pub async fn update_payer(db: &Db, actor: &Actor, id: &str, input: PayerInput) -> Result<Payer> {
    actor.require(PAYER_EDIT)?;
    let version = kernel::required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_payer(&mut tx, actor, id).await?;
    let base = Payer {
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    let (after, district) = checked_payer(&mut tx, input, base).await?;
    if district.is_some() && !actor.sees_district(district) {
        return Err(Error::invalid(
            "location_id",
            "outside_districts",
            "this district is not one of yours",
        ));
    }
    if !sql::save_payer(&mut tx, &after, district, Some(version)).await? {
        return Err(Error::stale("payer"));
    }
    audit::append(
        &mut tx,
        actor,
        PAYER,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_payer(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(PAYER_DELETE)?;
    let version = kernel::required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_payer(&mut tx, actor, id).await?;
    if sql::payer_in_use(&mut tx, before.id).await? {
        return Err(Error::conflict(
            "in_use",
            format!(
                "payer {} has contributions and cannot be deleted",
                before.name
            ),
        ));
    }
    let kind = audit::Deletable {
        entity: PAYER,
        table: "payers",
        label: "payer",
    };
    audit::soft_delete(&mut tx, actor, kind, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- eligibility

/// Is an insuree covered on `date`, and for the item or service asked about? One answer per
/// product covering them (the policy that covers the date, else the latest).
pub async fn eligibility(
    db: &Db,
    actor: &Actor,
    used: ClaimsUsage,
    id: &str,
    item: Option<&str>,
    service: Option<&str>,
    date: Date,
) -> Result<Eligibility> {
    if !actor.has(INSUREE_ENQUIRE) {
        actor.require(POLICY_SEARCH)?;
    }
    let item = item.map(str::trim).filter(|c| !c.is_empty());
    let service = service.map(str::trim).filter(|c| !c.is_empty());
    let key = match kernel::parse_uuid(id) {
        Some(uuid) => sql::InsureeKey::Id(uuid),
        None => sql::InsureeKey::Chfid(id.trim()),
    };
    let mut tx = db.read().await?;
    let enquiry = match sql::enquiry(&mut tx, key, item, service).await? {
        Some(e) if actor.sees_district(e.district_id) => e,
        _ => return Err(Error::not_found("insuree", id)),
    };
    let unknown = |field: &str, what: &str, code: &str| {
        Error::invalid(
            field,
            "not_found",
            format!("no medical {what} has the code {code}"),
        )
    };
    let item_id = match item {
        Some(code) => Some(
            enquiry
                .item_id
                .ok_or_else(|| unknown("item", "item", code))?,
        ),
        None => None,
    };
    let service_id = match service {
        Some(code) => Some(
            enquiry
                .service_id
                .ok_or_else(|| unknown("service", "service", code))?,
        ),
        None => None,
    };
    let adult = period::add_months(enquiry.dob, 18 * 12) <= date;
    let coverage = enquiry.covers;
    // One window per product: the one covering the date, else the latest.
    let mut chosen: Vec<sql::Cover> = Vec::new();
    for cover in coverage {
        let covers = |c: &sql::Cover| {
            members::covers(
                c.policy.status,
                c.window.effective_date,
                c.window.expiry_date,
                date,
            )
        };
        match chosen
            .iter_mut()
            .find(|c| c.policy.product_id == cover.policy.product_id)
        {
            None => chosen.push(cover),
            Some(slot) => {
                if covers(&cover) && !covers(slot) {
                    *slot = cover;
                }
            }
        }
    }
    let claimed = if chosen.is_empty() {
        Vec::new()
    } else {
        (used.0)(&mut tx, enquiry.insuree_id, item_id, service_id).await?
    };
    let nothing = ClaimsUsed::default();
    let mut products = Vec::with_capacity(chosen.len());
    let mut eligible = false;
    for sql::Cover {
        window: ip,
        policy,
        product_stamp,
        members: members_count,
    } in chosen
    {
        let Some(product) = cached_product(&mut tx, policy.product_id, product_stamp).await? else {
            continue;
        };
        let used = claimed
            .iter()
            .find(|u| u.policy_id == policy.id)
            .unwrap_or(&nothing);
        let usage = &used.usage;
        let c = Coverage {
            product: &product.terms,
            status: policy.status,
            stage: policy.stage,
            policy_effective: policy.effective_date,
            insuree_effective: ip.effective_date,
            insuree_expiry: ip.expiry_date,
            adult,
            members: members_count,
            usage,
        };
        let item_answer = item_id.map(|id| {
            let terms = product
                .terms
                .items
                .iter()
                .find(|l| l.item_id == id)
                .map(LineTerms::of_item);
            eligibility::line(&c, terms.as_ref(), used.item_units, date)
        });
        let service_answer = service_id.map(|id| {
            let terms = product
                .terms
                .services
                .iter()
                .find(|l| l.service_id == id)
                .map(LineTerms::of_service);
            eligibility::line(&c, terms.as_ref(), used.service_units, date)
        });
        let letter =
            eligibility::status_letter(policy.status, ip.effective_date, ip.expiry_date, date);
        let covered = letter == StatusLetter::A
            && item_answer.as_ref().is_none_or(|l| l.covered_now)
            && service_answer.as_ref().is_none_or(|l| l.covered_now);
        eligible |= covered;
        products.push(ProductEligibility {
            policy_id: policy.id,
            product_id: policy.product_id,
            product_code: product.terms.code.clone(),
            product_name: product.terms.name.clone(),
            policy_status: policy.status,
            status: letter,
            effective_date: ip.effective_date,
            expiry_date: ip.expiry_date,
            remaining: eligibility::remaining(&c),
            item: item_answer,
            service: service_answer,
        });
    }
    Ok(Eligibility {
        insuree_id: enquiry.insuree_id,
        chfid: enquiry.chfid,
        date,
        eligible,
        products,
    })
}

pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![
        (
            POLICY,
            kernel::audit_guard(|db, actor, id| async move {
                get_policy(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            CONTRIBUTION,
            kernel::audit_guard(|db, actor, id| async move {
                get_contribution(&db, &actor, &id.to_string())
                    .await
                    .map(|_| ())
            }),
        ),
        (
            PAYER,
            kernel::audit_guard(|db, actor, id| async move {
                get_payer(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
    ]
}

pub type HookFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// [`insuree_policies`] as the registry's hook.
pub fn insuree_policies_hook(tx: &mut Tx, insuree: Uuid) -> HookFuture<'_, Vec<serde_json::Value>> {
    Box::pin(insuree_policies(tx, insuree))
}

/// [`member_joined`] as the registry's hook.
pub fn member_joined_hook<'a>(
    tx: &'a mut Tx,
    actor: &'a Actor,
    family: Uuid,
    insuree: Uuid,
    joined: Date,
) -> HookFuture<'a, ()> {
    Box::pin(member_joined(tx, actor, family, insuree, joined))
}

/// The daily expiry in the server: at start, then every hour (cheap when nothing is due), so
/// that a server started after midnight or left running for months expires policies on time.
pub fn spawn_expiry(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let today = time::OffsetDateTime::now_utc().date();
            match expire_policies(&db, today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(policies = n, %today, "policies expired"),
                Err(e) => tracing::warn!(error = %e, "expiring policies failed; will retry"),
            }
        }
    })
}
