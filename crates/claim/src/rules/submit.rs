//! Adjudication at submission (spec §7.6): every check of openIMIS in its order, the product
//! that pays each line (§7.7), and for each line a reason code, a sentence a claim
//! administrator understands and the numbers compared.

use super::choice::{Terms, choose, terms};
use super::{Assignment, Category, ClaimFacts, Cover, Line, LineKind, Reason, claim_category};
use kernel::money::format_money as money;
use location::model::CareType;
use policy::rules::{Stage, add_months};
use product::model::PriceOrigin;
use serde::Serialize;
use serde_json::{Value, json};
use time::Duration;

kernel::code_enum! {
    /// The status a submission leaves a claim in.
    ClaimOutcome { Checked = "checked", Rejected = "rejected" }
}

/// The decision on one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineDecision {
    /// openIMIS's reason code: 0 accepted.
    pub reason: Reason,
    /// The rule that decided, by name.
    pub rule: &'static str,
    /// Why, in a sentence.
    pub explanation: String,
    /// The figures the rule compared.
    pub compared: Value,
    /// 0 when rejected; can be below the quantity provided when a product's limit is reached.
    pub qty_approved: i64,
    /// The approved price per unit (minor units): the price-list price when more was asked
    /// (price origin P or R), the asked price under origin O. None when rejected.
    pub price_adjusted: Option<i64>,
    /// The product and policy that pay the line; none when rejected.
    pub assignment: Option<Assignment>,
}

impl LineDecision {
    fn rejected(fault: Fault) -> Self {
        LineDecision {
            reason: fault.reason,
            rule: fault.reason.rule(),
            explanation: fault.explanation,
            compared: fault.compared,
            qty_approved: 0,
            price_adjusted: None,
            assignment: None,
        }
    }

    pub fn accepted(&self) -> bool {
        self.reason.accepted()
    }

    /// What the line is approved for (minor units): 0 when rejected.
    pub fn approved(&self) -> i64 {
        match (self.accepted(), self.price_adjusted) {
            (true, Some(price)) => self.qty_approved.saturating_mul(price),
            _ => 0,
        }
    }
}

/// The decision on a claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: ClaimOutcome,
    /// Claim level: 0 when checked; 9, 7 or 21 when the claim's dates or insuree fail; 1 when
    /// every line was rejected for its own reasons.
    pub rejection_reason: Reason,
    pub explanation: String,
    pub category: Category,
    pub lines: Vec<LineDecision>,
    /// Σ quantity × asked price.
    pub claimed: i64,
    /// Σ over accepted lines of approved quantity × approved price.
    pub approved: i64,
}

/// Why a check failed: the reason, the sentence, the figures.
#[derive(Debug, Clone, PartialEq)]
struct Fault {
    reason: Reason,
    explanation: String,
    compared: Value,
}

fn fault(reason: Reason, explanation: String, compared: Value) -> Fault {
    Fault {
        reason,
        explanation,
        compared,
    }
}

/// "Item 0231 (Paracetamol)".
fn what(line: &Line) -> String {
    format!("{} {} ({})", line.kind.word(), line.code, line.name)
}

