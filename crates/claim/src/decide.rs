//! From a stored claim to the facts the rules judge, and from their decision back into the
//! claim. Pure, no I/O: the service feeds it what it read from the database, the demo generator
//! what it made in memory, so both write claims the same way.

use crate::model::*;
use crate::rules::{self, ClaimOutcome, Cover, Decision, Facility, Line};
use crate::service::Config;
use crate::store::{ClaimFacility, Priced};
use policy::model::{InsureePolicy, Policy};
use policy::rules::PolicyStatus;
use product::model::{LimitationType, PriceOrigin, ProductInput};
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The claim's lines as the rules see them, items first, each with what the registers and the
/// facility's price list say of it (`priced`, by kind and id).
pub fn rule_lines(claim: &Claim, priced: &HashMap<(LineKind, Uuid), Priced>) -> Vec<Line> {
    claim
        .items
        .iter()
        .map(|l| (LineKind::Item, l))
        .chain(claim.services.iter().map(|l| (LineKind::Service, l)))
        .map(|(kind, l)| {
            let p = priced.get(&(kind, l.register_id));
            Line {
                kind,
                register_id: l.register_id,
                code: l.code.clone(),
                name: l.name.clone(),
                current: p.is_some_and(|p| p.current),
                qty: l.qty,
                price_asked: l.price_asked,
                price_list: p.and_then(|p| p.list_price),
                care_type: p.map(Priced::care_type).unwrap_or(rules::CareType::Both),
                patient_category: p.map(|p| p.patient_category).unwrap_or(0),
                frequency: p.and_then(|p| p.frequency),
                service_category: p
                    .and_then(|p| p.category.as_deref())
                    .and_then(rules::Category::from_code),
            }
        })
        .collect()
}

pub fn rule_facility(f: &ClaimFacility) -> Facility {
    Facility {
        code: f.code.clone(),
        name: f.name.clone(),
        care_type: f.care_type(),
        level: f.level(),
    }
}

/// Does a window count for adjudication: under an active or expired policy that took effect,
/// and taken effect itself.
pub fn counts(policy: &Policy, window: &InsureePolicy) -> bool {
    policy.effective_date.is_some()
        && window.effective_date.is_some()
        && matches!(policy.status, PolicyStatus::Active | PolicyStatus::Expired)
}

/// The insuree's window under a policy, as the rules see it, when it [`counts`].
pub fn cover<'a>(
    policy: &Policy,
    window: &InsureePolicy,
    product: &'a ProductInput,
) -> Option<Cover<'a>> {
    let (Some(policy_effective), Some(insuree_effective)) =
        (policy.effective_date, window.effective_date)
    else {
        return None;
    };
    if !counts(policy, window) {
        return None;
    }
    Some(Cover {
        policy_id: policy.id,
        product_id: policy.product_id,
        product,
        stage: policy.stage,
        policy_effective,
        policy_expiry: policy.expiry_date,
        insuree_effective,
        insuree_expiry: window.expiry_date,
    })
}

