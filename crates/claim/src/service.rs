//! Use cases of claims: rights, district and facility scope, checks, transactions and audit.

use crate::decide;
use crate::model::*;
use crate::rules::{self, ClaimFacts, Cover, Patient};
use crate::store::{self as sql, ClaimFilter, PriceAsk, Priced, RegisterKey};
use kernel::{Actor, Checks, Error, PageParams, Paged, Result, Right, audit};
use std::collections::{BTreeSet, HashMap};
use store::{Db, Tx};
use time::Date;
use uuid::Uuid;

pub const CLAIM: &str = "claim";

pub const CLAIM_SEARCH: Right = Right(111001);
pub const CLAIM_ADD: Right = Right(111002);
pub const CLAIM_EDIT: Right = Right(111003);
pub const CLAIM_DELETE: Right = Right(111004);
pub const CLAIM_SUBMIT: Right = Right(111007);
pub const CLAIM_PROCESS: Right = Right(111011);
pub const CLAIM_REVIEW: Right = Right(111008);
pub const CLAIM_FEEDBACK: Right = Right(111009);
/// Selecting claims for review and feedback (openIMIS's "Claim: update").
pub const CLAIM_SELECT: Right = Right(111010);

/// How the claims module is set up (`[claim]` in bima.toml, `BIMA_CLAIM__*`).
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// A checked claim with at least this risk score (0–100, `claim::rules::review`) is selected
    /// for review at submission.
    pub review_risk_threshold: i64,
    /// An approved amount (minor units) from which a claim's size counts in its risk score.
    pub review_amount: Option<i64>,
    /// Largest document attached to a claim, in bytes (the server's body limit applies too).
    pub attachment_max_bytes: usize,
    /// Claims a batch run values per transaction: what a crash can make it redo.
    pub batch_chunk: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            review_risk_threshold: 40,
            review_amount: None,
            attachment_max_bytes: 1024 * 1024,
            batch_chunk: 2_000,
        }
    }
}

/// openIMIS's `max_claim_length`.
pub const MAX_CODE_LENGTH: usize = 20;
/// openIMIS's `additional_diagnosis_number_allowed`.
pub const MAX_SECONDARY_DIAGNOSES: usize = 4;
/// Most lines one claim may carry.
pub const MAX_LINES: usize = 500;

/// May the actor see this claim: its facility's district, and their own facility if they work
/// for one.
fn sees(actor: &Actor, claim: &Claim) -> bool {
    actor.sees_district(Some(claim.district_id))
        && actor
            .health_facility_id
            .is_none_or(|hf| hf == claim.health_facility_id)
}

/// The claims named, each one the actor may see; a 404 naming every other one.
async fn visible_claims(tx: &mut Tx, actor: &Actor, ids: &[Uuid]) -> Result<Vec<Claim>> {
    Ok(visible_claims_around(tx, actor, ids, false)
        .await?
        .into_iter()
        .map(|(claim, _)| claim)
        .collect())
}

/// [`visible_claims`], each with its surroundings when asked (read in the same statement).
async fn visible_claims_around(
    tx: &mut Tx,
    actor: &Actor,
    ids: &[Uuid],
    surroundings: bool,
) -> Result<Vec<(Claim, sql::Surroundings)>> {
    let mut claims = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for &id in ids {
        match sql::read_claim(tx, id, surroundings).await? {
            Some((c, around)) if sees(actor, &c) => claims.push((c, around)),
            _ => missing.push(id.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::not_found("claim", missing.join(", ")));
    }
    Ok(claims)
}

async fn find_claim(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Claim> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_claim(tx, uuid).await?,
        None => None,
    };
    match found {
        Some(c) if sees(actor, &c) => Ok(c),
        _ => Err(Error::not_found("claim", id)),
    }
}