/// Adjudicate a claim at submission: the dates, the insuree and their coverage, then each line
/// through the checks of §7.6 in openIMIS's order (items: register, price list, care type,
/// patient category, frequency, product; services: the same with frequency before patient
/// category, and the category limits with the product). A line passes when one covering product
/// passes it; otherwise it keeps the first fault found. A category limit reached rejects the
/// whole claim with that reason. The claim is checked when any line passes.
pub fn submit(c: &ClaimFacts) -> Decision {
    let claimed = c.lines.iter().fold(0i64, |sum, l| {
        sum.saturating_add(l.qty.saturating_mul(l.price_asked))
    });
    let category = claim_category(c.lines, c.multi_day());
    let target = c.target();
    let header = |reason: Reason, line_reason: Reason, explanation: String, compared: Value| {
        let line = fault(line_reason, explanation.clone(), compared);
        Decision {
            outcome: ClaimOutcome::Rejected,
            rejection_reason: reason,
            explanation,
            category,
            lines: c
                .lines
                .iter()
                .map(|_| LineDecision::rejected(line.clone()))
                .collect(),
            claimed,
            approved: 0,
        }
    };
    // A. The dates.
    if c.date_claimed < c.date_from {
        return header(
            Reason::TargetDate,
            Reason::TargetDate,
            format!(
                "The claim is dated {}, before the visit on {}.",
                c.date_claimed, c.date_from
            ),
            json!({"date_claimed": c.date_claimed.to_string(), "date_from": c.date_from.to_string()}),
        );
    }
    // B. The insuree and their coverage over the whole stay.
    if c.patient.deleted {
        return header(
            Reason::InvalidInsuree,
            Reason::InvalidInsuree,
            format!("Insuree {} has been deleted.", c.patient.chfid),
            json!({"chfid": c.patient.chfid}),
        );
    }
    let stay_covered = c
        .covers
        .iter()
        .any(|w| w.insuree_effective <= c.date_from && w.insuree_expiry >= target);
    if !stay_covered {
        let stay = if target == c.date_from {
            format!("on {}", c.date_from)
        } else {
            format!("from {} to {target}", c.date_from)
        };
        return header(
            Reason::NoCoverage,
            Reason::InvalidInsuree,
            format!(
                "Insuree {} has no active policy covering them {stay}.",
                c.patient.chfid
            ),
            json!({"chfid": c.patient.chfid, "date_from": c.date_from.to_string(), "date_to": target.to_string()}),
        );
    }
    // C. Each line.
    let mut lines: Vec<LineDecision> = c.lines.iter().map(|l| judge_line(c, l, category)).collect();
    // D. A category limit reached rejects every line with its reason.
    if let Some(limit) = lines.iter().find(|l| is_category_limit(l.reason)).cloned() {
        for line in &mut lines {
            *line = LineDecision {
                qty_approved: 0,
                price_adjusted: None,
                assignment: None,
                ..limit.clone()
            };
        }
    }
    let passed = lines.iter().filter(|l| l.accepted()).count();
    let approved = lines
        .iter()
        .fold(0i64, |sum, l| sum.saturating_add(l.approved()));
    // E. Checked when a line passed.
    let (outcome, rejection_reason, explanation) = if passed == 0 {
        (
            ClaimOutcome::Rejected,
            Reason::NotInRegisters,
            "Every line of the claim was rejected.".to_string(),
        )
    } else {
        (
            ClaimOutcome::Checked,
            Reason::Accepted,
            format!(
                "{passed} of {} lines accepted; {} approved of {} claimed.",
                lines.len(),
                money(approved),
                money(claimed)
            ),
        )
    };
    Decision {
        outcome,
        rejection_reason,
        explanation,
        category,
        lines,
        claimed,
        approved,
    }
}

fn is_category_limit(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::MaxHospitalizations
            | Reason::MaxVisits
            | Reason::MaxConsultations
            | Reason::MaxSurgeries
            | Reason::MaxDeliveries
            | Reason::MaxAntenatal
    )
}

/// The checks of one line, in openIMIS's order, then the product step.
fn judge_line(c: &ClaimFacts, line: &Line, category: Category) -> LineDecision {
    let first = [register, price_list, care_type];
    let (second, third): (Check, Check) = match line.kind {
        LineKind::Item => (patient_category, frequency),
        LineKind::Service => (frequency, patient_category),
    };
    for check in first.into_iter().chain([second, third]) {
        if let Some(f) = check(c, line) {
            return LineDecision::rejected(f);
        }
    }
    match products(c, line, category) {
        Ok(decision) => decision,
        Err(f) => LineDecision::rejected(f),
    }
}

type Check = fn(&ClaimFacts, &Line) -> Option<Fault>;

/// 1: the item or service is still in the register.
fn register(_: &ClaimFacts, line: &Line) -> Option<Fault> {
    (!line.current).then(|| {
        fault(
            Reason::NotInRegisters,
            format!("{} is no longer in the register.", what(line)),
            json!({"code": line.code}),
        )
    })
}

/// 2: the facility's price list holds it.
fn price_list(c: &ClaimFacts, line: &Line) -> Option<Fault> {
    line.price_list.is_none().then(|| {
        fault(
            Reason::NotInPriceList,
            format!(
                "{} is not in the price list of health facility {} ({}).",
                what(line),
                c.facility.code,
                c.facility.name
            ),
            json!({"code": line.code, "health_facility": c.facility.code}),
        )
    })
}

