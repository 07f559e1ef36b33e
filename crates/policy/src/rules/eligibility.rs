//! What an insuree may still receive under a policy (spec §5.6): the status letter of the
//! enquiry, what is left of the deductibles, ceilings and category limits, and whether one item
//! or service is covered on a given day.

use crate::rules::period::{add_months, months};
use crate::rules::{PolicyStatus, Stage};
use product::model::{ProductInput, ProductItem, ProductService};
use time::Date;

/// What claims have used so far under the policy, per insuree unless named "policy".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub consultations: i64,
    pub surgeries: i64,
    pub deliveries: i64,
    pub hospitalizations: i64,
    pub visits: i64,
    pub antenatal: i64,
    pub amount_consultation: i64,
    pub amount_surgery: i64,
    pub amount_delivery: i64,
    pub amount_hospitalization: i64,
    pub amount_antenatal: i64,
    pub deductible_insuree: i64,
    pub deductible_policy: i64,
    pub remunerated_insuree: i64,
    pub remunerated_policy: i64,
}

/// The terms of one coverage line (a product item or service) that decide eligibility.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineTerms {
    /// Months without coverage after the insuree's coverage starts.
    pub waiting_period_adult: Option<i64>,
    pub waiting_period_child: Option<i64>,
    /// Most units per insuree per policy period; none = no limit.
    pub limit_no_adult: Option<i64>,
    pub limit_no_child: Option<i64>,
}

impl LineTerms {
    pub fn of_item(line: &ProductItem) -> Self {
        LineTerms {
            waiting_period_adult: line.waiting_period_adult,
            waiting_period_child: line.waiting_period_child,
            limit_no_adult: line.limit_no_adult,
            limit_no_child: line.limit_no_child,
        }
    }

    pub fn of_service(line: &ProductService) -> Self {
        LineTerms {
            waiting_period_adult: line.waiting_period_adult,
            waiting_period_child: line.waiting_period_child,
            limit_no_adult: line.limit_no_adult,
            limit_no_child: line.limit_no_child,
        }
    }
}

/// One insuree under one policy, as the enquiry sees them.
#[derive(Debug, Clone, Copy)]
pub struct Coverage<'a> {
    pub product: &'a ProductInput,
    pub status: PolicyStatus,
    pub stage: Stage,
    pub policy_effective: Option<Date>,
    /// The insuree's own coverage window.
    pub insuree_effective: Option<Date>,
    pub insuree_expiry: Date,
    /// Is the insuree an adult (for the waiting periods and quantity limits)?
    pub adult: bool,
    /// Members on the policy (raises the policy ceiling above the threshold).
    pub members: i64,
    pub usage: &'a Usage,
}

/// The enquiry's one-letter status of an insuree's coverage on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub enum StatusLetter {
    /// Idle, or not covered yet.
    I,
    /// Active and covered on that day.
    A,
    /// Suspended.
    S,
    /// Ready: paid, waiting for the payment to be matched.
    R,
    /// Expired, or the day is after the coverage window.
    E,
}

/// What is left for the rest of the policy period; none = the product sets no such limit.
/// Never negative.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Remaining {
    pub deductible_insuree: Option<i64>,
    pub deductible_policy: Option<i64>,
    pub ceiling_insuree: Option<i64>,
    pub ceiling_policy: Option<i64>,
    pub consultations: Option<i64>,
    pub surgeries: Option<i64>,
    pub deliveries: Option<i64>,
    pub hospitalizations: Option<i64>,
    pub visits: Option<i64>,
    pub antenatal: Option<i64>,
    pub amount_consultation: Option<i64>,
    pub amount_surgery: Option<i64>,
    pub amount_delivery: Option<i64>,
    pub amount_hospitalization: Option<i64>,
    pub amount_antenatal: Option<i64>,
}

/// May the insuree receive one item or service?
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LineEligibility {
    /// Covered on the day asked about.
    pub covered_now: bool,
    /// The first day it is covered (after any waiting period); none while coverage has not started.
    pub earliest_date: Option<Date>,
    /// Units left; none = no limit.
    pub left: Option<i64>,
    /// Why it is not covered now, in words.
    pub reason: Option<String>,
}

