//! The monthly batch run (spec §8): the relative-price index of a product, which turns the
//! points of relative-price claims into money, and the allocation of contributions over a
//! period. Amounts are integers; the index is kept as a fraction so that nothing is rounded
//! before the last step.

use product::model::RelPricePeriod;
use std::collections::HashMap;
use time::{Date, Month};
use uuid::Uuid;

/// The first day of the period a run for `year`-`month` distributes: the month (M), the quarter
/// (Q, only in the quarter's last month: 3, 6, 9, 12) or the year to date (Y). None when the
/// product distributes nothing this month.
pub fn period_start(period: RelPricePeriod, year: i32, month: u8) -> Option<Date> {
    let month_of = |m: u8| Month::try_from(m).ok();
    match period {
        RelPricePeriod::Month => Date::from_calendar_date(year, month_of(month)?, 1).ok(),
        RelPricePeriod::Quarter if month.is_multiple_of(3) => {
            Date::from_calendar_date(year, month_of(month - 2)?, 1).ok()
        }
        RelPricePeriod::Quarter => None,
        RelPricePeriod::Year => Date::from_calendar_date(year, Month::January, 1).ok(),
    }
}

/// The last day of `year`-`month`.
pub fn month_end(year: i32, month: u8) -> Option<Date> {
    let m = Month::try_from(month).ok()?;
    Date::from_calendar_date(year, m, m.length(year)).ok()
}

/// Which of a distribution's percentages applies to a run: the month's (12 periods), the
/// quarter's (4) or the year's (1).
pub fn period_index(periods: usize, month: u8) -> Option<usize> {
    match periods {
        12 => Some(usize::from(month) - 1),
        4 => Some((usize::from(month) - 1) / 3),
        1 => Some(0),
        _ => None,
    }
}

/// One contribution paid for a policy of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paid {
    pub amount: i64,
    pub pay_date: Date,
    pub policy_effective: Date,
    pub policy_expiry: Date,
}

/// Days from `a` to `b`, both counted.
fn days(a: Date, b: Date) -> i64 {
    (b - a).whole_days() + 1
}

/// The contributions earned over [start, end]: each spread evenly over the days its policy is
/// covered after it was paid, and the days inside the period kept.
pub fn allocated(paid: &[Paid], start: Date, end: Date) -> i64 {
    paid.iter()
        .map(|p| {
            let from = p.pay_date.max(p.policy_effective);
            let span = days(from, p.policy_expiry);
            let inside = days(start.max(from), end.min(p.policy_expiry));
            if span <= 0 || inside <= 0 {
                return 0;
            }
            (i128::from(p.amount) * i128::from(inside) / i128::from(span)) as i64
        })
        .sum()
}

/// The relative-price index: the money to distribute (allocated × percent / 100) over the
/// points claimed, as a fraction (numerator, denominator); 1 when nothing was claimed.
pub fn relative_index(allocated: i64, percent: i64, claimed_points: i64) -> (i128, i128) {
    if claimed_points <= 0 {
        return (1, 1);
    }
    (
        i128::from(allocated) * i128::from(percent),
        i128::from(claimed_points) * 100,
    )
}

/// A value at the index, rounded half up to the minor unit.
pub fn at_index(value: i64, (num, den): (i128, i128)) -> i64 {
    if den == 0 {
        return value;
    }
    ((i128::from(value) * num * 2 + den) / (den * 2)) as i64
}

/// The indexes a run computed, by product and care type (`I`, `O`, or `B` for both), and
/// which products read "in-patient" from the facility's level rather than the stay.
#[derive(Debug, Clone, Default)]
pub struct Indexes {
    pub by_care: HashMap<(Uuid, char), (i128, i128)>,
    pub by_facility: HashMap<Uuid, bool>,
}

/// A passed line of a processed claim as the run pays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLine {
    /// Priced at the relative price (origin R), by this product.
    pub relative_product: Option<Uuid>,
    pub valuated: i64,
}

/// What the run pays for a passed line (§8.2): a relative-price line its valuated points at its
/// product's index of the claim's care type (the index for both care types when the product has
/// none for it; 1 when it has neither), any other line what valuation gave it. In-patient means
/// a hospital claim for a product whose ceilings read the facility level, else a stay of more
/// than one day.
pub fn paid(indexes: &Indexes, line: RunLine, at_hospital: bool, multi_day: bool) -> i64 {
    let Some(product) = line.relative_product else {
        return line.valuated;
    };
    let by_facility = indexes.by_facility.get(&product).copied().unwrap_or(false);
    let in_patient = if by_facility { at_hospital } else { multi_day };
    let care = if in_patient { 'I' } else { 'O' };
    let index = indexes
        .by_care
        .get(&(product, care))
        .or_else(|| indexes.by_care.get(&(product, 'B')))
        .copied()
        .unwrap_or((1, 1));
    at_index(line.valuated, index)
}