/// 10: in- and out-patient care where the facility gives it (openIMIS's current rule: an
/// out-patient facility claims no stays and no in-patient lines; an in-patient facility no
/// out-patient lines).
fn care_type(c: &ClaimFacts, line: &Line) -> Option<Fault> {
    let f = c.facility;
    let explanation = match (f.care_type, line.care_type) {
        (CareType::OutPatient, _) if c.multi_day() => format!(
            "Health facility {} treats out-patients only, but the claim is a stay from {} to {}.",
            f.code,
            c.date_from,
            c.target()
        ),
        (CareType::OutPatient, CareType::InPatient) => format!(
            "{} is for in-patients, but health facility {} treats out-patients only.",
            what(line),
            f.code
        ),
        (CareType::InPatient, CareType::OutPatient) => format!(
            "{} is for out-patients, but health facility {} treats in-patients only.",
            what(line),
            f.code
        ),
        _ => return None,
    };
    let compared = json!({
        "line_care_type": line.care_type.code(),
        "health_facility_care_type": f.care_type.code(),
        "multi_day": c.multi_day(),
    });
    Some(fault(Reason::CareType, explanation, compared))
}

const MAN: i64 = 1;
const WOMAN: i64 = 2;
const ADULT: i64 = 4;
const CHILD: i64 = 8;

/// 4: the item or service is for the patient's sex and age (bits 1 man, 2 woman, 4 adult,
/// 8 child; 0 everyone).
fn patient_category(c: &ClaimFacts, line: &Line) -> Option<Fault> {
    let allowed = line.patient_category;
    let adult = c.adult();
    let mask = (if c.patient.female { WOMAN } else { MAN }) | (if adult { ADULT } else { CHILD });
    if allowed == 0 || allowed & mask == mask {
        return None;
    }
    let names = [
        (MAN, "men"),
        (WOMAN, "women"),
        (ADULT, "adults"),
        (CHILD, "children"),
    ];
    let who: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| allowed & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    let patient = format!(
        "{} {}",
        if c.patient.female { "a woman" } else { "a man" },
        if adult { "(adult)" } else { "(child)" }
    );
    Some(fault(
        Reason::PatientCategory,
        format!(
            "{} is for {} only; the patient is {patient}.",
            what(line),
            who.join(" and ")
        ),
        json!({"patient_category": allowed, "patient": mask}),
    ))
}

/// 5: at least `frequency` days between two provisions to the same insuree, before or after
/// this one (openIMIS looks only forward from `target - frequency`, so a claim months later
/// would count; the intent is a minimum spacing).
fn frequency(c: &ClaimFacts, line: &Line) -> Option<Fault> {
    let days = line.frequency.filter(|&d| d > 0)?;
    let target = c.target();
    let from = target - Duration::days(days);
    let to = target + Duration::days(days);
    let previous = c
        .history
        .provisions
        .iter()
        .filter(|p| p.kind == line.kind && p.register_id == line.register_id)
        .map(|p| p.date)
        .filter(|&d| from <= d && d <= to)
        .max()?;
    Some(fault(
        Reason::Frequency,
        format!(
            "{} may be given once every {days} days; this insuree received it on {previous}.",
            what(line)
        ),
        json!({"frequency_days": days, "previous": previous.to_string(), "target": target.to_string()}),
    ))
}

/// The claims of the insuree's window counted against a category limit.
fn category_limit(
    c: &ClaimFacts,
    w: &Cover,
    category: Category,
) -> Option<(Reason, &'static str, i64, i64)> {
    let l = &w.product.limits;
    let (reason, noun, max) = match category {
        Category::Hospitalization => (
            Reason::MaxHospitalizations,
            "hospital admissions",
            l.max_no_hospitalization,
        ),
        Category::Visit => (Reason::MaxVisits, "visits", l.max_no_visits),
        Category::Consultation => (
            Reason::MaxConsultations,
            "consultations",
            l.max_no_consultation,
        ),
        Category::Surgery => (Reason::MaxSurgeries, "surgeries", l.max_no_surgery),
        Category::Delivery => (Reason::MaxDeliveries, "deliveries", l.max_no_delivery),
        Category::Antenatal => (
            Reason::MaxAntenatal,
            "antenatal contacts",
            l.max_no_antenatal,
        ),
        Category::Other => return None,
    };
    let max = max?;
    let count = c
        .history
        .claims
        .iter()
        .filter(|p| {
            let same = p.category == Some(category)
                || (category == Category::Visit && p.category.is_none());
            same && w.insuree_effective <= p.date && p.date <= w.insuree_expiry
        })
        .count() as i64;
    (count >= max).then_some((reason, noun, max, count))
}