pub async fn list_claims(
    db: &Db,
    actor: &Actor,
    mut filter: ClaimFilter,
    page: PageParams,
) -> Result<Paged<ClaimSummary>> {
    actor.require(CLAIM_SEARCH)?;
    filter.scope = actor.district_filter();
    if let Some(hf) = actor.health_facility_id {
        filter.health_facility_id = Some(hf);
    }
    let mut tx = db.read().await?;
    let (items, total) = sql::list_claims(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_claim(db: &Db, actor: &Actor, id: &str) -> Result<Claim> {
    actor.require(CLAIM_SEARCH)?;
    let mut tx = db.read().await?;
    find_claim(&mut tx, actor, id).await
}

/// Enter a claim: checked, priced from the facility's price list where no price is asked, and
/// saved as entered. A code the facility already used is a 409.
pub async fn create_claim(db: &Db, actor: &Actor, input: ClaimInput, today: Date) -> Result<Claim> {
    actor.require(CLAIM_ADD)?;
    // The claim, its lines and its audit record are written in one statement.
    let mut tx = db.single_statement_writes().await?;
    let now = audit::now_micros();
    let id = Uuid::now_v7();
    let (claim, _) = checked_claim(&mut tx, actor, input, id, today).await?;
    let claim = Claim {
        version: 1,
        created_at: now,
        updated_at: now,
        ..claim
    };
    let record = audit::Entry::new(actor, CLAIM, claim.id, "create", None::<&()>, Some(&claim))?;
    if !sql::insert_claim_recorded(&mut tx, &claim, record).await? {
        return Err(code_conflict(&claim.code));
    }
    tx.commit().await?;
    Ok(claim)
}

fn code_conflict(code: &str) -> Error {
    Error::conflict(
        "duplicate_code",
        format!("the health facility already has a claim with the code {code}"),
    )
}

/// Change an entered claim: the whole claim is sent again, at the version read.
pub async fn update_claim(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: ClaimInput,
    today: Date,
) -> Result<Claim> {
    if !actor.has(CLAIM_EDIT) {
        actor.require(CLAIM_ADD)?;
    }
    let version = kernel::required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_claim(&mut tx, actor, id).await?;
    if before.status != ClaimStatus::Entered {
        return Err(not_entered(&before, "changed"));
    }
    let (after, _) = checked_claim(&mut tx, actor, input, before.id, today).await?;
    let after = Claim {
        version: before.version + 1,
        created_at: before.created_at,
        updated_at: audit::now_micros(),
        ..after
    };
    if sql::code_taken(
        &mut tx,
        after.health_facility_id,
        &after.code,
        Some(after.id),
    )
    .await?
    .is_some()
    {
        return Err(code_conflict(&after.code));
    }
    if !sql::save_claim(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("claim"));
    }
    sql::replace_lines(&mut tx, &after).await?;
    audit::append(
        &mut tx,
        actor,
        CLAIM,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

fn not_entered(claim: &Claim, what: &str) -> Error {
    Error::conflict(
        "not_entered",
        format!(
            "claim {} is {}; only an entered claim can be {what}",
            claim.code,
            claim.status.code()
        ),
    )
}

/// Delete a claim that has not been submitted, or was rejected.
pub async fn delete_claim(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(CLAIM_DELETE)?;
    let version = kernel::required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_claim(&mut tx, actor, id).await?;
    if !matches!(before.status, ClaimStatus::Entered | ClaimStatus::Rejected) {
        return Err(Error::conflict(
            "submitted",
            format!(
                "claim {} is {} and cannot be deleted; only entered or rejected claims can",
                before.code,
                before.status.code()
            ),
        ));
    }
    let kind = audit::Deletable {
        entity: CLAIM,
        table: "claims",
        label: "claim",
    };
    audit::soft_delete(&mut tx, actor, kind, before.id, version, &before).await?;
    tx.commit().await?;
    Ok(())
}

/// The claim a client sent, checked field by field, with its references resolved and its lines
/// priced, and what was read to do so (the facility, the patient, the lines' items and services
/// priced: what adjudication needs). Dates, diagnosis codes and coverage are judged at
/// submission, not here.
async fn checked_claim(
    tx: &mut Tx,
    actor: &Actor,
    input: ClaimInput,
    id: Uuid,
    today: Date,
) -> Result<(Claim, sql::Surroundings)> {
    let mut checks = Checks::new();
    let code = checks.required("code", &input.code, MAX_CODE_LENGTH);
    let icd = checks.required("icd", &input.icd, 50);
    let mut secondary_icd = Vec::new();
    if input.secondary_icd.len() > MAX_SECONDARY_DIAGNOSES {
        checks.push(
            "secondary_icd",
            "too_many",
            format!("at most {MAX_SECONDARY_DIAGNOSES} secondary diagnoses"),
        );
    }
    for (i, c) in input.secondary_icd.iter().enumerate() {
        secondary_icd.push(checks.required(&format!("secondary_icd[{i}]"), c, 50));
    }
    let explanation = checks.optional("explanation", input.explanation.as_deref(), 4000);
    let guarantee_no = checks.optional("guarantee_no", input.guarantee_no.as_deref(), 50);
    let referral_code = checks.optional("referral_code", input.referral_code.as_deref(), 50);
    if input.date_from > today {
        checks.push(
            "date_from",
            "future",
            "the visit date cannot be in the future",
        );
    }
    if input.date_to.is_some_and(|to| to < input.date_from) {
        checks.push(
            "date_to",
            "before_start",
            "the discharge date is before the visit date",
        );
    }
    let lines = input.items.len() + input.services.len();
    if lines == 0 {
        checks.push(
            "items",
            "required",
            "a claim needs at least one item or service",
        );
    } else if lines > MAX_LINES {
        checks.push("items", "too_many", format!("at most {MAX_LINES} lines"));
    }
    // The facility, in the actor's districts and their own facility.
    let facility = sql::facility(tx, input.health_facility_id).await?;
    let facility = match facility {
        Some(f) if actor.sees_district(Some(f.location_id)) => Some(f),
        _ => {
            checks.push(
                "health_facility_id",
                "not_found",
                format!(
                    "no health facility {} in your districts",
                    input.health_facility_id
                ),
            );
            None
        }
    };
    if let (Some(own), Some(f)) = (actor.health_facility_id, &facility)
        && own != f.id
    {
        return Err(Error::forbidden(format!(
            "you enter claims for your own health facility only, not {}",
            f.code
        )));
    }
    for (field, hf) in [
        ("refer_from_id", input.refer_from_id),
        ("refer_to_id", input.refer_to_id),
    ] {
        if let Some(hf) = hf
            && sql::facility(tx, hf).await?.is_none()
        {
            checks.push(field, "not_found", format!("no health facility {hf}"));
        }
    }
    // The insuree, by insurance number or id; patients come from any district.
    let key = input.insuree.trim();
    let insuree = match kernel::parse_uuid(key) {
        Some(uuid) => registry::store::get_insuree(tx, uuid).await?,
        None => registry::store::get_insuree_by_chfid(tx, key).await?,
    };
    if insuree.is_none() {
        checks.push(
            "insuree",
            "not_found",
            format!("no insuree has the insurance number or id {key}"),
        );
    }
    // The claim administrator: a user of this facility.
    let admin_id = match input.admin_id {
        Some(admin) => {
            let user = identity::store::get_user(tx, admin).await?;
            let of_facility = user.as_ref().is_some_and(|u| {
                u.active
                    && facility
                        .as_ref()
                        .is_some_and(|f| u.health_facility_id == Some(f.id))
            });
            if !of_facility {
                checks.push(
                    "admin_id",
                    "not_found",
                    format!("user {admin} is not an active claim administrator of this facility"),
                );
            }
            Some(admin)
        }
        None => actor.user_id.filter(|_| actor.health_facility_id.is_some()),
    };
    // The lines, priced at the facility, both kinds in one statement.
    let mut priced = HashMap::new();
    let (items, services) = match &facility {
        Some(f) => {
            let codes = |lines: &[LineInput]| {
                lines
                    .iter()
                    .map(|l| l.code.trim().to_string())
                    .collect::<Vec<_>>()
            };
            let (item_codes, service_codes) = (codes(&input.items), codes(&input.services));
            let known = sql::priced(
                tx,
                &[
                    PriceAsk {
                        kind: LineKind::Item,
                        list: f.items_pricelist_id,
                        key: RegisterKey::Codes(&item_codes),
                    },
                    PriceAsk {
                        kind: LineKind::Service,
                        list: f.services_pricelist_id,
                        key: RegisterKey::Codes(&service_codes),
                    },
                ],
            )
            .await?;
            let lines = (
                checked_lines(&mut checks, LineKind::Item, &known, &input.items),
                checked_lines(&mut checks, LineKind::Service, &known, &input.services),
            );
            priced = known.into_iter().map(|(k, p)| ((k, p.id), p)).collect();
            lines
        }
        None => (Vec::new(), Vec::new()),
    };
    checks.finish()?;
    let (Some(facility), Some(insuree)) = (facility, insuree) else {
        unreachable!("checked above");
    };
    let claimed = items.iter().chain(&services).fold(0i64, |sum, l| {
        sum.saturating_add(l.qty.saturating_mul(l.price_asked))
    });
    let now = audit::now_micros();
    let around = sql::Surroundings {
        patient: Some((
            insuree.chfid.clone(),
            false,
            insuree.gender.code().to_string(),
            insuree.dob,
        )),
        facility: Some(facility.clone()),
        priced,
    };
    let claim = Claim {
        id,
        code,
        health_facility_id: facility.id,
        district_id: facility.location_id,
        insuree_id: insuree.id,
        chfid: insuree.chfid,
        admin_id,
        date_claimed: input.date_claimed.unwrap_or(input.date_from),
        date_from: input.date_from,
        date_to: input.date_to,
        visit_type: input.visit_type.unwrap_or(VisitType::Other),
        icd,
        secondary_icd,
        explanation,
        guarantee_no,
        refer_from_id: input.refer_from_id,
        refer_to_id: input.refer_to_id,
        referral_code,
        status: ClaimStatus::Entered,
        review_status: ReviewStatus::Idle,
        feedback_status: ReviewStatus::Idle,
        rejection_reason: None,
        decision: None,
        category: None,
        flags: Vec::new(),
        claimed,
        approved: None,
        valuated: None,
        remunerated: None,
        submitted_at: None,
        processed_at: None,
        risk: None,
        reviewer_id: None,
        review_selected_at: None,
        reviewed_at: None,
        adjustment: None,
        feedback: None,
        batch_run_id: None,
        items,
        services,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    Ok((claim, around))
}

/// The lines of one kind, checked: known codes, quantities within the register's maximum, an
/// explanation for a service given more than once.
fn checked_lines(
    checks: &mut Checks,
    kind: LineKind,
    priced: &[(LineKind, Priced)],
    input: &[LineInput],
) -> Vec<ClaimLine> {
    let (field, word) = match kind {
        LineKind::Item => ("items", "medical item"),
        LineKind::Service => ("services", "medical service"),
    };
    let known: HashMap<&str, &Priced> = priced
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, p)| (p.code.as_str(), p))
        .collect();
    let mut lines = Vec::with_capacity(input.len());
    for (i, l) in input.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let code = checks.required(&at("code"), &l.code, 50);
        let explanation = checks.optional(&at("explanation"), l.explanation.as_deref(), 4000);
        if l.qty < 1 {
            checks.push(at("qty"), "out_of_range", "the quantity must be at least 1");
        }
        if l.price_asked.is_some_and(|p| p < 0) {
            checks.push(
                at("price_asked"),
                "out_of_range",
                "the price cannot be negative",
            );
        }
        if kind == LineKind::Service && l.qty > 1 && explanation.is_none() {
            checks.push(
                at("explanation"),
                "required",
                "a service given more than once needs an explanation",
            );
        }
        let Some(p) = known.get(code.as_str()) else {
            if !code.is_empty() {
                checks.push(
                    at("code"),
                    "not_found",
                    format!("no {word} has the code {code}"),
                );
            }
            continue;
        };
        if let Some(max) = p.maximum_amount.filter(|&m| m > 0)
            && l.qty > max
        {
            checks.push(
                at("qty"),
                "out_of_range",
                format!("at most {max} of {code} on one claim"),
            );
        }
        lines.push(ClaimLine::entered(
            p.id,
            p.code.clone(),
            p.name.clone(),
            l.qty,
            l.price_asked.unwrap_or(p.list_price.unwrap_or(p.price)),
            explanation,
        ));
    }
    lines
}

// ---------------------------------------------------------------- submission

/// A step of a claim's life that takes a list of claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Entered → checked or rejected (§7.6).
    Submit,
    /// Checked → processed or valuated (§7.8, §7.10).
    Process,
}

