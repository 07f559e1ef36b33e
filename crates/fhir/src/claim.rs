//! Claim: `POST Claim` enters and submits a claim in one step (openIMIS's
//! `enter_and_submit`) and answers `201` with its ClaimResponse: every item's adjudication with
//! the openIMIS reason code (0 accepted), the sentence that explains it in `reason.text`, and
//! the claimed and approved totals. `GET ClaimResponse/{id}` reads it again.
//!
//! Lenient on input (spec/interop.md §A6, §A9): the claim code in an identifier of type `Code`
//! or `MR` (else the first one); provider, patient and enterer as `Type/<uuid or code>` or by
//! `identifier`; a patient by insurance number always means the insuree's current record;
//! `item.category` as text or coding; codes in `productOrService.text` or its coding; no
//! `insurance` or `priority` needed. A reused claim code is a 409 and changes nothing.

use crate::capability::Served;
use crate::datatypes::*;
use crate::input::{bad, day, reference_id, resource, text};
use crate::{Config, Fhir, codes};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use claim::model::{
    Claim, ClaimInput, ClaimLine, ClaimStatus, LineInput, LineStatus, Reason, VisitType,
};
use claim::service::NewDocument;
use kernel::{Actor, AppState, Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

const CLAIM_SEARCH: &[(&str, &str, &str)] = &[
    (
        "identifier",
        "token",
        "the claim's UUID or claim code, as a raw value",
    ),
    (
        "patient",
        "reference",
        "the insuree's UUID or insurance number",
    ),
    (
        "refDate",
        "date",
        "visits on or after this day (YYYY-MM-DD)",
    ),
    // Claim only: the last, left off ClaimResponse's list.
    (
        "contained",
        "token",
        "true: the patient, provider, enterer, medications and activity definitions inlined",
    ),
];

pub const SERVED_CLAIM: Served = Served {
    kind: "Claim",
    interactions: &["read", "search-type", "create"],
    search: CLAIM_SEARCH,
};

pub const SERVED_RESPONSE: Served = Served {
    kind: "ClaimResponse",
    interactions: &["read", "search-type", "update"],
    search: CLAIM_SEARCH.split_at(CLAIM_SEARCH.len() - 1).0,
};

// ---------------------------------------------------------------- reading a Claim

/// What the reference `element` of `v` names (see [`reference_id`]).
fn referenced<'a>(v: &'a Value, element: &str) -> Option<&'a str> {
    reference_id(v.get(element)?)
}

/// An amount: a JSON decimal, in minor units, exactly.
fn money(v: &Value, pointer: &str, element: &str) -> Result<Option<i64>> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => kernel::money::parse_money(&n.to_string())
            .map(Some)
            .map_err(|e| bad(element, e.to_string())),
        Some(other) => Err(bad(element, format!("{other} is not a number"))),
    }
}

