//! What a family pays for a policy (spec §5.3): the contribution for its members, the general
//! assembly and registration fees, less an early-enrolment or early-renewal discount.
//!
//! Bima follows the intended meaning of openIMIS's [DIFF]: the threshold matters only with a
//! lump sum (the lump sum covers up to `threshold` members, the rest pay per head); without a
//! lump sum every member pays once at the adult or child rate. Members above the product's
//! maximum are dropped in registration order. Money is in minor units and never negative.

use crate::rules::Stage;
use crate::rules::period::{add_months, has_cycles, months, next_day};
use product::model::ProductInput;
use time::Date;

/// The relationship code "Others" (openIMIS `tblRelations` 7): such members are not part of the
/// family's lump sum and always pay their own premium.
pub const RELATIONSHIP_OTHER: i16 = 7;

/// Age from which a member pays the adult premium (openIMIS's default `age_of_majority`).
pub const AGE_OF_MAJORITY: i64 = 18;

/// A family member as far as the premium cares. Members come in registration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub dob: Date,
    pub relationship: Option<i16>,
}

/// Everything the value of one policy depends on.
#[derive(Debug, Clone, Copy)]
pub struct ValueInput<'a> {
    pub product: &'a ProductInput,
    pub stage: Stage,
    /// The family's members in registration order.
    pub members: &'a [Member],
    pub enroll: Date,
    /// The policy's start (from [`crate::rules::period::policy_period`]).
    pub start: Date,
    /// For a renewal, the expiry of the policy it renews.
    pub previous_expiry: Option<Date>,
}

/// The value of a policy and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PolicyValue {
    /// The premium for the members (lump sum and per-member amounts).
    pub contribution: i64,
    pub general_assembly: i64,
    /// Registration fees (new policies only).
    pub registration: i64,
    /// Taken off the sum of the three above.
    pub discount: i64,
    /// What the family owes: contribution + general assembly + registration − discount.
    pub value: i64,
    /// How many members were charged (at most the product's maximum).
    pub members_counted: i64,
    pub warnings: Vec<String>,
}

/// Age in whole years on `on` (a birthday not reached yet that year does not count). Someone
/// born on 29 February turns a year older on 1 March in a common year.
pub fn age_on(dob: Date, on: Date) -> i64 {
    let years = i64::from(on.year()) - i64::from(dob.year());
    if (u8::from(on.month()), on.day()) < (u8::from(dob.month()), dob.day()) {
        years - 1
    } else {
        years
    }
}

/// Is a person born on `dob` an adult (18 or older) on `on`?
pub fn is_adult(dob: Date, on: Date) -> bool {
    age_on(dob, on) >= AGE_OF_MAJORITY
}

/// A money term of the product: missing or negative counts as nothing.
fn amount(value: Option<i64>) -> i64 {
    value.unwrap_or(0).max(0)
}