impl Step {
    fn right(self) -> Right {
        match self {
            Step::Submit => CLAIM_SUBMIT,
            Step::Process => CLAIM_PROCESS,
        }
    }

    fn takes(self) -> ClaimStatus {
        match self {
            Step::Submit => ClaimStatus::Entered,
            Step::Process => ClaimStatus::Checked,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Process => "process",
        }
    }
}

/// Submit entered claims, or process checked ones. Unknown ids (or claims outside your
/// districts) are a 404 naming them, and nothing changes. A claim in another status is reported
/// and left as it is. One transaction for the whole request.
pub async fn run_step(
    db: &Db,
    actor: &Actor,
    config: &Config,
    step: Step,
    ids: &[Uuid],
) -> Result<SubmitResults> {
    actor.require(step.right())?;
    if ids.is_empty() {
        return Err(Error::invalid(
            "claims",
            "required",
            "name at least one claim",
        ));
    }
    if ids.len() > 1000 {
        return Err(Error::invalid(
            "claims",
            "too_many",
            "at most 1,000 claims at once",
        ));
    }
    // Submitting one claim writes it in one statement: no transaction around it on PostgreSQL.
    let mut tx = if step == Step::Submit && ids.len() == 1 {
        db.single_statement_writes().await?
    } else {
        db.begin().await?
    };
    let claims = visible_claims_around(&mut tx, actor, ids, step == Step::Submit).await?;
    let mut results = Vec::with_capacity(claims.len());
    for (claim, around) in claims {
        if claim.status != step.takes() {
            results.push(SubmitResult {
                id: claim.id,
                code: claim.code.clone(),
                submitted: false,
                status: claim.status,
                detail: format!(
                    "claim {} is {}; only {} claims can be {}",
                    claim.code,
                    claim.status.code(),
                    step.takes().code(),
                    match step {
                        Step::Submit => "submitted",
                        Step::Process => "processed",
                    }
                ),
                claim,
            });
            continue;
        }
        // Another request stepping the same claim at once may write its ledger rows first:
        // their unique keys make this one's write fail, which is the stale claim it is.
        let raced = |e: Error| match e {
            Error::Conflict {
                code: "duplicate", ..
            } => Error::stale("claim"),
            other => other,
        };
        let after = match step {
            Step::Submit => adjudicate(&mut tx, config, claim.clone(), around).await,
            Step::Process => valuate(&mut tx, claim.clone()).await,
        }
        .map_err(raced)?;
        let record = audit::Entry::new(
            actor,
            CLAIM,
            after.id,
            step.action(),
            Some(&claim),
            Some(&after),
        )?;
        if !sql::write_step(&mut tx, &after, claim.version, record)
            .await
            .map_err(raced)?
        {
            return Err(Error::stale("claim"));
        }
        results.push(SubmitResult {
            id: after.id,
            code: after.code.clone(),
            submitted: true,
            status: after.status,
            detail: after.decision.clone().unwrap_or_default(),
            claim: after,
        });
    }
    tx.commit().await?;
    Ok(SubmitResults { results })
}

/// A document sent with a new claim.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: String,
    pub filename: Option<String>,
    /// The MIME type the client declared; the bytes must agree.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Enter a claim and submit it at once (openIMIS's `enter_and_submit`, what its FHIR `POST
/// Claim` does): checked as [`create_claim`] checks it, adjudicated as [`run_step`] does, and
/// written once, decided, with its documents. The reads come first and hold no lock (on SQLite
/// no writer slot); a code the facility already used is the unique index's 409 at the write,
/// with nothing written. Without documents PostgreSQL writes it in one statement.
pub async fn enter_and_submit(
    db: &Db,
    actor: &Actor,
    config: &Config,
    input: ClaimInput,
    documents: &[NewDocument],
    today: Date,
) -> Result<Claim> {
    actor.require(CLAIM_ADD)?;
    actor.require(CLAIM_SUBMIT)?;
    let mut checked = Vec::with_capacity(documents.len());
    for (i, d) in documents.iter().enumerate() {
        checked.push(checked_document(
            &format!("documents[{i}]."),
            &d.title,
            d.filename.as_deref(),
            &d.content_type,
            &d.bytes,
        )?);
    }
    // Each read is consistent on its own (as a submission's are): no BEGIN and COMMIT around
    // them, two trips fewer to SQLite's connection thread.
    let mut read = db.read_one().await?;
    let (entered, around) = checked_claim(&mut read, actor, input, Uuid::now_v7(), today).await?;
    let decided = adjudicate(&mut read, config, entered, around).await?;
    // Entered and decided in one write: the first version.
    let decided = Claim {
        version: 1,
        created_at: decided.updated_at,
        ..decided
    };
    let record = audit::Entry::new(
        actor,
        CLAIM,
        decided.id,
        "enter_and_submit",
        None::<&()>,
        Some(&decided),
    )?;
    let mut tx = if documents.is_empty() && db.engine() == store::Engine::Postgres {
        read
    } else {
        read.commit().await?;
        db.begin().await?
    };
    if !sql::insert_claim_recorded(&mut tx, &decided, record).await? {
        return Err(code_conflict(&decided.code));
    }
    for ((title, filename, kind), d) in checked.into_iter().zip(documents) {
        attach(&mut tx, actor, decided.id, title, filename, kind, &d.bytes).await?;
    }
    tx.commit().await?;
    Ok(decided)
}

/// Value a checked claim (§7.8, §7.10): per policy that pays its accepted lines, the deductibles,
/// co-insurance and ceilings against the ledger, and the ledger rows of this claim. Processed
/// when a line waits for the batch run's relative prices (origin R), else valuated. Review and
/// feedback still pending are bypassed.
async fn valuate(tx: &mut Tx, mut claim: Claim) -> Result<Claim> {
    let (facility, (_, _, _, dob)) =
        sql::facility_and_patient(tx, claim.health_facility_id, claim.insuree_id)
            .await?
            .ok_or_else(|| Error::not_found("health facility", claim.health_facility_id))?;
    let target = claim.date_to.unwrap_or(claim.date_from);
    let adult = decide::adult(&claim, dob);
    let mut ledger_rows = Vec::new();
    let (mut total, mut relative) = (0i64, false);
    for (policy_id, product_id, at) in decide::policy_lines(&claim) {
        let product = policy::service::load_product(tx, product_id)
            .await?
            .ok_or_else(|| Error::not_found("product", product_id))?;
        let members = sql::members_on(tx, policy_id, target).await?;
        let treatment = decide::treatment(&claim, facility.level(), members);
        let ledger = sql::ledgers(tx, claim.insuree_id, &[policy_id], Some(claim.id))
            .await?
            .remove(&policy_id)
            .unwrap_or_default();
        let (used, valued, at_relative) =
            decide::value_policy_lines(&mut claim, &at, &product.terms, &treatment, &ledger, adult);
        total = total.saturating_add(valued);
        relative |= at_relative;
        ledger_rows.push((policy_id, used));
    }
    let now = audit::now_micros();
    sql::replace_ded_rem(tx, claim.id, claim.insuree_id, &ledger_rows, now).await?;
    decide::finish_valuation(&mut claim, total, relative, now);
    Ok(claim)
}