/// The claim a FHIR Claim asks for, in the claims module's words. `resolve_facility` turns a
/// provider's UUID or code into the facility's id.
pub fn claim_input(body: &Value, facility: Uuid, admin: Option<Uuid>) -> Result<ClaimInput> {
    if body.get("resourceType").and_then(Value::as_str) != Some("Claim") {
        return Err(bad("Claim.resourceType", "resourceType must be \"Claim\""));
    }
    let identifiers = body
        .get("identifier")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let code = identifiers
        .iter()
        .find(|i| text(i, "/type/coding/0/code").is_some_and(codes::is_code_type))
        .or(identifiers.first())
        .and_then(|i| text(i, "/value"))
        .ok_or_else(|| {
            bad(
                "Claim.identifier",
                "the claim code is required (an identifier of type Code)",
            )
        })?
        .to_string();
    let date_from = day(body, "/billablePeriod/start", "Claim.billablePeriod.start")?
        .ok_or_else(|| bad("Claim.billablePeriod.start", "the visit date is required"))?;
    let date_to = day(body, "/billablePeriod/end", "Claim.billablePeriod.end")?;
    let date_claimed = day(body, "/created", "Claim.created")?;
    let insuree = referenced(body, "patient")
        .ok_or_else(|| {
            bad(
                "Claim.patient",
                "the patient (Patient/<insurance number or UUID>) is required",
            )
        })?
        .to_string();
    let visit_type = match text(body, "/type/coding/0/code") {
        None => None,
        Some(c) => Some(VisitType::from_code(c).ok_or_else(|| {
            bad(
                "Claim.type",
                format!("\"{c}\" is not a visit type: E, R or O"),
            )
        })?),
    };
    let mut diagnoses: Vec<(i64, String)> = Vec::new();
    for (i, d) in body
        .get("diagnosis")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let element = format!("Claim.diagnosis[{i}].diagnosisCodeableConcept");
        let code = text(d, "/diagnosisCodeableConcept/coding/0/code")
            .or(text(d, "/diagnosisCodeableConcept/text"))
            .ok_or_else(|| bad(&element, "an ICD code is required"))?;
        let sequence = d
            .get("sequence")
            .and_then(Value::as_i64)
            .unwrap_or(i as i64 + 1);
        diagnoses.push((sequence, code.to_string()));
    }
    diagnoses.sort_by_key(|(s, _)| *s);
    let mut diagnoses = diagnoses.into_iter().map(|(_, c)| c);
    let icd = diagnoses
        .next()
        .ok_or_else(|| bad("Claim.diagnosis", "the main diagnosis is required"))?;
    let secondary_icd: Vec<String> = diagnoses.collect();
    let (mut explanation, mut guarantee_no) = (None, None);
    for info in body
        .get("supportingInfo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let category = text(info, "/category/coding/0/code").or(text(info, "/category/text"));
        let value = text(info, "/valueString").map(str::to_string);
        match category.map(str::to_lowercase).as_deref() {
            Some("guarantee") => guarantee_no = value,
            Some("explanation") => explanation = value,
            _ => {}
        }
    }
    let (mut items, mut services) = (Vec::new(), Vec::new());
    for (i, line) in body
        .get("item")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let element = |e: &str| format!("Claim.item[{i}].{e}");
        let category = text(line, "/category/text")
            .or(text(line, "/category/coding/0/code"))
            .map(str::to_lowercase);
        let code = text(line, "/productOrService/text")
            .or(text(line, "/productOrService/coding/0/code"))
            .ok_or_else(|| {
                bad(
                    &element("productOrService"),
                    "the item's or service's code is required",
                )
            })?
            .to_string();
        let qty = match line.pointer("/quantity/value") {
            None => 1,
            Some(q) => q
                .as_f64()
                .filter(|q| q.fract() == 0.0 && *q >= 1.0)
                .map(|q| q as i64)
                .ok_or_else(|| {
                    bad(
                        &element("quantity"),
                        "the quantity must be a whole number of at least 1",
                    )
                })?,
        };
        let input = LineInput {
            code,
            qty,
            price_asked: money(line, "/unitPrice/value", &element("unitPrice"))?,
            explanation: None,
        };
        match category.as_deref() {
            Some("item") => items.push(input),
            Some("service") => services.push(input),
            _ => {
                return Err(bad(
                    &element("category"),
                    "the category must be item or service",
                ));
            }
        }
    }
    Ok(ClaimInput {
        code,
        health_facility_id: facility,
        insuree,
        admin_id: admin,
        date_claimed,
        date_from,
        date_to,
        visit_type,
        icd,
        secondary_icd,
        explanation,
        guarantee_no,
        refer_from_id: None,
        refer_to_id: None,
        referral_code: None,
        items,
        services,
        version: None,
    })
}

/// Does an attachment's `hash` agree with its data? openIMIS sends the hex SHA-1 of the base64
/// text; FHIR says the base64 SHA-1 of the bytes. Either is accepted.
fn hash_agrees(hash: &str, data: &str, bytes: &[u8]) -> bool {
    use base64::Engine as _;
    use sha1::Digest as _;
    let hash = hash.trim();
    let of_text = sha1::Sha1::digest(data.as_bytes());
    if hash.eq_ignore_ascii_case(&hex::encode(of_text)) {
        return true;
    }
    let of_bytes = sha1::Sha1::digest(bytes);
    hash == base64::engine::general_purpose::STANDARD.encode(of_bytes)
}