/// One covering product's verdict on a line: the units it pays, or why it pays nothing.
fn under_product(
    c: &ClaimFacts,
    line: &Line,
    w: &Cover,
    t: &Terms,
    category: Category,
) -> Result<i64, Fault> {
    let target = c.target();
    let product = &w.product.code;
    // 17: the waiting period, for a new policy or a member who joined later.
    if let Some(months) = t.waiting_months
        && (w.stage == Stage::New || w.policy_effective < w.insuree_effective)
    {
        let from = add_months(w.insuree_effective, months);
        if target < from {
            return Err(fault(
                Reason::WaitingPeriod,
                format!(
                    "{} is covered by product {product} from {from}, after a waiting period of {months} months.",
                    what(line)
                ),
                json!({"waiting_months": months, "covered_from": from.to_string(), "target": target.to_string()}),
            ));
        }
    }
    // 16: most units per policy period; the last units left are given (partial acceptance).
    let mut qty = line.qty;
    if let Some(max) = t.max_units {
        let used: i64 = c
            .history
            .provisions
            .iter()
            .filter(|p| {
                p.kind == line.kind
                    && p.register_id == line.register_id
                    && w.insuree_effective <= p.date
                    && p.date <= w.insuree_expiry
            })
            .map(|p| p.qty)
            .sum();
        if used.saturating_add(qty) > max {
            if used >= max {
                return Err(fault(
                    Reason::MaxQuantity,
                    format!(
                        "Product {product} pays for at most {max} of {} per policy period; {used} were already given.",
                        what(line)
                    ),
                    json!({"max_units": max, "used": used, "asked": line.qty}),
                ));
            }
            qty = max - used;
        }
    }
    // 11–15, 19: the category limits, for services.
    if line.kind == LineKind::Service
        && let Some((reason, noun, max, count)) = category_limit(c, w, category)
    {
        return Err(fault(
            reason,
            format!(
                "Product {product} allows {max} {noun} per policy period; insuree {} already had {count}.",
                c.patient.chfid
            ),
            json!({"max": max, "count": count, "category": category.code()}),
        ));
    }
    Ok(qty)
}

/// 3, 17, 16 and the category limits: the covering products, and the one that pays.
fn products(c: &ClaimFacts, line: &Line, category: Category) -> Result<LineDecision, Fault> {
    let target = c.target();
    let adult = c.adult();
    let mut rows: Vec<(&Cover, Terms)> = c
        .covers
        .iter()
        .filter(|w| w.covers(target))
        .filter_map(|w| {
            terms(w.product, line.kind, line.register_id, c.visit_type, adult).map(|t| (w, t))
        })
        .collect();
    if rows.is_empty() {
        return Err(fault(
            Reason::NotCovered,
            format!(
                "{} is not covered by any product of insuree {}'s policies on {target}.",
                what(line),
                c.patient.chfid
            ),
            json!({"code": line.code, "target": target.to_string()}),
        ));
    }
    rows.sort_by_key(|(w, t)| add_months(w.insuree_effective, t.waiting_months.unwrap_or(0)));
    let mut first_fault = None;
    let mut passing: Vec<(&Cover, Terms, i64)> = Vec::new();
    for (w, t) in rows {
        match under_product(c, line, w, &t, category) {
            Ok(qty) => passing.push((w, t, qty)),
            Err(f) => {
                first_fault.get_or_insert(f);
            }
        }
    }
    let candidates: Vec<Terms> = passing.iter().map(|(_, t, _)| *t).collect();
    let Some(chosen) = choose(&candidates, line.price_asked) else {
        return Err(first_fault.expect("a product was tried"));
    };
    let (w, t, qty) = passing[chosen];
    let list = line.price_list.unwrap_or(line.price_asked);
    let price = match t.price_origin {
        PriceOrigin::Own => line.price_asked,
        PriceOrigin::Schema | PriceOrigin::Relative => line.price_asked.min(list),
    };
    let mut explanation = format!(
        "Accepted under product {}: {qty} × {}",
        w.product.code,
        money(price)
    );
    if price < line.price_asked {
        explanation.push_str(&format!(
            " (the price list's price; {} was asked)",
            money(line.price_asked)
        ));
    }
    if qty < line.qty {
        explanation.push_str(&format!(
            "; {qty} of the {} units asked, the most the product pays for this policy period",
            line.qty
        ));
    }
    explanation.push('.');
    Ok(LineDecision {
        reason: Reason::Accepted,
        rule: Reason::Accepted.rule(),
        explanation,
        compared: json!({
            "price_asked": line.price_asked,
            "price_list": line.price_list,
            "qty_asked": line.qty,
            "product": w.product.code,
            "limitation": t.limitation.code(),
            "limitation_value": t.limit,
        }),
        qty_approved: qty,
        price_adjusted: Some(price),
        assignment: Some(Assignment {
            policy_id: w.policy_id,
            product_id: w.product_id,
            price_origin: t.price_origin,
            limitation: t.limitation,
            limitation_value: t.limit,
        }),
    })
}

#[cfg(test)]
mod tests;