/// Write the adjudication into the claim: each line's decision, the claim's status (checked or
/// rejected), its risk score and whether it goes to review (a flag, or a score at the
/// threshold), the sentence that explains it, and its totals.
pub fn apply_decision(
    claim: &mut Claim,
    decision: &Decision,
    flags: Vec<Flag>,
    config: &Config,
    now: OffsetDateTime,
) {
    let mut decisions = decision.lines.iter();
    for line in claim.items.iter_mut().chain(claim.services.iter_mut()) {
        let Some(d) = decisions.next() else { break };
        line.status = if d.accepted() {
            LineStatus::Passed
        } else {
            LineStatus::Rejected
        };
        line.rejection_reason = Some(d.reason);
        line.rule = Some(d.rule.to_string());
        line.decision = Some(d.explanation.clone());
        line.compared = Some(d.compared.clone());
        line.qty_approved = Some(d.qty_approved);
        line.price_adjusted = d.price_adjusted;
        line.product_id = d.assignment.map(|a| a.product_id);
        line.policy_id = d.assignment.map(|a| a.policy_id);
        line.price_origin = d.assignment.map(|a| a.price_origin);
        line.limitation = d.assignment.map(|a| a.limitation);
        line.limitation_value = d.assignment.map(|a| a.limitation_value);
    }
    let checked = decision.outcome == ClaimOutcome::Checked;
    claim.status = if checked {
        ClaimStatus::Checked
    } else {
        ClaimStatus::Rejected
    };
    let accepted = decision.lines.iter().filter(|l| l.accepted()).count();
    let risk = rules::review::risk_score(
        &rules::review::RiskSigns {
            suspected_duplicate: flags.iter().any(|f| f.code == "suspected_duplicate"),
            unknown_diagnosis: flags.iter().any(|f| f.code == "unknown_diagnosis"),
            claimed: decision.claimed,
            approved: decision.approved,
            lines_rejected: decision.lines.len() - accepted,
            lines_accepted: accepted,
            multi_day: claim.date_to.is_some_and(|to| to != claim.date_from),
            visit_type: Some(claim.visit_type),
        },
        config.review_amount,
    );
    let selected = checked && (!flags.is_empty() || risk >= config.review_risk_threshold);
    claim.risk = checked.then_some(risk);
    claim.review_status = match (checked, selected) {
        (true, true) => ReviewStatus::Selected,
        (true, false) => ReviewStatus::NotSelected,
        (false, _) => ReviewStatus::Idle,
    };
    if selected {
        claim.review_selected_at = Some(now);
    }
    claim.rejection_reason = Some(decision.rejection_reason);
    claim.decision = Some(match (selected, flags.is_empty()) {
        (true, false) => format!(
            "{} Selected for review: {}",
            decision.explanation,
            flags
                .iter()
                .map(|f| f.detail.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        (true, true) => format!(
            "{} Selected for review: risk score {risk}.",
            decision.explanation
        ),
        _ => decision.explanation.clone(),
    });
    claim.category = Some(decision.category);
    claim.flags = flags;
    claim.claimed = decision.claimed;
    claim.approved = Some(decision.approved);
    claim.submitted_at = Some(now);
    claim.version += 1;
    claim.updated_at = now;
}

/// The accepted lines of a claim by the policy that pays them: (policy, product, (kind, index)
/// of each line), items first.
pub type PolicyLines = (Uuid, Uuid, Vec<(LineKind, usize)>);

pub fn policy_lines(claim: &Claim) -> Vec<PolicyLines> {
    let mut by_policy: Vec<PolicyLines> = Vec::new();
    for (kind, lines) in [
        (LineKind::Item, &claim.items),
        (LineKind::Service, &claim.services),
    ] {
        for (i, l) in lines.iter().enumerate() {
            let (LineStatus::Passed, Some(policy), Some(product)) =
                (l.status, l.policy_id, l.product_id)
            else {
                continue;
            };
            match by_policy.iter_mut().find(|(p, _, _)| *p == policy) {
                Some((_, _, at)) => at.push((kind, i)),
                None => by_policy.push((policy, product, vec![(kind, i)])),
            }
        }
    }
    by_policy
}

fn line(claim: &Claim, kind: LineKind, i: usize) -> &ClaimLine {
    match kind {
        LineKind::Item => &claim.items[i],
        LineKind::Service => &claim.services[i],
    }
}

/// Is the patient an adult (18 or older) on the claim's target date?
pub fn adult(claim: &Claim, dob: Date) -> bool {
    policy::rules::add_months(dob, 18 * 12) <= claim.date_to.unwrap_or(claim.date_from)
}

/// How valuation sees the claim under a policy covering `members` people.
pub fn treatment(
    claim: &Claim,
    level: rules::FacilityLevel,
    members: i64,
) -> rules::valuation::Treatment {
    rules::valuation::Treatment {
        multi_day: claim.date_to.is_some_and(|to| to != claim.date_from),
        facility_level: level,
        category: claim.category.unwrap_or(rules::Category::Visit),
        members,
    }
}

/// Value the lines `at` of the claim that one product pays, against the policy's ledger, and
/// write what each line is worth into it. Answers the ledger row of this claim and policy,
/// the amount valued and whether a line waits for the batch run's relative price.
pub fn value_policy_lines(
    claim: &mut Claim,
    at: &[(LineKind, usize)],
    product: &ProductInput,
    treatment: &rules::valuation::Treatment,
    ledger: &rules::valuation::Ledger,
    adult: bool,
) -> (rules::valuation::Used, i64, bool) {
    let pay: Vec<rules::valuation::PayLine> = at
        .iter()
        .map(|&(kind, i)| {
            let l = line(claim, kind, i);
            let terms = rules::choice::terms(product, kind, l.register_id, claim.visit_type, adult);
            rules::valuation::PayLine {
                qty: l.qty_approved.unwrap_or(l.qty),
                unit: l
                    .price_approved
                    .or(l.price_adjusted)
                    .unwrap_or(l.price_asked),
                limitation: l.limitation.unwrap_or(LimitationType::CoInsurance),
                limitation_value: l.limitation_value.unwrap_or(100),
                ceiling_exclusion: terms.and_then(|t| t.ceiling_exclusion),
            }
        })
        .collect();
    let valuation = rules::valuation::value(product, treatment, ledger, &pay);
    let (mut total, mut relative) = (0i64, false);
    for (&(kind, i), v) in at.iter().zip(&valuation.lines) {
        let l = match kind {
            LineKind::Item => &mut claim.items[i],
            LineKind::Service => &mut claim.services[i],
        };
        l.deductible = Some(v.deductible);
        l.exceed_ceiling = Some(v.exceed_ceiling);
        l.exceed_ceiling_category = Some(v.exceed_ceiling_category);
        l.valuated = Some(v.valuated);
        let at_relative_price = l.price_origin == Some(PriceOrigin::Relative);
        l.remunerated = (!at_relative_price).then_some(v.valuated);
        relative |= at_relative_price;
        total = total.saturating_add(v.valuated);
    }
    (valuation.used, total, relative)
}

/// The claim once every policy's lines are valued: processed while a line waits for the batch
/// run's relative price, else valuated; review and feedback still pending are bypassed.
pub fn finish_valuation(claim: &mut Claim, total: i64, relative: bool, now: OffsetDateTime) {
    claim.valuated = Some(total);
    let money = kernel::money::format_money;
    if relative {
        claim.status = ClaimStatus::Processed;
        claim.remunerated = None;
        claim.decision = Some(format!(
            "Processed: {} valued; lines at relative prices wait for the batch run.",
            money(total)
        ));
    } else {
        claim.status = ClaimStatus::Valuated;
        claim.remunerated = Some(total);
        claim.decision = Some(format!(
            "Valuated: the scheme pays {} of {} approved.",
            money(total),
            money(claim.approved.unwrap_or(0))
        ));
    }
    if claim.review_status == ReviewStatus::Selected {
        claim.review_status = ReviewStatus::Bypassed;
    }
    if claim.feedback_status == ReviewStatus::Selected {
        claim.feedback_status = ReviewStatus::Bypassed;
    }
    claim.processed_at = Some(now);
    claim.version += 1;
    claim.updated_at = now;
}