/// The enquiry letter of an insuree's coverage on `date`: E when the policy is expired or the
/// day is after the insuree's expiry; otherwise I for an idle policy, S suspended, R ready; an
/// active policy gives I before the insuree's effective date (or without one) and A inside the
/// window.
pub fn status_letter(
    status: PolicyStatus,
    insuree_effective: Option<Date>,
    insuree_expiry: Date,
    date: Date,
) -> StatusLetter {
    if status == PolicyStatus::Expired || date > insuree_expiry {
        return StatusLetter::E;
    }
    match status {
        PolicyStatus::Idle => StatusLetter::I,
        PolicyStatus::Suspended => StatusLetter::S,
        PolicyStatus::Ready => StatusLetter::R,
        PolicyStatus::Expired => StatusLetter::E,
        PolicyStatus::Active => match insuree_effective {
            Some(effective) if effective <= date => StatusLetter::A,
            _ => StatusLetter::I,
        },
    }
}

/// A deductible or ceiling of the product: openIMIS reads 0 as "none".
fn set(value: Option<i64>) -> Option<i64> {
    value.filter(|&v| v > 0)
}

/// What is left of a limit after `used`, never below 0.
fn left(limit: Option<i64>, used: i64) -> Option<i64> {
    limit.map(|limit| limit.saturating_sub(used).max(0))
}

/// The policy ceiling for a policy with `members` members: the product's `max_policy`, raised by
/// `max_policy_extra_member` for each member above the threshold. The raise stops at
/// `max_ceiling_policy` when that is set, but never takes the ceiling below `max_policy`. Without
/// a threshold nobody counts as an extra member. None when the product has no policy ceiling.
pub fn policy_ceiling(product: &ProductInput, members: i64) -> Option<i64> {
    let base = set(product.ceilings.policy)?;
    let threshold = product.premium.threshold.unwrap_or(0);
    if threshold <= 0 || members <= threshold {
        return Some(base);
    }
    let per_member = product.ceilings.extra_member.unwrap_or(0).max(0);
    let raised = base.saturating_add(per_member.saturating_mul(members - threshold));
    Some(match set(product.ceilings.policy_cap) {
        Some(cap) => raised.min(cap).max(base),
        None => raised,
    })
}

/// What is left to the insuree: the general deductibles (per insuree, per policy) less what was
/// deducted; the general ceilings less what was paid out (per insuree; per policy, raised for
/// members above the threshold, see [`policy_ceiling`]); and for each claim category, the
/// product's maximum number of claims and amount less what was used. Deductibles and ceilings of
/// 0 count as not set; category limits are taken as written (0 = none allowed).
pub fn remaining(c: &Coverage) -> Remaining {
    let p = c.product;
    let u = c.usage;
    let l = &p.limits;
    Remaining {
        deductible_insuree: left(set(p.deductibles.insuree), u.deductible_insuree),
        deductible_policy: left(set(p.deductibles.policy), u.deductible_policy),
        ceiling_insuree: left(set(p.ceilings.insuree), u.remunerated_insuree),
        ceiling_policy: left(policy_ceiling(p, c.members), u.remunerated_policy),
        consultations: left(l.max_no_consultation, u.consultations),
        surgeries: left(l.max_no_surgery, u.surgeries),
        deliveries: left(l.max_no_delivery, u.deliveries),
        hospitalizations: left(l.max_no_hospitalization, u.hospitalizations),
        visits: left(l.max_no_visits, u.visits),
        antenatal: left(l.max_no_antenatal, u.antenatal),
        amount_consultation: left(l.max_amount_consultation, u.amount_consultation),
        amount_surgery: left(l.max_amount_surgery, u.amount_surgery),
        amount_delivery: left(l.max_amount_delivery, u.amount_delivery),
        amount_hospitalization: left(l.max_amount_hospitalization, u.amount_hospitalization),
        amount_antenatal: left(l.max_amount_antenatal, u.amount_antenatal),
    }
}

