//! Valuation (spec §7.8): what the scheme pays for each accepted line of a claim under one
//! policy, after the deductibles, the co-insurance or fixed amount, the category ceilings and
//! the general ceilings, measured against the ledger of what other claims already used.

use super::Category;
use location::model::FacilityLevel;
use product::model::{CeilingExclusion, CeilingInterpretation, LimitationType, ProductInput};
use serde::Serialize;

/// What the other claims of the same policy used (the ClaimDedRem ledger), for this insuree and
/// for the whole policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Used {
    /// Deductible taken: all care, in-patient, out-patient.
    pub ded: i64,
    pub ded_ip: i64,
    pub ded_op: i64,
    /// Paid out: all care, in-patient, out-patient.
    pub rem: i64,
    pub rem_ip: i64,
    pub rem_op: i64,
    /// Paid out per claim category (S, D, A, H, C), against the category ceilings.
    pub rem_surgery: i64,
    pub rem_delivery: i64,
    pub rem_antenatal: i64,
    pub rem_hospitalization: i64,
    pub rem_consultation: i64,
}

impl Used {
    /// The ledger after another claim's row: every column summed.
    pub fn plus(&self, o: &Used) -> Used {
        Used {
            ded: self.ded + o.ded,
            ded_ip: self.ded_ip + o.ded_ip,
            ded_op: self.ded_op + o.ded_op,
            rem: self.rem + o.rem,
            rem_ip: self.rem_ip + o.rem_ip,
            rem_op: self.rem_op + o.rem_op,
            rem_surgery: self.rem_surgery + o.rem_surgery,
            rem_delivery: self.rem_delivery + o.rem_delivery,
            rem_antenatal: self.rem_antenatal + o.rem_antenatal,
            rem_hospitalization: self.rem_hospitalization + o.rem_hospitalization,
            rem_consultation: self.rem_consultation + o.rem_consultation,
        }
    }

    fn category(&self, c: Category) -> i64 {
        match c {
            Category::Surgery => self.rem_surgery,
            Category::Delivery => self.rem_delivery,
            Category::Antenatal => self.rem_antenatal,
            Category::Hospitalization => self.rem_hospitalization,
            Category::Consultation => self.rem_consultation,
            Category::Other | Category::Visit => 0,
        }
    }

    fn add_category(&mut self, c: Category, amount: i64) {
        match c {
            Category::Surgery => self.rem_surgery += amount,
            Category::Delivery => self.rem_delivery += amount,
            Category::Antenatal => self.rem_antenatal += amount,
            Category::Hospitalization => self.rem_hospitalization += amount,
            Category::Consultation => self.rem_consultation += amount,
            Category::Other | Category::Visit => {}
        }
    }
}

/// The ledger before this claim: the insuree's own use and the whole policy's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ledger {
    pub insuree: Used,
    pub policy: Used,
}

/// One accepted line paid under the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayLine {
    pub qty: i64,
    /// Approved price per unit (reviewer's, else the submission's).
    pub unit: i64,
    pub limitation: LimitationType,
    /// C: percent the insurer pays; F: most per unit (0 = no cap).
    pub limitation_value: i64,
    pub ceiling_exclusion: Option<CeilingExclusion>,
}

/// What one line is worth to the scheme, and where the rest went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LineValue {
    /// Paid by the scheme.
    pub valuated: i64,
    /// Taken by a deductible (paid by the patient).
    pub deductible: i64,
    /// Above the general ceiling (paid by the patient).
    pub exceed_ceiling: i64,
    /// Above the claim category's ceiling.
    pub exceed_ceiling_category: i64,
}

/// The valuation of a claim's lines under one policy, and what goes into the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Valuation {
    pub lines: Vec<LineValue>,
    /// An in-patient claim for the product's ceilings.
    pub hospital: bool,
    /// The ledger row of this claim: its deductible and what it paid.
    pub used: Used,
}

/// The claim as valuation sees it.
#[derive(Debug, Clone, Copy)]
pub struct Treatment {
    pub multi_day: bool,
    pub facility_level: FacilityLevel,
    pub category: Category,
    /// Members the policy covers (raises the policy ceiling above the threshold).
    pub members: i64,
}