/// Decide on a claim with what was read with it (its facility, the patient, its lines priced)
/// and the insuree's windows and other claims, and write the decision into the claim.
async fn adjudicate(
    tx: &mut Tx,
    config: &Config,
    mut claim: Claim,
    around: sql::Surroundings,
) -> Result<Claim> {
    let facility = around
        .facility
        .ok_or_else(|| Error::not_found("health facility", claim.health_facility_id))?;
    let (chfid, deleted, gender, dob) = around
        .patient
        .ok_or_else(|| Error::not_found("insuree", claim.insuree_id))?;
    let patient = Patient {
        chfid,
        deleted,
        female: gender == "F",
        dob,
    };
    let lines = decide::rule_lines(&claim, &around.priced);
    // The insuree's windows under active or expired policies, with their products.
    let mut windows = Vec::new();
    for cover in policy::store::insuree_coverage(tx, claim.insuree_id).await? {
        if !decide::counts(&cover.policy, &cover.window) {
            continue;
        }
        let Some(product) =
            policy::service::cached_product(tx, cover.policy.product_id, cover.product_stamp)
                .await?
        else {
            continue;
        };
        windows.push((cover, product));
    }
    let covers: Vec<Cover> = windows
        .iter()
        .filter_map(|(cover, product)| decide::cover(&cover.policy, &cover.window, &product.terms))
        .collect();
    let codes: Vec<String> = std::iter::once(claim.icd.clone())
        .chain(claim.secondary_icd.iter().cloned())
        .collect();
    let neighbours = sql::neighbours(tx, &claim, &codes).await?;
    let history = &neighbours.history;
    let decision = rules::submit(&ClaimFacts {
        date_claimed: claim.date_claimed,
        date_from: claim.date_from,
        date_to: claim.date_to,
        visit_type: claim.visit_type,
        facility: &decide::rule_facility(&facility),
        patient: &patient,
        lines: &lines,
        covers: &covers,
        history,
    });
    let flags = flags(&claim, &codes, &neighbours);
    decide::apply_decision(&mut claim, &decision, flags, config, audit::now_micros());
    Ok(claim)
}

/// What a submission notices without rejecting (openIMIS left these checks off): another claim
/// of the same insuree at the same facility on the same dates with the same items and services,
/// and diagnosis codes outside the ICD list.
fn flags(claim: &Claim, codes: &[String], neighbours: &sql::Neighbours) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mine: BTreeSet<(&str, Uuid)> = claim
        .items
        .iter()
        .map(|l| ("I", l.register_id))
        .chain(claim.services.iter().map(|l| ("S", l.register_id)))
        .collect();
    for (code, lines) in &neighbours.same_visit {
        let theirs: BTreeSet<(&str, Uuid)> = lines.iter().map(|(k, r)| (k.as_str(), *r)).collect();
        if !mine.is_empty() && theirs == mine {
            flags.push(Flag {
                code: "suspected_duplicate".into(),
                detail: format!(
                    "claim {code} has the same insuree, facility, dates, items and services"
                ),
            });
        }
    }
    for code in codes
        .iter()
        .filter(|c| !neighbours.known_diagnoses.contains(c))
    {
        flags.push(Flag {
            code: "unknown_diagnosis".into(),
            detail: format!("the diagnosis {code} is not in the ICD list"),
        });
    }
    flags
}

pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![
        (
            CLAIM,
            kernel::audit_guard(|db, actor, id| async move {
                get_claim(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            BATCH_RUN,
            kernel::audit_guard(|db, actor, id| async move {
                get_batch_run(&db, &actor, &id.to_string())
                    .await
                    .map(|_| ())
            }),
        ),
    ]
}

// ---------------------------------------------------------------- review and feedback

/// The officer a review or feedback is assigned to: an active user.
async fn check_officer(tx: &mut Tx, field: &str, officer: Option<Uuid>) -> Result<()> {
    if let Some(id) = officer {
        match identity::store::get_user(tx, id).await? {
            Some(u) if u.active => {}
            _ => {
                return Err(Error::invalid(
                    field,
                    "not_found",
                    format!("no active user {id}"),
                ));
            }
        }
    }
    Ok(())
}

/// Write a claim changed by a review step, with its audit record.
async fn save_step(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &Claim,
    mut after: Claim,
) -> Result<Claim> {
    after.version = before.version + 1;
    after.updated_at = audit::now_micros();
    if !sql::save_claim(tx, &after, Some(before.version)).await? {
        return Err(Error::stale("claim"));
    }
    audit::append(
        tx,
        actor,
        CLAIM,
        after.id,
        action,
        Some(before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// Mark a claim selected for review, for `officer` if named (else whoever it was for).
async fn select(
    tx: &mut Tx,
    actor: &Actor,
    before: &Claim,
    officer: Option<Uuid>,
    now: time::OffsetDateTime,
) -> Result<Claim> {
    let after = Claim {
        review_status: ReviewStatus::Selected,
        reviewer_id: officer.or(before.reviewer_id),
        review_selected_at: Some(now),
        ..before.clone()
    };
    save_step(tx, actor, "select_for_review", before, after).await
}

/// Select checked claims for review by hand, optionally for one medical officer.
pub async fn select_for_review(db: &Db, actor: &Actor, input: SelectInput) -> Result<Vec<Claim>> {
    actor.require(CLAIM_SELECT)?;
    if input.claims.is_empty() {
        return Err(Error::invalid(
            "claims",
            "required",
            "name at least one claim",
        ));
    }
    let mut tx = db.begin().await?;
    check_officer(&mut tx, "officer_id", input.officer_id).await?;
    let claims = visible_claims(&mut tx, actor, &input.claims).await?;
    if let Some(c) = claims.iter().find(|c| c.status != ClaimStatus::Checked) {
        return Err(Error::conflict(
            "not_checked",
            format!(
                "claim {} is {}; only checked claims are reviewed",
                c.code,
                c.status.code()
            ),
        ));
    }
    let now = audit::now_micros();
    let mut out = Vec::with_capacity(claims.len());
    for before in claims {
        out.push(select(&mut tx, actor, &before, input.officer_id, now).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// Select for review the checked, unselected claims in your districts that meet any of the
/// criteria: a random share, an approved amount, a risk score, a flag.
pub async fn draw_for_review(db: &Db, actor: &Actor, input: DrawInput) -> Result<DrawResult> {
    actor.require(CLAIM_SELECT)?;
    let mut checks = Checks::new();
    if input
        .random_percent
        .is_some_and(|p| !(0..=100).contains(&p))
    {
        checks.push("random_percent", "out_of_range", "a percent from 0 to 100");
    }
    if input.risk_at_least.is_some_and(|p| !(0..=100).contains(&p)) {
        checks.push("risk_at_least", "out_of_range", "a score from 0 to 100");
    }
    if input.random_percent.is_none()
        && input.amount_at_least.is_none()
        && input.risk_at_least.is_none()
        && !input.flagged
    {
        checks.push(
            "random_percent",
            "required",
            "give at least one criterion: random_percent, amount_at_least, risk_at_least or flagged",
        );
    }
    checks.finish()?;
    let mut tx = db.begin().await?;
    check_officer(&mut tx, "officer_id", input.officer_id).await?;
    let filter = ClaimFilter {
        health_facility_id: actor.health_facility_id.or(input.health_facility_id),
        date_from: input.date_from,
        date_to: input.date_to,
        scope: actor.district_filter(),
        ..ClaimFilter::default()
    };
    let candidates = sql::review_candidates(&mut tx, &filter).await?;
    let salt = Uuid::now_v7().as_u64_pair().1;
    let chosen: Vec<Uuid> = candidates
        .iter()
        .filter(|c| {
            input
                .random_percent
                .is_some_and(|p| rules::review::drawn(c.id, salt, p))
                || input
                    .amount_at_least
                    .is_some_and(|a| c.approved.unwrap_or(0) >= a)
                || input
                    .risk_at_least
                    .is_some_and(|r| c.risk.unwrap_or(0) >= r)
                || (input.flagged && c.flags != "[]")
        })
        .map(|c| c.id)
        .collect();
    let now = audit::now_micros();
    for &id in &chosen {
        let Some(before) = sql::get_claim(&mut tx, id).await? else {
            continue;
        };
        select(&mut tx, actor, &before, input.officer_id, now).await?;
    }
    tx.commit().await?;
    Ok(DrawResult {
        considered: candidates.len() as i64,
        selected: chosen,
    })
}

/// A medical officer's queue: the claims selected for them (or for nobody in particular) and not
/// yet reviewed, with its figures.
pub async fn review_queue(
    db: &Db,
    actor: &Actor,
    officer: Option<Uuid>,
    now: time::OffsetDateTime,
) -> Result<ReviewQueue> {
    actor.require(CLAIM_REVIEW)?;
    let officer = officer.or(actor.user_id);
    let mut tx = db.read().await?;
    let filter = ClaimFilter {
        health_facility_id: actor.health_facility_id,
        scope: actor.district_filter(),
        ..ClaimFilter::default()
    };
    let (open, delivered) =
        sql::review_rows(&mut tx, &filter, officer, now - time::Duration::days(30)).await?;
    let days = |from: time::OffsetDateTime, to: time::OffsetDateTime| {
        (to - from).as_seconds_f64() / 86_400.0
    };
    let ages: Vec<f64> = open
        .iter()
        .filter_map(|c| c.review_selected_at)
        .map(|at| days(at, now))
        .collect();
    let turnarounds: Vec<f64> = delivered
        .iter()
        .filter_map(|(selected, reviewed)| selected.map(|s| days(s, *reviewed)))
        .collect();
    let average = |v: &[f64]| {
        (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64 * 10.0).round() / 10.0)
    };
    Ok(ReviewQueue {
        officer_id: officer,
        open: open.len() as i64,
        oldest_days: ages
            .iter()
            .copied()
            .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))))
            .map(|d| d.floor() as i64),
        average_age_days: average(&ages),
        delivered_30_days: delivered.len() as i64,
        average_turnaround_days: average(&turnarounds),
        claims: open.into_iter().take(100).map(|c| c.summary()).collect(),
    })
}

/// A medical officer's review of a checked claim: per line, reject it (reason −1), approve fewer
/// units or another price, each with a justification. The approved amount is recomputed; a claim
/// whose every line is rejected is rejected. The review is delivered.
pub async fn review_claim(db: &Db, actor: &Actor, id: &str, input: ReviewInput) -> Result<Claim> {
    actor.require(CLAIM_REVIEW)?;
    let version = kernel::required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_claim(&mut tx, actor, id).await?;
    if before.status != ClaimStatus::Checked {
        return Err(Error::conflict(
            "not_checked",
            format!(
                "claim {} is {}; only checked claims are reviewed",
                before.code,
                before.status.code()
            ),
        ));
    }
    if before.version != version {
        return Err(Error::stale("claim"));
    }
    let mut checks = Checks::new();
    let adjustment = checks.optional("adjustment", input.adjustment.as_deref(), 4000);
    let mut after = before.clone();
    for (field, lines, reviews) in [
        ("items", &mut after.items, &input.items),
        ("services", &mut after.services, &input.services),
    ] {
        for (i, r) in reviews.iter().enumerate() {
            let Some(line) = lines.iter_mut().find(|l| l.id == r.id) else {
                checks.push(
                    format!("{field}[{i}].id"),
                    "not_found",
                    format!("the claim has no such line {}", r.id),
                );
                continue;
            };
            let review = rules::review::LineReview {
                reject: r.reject,
                qty_approved: r.qty_approved,
                price_approved: r.price_approved,
                justification: r.justification.clone(),
            };
            if let Err(e) = rules::review::check_line(&review, line.qty) {
                let name = match e {
                    rules::review::ReviewError::NoJustification => "justification",
                    rules::review::ReviewError::Quantity(_) => "qty_approved",
                    rules::review::ReviewError::Price => "price_approved",
                };
                checks.push(format!("{field}[{i}].{name}"), "invalid", e.to_string());
                continue;
            }
            line.justification = r
                .justification
                .as_deref()
                .map(str::trim)
                .map(str::to_string);
            if let Some(q) = r.qty_approved {
                line.qty_approved = Some(q);
            }
            if let Some(p) = r.price_approved {
                line.price_approved = Some(p);
            }
            if r.reject {
                line.status = LineStatus::Rejected;
                line.rejection_reason = Some(Reason::MedicalOfficer);
                line.rule = Some(Reason::MedicalOfficer.rule().to_string());
                line.decision = Some(format!(
                    "Rejected by the medical officer: {}",
                    line.justification.clone().unwrap_or_default()
                ));
                line.qty_approved = Some(0);
            }
        }
    }
    checks.finish()?;
    let approved = after
        .items
        .iter()
        .chain(&after.services)
        .filter(|l| l.status == LineStatus::Passed)
        .fold(0i64, |sum, l| {
            let qty = l.qty_approved.unwrap_or(l.qty);
            let price = l
                .price_approved
                .or(l.price_adjusted)
                .unwrap_or(l.price_asked);
            sum.saturating_add(qty.saturating_mul(price))
        });
    let any_passed = after
        .items
        .iter()
        .chain(&after.services)
        .any(|l| l.status == LineStatus::Passed);
    after.approved = Some(approved);
    after.adjustment = adjustment.or(after.adjustment);
    after.review_status = ReviewStatus::Delivered;
    after.reviewed_at = Some(audit::now_micros());
    after.reviewer_id = after.reviewer_id.or(actor.user_id);
    if !any_passed {
        after.status = ClaimStatus::Rejected;
        after.rejection_reason = Some(Reason::NotInRegisters);
        after.decision = Some("Every line was rejected at review.".into());
    } else {
        after.decision = Some(format!(
            "Reviewed: {} approved of {} claimed.",
            kernel::money::format_money(approved),
            kernel::money::format_money(after.claimed)
        ));
    }
    let after = save_step(&mut tx, actor, "review", &before, after).await?;
    sql::update_lines(&mut tx, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Ask for feedback on a submitted claim: an officer will ask the patient.
pub async fn request_feedback(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: FeedbackRequestInput,
) -> Result<Claim> {
    actor.require(CLAIM_SELECT)?;
    let mut tx = db.begin().await?;
    let before = find_claim(&mut tx, actor, id).await?;
    if before.status == ClaimStatus::Entered || before.status == ClaimStatus::Rejected {
        return Err(Error::conflict(
            "not_checked",
            format!(
                "claim {} is {}; feedback is asked on submitted claims",
                before.code,
                before.status.code()
            ),
        ));
    }
    if before.feedback_status == ReviewStatus::Delivered {
        return Err(Error::conflict(
            "feedback_delivered",
            format!("claim {} already has its feedback", before.code),
        ));
    }
    check_officer(&mut tx, "officer_id", input.officer_id).await?;
    let feedback = Feedback {
        officer_id: input.officer_id,
        requested_at: audit::now_micros(),
        answered_at: None,
        care_rendered: None,
        payment_asked: None,
        drug_prescribed: None,
        drug_received: None,
        assessment: None,
        feedback_date: None,
    };
    sql::save_feedback(&mut tx, before.id, &feedback).await?;
    let after = Claim {
        feedback_status: ReviewStatus::Selected,
        feedback: Some(feedback),
        ..before.clone()
    };
    let after = save_step(&mut tx, actor, "request_feedback", &before, after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Record what the patient said about a claim whose feedback was asked.
pub async fn deliver_feedback(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: FeedbackInput,
    today: Date,
) -> Result<Claim> {
    actor.require(CLAIM_FEEDBACK)?;
    let mut tx = db.begin().await?;
    let before = find_claim(&mut tx, actor, id).await?;
    let Some(asked) = before
        .feedback
        .clone()
        .filter(|_| before.feedback_status == ReviewStatus::Selected)
    else {
        return Err(Error::conflict(
            "feedback_not_asked",
            format!("no feedback is awaited on claim {}", before.code),
        ));
    };
    let mut checks = Checks::new();
    if !(0..=5).contains(&input.assessment) {
        checks.push("assessment", "out_of_range", "an assessment from 0 to 5");
    }
    if input.feedback_date.is_some_and(|d| d > today) {
        checks.push(
            "feedback_date",
            "future",
            "the feedback date cannot be in the future",
        );
    }
    checks.finish()?;
    check_officer(&mut tx, "officer_id", input.officer_id).await?;
    let feedback = Feedback {
        officer_id: input.officer_id.or(asked.officer_id),
        answered_at: Some(audit::now_micros()),
        care_rendered: Some(input.care_rendered),
        payment_asked: Some(input.payment_asked),
        drug_prescribed: Some(input.drug_prescribed),
        drug_received: Some(input.drug_received),
        assessment: Some(input.assessment),
        feedback_date: Some(input.feedback_date.unwrap_or(today)),
        ..asked
    };
    sql::save_feedback(&mut tx, before.id, &feedback).await?;
    let after = Claim {
        feedback_status: ReviewStatus::Delivered,
        feedback: Some(feedback),
        ..before.clone()
    };
    let after = save_step(&mut tx, actor, "feedback", &before, after).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- batch runs

pub const BATCH_RUN: &str = "batch_run";
pub const BATCH_PROCESS: Right = Right(111101);
pub const BATCH_SEARCH: Right = Right(111102);

/// Claims valuated per transaction of a batch run: what a crash can lose and redo.
static BATCH_CHUNK: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(2_000);

/// Apply the process-wide parts of `[claim]` (the batch runs' chunk), once at start.
pub fn configure(config: &Config) {
    BATCH_CHUNK.store(
        config.batch_chunk.clamp(1, 100_000),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Start the batch run of a month for a region, a district or the nation: once only (409), for
/// a month that is over. It runs in the background; follow it with [`get_batch_run`].
pub async fn create_batch_run(
    db: &Db,
    actor: &Actor,
    input: BatchRunInput,
    today: Date,
) -> Result<BatchRun> {
    actor.require(BATCH_PROCESS)?;
    let mut checks = Checks::new();
    if !(1..=12).contains(&input.month) {
        checks.push("month", "out_of_range", "a month from 1 to 12");
    }
    if !(2000..=2100).contains(&input.year) {
        checks.push("year", "out_of_range", "a year from 2000 to 2100");
    }
    let end = rules::batch::month_end(input.year, input.month);
    if end.is_some_and(|end| end >= today) {
        checks.push("month", "not_over", "the month is not over yet");
    }
    let mut tx = db.begin().await?;
    if let Some(location) = input.location_id {
        match location::store::get_location(&mut tx, location).await? {
            Some(l)
                if matches!(l.kind.code(), "R" | "D") && actor.sees_district(Some(location)) => {}
            _ => checks.push(
                "location_id",
                "not_found",
                format!("no region or district {location} in your districts"),
            ),
        }
    } else if !actor.is_admin && !matches!(actor.scope(), kernel::Scope::All) {
        checks.push("location_id", "required", "name your region or district");
    }
    checks.finish()?;
    if sql::batch_run_exists(&mut tx, input.location_id, input.year, input.month).await? {
        return Err(Error::conflict(
            "already_run",
            format!(
                "the batch run of {}-{:02} has already been run for this location",
                input.year, input.month
            ),
        ));
    }
    let now = audit::now_micros();
    let run = BatchRun {
        id: Uuid::now_v7(),
        location_id: input.location_id,
        year: input.year,
        month: input.month,
        status: BatchStatus::Running,
        progress: 0,
        claims_valuated: 0,
        error: None,
        run_date: now,
        finished_at: None,
        indexes: Vec::new(),
        version: 1,
    };
    sql::insert_batch_run(&mut tx, &run).await?;
    audit::append(
        &mut tx,
        actor,
        BATCH_RUN,
        run.id,
        "create",
        None::<&()>,
        Some(&run),
    )
    .await?;
    tx.commit().await?;
    let (db, id) = (db.clone(), run.id);
    tokio::spawn(async move { finish_batch_run(&db, id).await });
    Ok(run)
}

pub async fn get_batch_run(db: &Db, actor: &Actor, id: &str) -> Result<BatchRun> {
    actor.require(BATCH_SEARCH)?;
    let mut tx = db.read().await?;
    let run = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_batch_run(&mut tx, uuid).await?,
        None => None,
    };
    // What the list shows: national runs, runs of one's districts and of their regions.
    let visible = match &run {
        Some(r) if r.location_id.is_none() || actor.is_admin => true,
        Some(r) if actor.sees_district(r.location_id) => true,
        Some(r) => match (r.location_id, actor.district_filter()) {
            (Some(location), Some(districts)) => {
                sql::is_region_of(&mut tx, location, &districts).await?
            }
            _ => false,
        },
        None => false,
    };
    match run {
        Some(r) if visible => Ok(r),
        _ => Err(Error::not_found("batch run", id)),
    }
}

pub async fn list_batch_runs(db: &Db, actor: &Actor) -> Result<Vec<BatchRun>> {
    actor.require(BATCH_SEARCH)?;
    let mut tx = db.read().await?;
    let scope = actor.district_filter();
    sql::list_batch_runs(&mut tx, scope.as_deref()).await
}

/// What a run paid each facility.
pub async fn batch_statement(db: &Db, actor: &Actor, id: &str) -> Result<Vec<FacilityStatement>> {
    let run = get_batch_run(db, actor, id).await?;
    let mut tx = db.read().await?;
    sql::statement(&mut tx, run.id).await
}

/// Run (or resume) a batch run to the end, recording a failure on the run.
pub async fn finish_batch_run(db: &Db, id: Uuid) {
    if let Err(e) = run_batch(db, id).await {
        tracing::warn!(batch_run = %id, error = %e, "batch run failed");
        if let Ok(mut tx) = db.begin().await {
            let failed = async {
                let run = sql::get_batch_run(&mut tx, id).await?;
                let claims = run.map(|r| r.claims_valuated).unwrap_or(0);
                sql::set_batch_progress(
                    &mut tx,
                    id,
                    BatchStatus::Failed,
                    0,
                    claims,
                    Some(&e.to_string()),
                    audit::now_micros(),
                )
                .await?;
                tx.commit().await?;
                Ok::<(), Error>(())
            };
            if let Err(e) = failed.await {
                tracing::warn!(batch_run = %id, error = %e, "recording the failure failed");
            }
        }
    }
}

/// The capitation payments of the run's month for each product of its location that shares
/// contributions with facilities (spec §8.3).
async fn capitation(tx: &mut Tx, run: &BatchRun, end: Date) -> Result<()> {
    let Some(start) =
        rules::batch::period_start(product::model::RelPricePeriod::Month, run.year, run.month)
    else {
        return Ok(());
    };
    let mut catchments: Option<Vec<sql::Catchment>> = None;
    for product_id in sql::products_of(tx, run.location_id, end).await? {
        let Some(product) = policy::service::load_product(tx, product_id).await? else {
            continue;
        };
        let c = &product.terms.capitation;
        let weights = c.weights().map(|(_, w)| w.unwrap_or(0));
        let share = c.share_contribution.unwrap_or(0);
        if share <= 0 || weights.iter().all(|&w| w <= 0) {
            continue;
        }
        let (inside, claimed) =
            sql::capitation_facilities(tx, product_id, product.terms.location_id, start, end)
                .await?;
        let levels = &product.terms.capitation_levels;
        let mut facilities: Vec<Uuid> = inside
            .iter()
            .filter(|(_, level, sub, _)| {
                levels.is_empty()
                    || levels.iter().any(|l| {
                        l.level.code() == level
                            && l.sublevel.is_none_or(|s| Some(s.code()) == sub.as_deref())
                    })
            })
            .map(|(id, _, _, _)| *id)
            .collect();
        for id in claimed {
            if !facilities.contains(&id) {
                facilities.push(id);
            }
        }
        if catchments.is_none() {
            catchments = Some(sql::catchments(tx).await?);
        }
        let catchments = catchments.as_deref().unwrap_or_default();
        let insured: HashMap<Uuid, (i64, i64)> =
            sql::insured_by_village(tx, product_id, start, end)
                .await?
                .into_iter()
                .map(|(village, insurees, families)| (village, (insurees, families)))
                .collect();
        let visits: HashMap<Uuid, (i64, i64)> = sql::visits_by_facility(tx, product_id, start, end)
            .await?
            .into_iter()
            .map(|(hf, n, adjusted)| (hf, (n, adjusted)))
            .collect();
        let quantities: Vec<rules::batch::Quantities> = facilities
            .iter()
            .map(|hf| {
                let mut q = [0i64; rules::batch::FACTORS];
                for (_, village, percent, population, families) in
                    catchments.iter().filter(|c| c.0 == *hf)
                {
                    let (ins, fam) = insured.get(village).copied().unwrap_or((0, 0));
                    q[0] += population * percent;
                    q[1] += families * percent;
                    q[2] += ins * percent;
                    q[3] += fam * percent;
                }
                let (n, adjusted) = visits.get(hf).copied().unwrap_or((0, 0));
                q[4] = n;
                q[5] = adjusted;
                q
            })
            .collect();
        let paid = sql::product_contributions(tx, product_id).await?;
        let allocated = rules::batch::allocated(&paid, start, end);
        let amounts = rules::batch::capitation(allocated, share, weights, &quantities);
        let rows: Vec<CapitationPayment> = facilities
            .iter()
            .zip(quantities.iter().zip(&amounts))
            .map(|(hf, (q, a))| CapitationPayment {
                product_id,
                health_facility_id: *hf,
                population: q[0],
                families: q[1],
                insured_insurees: q[2],
                insured_families: q[3],
                visits: q[4],
                adjusted: q[5],
                amount_population: a[0],
                amount_families: a[1],
                amount_insured_insurees: a[2],
                amount_insured_families: a[3],
                amount_visits: a[4],
                amount_adjusted: a[5],
                payment: a.iter().sum(),
            })
            .collect();
        sql::save_capitation(tx, run.id, &rows).await?;
    }
    Ok(())
}

/// What a run pays each facility in capitation, per product.
pub async fn batch_capitation(db: &Db, actor: &Actor, id: &str) -> Result<Vec<CapitationPayment>> {
    let run = get_batch_run(db, actor, id).await?;
    let mut tx = db.read().await?;
    sql::capitation_of(&mut tx, run.id).await
}

/// Resume the runs a stop or a crash left running.
pub fn spawn_unfinished_batch_runs(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let ids = match db.read().await {
            Ok(mut tx) => sql::unfinished_batch_runs(&mut tx)
                .await
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        for id in ids {
            tracing::info!(batch_run = %id, "resuming a batch run");
            finish_batch_run(&db, id).await;
        }
    })
}

/// The work of a batch run, resumable: the relative-price indexes of the products of its
/// location (recomputed, in one transaction), then the month's processed claims valued at them,
/// `BATCH_CHUNK` claims per transaction, each marked with the run so that a resumed run skips
/// them.
async fn run_batch(db: &Db, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let run = sql::get_batch_run(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("batch run", id))?;
    if run.status != BatchStatus::Running {
        return Ok(());
    }
    let end = rules::batch::month_end(run.year, run.month)
        .ok_or_else(|| Error::invalid("month", "out_of_range", "no such month"))?;
    // The indexes of each product, by care type.
    let mut indexes = rules::batch::Indexes::default();
    for product_id in sql::products_of(&mut tx, run.location_id, end).await? {
        let Some(product) = policy::service::load_product(&mut tx, product_id).await? else {
            continue;
        };
        let by_facility = product.terms.ceiling_interpretation
            == product::model::CeilingInterpretation::FacilityType;
        indexes.by_facility.insert(product_id, by_facility);
        let paid = sql::product_contributions(&mut tx, product_id).await?;
        let distributions: Vec<(String, Option<product::model::RelPricePeriod>, Vec<i64>)> =
            if product.terms.relative_distribution.is_empty() {
                vec![("B".into(), product.period_rel_prices, Vec::new())]
            } else {
                product
                    .terms
                    .relative_distribution
                    .iter()
                    .map(|d| {
                        let care = d.care_type.code().to_string();
                        let period = match d.care_type {
                            product::model::DistributionCareType::Both => product.period_rel_prices,
                            product::model::DistributionCareType::InPatient => {
                                product.period_rel_prices_ip
                            }
                            product::model::DistributionCareType::OutPatient => {
                                product.period_rel_prices_op
                            }
                        };
                        (care, period, d.periods.clone())
                    })
                    .collect()
            };
        for (care, period, periods) in distributions {
            let Some(start) =
                period.and_then(|p| rules::batch::period_start(p, run.year, run.month))
            else {
                continue;
            };
            let percent = rules::batch::period_index(periods.len(), run.month)
                .and_then(|i| periods.get(i).copied())
                .unwrap_or(100);
            let allocated = rules::batch::allocated(&paid, start, end);
            let points = sql::relative_points(
                &mut tx,
                product_id,
                run.location_id,
                start,
                end,
                &care,
                by_facility,
            )
            .await?;
            let index = rules::batch::relative_index(allocated, percent, points);
            sql::save_index(
                &mut tx,
                id,
                &RelativeIndex {
                    product_id,
                    care_type: care.clone(),
                    period_start: start,
                    period_end: end,
                    allocated,
                    percent,
                    claimed_points: points,
                    rel_index: index.0 as f64 / index.1 as f64,
                },
            )
            .await?;
            if let Some(care) = care.chars().next() {
                indexes.by_care.insert((product_id, care), index);
            }
        }
    }
    capitation(&mut tx, &run, end).await?;
    let total =
        sql::count_claims_to_valuate(&mut tx, run.location_id, end).await? + run.claims_valuated;
    tx.commit().await?;
    // Two workers share the queue (one chunk each at a time, in id order), so that one
    // computes while PostgreSQL writes the other's chunk; on SQLite the writer slot takes them
    // in turn.
    let queue = RunQueue {
        run: &run,
        end,
        indexes: &indexes,
        total,
        next: tokio::sync::Mutex::new((None, run.claims_valuated)),
    };
    tokio::try_join!(queue.work(db), queue.work(db))?;
    let mut tx = db.begin().await?;
    let done = sql::count_run_claims(&mut tx, id).await?;
    sql::set_batch_progress(
        &mut tx,
        id,
        BatchStatus::Done,
        100,
        done,
        None,
        audit::now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The claims a batch run has left to value, taken a chunk at a time.
struct RunQueue<'a> {
    run: &'a BatchRun,
    end: Date,
    indexes: &'a rules::batch::Indexes,
    total: i64,
    /// The last claim taken, and how many claims are valued.
    next: tokio::sync::Mutex<(Option<Uuid>, i64)>,
}

impl RunQueue<'_> {
    /// Take chunks until none is left: each one valued in one transaction that marks its claims
    /// with the run, so that a run cut short resumes with what is left.
    async fn work(&self, db: &Db) -> Result<()> {
        let system = Actor::system("batch run");
        let run = self.run;
        loop {
            let mut tx = db.begin().await?;
            let chunk = {
                let mut next = self.next.lock().await;
                let chunk = sql::run_chunk(
                    &mut tx,
                    run.location_id,
                    self.end,
                    next.0,
                    BATCH_CHUNK.load(std::sync::atomic::Ordering::Relaxed),
                )
                .await?;
                if let Some(last) = chunk.last() {
                    next.0 = Some(last.id);
                }
                chunk
            };
            if chunk.is_empty() {
                return Ok(());
            }
            let mut valued = Vec::with_capacity(chunk.len());
            let mut lines = Vec::new();
            let mut changes = Vec::with_capacity(chunk.len());
            for claim in &chunk {
                let mut remunerated = 0i64;
                let mut paid_lines = Vec::new();
                for &(line, relative_product, valuated) in &claim.lines {
                    let paid = rules::batch::paid(
                        self.indexes,
                        rules::batch::RunLine {
                            relative_product,
                            valuated,
                        },
                        claim.at_hospital,
                        claim.multi_day,
                    );
                    remunerated = remunerated.saturating_add(paid);
                    // The other lines were paid what they are worth when the claim was
                    // processed.
                    if relative_product.is_some() {
                        lines.push((line, paid));
                        paid_lines.push(serde_json::json!({"id": line, "remunerated": paid}));
                    }
                }
                let decision = format!(
                    "Valuated by the batch run of {}-{:02}: the scheme pays {}.",
                    run.year,
                    run.month,
                    kernel::money::format_money(remunerated)
                );
                // The audit record names what the run changed, not the whole claim again: a
                // run values hundreds of thousands of claims.
                changes.push(audit::Entry::new(
                    &system,
                    CLAIM,
                    claim.id,
                    "batch_valuate",
                    Some(&serde_json::json!({"version": claim.version, "status": ClaimStatus::Processed})),
                    Some(&serde_json::json!({
                        "version": claim.version + 1,
                        "status": ClaimStatus::Valuated,
                        "remunerated": remunerated,
                        "batch_run_id": run.id,
                        "decision": decision,
                        "lines": paid_lines,
                    })),
                )?);
                valued.push(sql::RunValued {
                    id: claim.id,
                    version: claim.version,
                    remunerated,
                    decision,
                });
            }
            let now = audit::now_micros();
            let written = sql::write_run_chunk(&mut tx, run.id, now, &valued, &lines).await?;
            if written != valued.len() as u64 {
                return Err(Error::conflict(
                    "stale_version",
                    "a claim of the batch run was changed while it ran; run it again",
                ));
            }
            audit::append_many(&mut tx, &changes).await?;
            let done = {
                let mut next = self.next.lock().await;
                next.1 += chunk.len() as i64;
                next.1
            };
            let progress = if self.total > 0 {
                (done * 100 / self.total).min(99)
            } else {
                99
            };
            sql::set_batch_progress(
                &mut tx,
                run.id,
                BatchStatus::Running,
                progress,
                done,
                None,
                now,
            )
            .await?;
            tx.commit().await?;
        }
    }
}

// ---------------------------------------------------------------- attachments

/// What a document is by its first bytes: PDF, JPEG or PNG.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Attach a document to a claim not yet processed: a PDF, JPEG or PNG whose bytes say what it
/// is, with a title.
pub async fn add_attachment(
    db: &Db,
    actor: &Actor,
    id: &str,
    title: &str,
    filename: Option<&str>,
    declared: &str,
    bytes: &[u8],
) -> Result<Attachment> {
    if !actor.has(CLAIM_EDIT) {
        actor.require(CLAIM_ADD)?;
    }
    let (title, filename, kind) = checked_document("", title, filename, declared, bytes)?;
    let mut tx = db.begin().await?;
    let claim = find_claim(&mut tx, actor, id).await?;
    if !matches!(claim.status, ClaimStatus::Entered | ClaimStatus::Checked) {
        return Err(Error::conflict(
            "processed",
            format!(
                "claim {} is {}; documents are attached before processing",
                claim.code,
                claim.status.code()
            ),
        ));
    }
    let attachment = attach(&mut tx, actor, claim.id, title, filename, kind, bytes).await?;
    tx.commit().await?;
    Ok(attachment)
}

/// A document's title, file name and type, checked: a PDF, JPEG or PNG whose bytes say what it
/// is. The fields' names start with `at` (empty, or `documents[0].` and the like).
fn checked_document(
    at: &str,
    title: &str,
    filename: Option<&str>,
    declared: &str,
    bytes: &[u8],
) -> Result<(String, Option<String>, &'static str)> {
    let mut checks = Checks::new();
    let title = checks.required(&format!("{at}title"), title, 200);
    let filename = checks.optional(&format!("{at}filename"), filename, 255);
    let kind = sniff(bytes);
    let field = format!("{at}content_type");
    match kind {
        None => checks.push(
            field,
            "unsupported_type",
            "a claim's document is a PDF, JPEG or PNG file",
        ),
        Some(kind) if kind != declared.split(';').next().unwrap_or("").trim() => checks.push(
            field,
            "mismatch",
            format!("the file is {kind} but was sent as {declared}"),
        ),
        Some(_) => {}
    }
    checks.finish()?;
    Ok((title, filename, kind.unwrap_or_default()))
}

/// Store a checked document of a claim, with its audit record, in the caller's transaction.
async fn attach(
    tx: &mut Tx,
    actor: &Actor,
    claim: Uuid,
    title: String,
    filename: Option<String>,
    kind: &'static str,
    bytes: &[u8],
) -> Result<Attachment> {
    let attachment = Attachment {
        id: Uuid::now_v7(),
        claim_id: claim,
        title,
        filename,
        content_type: kind.to_string(),
        size: bytes.len() as i64,
        created_at: audit::now_micros(),
    };
    sql::insert_attachment(tx, &attachment, bytes).await?;
    audit::append(
        tx,
        actor,
        CLAIM,
        claim,
        "attach",
        None::<&()>,
        Some(&attachment),
    )
    .await?;
    Ok(attachment)
}

pub async fn list_attachments(db: &Db, actor: &Actor, id: &str) -> Result<Vec<Attachment>> {
    actor.require(CLAIM_SEARCH)?;
    let mut tx = db.read().await?;
    let claim = find_claim(&mut tx, actor, id).await?;
    sql::attachments(&mut tx, claim.id).await
}

pub async fn get_attachment(
    db: &Db,
    actor: &Actor,
    id: &str,
    attachment: &str,
) -> Result<(Attachment, Vec<u8>)> {
    actor.require(CLAIM_SEARCH)?;
    let mut tx = db.read().await?;
    let claim = find_claim(&mut tx, actor, id).await?;
    let found = match kernel::parse_uuid(attachment) {
        Some(a) => sql::attachment(&mut tx, claim.id, a).await?,
        None => None,
    };
    found.ok_or_else(|| Error::not_found("attachment", attachment))
}

/// Remove a document from a claim that is still entered.
pub async fn delete_attachment(db: &Db, actor: &Actor, id: &str, attachment: &str) -> Result<()> {
    if !actor.has(CLAIM_EDIT) {
        actor.require(CLAIM_ADD)?;
    }
    let mut tx = db.begin().await?;
    let claim = find_claim(&mut tx, actor, id).await?;
    if claim.status != ClaimStatus::Entered {
        return Err(not_entered(&claim, "changed"));
    }
    let Some(a) = kernel::parse_uuid(attachment) else {
        return Err(Error::not_found("attachment", attachment));
    };
    let Some((before, _)) = sql::attachment(&mut tx, claim.id, a).await? else {
        return Err(Error::not_found("attachment", attachment));
    };
    sql::delete_attachment(&mut tx, claim.id, a).await?;
    audit::append(
        &mut tx,
        actor,
        CLAIM,
        claim.id,
        "detach",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`sql::usage`] as the policy module's eligibility hook.
pub fn claims_usage_hook(
    tx: &mut Tx,
    insuree: Uuid,
    item: Option<Uuid>,
    service: Option<Uuid>,
) -> policy::service::HookFuture<'_, Vec<policy::service::ClaimsUsed>> {
    Box::pin(sql::usage(tx, insuree, item, service))
}