/// The six capitation factors, in the order of the product's weights: population, families,
/// insured insurees, insured families, visits (claims), adjusted amount.
pub const FACTORS: usize = 6;

/// A facility's quantities of the six factors, each ×100 (catchment percentages keep two
/// decimals of a person or a family).
pub type Quantities = [i64; FACTORS];

/// Capitation (spec §8.3): the product's share of the allocated contributions, split into six
/// pools by the weights (percent), each pool paid to the facilities in proportion to their
/// quantity of its factor. Returns each facility's six amounts; a factor nobody has pays
/// nothing.
pub fn capitation(
    allocated: i64,
    share_percent: i64,
    weights: [i64; FACTORS],
    facilities: &[Quantities],
) -> Vec<[i64; FACTORS]> {
    let money = i128::from(allocated) * i128::from(share_percent.clamp(0, 100));
    let mut out = vec![[0i64; FACTORS]; facilities.len()];
    for k in 0..FACTORS {
        let total: i128 = facilities.iter().map(|q| i128::from(q[k].max(0))).sum();
        let weight = i128::from(weights[k].clamp(0, 100));
        if total == 0 || weight == 0 {
            continue;
        }
        // pool = allocated × share/100 × weight/100; amount = pool × qty / total.
        let den = 100 * 100 * total;
        for (f, q) in facilities.iter().enumerate() {
            let num = money * weight * i128::from(q[k].max(0));
            out[f][k] = ((num * 2 + den) / (den * 2)) as i64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn a_relative_line_is_paid_at_its_care_types_index() {
        let (p, q) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut indexes = Indexes::default();
        indexes.by_care.insert((p, 'I'), (3, 4));
        indexes.by_care.insert((p, 'O'), (1, 2));
        indexes.by_care.insert((q, 'B'), (2, 1));
        indexes.by_facility.insert(q, true);
        let line = |product, valuated| RunLine {
            relative_product: product,
            valuated,
        };
        // A stay of more than a day is in-patient for a product that reads the claim type.
        assert_eq!(paid(&indexes, line(Some(p), 1000), false, true), 750);
        assert_eq!(paid(&indexes, line(Some(p), 1000), true, false), 500);
        // A product with one index for both care types, reading the facility level.
        assert_eq!(paid(&indexes, line(Some(q), 1000), true, false), 2000);
        // Not at a relative price: what valuation gave; an unknown product: index 1.
        assert_eq!(paid(&indexes, line(None, 1234), true, true), 1234);
        assert_eq!(
            paid(&indexes, line(Some(Uuid::from_u128(9)), 77), false, false),
            77
        );
    }

    #[test]
    fn periods_start_on_the_first_day_and_quarters_only_at_their_end() {
        use RelPricePeriod::*;
        assert_eq!(period_start(Month, 2026, 5), Some(date!(2026 - 05 - 01)));
        assert_eq!(period_start(Quarter, 2026, 6), Some(date!(2026 - 04 - 01)));
        assert_eq!(period_start(Quarter, 2026, 5), None);
        assert_eq!(period_start(Quarter, 2026, 12), Some(date!(2026 - 10 - 01)));
        assert_eq!(period_start(Year, 2026, 8), Some(date!(2026 - 01 - 01)));
        assert_eq!(period_start(Month, 2026, 13), None);
        assert_eq!(month_end(2028, 2), Some(date!(2028 - 02 - 29)));
        assert_eq!(month_end(2026, 4), Some(date!(2026 - 04 - 30)));
        assert_eq!(period_index(12, 5), Some(4));
        assert_eq!(period_index(4, 5), Some(1));
        assert_eq!(period_index(1, 5), Some(0));
        assert_eq!(period_index(3, 5), None);
    }

    #[test]
    fn contributions_are_spread_over_the_covered_days() {
        // 36,500 paid on the first day of a 365-day policy: 100 a day.
        let p = Paid {
            amount: 36_500,
            pay_date: date!(2026 - 01 - 01),
            policy_effective: date!(2026 - 01 - 01),
            policy_expiry: date!(2026 - 12 - 31),
        };
        assert_eq!(
            allocated(&[p], date!(2026 - 03 - 01), date!(2026 - 03 - 31)),
            3_100
        );
        assert_eq!(
            allocated(&[p], date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            36_500
        );
        assert_eq!(
            allocated(&[p], date!(2027 - 01 - 01), date!(2027 - 01 - 31)),
            0
        );
        // Paid late: spread over what is left of the policy.
        let late = Paid {
            pay_date: date!(2026 - 07 - 01),
            ..p
        };
        assert_eq!(
            allocated(&[late], date!(2026 - 03 - 01), date!(2026 - 03 - 31)),
            0
        );
        assert_eq!(
            allocated(&[late], date!(2026 - 07 - 01), date!(2026 - 12 - 31)),
            36_500
        );
    }

    #[test]
    fn the_index_shares_the_money_over_the_points() {
        // 10,000 to distribute at 60 %, 4,000 points claimed: 1.5.
        let index = relative_index(10_000, 60, 4_000);
        assert_eq!(at_index(1_000, index), 1_500);
        assert_eq!(at_index(333, index), 500);
        assert_eq!(relative_index(10_000, 60, 0), (1, 1));
        assert_eq!(at_index(777, (1, 1)), 777);
    }

    #[test]
    fn capitation_splits_each_pool_by_the_facilities_shares() {
        // 100,000 allocated, 50 % to capitation; population 60 %, visits 40 %.
        let weights = [60, 0, 0, 0, 40, 0];
        let a = [30_000, 1_000, 0, 0, 300, 0];
        let b = [10_000, 500, 0, 0, 100, 0];
        let paid = capitation(100_000, 50, weights, &[a, b]);
        // Population pool 30,000: 3/4 and 1/4. Visits pool 20,000: 3/4 and 1/4.
        assert_eq!(paid[0], [22_500, 0, 0, 0, 15_000, 0]);
        assert_eq!(paid[1], [7_500, 0, 0, 0, 5_000, 0]);
        // Nobody with a factor: its pool is not paid.
        let paid = capitation(100_000, 50, [0, 0, 0, 0, 0, 100], &[a, b]);
        assert_eq!(paid, vec![[0; FACTORS]; 2]);
        assert!(capitation(100_000, 50, weights, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn a_run_pays_a_relative_line_in_proportion_and_leaves_the_others(
            valuated in 0i64..10_000_000,
            num in 0i128..1_000_000,
            den in 1i128..1_000_000,
            at_hospital: bool,
            multi_day: bool,
        ) {
            let p = Uuid::from_u128(7);
            let mut indexes = Indexes::default();
            indexes.by_care.insert((p, 'B'), (num, den));
            let relative = RunLine { relative_product: Some(p), valuated };
            let paid_relative = paid(&indexes, relative, at_hospital, multi_day);
            prop_assert!(paid_relative >= 0);
            // Rounded half up: within half a minor unit of the exact share.
            let exact = i128::from(valuated) * num;
            prop_assert!((i128::from(paid_relative) * den * 2 - exact * 2).abs() <= den);
            let fixed = RunLine { relative_product: None, valuated };
            prop_assert_eq!(paid(&indexes, fixed, at_hospital, multi_day), valuated);
        }

        #[test]
        fn capitation_never_pays_more_than_the_share(
            allocated in 0i64..100_000_000,
            share in 0i64..=100,
            w in proptest::array::uniform6(0i64..=100),
            facilities in proptest::collection::vec(proptest::array::uniform6(0i64..1_000_000), 0..12),
        ) {
            let paid = capitation(allocated, share, w, &facilities);
            let total: i64 = paid.iter().flatten().sum();
            let weights: i64 = w.iter().sum();
            // Each amount rounds by at most half a unit.
            let slack = (facilities.len() * FACTORS) as i128;
            prop_assert!(
                i128::from(total) * 10_000
                    <= i128::from(allocated) * i128::from(share) * i128::from(weights) + 10_000 * slack
            );
        }

        #[test]
        fn the_index_never_distributes_more_than_the_money(
            allocated in 0i64..10_000_000,
            percent in 0i64..=100,
            values in proptest::collection::vec(1i64..100_000, 1..20),
        ) {
            let points: i64 = values.iter().sum();
            let index = relative_index(allocated, percent, points);
            let paid: i64 = values.iter().map(|&v| at_index(v, index)).sum();
            // Rounding gives at most half a unit per line.
            prop_assert!(paid <= allocated * percent / 100 + values.len() as i64);
        }

        #[test]
        fn allocation_over_the_whole_policy_is_the_amount(
            amount in 0i64..10_000_000, length in 1i64..800, late in 0i64..800,
        ) {
            let effective = date!(2026 - 01 - 01);
            let expiry = effective + time::Duration::days(length - 1);
            let pay_date = effective + time::Duration::days(late.min(length - 1));
            let p = Paid { amount, pay_date, policy_effective: effective, policy_expiry: expiry };
            prop_assert_eq!(allocated(&[p], effective, expiry), amount);
        }
    }
}