/// openIMIS reads 0 as "not set".
fn set(v: Option<i64>) -> Option<i64> {
    v.filter(|&v| v > 0)
}

/// The first limit set among treatment (nothing used before), insuree (this insuree's use) and
/// policy (everyone's use): (limit, used before).
fn pick(
    treatment: Option<i64>,
    insuree: Option<i64>,
    policy: Option<i64>,
    used_insuree: i64,
    used_policy: i64,
) -> Option<(i64, i64)> {
    set(treatment)
        .map(|l| (l, 0))
        .or_else(|| set(insuree).map(|l| (l, used_insuree)))
        .or_else(|| set(policy).map(|l| (l, used_policy)))
}

/// The policy ceiling for `members`, raised per member above the threshold up to the cap.
fn policy_ceiling(
    base: Option<i64>,
    extra: Option<i64>,
    cap: Option<i64>,
    threshold: Option<i64>,
    members: i64,
) -> Option<i64> {
    let base = set(base)?;
    let threshold = threshold.unwrap_or(0);
    if threshold <= 0 || members <= threshold {
        return Some(base);
    }
    let raised = base.saturating_add(
        extra
            .unwrap_or(0)
            .max(0)
            .saturating_mul(members - threshold),
    );
    Some(match set(cap) {
        Some(cap) => raised.min(cap).max(base),
        None => raised,
    })
}

/// Is the claim in-patient for this product's ceilings: a stay (interpretation I) or a hospital
/// (interpretation H).
pub fn is_hospital(product: &ProductInput, t: &Treatment) -> bool {
    match product.ceiling_interpretation {
        CeilingInterpretation::ClaimType => t.multi_day,
        CeilingInterpretation::FacilityType => t.facility_level == FacilityLevel::Hospital,
    }
}