/// The claim's documents (`supportingInfo` of category attachment), decoded and checked before
/// anything is written: a PDF, JPEG or PNG file whose bytes are what its `contentType` says
/// (openIMIS's short forms `pdf`, `png`, `jpg` are read as their MIME types), and whose `hash`,
/// when sent, agrees with its data.
pub fn documents(body: &Value) -> Result<Vec<NewDocument>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for (i, info) in body
        .get("supportingInfo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let category = text(info, "/category/coding/0/code").or(text(info, "/category/text"));
        if !category.is_some_and(|c| c.eq_ignore_ascii_case("attachment")) {
            continue;
        }
        let element = format!("Claim.supportingInfo[{i}].valueAttachment");
        let a = info
            .get("valueAttachment")
            .ok_or_else(|| bad(&element, "an attachment is required"))?;
        let data = text(a, "/data")
            .ok_or_else(|| bad(&element, "the document's data (base64) is required"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .map_err(|e| bad(&element, format!("the data is not base64: {e}")))?;
        let declared = match text(a, "/contentType").map(str::to_lowercase).as_deref() {
            Some("pdf") | Some("application/pdf") => "application/pdf",
            Some("png") | Some("image/png") => "image/png",
            Some("jpg") | Some("jpeg") | Some("image/jpg") | Some("image/jpeg") => "image/jpeg",
            other => {
                return Err(bad(
                    &element,
                    format!(
                        "{} is not a PDF, JPEG or PNG type",
                        other.unwrap_or("no contentType")
                    ),
                ));
            }
        };
        match claim::service::sniff(&bytes) {
            Some(kind) if kind == declared => {}
            Some(kind) => return Err(bad(&element, format!("the file is {kind}, not {declared}"))),
            None => return Err(bad(&element, "the file is not a PDF, JPEG or PNG")),
        }
        if let Some(hash) = text(a, "/hash")
            && !hash_agrees(hash, data, &bytes)
        {
            return Err(bad(
                &format!("{element}.hash"),
                "the hash is not the SHA-1 of the data: the document was changed or cut short",
            ));
        }
        let title = text(a, "/title").unwrap_or("document").to_string();
        out.push(NewDocument {
            filename: Some(title.clone()),
            title,
            content_type: declared.to_string(),
            bytes,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- the handlers

/// The facility a provider names, by UUID or code.
async fn facility_of(state: &AppState, actor: &Actor, body: &Value) -> Result<Uuid> {
    let named = referenced(body, "provider").ok_or_else(|| {
        bad(
            "Claim.provider",
            "the health facility (Organization/<UUID or code>) is required",
        )
    })?;
    // A UUID is checked when the claim is entered.
    if let Ok(id) = Uuid::parse_str(named) {
        return Ok(id);
    }
    match location::service::get_facility(&state.db, actor, named).await {
        Ok(f) => Ok(f.id),
        Err(Error::NotFound { .. }) => Err(bad(
            "Claim.provider",
            format!("{named} is not a health facility"),
        )),
        Err(e) => Err(e),
    }
}

/// The claim administrator an enterer names: a UUID, or the caller's own code.
fn admin_of(actor: &Actor, body: &Value) -> Result<Option<Uuid>> {
    let Some(named) = referenced(body, "enterer") else {
        return Ok(None);
    };
    if let Ok(id) = Uuid::parse_str(named) {
        return Ok(Some(id));
    }
    if actor.username.eq_ignore_ascii_case(named) {
        return Ok(actor.user_id);
    }
    Err(bad(
        "Claim.enterer",
        format!("name the claim administrator {named} by UUID (Practitioner/<UUID>)"),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    axum::Extension(claims): axum::Extension<Arc<claim::service::Config>>,
    actor: Actor,
    body: Bytes,
) -> Result<Response> {
    let mut body = resource(&body, "Claim")?;
    crate::contained::resolve(&mut body, "Claim")?;
    let facility = facility_of(&state, &actor, &body).await?;
    let admin = admin_of(&actor, &body)?;
    let input = claim_input(&body, facility, admin)?;
    let docs = documents(&body)?;
    let today = OffsetDateTime::now_utc().date();
    let decided =
        claim::service::enter_and_submit(&state.db, &actor, &claims, input, &docs, today).await?;
    Ok((StatusCode::CREATED, Fhir(response(&decided, &config))).into_response())
}

pub async fn read_response(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Fhir<ClaimResponse>> {
    let c = claim::service::get_claim(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(response(&c, &config)))
}

// ---------------------------------------------------------------- the ClaimResponse

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "ClaimResponse")]
pub struct ClaimResponse {
    pub id: Uuid,
    pub meta: Meta,
    pub identifier: Vec<Identifier>,
    pub status: &'static str,
    #[serde(rename = "type")]
    pub kind: CodeableConcept,
    #[serde(rename = "use")]
    pub usage: &'static str,
    pub patient: Reference,
    pub created: String,
    pub insurer: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requestor: Option<Reference>,
    pub request: Reference,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<ResponseItem>,
    pub total: Vec<Total>,
}

#[derive(Debug, Serialize)]
pub struct ResponseItem {
    pub extension: Vec<Extension>,
    #[serde(rename = "itemSequence")]
    pub item_sequence: usize,
    pub adjudication: Vec<Adjudication>,
}

#[derive(Debug, Serialize)]
pub struct Adjudication {
    pub category: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<CodeableConcept>,
    pub amount: Money,
    pub value: i64,
}

#[derive(Debug, Serialize)]
pub struct Total {
    pub category: CodeableConcept,
    pub amount: Money,
}

fn status_code(status: ClaimStatus) -> (&'static str, &'static str) {
    match status {
        ClaimStatus::Rejected => ("1", "rejected"),
        ClaimStatus::Entered => ("2", "entered"),
        ClaimStatus::Checked => ("4", "checked"),
        ClaimStatus::Processed => ("8", "processed"),
        ClaimStatus::Valuated => ("16", "valuated"),
    }
}

fn stage(status: ClaimStatus) -> CodeableConcept {
    let (code, display) = status_code(status);
    CodeableConcept::of(Coding::new(codes::code_system("claim-status"), code).display(display))
}

fn reason(r: Reason, sentence: Option<&str>) -> CodeableConcept {
    CodeableConcept {
        coding: vec![
            Coding::new(
                codes::code_system("claim-rejection-reasons"),
                r.code().to_string(),
            )
            .display(r.rule()),
        ],
        text: sentence.map(str::to_string),
    }
}

fn adjudications(c: &Claim, l: &ClaimLine, currency: &str) -> Vec<Adjudication> {
    let asked = Money::of(l.price_asked, currency);
    match (l.status, l.rejection_reason) {
        (LineStatus::Rejected, r) => vec![Adjudication {
            category: stage(ClaimStatus::Rejected),
            reason: Some(reason(
                r.unwrap_or(Reason::NotInRegisters),
                l.decision.as_deref(),
            )),
            amount: asked,
            value: l.qty,
        }],
        (LineStatus::Passed, _) => {
            let accepted = || Some(reason(Reason::Accepted, l.decision.as_deref()));
            let mut out = vec![Adjudication {
                category: stage(ClaimStatus::Entered),
                reason: accepted(),
                amount: asked,
                value: l.qty,
            }];
            if c.status != ClaimStatus::Entered && c.rejection_reason.is_some() {
                out.push(Adjudication {
                    category: stage(ClaimStatus::Checked),
                    reason: accepted(),
                    amount: Money::of(l.price_adjusted.unwrap_or(l.price_asked), currency),
                    value: l.qty_approved.filter(|q| *q > 0).unwrap_or(l.qty),
                });
            }
            if let Some(v) = l.valuated {
                out.push(Adjudication {
                    category: stage(ClaimStatus::Valuated),
                    reason: accepted(),
                    amount: Money::of(v, currency),
                    value: l.qty_approved.filter(|q| *q > 0).unwrap_or(l.qty),
                });
            }
            out
        }
    }
}

pub fn response(c: &Claim, config: &Config) -> ClaimResponse {
    let currency = config.currency.as_str();
    let lines = c
        .items
        .iter()
        .map(|l| (l, "Medication"))
        .chain(c.services.iter().map(|l| (l, "ActivityDefinition")));
    let item = lines
        .enumerate()
        .map(|(i, (l, kind))| ResponseItem {
            extension: vec![Extension::openimis(
                "claim-item-reference",
                ExtensionValue::Reference(Reference::to(kind, l.register_id, Some(l.code.clone()))),
            )],
            item_sequence: i + 1,
            adjudication: adjudications(c, l, currency),
        })
        .collect();
    let mut total = vec![Total {
        category: stage(ClaimStatus::Entered),
        amount: Money::of(c.claimed, currency),
    }];
    if let Some(approved) = c.approved.filter(|_| c.status != ClaimStatus::Entered) {
        total.push(Total {
            category: stage(ClaimStatus::Checked),
            amount: Money::of(approved, currency),
        });
    }
    if let Some(valuated) = c.valuated {
        total.push(Total {
            category: stage(ClaimStatus::Valuated),
            amount: Money::of(valuated, currency),
        });
    }
    ClaimResponse {
        id: c.id,
        meta: Meta::versioned(c.version, c.updated_at),
        identifier: vec![Identifier::uuid(c.id), Identifier::code(&c.code)],
        status: "active",
        kind: CodeableConcept::of(Coding::new(
            codes::code_system("claim-visit-type"),
            c.visit_type.code(),
        )),
        usage: "claim",
        patient: Reference::to("Patient", c.insuree_id, Some(c.chfid.clone())),
        created: c.updated_at.date().to_string(),
        insurer: serde_json::json!({
            "reference": format!("Organization/{}", crate::organization::INSURER),
            "type": "Organization",
        }),
        requestor: c.admin_id.map(|a| Reference::to("Practitioner", a, None)),
        request: Reference::to("Claim", c.id, Some(c.code.clone())),
        outcome: match c.status {
            ClaimStatus::Entered => "queued",
            ClaimStatus::Checked | ClaimStatus::Processed => "partial",
            ClaimStatus::Rejected | ClaimStatus::Valuated => "complete",
        },
        disposition: c.decision.clone(),
        item,
        total,
    }
}

// ---------------------------------------------------------------- review

/// `PUT ClaimResponse/{id}`: a medical officer's review of a checked claim, as openIMIS's
/// ClaimResponse update carries it. Each `item` (by `itemSequence`, items first then services,
/// as the response numbers them) may hold an adjudication of category 1 (reject the line) or 4
/// (checked: `value` the approved quantity, `amount` the approved unit price); the change's
/// justification is the adjudication's `reason.text`. At `meta.versionId` (another version is a
/// 409), else the current one.
pub async fn review(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Fhir<ClaimResponse>> {
    let body = resource(&body, "ClaimResponse")?;
    let current = claim::service::get_claim(&state.db, &actor, id.trim()).await?;
    let lines: Vec<(bool, &ClaimLine)> = current
        .items
        .iter()
        .map(|l| (true, l))
        .chain(current.services.iter().map(|l| (false, l)))
        .collect();
    let version = match text(&body, "/meta/versionId") {
        Some(v) => v.parse().map_err(|_| {
            bad(
                "ClaimResponse.meta.versionId",
                format!("\"{v}\" is not a version"),
            )
        })?,
        None => current.version,
    };
    let mut input = claim::model::ReviewInput {
        items: Vec::new(),
        services: Vec::new(),
        adjustment: text(&body, "/processNote/0/text").map(str::to_string),
        version: Some(version),
    };
    for (i, item) in body
        .get("item")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let element = |e: &str| format!("ClaimResponse.item[{i}].{e}");
        let sequence = item
            .get("itemSequence")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(&element("itemSequence"), "the item's sequence is required"))?;
        let (is_item, line) = *lines
            .get((sequence as usize).wrapping_sub(1))
            .ok_or_else(|| {
                bad(
                    &element("itemSequence"),
                    format!("the claim has no item {sequence}"),
                )
            })?;
        let mut review = claim::model::LineReviewInput {
            id: line.id,
            reject: false,
            qty_approved: None,
            price_approved: None,
            justification: None,
        };
        let mut changed = false;
        for (j, a) in item
            .get("adjudication")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = |e: &str| element(&format!("adjudication[{j}].{e}"));
            match text(a, "/category/coding/0/code") {
                Some("1") => {
                    review.reject = true;
                    changed = true;
                }
                Some("4") => {
                    if let Some(q) = a.get("value") {
                        let q = q
                            .as_f64()
                            .filter(|q| q.fract() == 0.0 && *q >= 0.0)
                            .ok_or_else(|| {
                                bad(&at("value"), "the approved quantity is a whole number")
                            })?;
                        review.qty_approved = Some(q as i64);
                        changed = true;
                    }
                    if let Some(price) = money(a, "/amount/value", &at("amount"))? {
                        review.price_approved = Some(price);
                        changed = true;
                    }
                }
                // The stages the claim went through are not the reviewer's to change.
                _ => continue,
            }
            if let Some(why) = text(a, "/reason/text") {
                review.justification = Some(why.to_string());
            }
        }
        if !changed {
            continue;
        }
        if is_item {
            input.items.push(review);
        } else {
            input.services.push(review);
        }
    }
    let id = current.id.to_string();
    let reviewed = claim::service::review_claim(&state.db, &actor, &id, input).await?;
    Ok(Fhir(response(&reviewed, &config)))
}

// ---------------------------------------------------------------- the Claim as stored

#[derive(Debug, Serialize)]
#[serde(tag = "resourceType", rename = "Claim")]
pub struct ClaimResource {
    pub id: Uuid,
    pub meta: Meta,
    /// With `?contained=true`: the resources it names ([`crate::contained::inline`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contained: Vec<Value>,
    pub identifier: Vec<Identifier>,
    pub status: &'static str,
    #[serde(rename = "type")]
    pub kind: CodeableConcept,
    #[serde(rename = "use")]
    pub usage: &'static str,
    pub patient: Reference,
    #[serde(rename = "billablePeriod")]
    pub billable_period: Value,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterer: Option<Reference>,
    pub insurer: Value,
    pub provider: Reference,
    pub priority: CodeableConcept,
    #[serde(rename = "supportingInfo", skip_serializing_if = "Vec::is_empty")]
    pub supporting_info: Vec<Value>,
    pub diagnosis: Vec<Value>,
    pub insurance: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<Value>,
    pub total: Money,
}

/// The Claim resource of a stored claim; `coverage` is the policy it is made under.
pub fn claim_resource(c: &Claim, coverage: Option<Uuid>, config: &Config) -> ClaimResource {
    let currency = config.currency.as_str();
    let diagnosis = std::iter::once(&c.icd)
        .chain(&c.secondary_icd)
        .enumerate()
        .map(|(i, code)| {
            serde_json::json!({
                "sequence": i + 1,
                "diagnosisCodeableConcept": {"coding": [{"system": codes::code_system("diagnosis-ICD10-level1"), "code": code}]},
            })
        })
        .collect();
    let mut supporting_info = Vec::new();
    for (code, value) in [
        ("guarantee", &c.guarantee_no),
        ("explanation", &c.explanation),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            supporting_info.push(serde_json::json!({
                "sequence": supporting_info.len() + 1,
                "category": {"coding": [{"system": codes::code_system("claim-supporting-info-category"), "code": code}], "text": code},
                "valueString": v,
            }));
        }
    }
    let lines = c
        .items
        .iter()
        .map(|l| (l, "item", "Medication", "medical-item"))
        .chain(
            c.services
                .iter()
                .map(|l| (l, "service", "ActivityDefinition", "medical-service")),
        );
    let item = lines
        .enumerate()
        .map(|(i, (l, category, kind, system))| {
            serde_json::json!({
                "extension": [Extension::openimis(
                    "claim-item-reference",
                    ExtensionValue::Reference(Reference::to(kind, l.register_id, Some(l.code.clone()))),
                )],
                "sequence": i + 1,
                "category": {"coding": [{"system": codes::code_system("claim-item-category"), "code": category}], "text": category},
                "productOrService": {"coding": [{"system": codes::code_system(system), "code": l.code}], "text": l.code},
                "quantity": {"value": l.qty},
                "unitPrice": Money::of(l.price_asked, currency),
            })
        })
        .collect();
    let insurance = serde_json::json!({
        "sequence": 1,
        "focal": true,
        "coverage": match coverage {
            Some(p) => serde_json::to_value(Reference::to("Coverage", p, None)).unwrap_or_default(),
            None => serde_json::json!({"display": "no policy of the insuree was found"}),
        },
    });
    ClaimResource {
        id: c.id,
        meta: Meta::updated(c.updated_at),
        contained: Vec::new(),
        identifier: vec![Identifier::uuid(c.id), Identifier::code(&c.code)],
        status: "active",
        kind: CodeableConcept::of(Coding::new(
            codes::code_system("claim-visit-type"),
            c.visit_type.code(),
        )),
        usage: "claim",
        patient: Reference::to("Patient", c.insuree_id, Some(c.chfid.clone())),
        billable_period: serde_json::json!({
            "start": c.date_from.to_string(),
            "end": c.date_to.unwrap_or(c.date_from).to_string(),
        }),
        created: c.date_claimed.to_string(),
        enterer: c.admin_id.map(|a| Reference::to("Practitioner", a, None)),
        insurer: serde_json::json!({
            "reference": format!("Organization/{}", crate::organization::INSURER),
            "type": "Organization",
        }),
        provider: Reference::to("Organization", c.health_facility_id, None),
        priority: CodeableConcept::of(Coding::new(
            "http://terminology.hl7.org/CodeSystem/processpriority",
            "normal",
        )),
        supporting_info,
        diagnosis,
        insurance: vec![insurance],
        item,
        total: Money::of(c.claimed, currency),
    }
}

/// The policy a claim is made under: the one that paid a line, else the insuree's latest.
async fn coverage_of(state: &AppState, actor: &Actor, c: &Claim) -> Result<Option<Uuid>> {
    if let Some(p) = c.items.iter().chain(&c.services).find_map(|l| l.policy_id) {
        return Ok(Some(p));
    }
    let filter = policy::store::PolicyFilter {
        insuree_id: Some(c.insuree_id),
        ..Default::default()
    };
    let page = kernel::PageParams::new(Some(1), Some(100));
    match policy::service::list_policies(&state.db, actor, filter, page).await {
        Ok(found) => Ok(found
            .items
            .iter()
            .max_by_key(|p| (p.start_date, p.updated_at))
            .map(|p| p.id)),
        // Without the right to read policies, the claim says no more than that.
        Err(Error::Forbidden { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `?contained=true`: inline what the claim names.
fn wants_contained(params: &crate::search::Params) -> Result<bool> {
    match params.get("contained") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::invalid(
            "contained",
            "invalid",
            format!("contained is true or false, not {other}"),
        )),
    }
}

/// A stored claim as its Claim resource, with what it names inlined when asked.
async fn stored(
    state: &AppState,
    actor: &Actor,
    config: &Config,
    c: &Claim,
    contained: bool,
) -> Result<ClaimResource> {
    let coverage = coverage_of(state, actor, c).await?;
    let mut resource = claim_resource(c, coverage, config);
    if contained {
        crate::contained::inline(state, actor, config, c, &mut resource).await?;
    }
    Ok(resource)
}

pub async fn read_claim(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Fhir<ClaimResource>> {
    let contained = wants_contained(&crate::search::Params(pairs))?;
    let c = claim::service::get_claim(&state.db, &actor, id.trim()).await?;
    Ok(Fhir(stored(&state, &actor, &config, &c, contained).await?))
}

/// The claims a search asks for (`identifier`, `patient`, `refDate`, `_lastUpdated`), read whole.
async fn found_claims(
    state: &AppState,
    actor: &Actor,
    hooks: registry::service::PolicyHooks,
    params: &crate::search::Params,
    page: kernel::PageParams,
    now: OffsetDateTime,
) -> Result<(i64, Vec<Claim>)> {
    let mut filter = claim::store::ClaimFilter {
        updated: params.last_updated(now)?,
        date_from: match params.get("refDate") {
            Some(d) => day(&Value::String(d.to_string()), "", "refDate")?,
            None => None,
        },
        ..Default::default()
    };
    if let Some(patient) = params.get("patient") {
        let patient = patient.rsplit('/').next().unwrap_or(patient);
        match registry::service::get_insuree(&state.db, actor, hooks, patient).await {
            Ok(d) => filter.insuree_id = Some(d.insuree.id),
            Err(Error::NotFound { .. }) => return Ok((0, Vec::new())),
            Err(e) => return Err(e),
        }
    }
    // A claim code is unique per facility only: a code searches, a UUID reads.
    if let Some(id) = params
        .get("identifier")
        .filter(|i| Uuid::parse_str(i).is_ok())
    {
        let found = claim::service::get_claim(&state.db, actor, id).await;
        return crate::search::one_or_none(found, |c| {
            filter.updated.iter().all(|r| r.contains(c.updated_at))
                && filter.insuree_id.is_none_or(|i| i == c.insuree_id)
                && filter.date_from.is_none_or(|d| c.date_from >= d)
        });
    }
    filter.code = params.get("identifier").map(str::to_string);
    let listed = claim::service::list_claims(&state.db, actor, filter, page).await?;
    let mut claims = Vec::with_capacity(listed.items.len());
    for summary in &listed.items {
        claims.push(claim::service::get_claim(&state.db, actor, &summary.id.to_string()).await?);
    }
    Ok((listed.total, claims))
}

pub async fn search_claims(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    axum::Extension(hooks): axum::Extension<registry::service::PolicyHooks>,
    actor: Actor,
    headers: axum::http::HeaderMap,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<ClaimResource>>> {
    let params = crate::search::Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let contained = wants_contained(&params)?;
    let (total, claims) = found_claims(&state, &actor, hooks, &params, page, now).await?;
    let mut items = Vec::with_capacity(claims.len());
    for c in &claims {
        let resource = stored(&state, &actor, &config, c, contained).await?;
        items.push((c.id.to_string(), resource));
    }
    let url = crate::search::url_of(&headers, "Claim");
    Ok(Fhir(crate::search::bundle(
        &url, &params, page, total, items, now,
    )))
}

pub async fn search_responses(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    axum::Extension(hooks): axum::Extension<registry::service::PolicyHooks>,
    actor: Actor,
    headers: axum::http::HeaderMap,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Fhir<crate::search::Bundle<ClaimResponse>>> {
    let params = crate::search::Params(pairs);
    let now = OffsetDateTime::now_utc();
    let page = params.page()?;
    let (total, claims) = found_claims(&state, &actor, hooks, &params, page, now).await?;
    let items = claims
        .iter()
        .map(|c| (c.id.to_string(), response(c, &config)))
        .collect();
    let url = crate::search::url_of(&headers, "ClaimResponse");
    Ok(Fhir(crate::search::bundle(
        &url, &params, page, total, items, now,
    )))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON at all.
    pub(crate) fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            "[a-zA-Z0-9/ .:-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("resourceType".to_string()),
                        Just("identifier".to_string()),
                        Just("billablePeriod".to_string()),
                        Just("start".to_string()),
                        Just("item".to_string()),
                        Just("category".to_string()),
                        Just("text".to_string()),
                        Just("quantity".to_string()),
                        Just("value".to_string()),
                        Just("unitPrice".to_string()),
                        Just("diagnosis".to_string()),
                        Just("patient".to_string()),
                        Just("supportingInfo".to_string()),
                        Just("valueAttachment".to_string()),
                        Just("data".to_string()),
                        Just("name".to_string()),
                        Just("family".to_string()),
                        Just("given".to_string()),
                        Just("birthDate".to_string()),
                        Just("gender".to_string()),
                        Just("extension".to_string()),
                        Just("url".to_string()),
                        Just("valueBoolean".to_string()),
                        Just("meta".to_string()),
                        Just("versionId".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..5,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever a client sends, reading it answers a claim or a 4xx naming what is wrong:
        /// never a panic (a 500).
        #[test]
        fn any_payload_is_a_claim_or_a_client_error(mut body in any_json()) {
            if let Value::Object(map) = &mut body {
                map.insert("resourceType".into(), serde_json::json!("Claim"));
            }
            let _ = documents(&body);
            match claim_input(&body, Uuid::nil(), None) {
                Ok(_) => {}
                Err(e) => prop_assert!(e.status().is_client_error(), "{e:?}"),
            }
        }
    }

    #[test]
    fn a_minimal_claim_reads_with_its_lines() {
        let body = serde_json::json!({
            "resourceType": "Claim",
            "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "C1"}],
            "billablePeriod": {"start": "2026-12-01"},
            "patient": {"reference": "Patient/070707070"},
            "diagnosis": [{"sequence": 2, "diagnosisCodeableConcept": {"coding": [{"code": "B50"}]}},
                          {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"code": "A00"}]}}],
            "item": [
                {"category": {"text": "item"}, "productOrService": {"text": "0001"}, "quantity": {"value": 2}, "unitPrice": {"value": 12.5}},
                {"category": {"coding": [{"code": "service"}]}, "productOrService": {"coding": [{"code": "A1"}]}},
            ],
        });
        let c = claim_input(&body, Uuid::nil(), None).unwrap();
        assert_eq!((c.code.as_str(), c.insuree.as_str()), ("C1", "070707070"));
        assert_eq!(
            (c.icd.as_str(), c.secondary_icd.as_slice()),
            ("A00", &["B50".to_string()][..])
        );
        assert_eq!(c.items[0].qty, 2);
        assert_eq!(c.items[0].price_asked, Some(1250));
        assert_eq!(c.services[0].code, "A1");
        assert_eq!(c.services[0].qty, 1);
    }

    /// openIMIS's hash (hex SHA-1 of the base64 text) and FHIR's (base64 SHA-1 of the bytes)
    /// both pass; anything else, or the hash of other data, does not.
    #[test]
    fn an_attachment_hash_is_checked_in_either_form() {
        let data = "aGVsbG8=";
        let bytes = b"hello";
        // sha1("aGVsbG8=") and base64(sha1("hello")), computed with Python's hashlib.
        let openimis = "70db2df97b3e88c66c50ef9df98dc51de491cc7d";
        let fhir = "qvTGHdzF6KLavt4PO0gs2a6pQ00=";
        assert!(hash_agrees(openimis, data, bytes));
        assert!(hash_agrees(&openimis.to_uppercase(), data, bytes));
        assert!(hash_agrees(fhir, data, bytes));
        assert!(!hash_agrees(fhir, data, b"hello!"));
        assert!(!hash_agrees(openimis, "other", bytes));
        assert!(!hash_agrees("", data, bytes));
    }
}