/// Why a letter other than A means "not covered", in words.
fn not_covered(c: &Coverage, letter: StatusLetter, date: Date) -> String {
    match letter {
        StatusLetter::E if date > c.insuree_expiry => {
            format!("coverage ended on {}", c.insuree_expiry)
        }
        StatusLetter::E => "policy expired".into(),
        StatusLetter::S => "policy suspended".into(),
        StatusLetter::R => "policy ready: waiting for its payment to be matched".into(),
        StatusLetter::I if c.status == PolicyStatus::Idle => "policy idle: not paid yet".into(),
        StatusLetter::I => match c.insuree_effective {
            Some(effective) => format!("coverage starts on {effective}"),
            None => "not covered until the contribution is paid in full".into(),
        },
        StatusLetter::A => String::new(),
    }
}

/// May the insuree receive the item or service asked about on `date`?
///
/// - `line` none: the product does not list it, so it is not covered.
/// - The waiting period (adult or child) counts from the insuree's effective date, and applies
///   only to a new policy or to a member added after the policy took effect (their effective date
///   is later than the policy's); a renewal continues coverage without a new wait.
/// - Units left = the line's quantity limit less `used_quantity` (none without a limit).
/// - Covered now when the status letter on `date` is A, the waiting period is over and units are
///   left; otherwise `reason` says why, first failing check first.
pub fn line(
    c: &Coverage,
    line: Option<&LineTerms>,
    used_quantity: i64,
    date: Date,
) -> LineEligibility {
    let Some(terms) = line else {
        return LineEligibility {
            covered_now: false,
            earliest_date: None,
            left: None,
            reason: Some("not covered by this product".into()),
        };
    };
    let (waiting, limit) = if c.adult {
        (terms.waiting_period_adult, terms.limit_no_adult)
    } else {
        (terms.waiting_period_child, terms.limit_no_child)
    };
    let added_late = matches!(
        (c.insuree_effective, c.policy_effective),
        (Some(insuree), Some(policy)) if insuree > policy
    );
    let waits = c.stage == Stage::New || added_late;
    let earliest = c.insuree_effective.map(|from| {
        if waits {
            add_months(from, months(waiting))
        } else {
            from
        }
    });
    let limit = limit.map(|limit| limit.max(0));
    let units_left = left(limit, used_quantity);
    let letter = status_letter(c.status, c.insuree_effective, c.insuree_expiry, date);
    let reason = if letter != StatusLetter::A {
        Some(not_covered(c, letter, date))
    } else if let Some(until) = earliest.filter(|&earliest| earliest > date) {
        Some(format!("waiting period until {until}"))
    } else if let (Some(0), Some(limit)) = (units_left, limit) {
        Some(format!("limit of {limit} reached"))
    } else {
        None
    };
    LineEligibility {
        covered_now: reason.is_none(),
        earliest_date: earliest,
        left: units_left,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::members::covers;
    use crate::rules::testing::{any_date, product};
    use proptest::prelude::*;
    use time::macros::date;

    const EXPIRY: Date = date!(2026 - 12 - 31);

    fn coverage<'a>(p: &'a ProductInput, usage: &'a Usage) -> Coverage<'a> {
        Coverage {
            product: p,
            status: PolicyStatus::Active,
            stage: Stage::New,
            policy_effective: Some(date!(2026 - 01 - 15)),
            insuree_effective: Some(date!(2026 - 01 - 15)),
            insuree_expiry: EXPIRY,
            adult: true,
            members: 4,
            usage,
        }
    }

    #[test]
    fn letters_table() {
        use PolicyStatus::*;
        use StatusLetter as L;
        let from = Some(date!(2026 - 01 - 15));
        let inside = date!(2026 - 06 - 01);
        let after = date!(2027 - 01 - 01);
        #[rustfmt::skip]
        let cases = [
            (Active, from, inside, L::A),
            (Active, from, date!(2026 - 01 - 15), L::A),
            (Active, from, EXPIRY, L::A),
            (Active, from, date!(2026 - 01 - 14), L::I),
            (Active, None, inside, L::I),
            (Active, from, after, L::E),
            (Idle, None, inside, L::I),
            (Idle, None, after, L::E),
            (Suspended, from, inside, L::S),
            (Suspended, from, after, L::E),
            (Ready, from, inside, L::R),
            (Expired, from, inside, L::E),
            (Expired, from, after, L::E),
        ];
        for (status, effective, date, want) in cases {
            assert_eq!(
                status_letter(status, effective, EXPIRY, date),
                want,
                "{status:?} {effective:?} {date}"
            );
        }
    }

    #[test]
    fn remaining_table() {
        let mut p = product();
        p.deductibles.insuree = Some(1000);
        p.deductibles.policy = Some(0);
        p.ceilings.insuree = Some(50_000);
        p.limits.max_no_consultation = Some(3);
        p.limits.max_no_surgery = Some(0);
        p.limits.max_amount_delivery = Some(20_000);
        let usage = Usage {
            consultations: 5,
            deductible_insuree: 400,
            remunerated_insuree: 10_000,
            amount_delivery: 5_000,
            ..Usage::default()
        };
        let r = remaining(&coverage(&p, &usage));
        assert_eq!(r.deductible_insuree, Some(600));
        assert_eq!(r.deductible_policy, None, "0 = no deductible");
        assert_eq!(r.ceiling_insuree, Some(40_000));
        assert_eq!(r.ceiling_policy, None);
        assert_eq!(
            r.consultations,
            Some(0),
            "used beyond the limit: never negative"
        );
        assert_eq!(r.surgeries, Some(0), "a limit of 0 allows none");
        assert_eq!(r.deliveries, None);
        assert_eq!(r.amount_delivery, Some(15_000));
        assert_eq!(r.visits, None);
        // Nothing used, nothing set.
        let none = remaining(&coverage(&product(), &Usage::default()));
        assert_eq!(none.deductible_insuree, None);
        assert_eq!(none.amount_antenatal, None);
    }

    #[test]
    fn policy_ceiling_table() {
        let ceiling = |threshold: Option<i64>, extra: Option<i64>, cap: Option<i64>| {
            let mut p = product();
            p.ceilings.policy = Some(100_000);
            p.premium.threshold = threshold;
            p.ceilings.extra_member = extra;
            p.ceilings.policy_cap = cap;
            p
        };
        #[rustfmt::skip]
        let cases = [
            ("at the threshold", ceiling(Some(4), Some(10_000), None), 4, Some(100_000)),
            ("two above the threshold", ceiling(Some(4), Some(10_000), None), 6, Some(120_000)),
            ("raise capped", ceiling(Some(4), Some(10_000), Some(115_000)), 6, Some(115_000)),
            ("cap below the base never lowers it", ceiling(Some(4), Some(10_000), Some(50_000)), 6, Some(100_000)),
            ("no threshold: no raise", ceiling(None, Some(10_000), None), 6, Some(100_000)),
            ("no extra amount", ceiling(Some(4), None, None), 6, Some(100_000)),
            ("no policy ceiling", { let mut p = product(); p.ceilings.extra_member = Some(1); p }, 6, None),
        ];
        for (name, p, members, want) in cases {
            assert_eq!(policy_ceiling(&p, members), want, "{name}");
        }
        let p = ceiling(Some(4), Some(10_000), None);
        let usage = Usage {
            remunerated_policy: 125_000,
            ..Usage::default()
        };
        let c = Coverage {
            members: 6,
            ..coverage(&p, &usage)
        };
        assert_eq!(remaining(&c).ceiling_policy, Some(0));
    }

    /// (name, coverage, line, used, date) → (covered now, earliest, left, reason).
    type LineCase<'a> = (
        &'a str,
        Coverage<'a>,
        Option<&'a LineTerms>,
        i64,
        Date,
        bool,
        Option<Date>,
        Option<i64>,
        Option<&'a str>,
    );

    #[test]
    fn line_table() {
        let p = product();
        let usage = Usage::default();
        let base = coverage(&p, &usage);
        let terms = LineTerms {
            waiting_period_adult: Some(12),
            waiting_period_child: Some(3),
            limit_no_adult: Some(3),
            limit_no_child: None,
        };
        let policy_from = date!(2026 - 01 - 15);
        let later = date!(2026 - 03 - 10);
        let day = date!(2026 - 06 - 01);
        #[rustfmt::skip]
        let cases: &[LineCase] = &[
            ("not in the product", base, None, 0, day, false, None, None, Some("not covered by this product")),
            ("new policy: adult waits 12 months", base, Some(&terms), 0, day, false, Some(date!(2027 - 01 - 15)), Some(3), Some("waiting period until 2027-01-15")),
            ("new policy: child waits 3 months", Coverage { adult: false, ..base }, Some(&terms), 0, day, true, Some(date!(2026 - 04 - 15)), None, None),
            ("renewal: no wait", Coverage { stage: Stage::Renewal, ..base }, Some(&terms), 0, day, true, Some(policy_from), Some(3), None),
            ("renewal, member added later: waits", Coverage { stage: Stage::Renewal, insuree_effective: Some(later), ..base }, Some(&terms), 0, day, false, Some(date!(2027 - 03 - 10)), Some(3), Some("waiting period until 2027-03-10")),
            ("renewal, child added later, still waiting", Coverage { stage: Stage::Renewal, adult: false, insuree_effective: Some(later), ..base }, Some(&terms), 0, day, false, Some(date!(2026 - 06 - 10)), None, Some("waiting period until 2026-06-10")),
            ("renewal, child added later, wait over", Coverage { stage: Stage::Renewal, adult: false, insuree_effective: Some(later), ..base }, Some(&terms), 0, date!(2026 - 06 - 10), true, Some(date!(2026 - 06 - 10)), None, None),
            ("limit reached", Coverage { stage: Stage::Renewal, ..base }, Some(&terms), 3, day, false, Some(policy_from), Some(0), Some("limit of 3 reached")),
            ("limit not reached", Coverage { stage: Stage::Renewal, ..base }, Some(&terms), 2, day, true, Some(policy_from), Some(1), None),
            ("suspended", Coverage { status: PolicyStatus::Suspended, stage: Stage::Renewal, ..base }, Some(&terms), 0, day, false, Some(policy_from), Some(3), Some("policy suspended")),
            ("idle", Coverage { status: PolicyStatus::Idle, insuree_effective: None, ..base }, Some(&terms), 0, day, false, None, Some(3), Some("policy idle: not paid yet")),
            ("ready", Coverage { status: PolicyStatus::Ready, ..base }, Some(&terms), 0, day, false, Some(date!(2027 - 01 - 15)), Some(3), Some("policy ready: waiting for its payment to be matched")),
            ("top-up unpaid", Coverage { insuree_effective: None, ..base }, Some(&terms), 0, day, false, None, Some(3), Some("not covered until the contribution is paid in full")),
            ("coverage not started", Coverage { stage: Stage::Renewal, ..base }, Some(&terms), 0, date!(2026 - 01 - 01), false, Some(policy_from), Some(3), Some("coverage starts on 2026-01-15")),
            ("after the window", Coverage { stage: Stage::Renewal, ..base }, Some(&terms), 0, date!(2027 - 01 - 01), false, Some(policy_from), Some(3), Some("coverage ended on 2026-12-31")),
            ("expired policy", Coverage { status: PolicyStatus::Expired, stage: Stage::Renewal, ..base }, Some(&terms), 0, day, false, Some(policy_from), Some(3), Some("policy expired")),
        ];
        for (name, c, terms, used, date, covered, earliest, units, reason) in cases {
            let got = line(c, *terms, *used, *date);
            assert_eq!(got.covered_now, *covered, "{name}");
            assert_eq!(got.earliest_date, *earliest, "{name}");
            assert_eq!(got.left, *units, "{name}");
            assert_eq!(got.reason.as_deref(), *reason, "{name}");
        }
    }

    #[test]
    fn terms_from_product_lines() {
        let item: ProductItem = serde_json::from_value(serde_json::json!({
            "item_id": "00000000-0000-0000-0000-000000000001",
            "waiting_period_adult": 6, "limit_no_child": 2
        }))
        .unwrap();
        let service: ProductService = serde_json::from_value(serde_json::json!({
            "service_id": "00000000-0000-0000-0000-000000000002",
            "waiting_period_child": 1, "limit_no_adult": 4
        }))
        .unwrap();
        assert_eq!(
            LineTerms::of_item(&item),
            LineTerms {
                waiting_period_adult: Some(6),
                limit_no_child: Some(2),
                ..LineTerms::default()
            }
        );
        assert_eq!(
            LineTerms::of_service(&service),
            LineTerms {
                waiting_period_child: Some(1),
                limit_no_adult: Some(4),
                ..LineTerms::default()
            }
        );
    }

    #[test]
    fn letters_serialise_as_letters() {
        assert_eq!(serde_json::to_string(&StatusLetter::A).unwrap(), "\"A\"");
    }

    fn limit() -> impl Strategy<Value = Option<i64>> {
        proptest::option::of(prop_oneof![any::<i64>(), -10i64..100])
    }

    fn used() -> impl Strategy<Value = i64> {
        prop_oneof![any::<i64>(), -10i64..100]
    }

    proptest! {
        #[test]
        fn remaining_never_negative(
            limits in proptest::collection::vec(limit(), 20),
            uses in proptest::collection::vec(used(), 15),
            members in prop_oneof![any::<i64>(), 0i64..12],
        ) {
            let mut p = product();
            p.deductibles.insuree = limits[0];
            p.deductibles.policy = limits[1];
            p.ceilings.insuree = limits[2];
            p.ceilings.policy = limits[3];
            p.ceilings.extra_member = limits[4];
            p.ceilings.policy_cap = limits[5];
            p.premium.threshold = limits[6];
            p.limits.max_no_consultation = limits[7];
            p.limits.max_no_surgery = limits[8];
            p.limits.max_no_delivery = limits[9];
            p.limits.max_no_hospitalization = limits[10];
            p.limits.max_no_visits = limits[11];
            p.limits.max_no_antenatal = limits[12];
            p.limits.max_amount_consultation = limits[13];
            p.limits.max_amount_surgery = limits[14];
            p.limits.max_amount_delivery = limits[15];
            p.limits.max_amount_hospitalization = limits[16];
            p.limits.max_amount_antenatal = limits[17];
            let usage = Usage {
                consultations: uses[0], surgeries: uses[1], deliveries: uses[2], hospitalizations: uses[3],
                visits: uses[4], antenatal: uses[5], amount_consultation: uses[6], amount_surgery: uses[7],
                amount_delivery: uses[8], amount_hospitalization: uses[9], amount_antenatal: uses[10],
                deductible_insuree: uses[11], deductible_policy: uses[12], remunerated_insuree: uses[13],
                remunerated_policy: uses[14],
            };
            let r = remaining(&Coverage { members, ..coverage(&p, &usage) });
            for value in [
                r.deductible_insuree, r.deductible_policy, r.ceiling_insuree, r.ceiling_policy,
                r.consultations, r.surgeries, r.deliveries, r.hospitalizations, r.visits, r.antenatal,
                r.amount_consultation, r.amount_surgery, r.amount_delivery, r.amount_hospitalization,
                r.amount_antenatal,
            ] {
                prop_assert!(value.is_none_or(|v| v >= 0));
            }
        }

        #[test]
        fn covered_now_only_inside_the_window(
            status in proptest::sample::select(PolicyStatus::ALL),
            renewal in any::<bool>(),
            adult in any::<bool>(),
            policy_effective in proptest::option::of(any_date()),
            insuree_effective in proptest::option::of(any_date()),
            expiry in any_date(),
            date in any_date(),
            waiting in proptest::option::of(-5i64..40),
            limit_no in limit(),
            used in used(),
        ) {
            let p = product();
            let usage = Usage::default();
            let c = Coverage {
                product: &p, status, stage: if renewal { Stage::Renewal } else { Stage::New },
                policy_effective, insuree_effective, insuree_expiry: expiry, adult, members: 1, usage: &usage,
            };
            let terms = LineTerms { waiting_period_adult: waiting, waiting_period_child: waiting, limit_no_adult: limit_no, limit_no_child: limit_no };
            let got = line(&c, Some(&terms), used, date);
            prop_assert_eq!(got.covered_now, got.reason.is_none());
            prop_assert!(got.left.is_none_or(|v| v >= 0));
            if got.covered_now {
                prop_assert!(covers(status, insuree_effective, expiry, date));
                prop_assert!(got.earliest_date.is_some_and(|e| e <= date));
                prop_assert_ne!(got.left, Some(0));
            }
        }
    }
}