/// Value the lines (in order: items, then services) of one claim paid under one policy.
///
/// For each line: the work is quantity × unit price (a fixed amount caps it per unit); the
/// deductible not yet taken is taken first (a line it swallows is worth 0); co-insurance then
/// keeps the insurer's percent; the claim category's money ceiling (measured against this
/// insuree's use of the category in the ledger — openIMIS hard-codes that use to 0) and the
/// general ceiling cut what is above them, unless the line is excluded from the ceiling.
pub fn value(
    product: &ProductInput,
    t: &Treatment,
    ledger: &Ledger,
    lines: &[PayLine],
) -> Valuation {
    let hospital = is_hospital(product, t);
    let d = &product.deductibles;
    let c = &product.ceilings;
    let (li, lp) = (&ledger.insuree, &ledger.policy);
    let deductible = pick(d.treatment, d.insuree, d.policy, li.ded, lp.ded).or_else(|| {
        if hospital {
            pick(
                d.ip_treatment,
                d.ip_insuree,
                d.ip_policy,
                li.ded_ip,
                lp.ded_ip,
            )
        } else {
            pick(
                d.op_treatment,
                d.op_insuree,
                d.op_policy,
                li.ded_op,
                lp.ded_op,
            )
        }
    });
    let threshold = product.premium.threshold;
    let general_policy =
        policy_ceiling(c.policy, c.extra_member, c.policy_cap, threshold, t.members);
    let ceiling = pick(c.treatment, c.insuree, general_policy, li.rem, lp.rem).or_else(|| {
        if hospital {
            let p = policy_ceiling(
                c.ip_policy,
                c.extra_member_ip,
                c.policy_cap_ip,
                threshold,
                t.members,
            );
            pick(c.ip_treatment, c.ip_insuree, p, li.rem_ip, lp.rem_ip)
        } else {
            let p = policy_ceiling(
                c.op_policy,
                c.extra_member_op,
                c.policy_cap_op,
                threshold,
                t.members,
            );
            pick(c.op_treatment, c.op_insuree, p, li.rem_op, lp.rem_op)
        }
    });
    let l = &product.limits;
    let category_ceiling = set(match t.category {
        Category::Surgery => l.max_amount_surgery,
        Category::Delivery => l.max_amount_delivery,
        Category::Antenatal => l.max_amount_antenatal,
        Category::Hospitalization => l.max_amount_hospitalization,
        Category::Consultation => l.max_amount_consultation,
        Category::Other | Category::Visit => None,
    });
    let previous_category = li.category(t.category);

    let mut deducted = 0i64;
    let mut remunerated = 0i64;
    let mut category_paid = 0i64;
    let mut values = Vec::with_capacity(lines.len());
    for line in lines {
        let mut v = LineValue::default();
        let mut work = line.qty.saturating_mul(line.unit);
        if line.limitation == LimitationType::Fixed && line.limitation_value > 0 {
            work = work.min(line.qty.saturating_mul(line.limitation_value));
        }
        if let Some((limit, before)) = deductible {
            let left = limit - before - deducted;
            if left > 0 {
                if left >= work {
                    deducted += work;
                    v.deductible = work;
                    values.push(v);
                    continue;
                }
                v.deductible = left;
                work -= left;
                deducted += left;
            }
        }
        if line.limitation == LimitationType::CoInsurance {
            work = (work.saturating_mul(line.limitation_value.clamp(0, 100)) + 50) / 100;
        }
        if let Some(max) = category_ceiling {
            let so_far = previous_category + category_paid;
            if so_far + work <= max {
                category_paid += work;
            } else if so_far >= max {
                v.exceed_ceiling_category = work;
                work = 0;
            } else {
                v.exceed_ceiling_category = so_far + work - max;
                work -= v.exceed_ceiling_category;
                category_paid += work;
            }
        }
        let excluded = match line.ceiling_exclusion {
            Some(CeilingExclusion::Both) => true,
            Some(CeilingExclusion::Hospital) => hospital,
            Some(CeilingExclusion::NonHospital) => !hospital,
            None => false,
        };
        if excluded {
            v.valuated = work;
        } else if let Some((limit, before)) = ceiling {
            let left = limit - before - remunerated;
            if left <= 0 {
                v.exceed_ceiling = work;
            } else if left >= work {
                v.valuated = work;
                remunerated += work;
            } else {
                v.valuated = left;
                v.exceed_ceiling = work - left;
                remunerated += left;
            }
        } else {
            v.valuated = work;
            remunerated += work;
        }
        values.push(v);
    }
    let mut used = Used {
        ded: deducted,
        rem: remunerated,
        ..Used::default()
    };
    if hospital {
        used.ded_ip = deducted;
        used.rem_ip = remunerated;
    } else {
        used.ded_op = deducted;
        used.rem_op = remunerated;
    }
    used.add_category(t.category, category_paid);
    Valuation {
        lines: values,
        hospital,
        used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::product;
    use LimitationType::{CoInsurance as C, Fixed as F};
    use proptest::prelude::*;

    fn line(qty: i64, unit: i64, limitation: LimitationType, value: i64) -> PayLine {
        PayLine {
            qty,
            unit,
            limitation,
            limitation_value: value,
            ceiling_exclusion: None,
        }
    }

    fn treatment() -> Treatment {
        Treatment {
            multi_day: false,
            facility_level: FacilityLevel::HealthCentre,
            category: Category::Consultation,
            members: 3,
        }
    }

    fn valuated(v: &Valuation) -> Vec<i64> {
        v.lines.iter().map(|l| l.valuated).collect()
    }

    #[test]
    fn without_limits_the_scheme_pays_the_approved_value() {
        let v = value(
            &product("P"),
            &treatment(),
            &Ledger::default(),
            &[line(2, 500, C, 100), line(1, 3000, C, 100)],
        );
        assert_eq!(valuated(&v), [1000, 3000]);
        assert_eq!((v.used.rem, v.used.rem_op, v.used.ded), (4000, 4000, 0));
        assert!(!v.hospital);
    }

    #[test]
    fn co_insurance_keeps_the_insurers_percent_and_fixed_amounts_cap_per_unit() {
        let v = value(
            &product("P"),
            &treatment(),
            &Ledger::default(),
            &[
                line(2, 500, C, 80),
                line(3, 1000, F, 700),
                line(1, 1000, F, 0),
            ],
        );
        assert_eq!(valuated(&v), [800, 2100, 1000], "F 0 is no cap");
    }

    #[test]
    fn the_deductible_is_taken_first_and_a_swallowed_line_is_worth_nothing() {
        let mut p = product("P");
        p.deductibles.insuree = Some(1500);
        let lines = [line(1, 1000, C, 100), line(1, 1000, C, 50)];
        let v = value(&p, &treatment(), &Ledger::default(), &lines);
        // Line 1: 1,000 all deducted. Line 2: 500 deducted, 50 % of the remaining 500.
        assert_eq!(valuated(&v), [0, 250]);
        assert_eq!(v.lines[0].deductible, 1000);
        assert_eq!(v.lines[1].deductible, 500);
        assert_eq!(v.used.ded, 1500);
        // Another claim already took 1,200 of this insuree's deductible.
        let ledger = Ledger {
            insuree: Used {
                ded: 1200,
                ..Used::default()
            },
            ..Ledger::default()
        };
        let v = value(&p, &treatment(), &ledger, &lines);
        assert_eq!(valuated(&v), [700, 500]);
        assert_eq!(v.used.ded, 300);
    }

    #[test]
    fn a_treatment_deductible_ignores_the_ledger_and_ip_op_follow_the_interpretation() {
        let mut p = product("P");
        p.deductibles.treatment = Some(300);
        let ledger = Ledger {
            insuree: Used {
                ded: 10_000,
                ..Used::default()
            },
            ..Ledger::default()
        };
        assert_eq!(
            valuated(&value(&p, &treatment(), &ledger, &[line(1, 1000, C, 100)])),
            [700]
        );
        let mut p = product("P");
        p.deductibles.ip_insuree = Some(400);
        p.deductibles.op_insuree = Some(100);
        let stay = Treatment {
            multi_day: true,
            ..treatment()
        };
        let v = value(&p, &stay, &Ledger::default(), &[line(1, 1000, C, 100)]);
        assert!(v.hospital);
        assert_eq!(
            (valuated(&v)[0], v.used.ded_ip, v.used.rem_ip),
            (600, 400, 600)
        );
        assert_eq!(
            valuated(&value(
                &p,
                &treatment(),
                &Ledger::default(),
                &[line(1, 1000, C, 100)]
            )),
            [900]
        );
        // Interpretation H: the facility's level decides.
        p.ceiling_interpretation = CeilingInterpretation::FacilityType;
        let hospital = Treatment {
            facility_level: FacilityLevel::Hospital,
            ..treatment()
        };
        assert!(value(&p, &hospital, &Ledger::default(), &[]).hospital);
        assert!(!value(&p, &stay, &Ledger::default(), &[]).hospital);
    }

    #[test]
    fn the_general_ceiling_cuts_what_is_above_it() {
        let mut p = product("P");
        p.ceilings.insuree = Some(5000);
        let ledger = Ledger {
            insuree: Used {
                rem: 3000,
                ..Used::default()
            },
            ..Ledger::default()
        };
        let v = value(
            &p,
            &treatment(),
            &ledger,
            &[
                line(1, 1500, C, 100),
                line(1, 1500, C, 100),
                line(1, 100, C, 100),
            ],
        );
        assert_eq!(valuated(&v), [1500, 500, 0]);
        assert_eq!(v.lines[1].exceed_ceiling, 1000);
        assert_eq!(v.lines[2].exceed_ceiling, 100);
        assert_eq!(v.used.rem, 2000);
    }

    #[test]
    fn the_policy_ceiling_grows_with_members_above_the_threshold_up_to_the_cap() {
        let mut p = product("P");
        p.ceilings.policy = Some(10_000);
        p.ceilings.extra_member = Some(2_000);
        p.ceilings.policy_cap = Some(13_000);
        p.premium.threshold = Some(2);
        let ledger = Ledger {
            policy: Used {
                rem: 9_000,
                ..Used::default()
            },
            ..Ledger::default()
        };
        let big = Treatment {
            members: 5,
            ..treatment()
        }; // 10,000 + 3 × 2,000 = 16,000 → cap 13,000
        assert_eq!(
            valuated(&value(&p, &big, &ledger, &[line(1, 10_000, C, 100)])),
            [4_000]
        );
        let small = Treatment {
            members: 2,
            ..treatment()
        };
        assert_eq!(
            valuated(&value(&p, &small, &ledger, &[line(1, 10_000, C, 100)])),
            [1_000]
        );
    }

    #[test]
    fn excluded_lines_are_paid_whatever_the_ceiling() {
        let mut p = product("P");
        p.ceilings.insuree = Some(1000);
        let mut l = line(1, 3000, C, 100);
        l.ceiling_exclusion = Some(CeilingExclusion::NonHospital);
        let v = value(
            &p,
            &treatment(),
            &Ledger::default(),
            &[l, line(1, 3000, C, 100)],
        );
        assert_eq!(valuated(&v), [3000, 1000]);
        l.ceiling_exclusion = Some(CeilingExclusion::Hospital);
        assert_eq!(
            valuated(&value(&p, &treatment(), &Ledger::default(), &[l])),
            [1000]
        );
    }

    #[test]
    fn category_ceilings_count_the_insurees_earlier_claims_of_the_category() {
        let mut p = product("P");
        p.limits.max_amount_consultation = Some(5000);
        let v = value(
            &p,
            &treatment(),
            &Ledger::default(),
            &[line(1, 4000, C, 100), line(1, 4000, C, 100)],
        );
        assert_eq!(valuated(&v), [4000, 1000]);
        assert_eq!(v.lines[1].exceed_ceiling_category, 3000);
        assert_eq!(v.used.rem_consultation, 5000);
        let ledger = Ledger {
            insuree: Used {
                rem_consultation: 4500,
                ..Used::default()
            },
            ..Ledger::default()
        };
        let v = value(
            &p,
            &treatment(),
            &ledger,
            &[line(1, 4000, C, 100), line(1, 10, C, 100)],
        );
        assert_eq!(valuated(&v), [500, 0]);
        // Another category is not limited by it.
        let visit = Treatment {
            category: Category::Visit,
            ..treatment()
        };
        assert_eq!(
            valuated(&value(&p, &visit, &ledger, &[line(1, 4000, C, 100)])),
            [4000]
        );
    }

    proptest! {
        /// Valued never above the approved value nor below 0; the parts add up; the ledger row
        /// is the sum of its lines.
        #[test]
        fn the_parts_add_up(
            lines in proptest::collection::vec((1i64..10, 0i64..50_000, any::<bool>(), 0i64..=100, 0i64..60_000), 0..8),
            ded in proptest::option::of(0i64..100_000),
            max in proptest::option::of(0i64..200_000),
            cat in proptest::option::of(0i64..100_000),
            used_ded in 0i64..100_000,
            used_rem in 0i64..200_000,
        ) {
            let mut p = product("P");
            p.deductibles.insuree = ded;
            p.ceilings.insuree = max;
            p.limits.max_amount_consultation = cat;
            let lines: Vec<PayLine> = lines.into_iter().map(|(q, u, co, pct, fixed)| {
                if co { line(q, u, C, pct) } else { line(q, u, F, fixed) }
            }).collect();
            let ledger = Ledger { insuree: Used { ded: used_ded, rem: used_rem, ..Used::default() }, ..Ledger::default() };
            let v = value(&p, &treatment(), &ledger, &lines);
            prop_assert_eq!(v.lines.len(), lines.len());
            let mut paid = 0;
            for (l, x) in lines.iter().zip(&v.lines) {
                prop_assert!(x.valuated >= 0 && x.deductible >= 0 && x.exceed_ceiling >= 0 && x.exceed_ceiling_category >= 0);
                prop_assert!(x.valuated + x.deductible + x.exceed_ceiling + x.exceed_ceiling_category <= l.qty * l.unit);
                paid += x.valuated;
            }
            prop_assert_eq!(v.used.rem, paid);
            prop_assert_eq!(v.used.ded, v.lines.iter().map(|x| x.deductible).sum::<i64>());
            if let Some(max) = max.filter(|&m| m > 0) {
                prop_assert!(v.used.rem <= (max - used_rem).max(0));
            }
        }
    }
}