/// The value of a policy (spec §5.3).
///
/// - Members beyond the product's `max_members`, in registration order, are not charged (and a
///   warning says so).
/// - Each member is an adult or a child by their age on the enrolment date (Bima's choice:
///   openIMIS measures it on the day of the computation, so a quote would change with time).
///   Members whose relationship is "Others" (7) are counted apart.
/// - Contribution: with a lump sum, the lump sum covers up to `threshold` adults and children
///   (adults first); those above it, and every "Other", pay the adult or child premium on top.
///   Without a lump sum, every member (including "Others") pays the adult or child premium once.
/// - General assembly: the lump sum if set, else the fee for every counted member.
/// - Registration (new policies only): the lump sum if set, else the fee for every counted member.
/// - Discount, in whole percent of that total, rounded down to a minor unit:
///   - enrolment discount for a new policy of a product with cycles, enrolled at least
///     `enrolment_discount_period` months before its start;
///   - renewal discount for a renewal enrolled at least `renewal_discount_period` months before
///     the day after the previous policy's expiry (the policy's start when there is none).
pub fn policy_value(input: &ValueInput) -> PolicyValue {
    let product = input.product;
    let premium = &product.premium;
    let limit = usize::try_from(premium.max_members.max(0)).unwrap_or(usize::MAX);
    let counted = &input.members[..input.members.len().min(limit)];
    let mut warnings = Vec::new();
    if counted.len() < input.members.len() {
        warnings.push(format!(
            "{} members, the product covers at most {}",
            input.members.len(),
            premium.max_members
        ));
    }

    let (mut adults, mut children, mut other_adults, mut other_children) = (0i64, 0i64, 0i64, 0i64);
    for member in counted {
        let adult = is_adult(member.dob, input.enroll);
        let other = member.relationship == Some(RELATIONSHIP_OTHER);
        let tally = match (other, adult) {
            (false, true) => &mut adults,
            (false, false) => &mut children,
            (true, true) => &mut other_adults,
            (true, false) => &mut other_children,
        };
        *tally += 1;
    }
    let head_count = adults + children + other_adults + other_children;
    let adult_rate = amount(premium.adult);
    let child_rate = amount(premium.child);
    let per_head = |adults: i64, children: i64| {
        adults
            .saturating_mul(adult_rate)
            .saturating_add(children.saturating_mul(child_rate))
    };

    let lump_sum = premium.lump_sum.max(0);
    let contribution = if lump_sum > 0 {
        let threshold = amount(premium.threshold);
        let (extra_adults, extra_children) = if threshold > 0 {
            let extra_adults = (adults - threshold).max(0);
            let seats_left = threshold - (adults - extra_adults);
            (extra_adults, (children - seats_left).max(0))
        } else {
            (0, 0)
        };
        lump_sum.saturating_add(per_head(
            extra_adults + other_adults,
            extra_children + other_children,
        ))
    } else {
        per_head(adults + other_adults, children + other_children)
    };

    let lump_or_fee = |lump: Option<i64>, fee: Option<i64>| match amount(lump) {
        0 => head_count.saturating_mul(amount(fee)),
        lump => lump,
    };
    let general_assembly = lump_or_fee(
        premium.general_assembly_lump_sum,
        premium.general_assembly_fee,
    );
    let registration = match input.stage {
        Stage::New => lump_or_fee(premium.registration_lump_sum, premium.registration_fee),
        Stage::Renewal => 0,
    };
    let total = contribution
        .saturating_add(general_assembly)
        .saturating_add(registration);

    let percent = match input.stage {
        Stage::New => {
            let by = add_months(input.start, -months(premium.enrolment_discount_period));
            if has_cycles(product) && input.enroll <= by {
                premium.enrolment_discount_percent
            } else {
                None
            }
        }
        Stage::Renewal => {
            let renewal_day = input.previous_expiry.map_or(input.start, next_day);
            let by = add_months(renewal_day, -months(premium.renewal_discount_period));
            if input.enroll <= by {
                premium.renewal_discount_percent
            } else {
                None
            }
        }
    };
    let percent = percent.unwrap_or(0).clamp(0, 100);
    // total ≥ 0 and percent ≤ 100, so the share fits in i64 and rounds down.
    let discount = i64::try_from(i128::from(total) * i128::from(percent) / 100).unwrap_or(total);

    PolicyValue {
        contribution,
        general_assembly,
        registration,
        discount,
        value: total - discount,
        members_counted: head_count,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{any_date, product};
    use proptest::prelude::*;
    use time::macros::date;

    const ENROLL: Date = date!(2026 - 03 - 15);

    fn adult() -> Member {
        Member {
            dob: date!(1986 - 05 - 01),
            relationship: None,
        }
    }
    fn child() -> Member {
        Member {
            dob: date!(2016 - 05 - 01),
            relationship: Some(4),
        }
    }
    fn other_adult() -> Member {
        Member {
            dob: date!(1956 - 05 - 01),
            relationship: Some(RELATIONSHIP_OTHER),
        }
    }
    fn other_child() -> Member {
        Member {
            dob: date!(2020 - 05 - 01),
            relationship: Some(RELATIONSHIP_OTHER),
        }
    }

    /// Adult 1000, child 500 per member, up to 10 members.
    fn priced() -> ProductInput {
        let mut p = product();
        p.premium.adult = Some(1000);
        p.premium.child = Some(500);
        p.premium.max_members = 10;
        p
    }

    fn value_of(p: &ProductInput, stage: Stage, members: &[Member]) -> PolicyValue {
        policy_value(&ValueInput {
            product: p,
            stage,
            members,
            enroll: ENROLL,
            start: ENROLL,
            previous_expiry: None,
        })
    }

    #[test]
    fn contribution_table() {
        let family = [adult(), adult(), child(), child()];
        let with_others = [
            adult(),
            adult(),
            child(),
            child(),
            other_adult(),
            other_child(),
        ];
        let lump = |sum: i64, threshold: Option<i64>| {
            let mut p = priced();
            p.premium.lump_sum = sum;
            p.premium.threshold = threshold;
            p
        };
        let mut per_member_threshold = priced();
        per_member_threshold.premium.threshold = Some(1);
        let mut no_rates = lump(3000, Some(3));
        no_rates.premium.adult = None;
        no_rates.premium.child = None;
        #[rustfmt::skip]
        let cases: &[(&str, ProductInput, &[Member], i64)] = &[
            ("per member: everyone pays once", priced(), &family, 2 * 1000 + 2 * 500),
            ("per member: others pay their rate", priced(), &with_others, 3 * 1000 + 3 * 500),
            ("per member: a threshold changes nothing", per_member_threshold, &family, 2 * 1000 + 2 * 500),
            ("lump sum covers the threshold: 4 members, threshold 4", lump(3000, Some(4)), &family, 3000),
            ("lump sum, threshold 3: one child pays", lump(3000, Some(3)), &family, 3000 + 500),
            ("lump sum, threshold 1: one adult and two children pay", lump(3000, Some(1)), &family, 3000 + 1000 + 2 * 500),
            ("lump sum, threshold 3: others pay on top", lump(3000, Some(3)), &with_others, 3000 + 500 + 1000 + 500),
            ("lump sum without threshold covers the family", lump(3000, None), &family, 3000),
            ("lump sum without threshold: others still pay", lump(3000, None), &with_others, 3000 + 1000 + 500),
            ("lump sum, no per-member rates", no_rates, &with_others, 3000),
            ("nobody, per member", priced(), &[], 0),
            ("nobody, lump sum", lump(3000, Some(3)), &[], 3000),
        ];
        for (name, p, members, want) in cases {
            let v = value_of(p, Stage::New, members);
            assert_eq!(v.contribution, *want, "{name}");
            assert_eq!(v.value, *want, "{name}: no fees, no discount");
            assert_eq!(v.members_counted, members.len() as i64, "{name}");
            assert!(v.warnings.is_empty(), "{name}");
        }
    }

    #[test]
    fn members_above_the_maximum_are_not_counted() {
        let mut p = priced();
        p.premium.max_members = 3;
        // In registration order: two adults and the first child fit; the rest are dropped.
        let v = value_of(
            &p,
            Stage::New,
            &[adult(), adult(), child(), child(), adult()],
        );
        assert_eq!(v.members_counted, 3);
        assert_eq!(v.contribution, 2 * 1000 + 500);
        assert_eq!(
            v.warnings,
            vec!["5 members, the product covers at most 3".to_string()]
        );
    }

    #[test]
    fn age_is_taken_on_the_enrolment_date() {
        let p = priced();
        let eighteen_today = Member {
            dob: date!(2008 - 03 - 15),
            relationship: None,
        };
        let eighteen_tomorrow = Member {
            dob: date!(2008 - 03 - 16),
            relationship: None,
        };
        assert_eq!(
            value_of(&p, Stage::New, &[eighteen_today]).contribution,
            1000
        );
        assert_eq!(
            value_of(&p, Stage::New, &[eighteen_tomorrow]).contribution,
            500
        );
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 03 - 01)), 18);
        assert_eq!(age_on(date!(2030 - 01 - 01), date!(2026 - 03 - 01)), -4);
    }

    #[test]
    fn fees_table() {
        let family = [adult(), child(), other_adult()];
        let fees = |ga_lump: Option<i64>,
                    ga_fee: Option<i64>,
                    reg_lump: Option<i64>,
                    reg_fee: Option<i64>| {
            let mut p = priced();
            p.premium.general_assembly_lump_sum = ga_lump;
            p.premium.general_assembly_fee = ga_fee;
            p.premium.registration_lump_sum = reg_lump;
            p.premium.registration_fee = reg_fee;
            p
        };
        #[rustfmt::skip]
        let cases = [
            ("per member fees", fees(None, Some(50), None, Some(100)), Stage::New, 3 * 50, 3 * 100),
            ("lump sums win", fees(Some(200), Some(50), Some(300), Some(100)), Stage::New, 200, 300),
            ("zero lump sums fall back to fees", fees(Some(0), Some(50), Some(0), Some(100)), Stage::New, 150, 300),
            ("renewal: no registration", fees(Some(200), None, Some(300), Some(100)), Stage::Renewal, 200, 0),
            ("renewal: per member assembly", fees(None, Some(50), None, Some(100)), Stage::Renewal, 150, 0),
            ("no fees", fees(None, None, None, None), Stage::New, 0, 0),
        ];
        for (name, p, stage, assembly, registration) in cases {
            let v = value_of(&p, stage, &family);
            assert_eq!(v.general_assembly, assembly, "{name}");
            assert_eq!(v.registration, registration, "{name}");
            assert_eq!(v.value, 2 * 1000 + 500 + assembly + registration, "{name}");
        }
    }

    #[test]
    fn enrolment_discount_table() {
        let mut cycled = priced();
        cycled.start_cycles = vec!["01-01".into(), "01-07".into()];
        cycled.premium.enrolment_discount_percent = Some(10);
        cycled.premium.enrolment_discount_period = Some(1);
        let mut free = cycled.clone();
        free.start_cycles.clear();
        let start = date!(2026 - 07 - 01);
        #[rustfmt::skip]
        let cases = [
            ("a month early", &cycled, Stage::New, date!(2026 - 05 - 31), 100),
            ("exactly a month early", &cycled, Stage::New, date!(2026 - 06 - 01), 100),
            ("a day too late", &cycled, Stage::New, date!(2026 - 06 - 02), 0),
            ("free cycle: no enrolment discount", &free, Stage::New, date!(2026 - 01 - 01), 0),
            ("renewal: not the enrolment discount", &cycled, Stage::Renewal, date!(2026 - 01 - 01), 0),
        ];
        for (name, p, stage, enroll, discount) in cases {
            let v = policy_value(&ValueInput {
                product: p,
                stage,
                members: &[adult()],
                enroll,
                start,
                previous_expiry: None,
            });
            assert_eq!(v.discount, discount, "{name}");
            assert_eq!(v.value, 1000 - discount, "{name}");
        }
    }

    #[test]
    fn renewal_discount_table() {
        let mut p = priced();
        p.premium.renewal_discount_percent = Some(5);
        p.premium.renewal_discount_period = Some(1);
        let expiry = date!(2026 - 12 - 31);
        #[rustfmt::skip]
        let cases = [
            ("a month before the renewal day", date!(2026 - 12 - 01), Some(expiry), date!(2027 - 01 - 01), 50),
            ("a day too late", date!(2026 - 12 - 02), Some(expiry), date!(2027 - 01 - 01), 0),
            ("no previous policy: the start counts", date!(2026 - 04 - 01), None, date!(2026 - 05 - 01), 50),
            ("no previous policy, late", date!(2026 - 04 - 02), None, date!(2026 - 05 - 01), 0),
        ];
        for (name, enroll, previous_expiry, start, discount) in cases {
            let v = policy_value(&ValueInput {
                product: &p,
                stage: Stage::Renewal,
                members: &[adult()],
                enroll,
                start,
                previous_expiry,
            });
            assert_eq!(v.discount, discount, "{name}");
            assert_eq!(v.registration, 0, "{name}");
        }
    }

    #[test]
    fn discount_rounds_down_and_covers_fees() {
        let mut p = priced();
        p.premium.adult = Some(3333);
        p.premium.registration_fee = Some(1);
        p.premium.renewal_discount_percent = Some(10);
        let v = value_of(&p, Stage::Renewal, &[adult()]);
        assert_eq!((v.discount, v.value), (333, 3000));
        p.premium.renewal_discount_percent = Some(100);
        assert_eq!(value_of(&p, Stage::Renewal, &[adult()]).value, 0);
    }

    #[test]
    fn broken_terms_never_make_a_negative_value() {
        let mut p = priced();
        p.premium.lump_sum = -5000;
        p.premium.adult = Some(-1000);
        p.premium.general_assembly_fee = Some(-10);
        p.premium.renewal_discount_percent = Some(250);
        p.premium.max_members = -1;
        let v = value_of(&p, Stage::Renewal, &[adult(), child()]);
        assert_eq!(v.value, 0);
        assert_eq!(v.members_counted, 0);
        assert_eq!(v.warnings.len(), 1);
    }

    fn any_member() -> impl Strategy<Value = Member> {
        (any_date(), proptest::option::of(0i16..=9))
            .prop_map(|(dob, relationship)| Member { dob, relationship })
    }

    fn term() -> impl Strategy<Value = Option<i64>> {
        proptest::option::of(prop_oneof![any::<i64>(), -100i64..10_000])
    }

    proptest! {
        #[test]
        fn value_never_negative(
            lump in prop_oneof![any::<i64>(), 0i64..10_000],
            max_members in -2i64..12,
            rates in proptest::collection::vec(term(), 11),
            cycles in any::<bool>(),
            renewal in any::<bool>(),
            members in proptest::collection::vec(any_member(), 0..15),
            enroll in any_date(),
            start in any_date(),
            previous_expiry in proptest::option::of(any_date()),
        ) {
            let mut p = priced();
            p.premium.lump_sum = lump;
            p.premium.max_members = max_members;
            p.premium.threshold = rates[0];
            p.premium.adult = rates[1];
            p.premium.child = rates[2];
            p.premium.registration_lump_sum = rates[3];
            p.premium.registration_fee = rates[4];
            p.premium.general_assembly_lump_sum = rates[5];
            p.premium.general_assembly_fee = rates[6];
            p.premium.enrolment_discount_percent = rates[7];
            p.premium.enrolment_discount_period = rates[8];
            p.premium.renewal_discount_percent = rates[9];
            p.premium.renewal_discount_period = rates[10];
            if cycles {
                p.start_cycles = vec!["01-01".into()];
            }
            let stage = if renewal { Stage::Renewal } else { Stage::New };
            let v = policy_value(&ValueInput { product: &p, stage, members: &members, enroll, start, previous_expiry });
            prop_assert!(v.value >= 0);
            prop_assert!(v.discount >= 0);
            prop_assert!(v.contribution >= 0 && v.general_assembly >= 0 && v.registration >= 0);
            prop_assert!(v.members_counted <= max_members.max(0));
            prop_assert_eq!(v.warnings.is_empty(), members.len() as i64 == v.members_counted);
        }

        #[test]
        fn per_member_mode_charges_each_member_once(
            members in proptest::collection::vec(any_member(), 0..10),
            threshold in proptest::option::of(0i64..10),
            enroll in any_date(),
        ) {
            let mut p = priced();
            p.premium.threshold = threshold;
            let v = policy_value(&ValueInput { product: &p, stage: Stage::New, members: &members, enroll, start: enroll, previous_expiry: None });
            let want: i64 = members.iter().map(|m| if is_adult(m.dob, enroll) { 1000 } else { 500 }).sum();
            prop_assert_eq!(v.contribution, want);
            prop_assert_eq!(v.value, want);
        }

        #[test]
        fn lump_sum_never_cheaper_than_the_lump(
            members in proptest::collection::vec(any_member(), 0..10),
            threshold in proptest::option::of(0i64..10),
            enroll in any_date(),
        ) {
            let mut p = priced();
            p.premium.lump_sum = 2500;
            p.premium.threshold = threshold;
            let v = policy_value(&ValueInput { product: &p, stage: Stage::New, members: &members, enroll, start: enroll, previous_expiry: None });
            let full: i64 = members.iter().map(|m| if is_adult(m.dob, enroll) { 1000 } else { 500 }).sum();
            prop_assert!(v.contribution >= 2500);
            prop_assert!(v.contribution <= 2500 + full);
        }
    }
}
