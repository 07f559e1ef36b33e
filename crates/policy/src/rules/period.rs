//! When a policy runs (spec §5.2) and by when it must be paid (§6.3).
//!
//! Months are calendar months. A day that does not exist in the month reached falls back to
//! that month's last day: 31 January + 1 month is 28 (or 29) February. Every function here is
//! total: dates at the edge of the calendar saturate instead of panicking.

use crate::rules::Stage;
use product::model::ProductInput;
use time::{Date, Month};

/// The days a policy covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Date,
    pub expiry: Date,
}

/// Why no period can be computed: the product's terms are incomplete or broken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("the product has no insurance period: it must last at least one month")]
    NoInsurancePeriod,
    #[error("the product's start cycle \"{0}\" is not a day and month written DD-MM")]
    BadCycle(String),
}

/// `date` moved by `months` calendar months (back when negative), the day clamped to the
/// length of the month reached. Beyond the calendar's range the result is its first or last day.
pub fn add_months(date: Date, months: i64) -> Date {
    let edge = if months < 0 { Date::MIN } else { Date::MAX };
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1;
    let Some(target) = index.checked_add(months) else {
        return edge;
    };
    let Ok(year) = i32::try_from(target.div_euclid(12)) else {
        return edge;
    };
    if year < Date::MIN.year() {
        return Date::MIN;
    }
    if year > Date::MAX.year() {
        return Date::MAX;
    }
    let month = u8::try_from(target.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::January);
    on_day(year, month, date.day()).unwrap_or(edge)
}

/// The day `day` of a month, or the month's last day when it is shorter.
fn on_day(year: i32, month: Month, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, month, day.min(month.length(year))).ok()
}

/// The day after, or the same day at the end of the calendar.
pub(crate) fn next_day(date: Date) -> Date {
    date.next_day().unwrap_or(date)
}

/// The day before, or the same day at the start of the calendar.
pub(crate) fn previous_day(date: Date) -> Date {
    date.previous_day().unwrap_or(date)
}

/// A number of months from the product, missing or negative counting as none.
pub(crate) fn months(value: Option<i64>) -> i64 {
    value.unwrap_or(0).max(0)
}

/// Does the product start its policies on fixed days of the year? Any non-blank start cycle
/// makes it so; otherwise it is a "free cycle" product and a policy starts when it is enrolled.
pub fn has_cycles(product: &ProductInput) -> bool {
    product.start_cycles.iter().any(|c| !c.trim().is_empty())
}

/// The product's cycle days (month, day) in calendar order, blanks skipped.
fn cycles(product: &ProductInput) -> Result<Vec<(Month, u8)>, PeriodError> {
    let mut days = Vec::new();
    for cycle in &product.start_cycles {
        let text = cycle.trim();
        if text.is_empty() {
            continue;
        }
        let (day, month) = product::rules::parse_start_cycle(text)
            .ok_or_else(|| PeriodError::BadCycle(cycle.clone()))?;
        days.push((month, day));
    }
    days.sort_by_key(|&(month, day)| (u8::from(month), day));
    days.dedup();
    Ok(days)
}

/// The grace months of the stage: the enrolment grace for a new policy, the renewal grace for
/// a renewal.
fn grace(product: &ProductInput, stage: Stage) -> i64 {
    let p = &product.periods;
    months(match stage {
        Stage::New => p.grace_period_enrolment,
        Stage::Renewal => p.grace_period_renewal,
    })
}

/// Start and expiry of a policy enrolled on `enroll` (spec §5.2, the Python variant).
///
/// - A renewal that continues an earlier policy of the family (stage R, `previous_expiry` is
///   `Some(e)` and it is enrolled no later than the day after `e`) starts on the day after `e`:
///   the renewal picks up where the old policy ends, with no gap and no overlap. This is Bima's
///   rule; openIMIS recomputes the start from the enrolment date.
/// - Otherwise the reference date is the enrolment date, plus the product's administration
///   period for a new policy (not for a renewal).
///   - A free-cycle product starts on the reference date.
///   - A product with cycles starts on the first cycle day of the reference year that is no
///     earlier than the reference date minus the grace months (enrolment grace for a new
///     policy, renewal grace for a renewal), else on the first cycle day of the next year.
///     Cycles are taken in calendar order whatever order the product lists them in, and a
///     29-02 cycle falls on 28 February in a common year.
///
/// The policy expires the day before the same day `insurance_period` months after its start
/// (never before the start). A product without an insurance period, or with a cycle that is
/// not a day of the year, has no period.
pub fn policy_period(
    product: &ProductInput,
    stage: Stage,
    enroll: Date,
    previous_expiry: Option<Date>,
) -> Result<Period, PeriodError> {
    let insurance_period = product.periods.insurance_period;
    if insurance_period <= 0 {
        return Err(PeriodError::NoInsurancePeriod);
    }
    let cycles = cycles(product)?;
    let start = match (stage, previous_expiry) {
        (Stage::Renewal, Some(expiry)) if enroll <= next_day(expiry) => next_day(expiry),
        _ => {
            let reference = match stage {
                Stage::New => add_months(enroll, months(product.periods.administration_period)),
                Stage::Renewal => enroll,
            };
            cycle_start(&cycles, reference, grace(product, stage))
        }
    };
    let expiry = previous_day(add_months(start, insurance_period)).max(start);
    Ok(Period { start, expiry })
}

/// The start chosen among the cycle days for a reference date (the reference itself when
/// there are no cycles).
fn cycle_start(cycles: &[(Month, u8)], reference: Date, grace: i64) -> Date {
    let Some(&(first_month, first_day)) = cycles.first() else {
        return reference;
    };
    let earliest = add_months(reference, -grace);
    let year = reference.year();
    cycles
        .iter()
        .filter_map(|&(month, day)| on_day(year, month, day))
        .find(|&day| earliest <= day)
        .or_else(|| on_day(year.checked_add(1)?, first_month, first_day))
        .unwrap_or(Date::MAX)
}

/// The last date on which a payment still activates the policy (spec §6.3).
///
/// - Product with cycles: the policy's start plus the grace months (enrolment grace for a new
///   policy, renewal grace for a renewal).
/// - Free cycle, new policy: the enrolment date plus the payment grace (`grace_period_payment`).
/// - Free cycle, renewal: the policy's start plus the payment grace; a continuous renewal starts
///   the day after the old expiry, so this is openIMIS's "old expiry + 1 day + grace".
///
/// Then one day is taken off. A missing grace counts as no months, and the answer is never
/// before the enrolment date, nor, for a product with cycles, before the start: whoever
/// enrols can always pay on that day. (Bima's floor; openIMIS can answer a day that has
/// already passed.)
pub fn last_payment_date(product: &ProductInput, stage: Stage, enroll: Date, start: Date) -> Date {
    if has_cycles(product) {
        previous_day(add_months(start, grace(product, stage)))
            .max(start)
            .max(enroll)
    } else {
        let from = match stage {
            Stage::New => enroll,
            Stage::Renewal => start,
        };
        previous_day(add_months(
            from,
            months(product.periods.grace_period_payment),
        ))
        .max(enroll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{any_date, product};
    use proptest::prelude::*;
    use time::macros::date;

    fn cycled(cycles: &[&str], grace_enrolment: i64, grace_renewal: i64) -> ProductInput {
        let mut p = product();
        p.start_cycles = cycles.iter().map(|c| c.to_string()).collect();
        p.periods.grace_period_enrolment = Some(grace_enrolment);
        p.periods.grace_period_renewal = Some(grace_renewal);
        p
    }

    #[test]
    fn add_months_table() {
        let cases = [
            (date!(2026 - 01 - 31), 1, date!(2026 - 02 - 28)),
            (date!(2028 - 01 - 31), 1, date!(2028 - 02 - 29)),
            (date!(2026 - 03 - 31), -1, date!(2026 - 02 - 28)),
            (date!(2026 - 05 - 31), 1, date!(2026 - 06 - 30)),
            (date!(2026 - 12 - 15), 1, date!(2027 - 01 - 15)),
            (date!(2026 - 01 - 15), -1, date!(2025 - 12 - 15)),
            (date!(2026 - 01 - 15), -13, date!(2024 - 12 - 15)),
            (date!(2028 - 02 - 29), 12, date!(2029 - 02 - 28)),
            (date!(2026 - 04 - 15), 0, date!(2026 - 04 - 15)),
            (date!(2026 - 04 - 15), 120, date!(2036 - 04 - 15)),
            (Date::MAX, 1, Date::MAX),
            (Date::MIN, -1, Date::MIN),
            (date!(2026 - 04 - 15), i64::MAX, Date::MAX),
            (date!(2026 - 04 - 15), i64::MIN, Date::MIN),
        ];
        for (from, months, want) in cases {
            assert_eq!(add_months(from, months), want, "{from} + {months} months");
        }
    }

    #[test]
    fn has_cycles_ignores_blanks() {
        let mut p = product();
        assert!(!has_cycles(&p));
        p.start_cycles = vec!["".into(), "  ".into()];
        assert!(!has_cycles(&p));
        p.start_cycles.push("01-07".into());
        assert!(has_cycles(&p));
    }

    #[test]
    fn period_table() {
        let half_years = cycled(&["01-01", "01-07"], 1, 2);
        let mut administered = product();
        administered.periods.administration_period = Some(1);
        let leap_cycle = cycled(&["29-02"], 0, 0);
        let unsorted = cycled(&["01-07", "", "01-01"], 1, 2);
        type Case<'a> = (
            &'a str,
            &'a ProductInput,
            Stage,
            Date,
            Option<Date>,
            Date,
            Date,
        );
        #[rustfmt::skip]
        let cases: &[Case] = &[
            // Cycles 01-01 and 01-07, one month of enrolment grace.
            ("grace reaches back to January", &half_years, Stage::New, date!(2026 - 01 - 20), None, date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            ("grace boundary", &half_years, Stage::New, date!(2026 - 02 - 01), None, date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            ("past the grace: next cycle", &half_years, Stage::New, date!(2026 - 02 - 02), None, date!(2026 - 07 - 01), date!(2027 - 06 - 30)),
            ("mid February: July", &half_years, Stage::New, date!(2026 - 02 - 15), None, date!(2026 - 07 - 01), date!(2027 - 06 - 30)),
            ("December: first cycle of next year", &half_years, Stage::New, date!(2026 - 12 - 10), None, date!(2027 - 01 - 01), date!(2027 - 12 - 31)),
            ("listed order does not matter", &unsorted, Stage::New, date!(2026 - 01 - 20), None, date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            // A renewal uses the renewal grace (2 months).
            ("renewal grace", &half_years, Stage::Renewal, date!(2026 - 02 - 15), None, date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            ("29-02 in a common year", &leap_cycle, Stage::New, date!(2027 - 01 - 10), None, date!(2027 - 02 - 28), date!(2028 - 02 - 27)),
            ("29-02 in a leap year", &leap_cycle, Stage::New, date!(2028 - 01 - 10), None, date!(2028 - 02 - 29), date!(2029 - 02 - 27)),
            // Free cycle.
            ("free cycle", &product(), Stage::New, date!(2026 - 03 - 15), None, date!(2026 - 03 - 15), date!(2027 - 03 - 14)),
            ("administration period", &administered, Stage::New, date!(2026 - 03 - 15), None, date!(2026 - 04 - 15), date!(2027 - 04 - 14)),
            ("no administration period for a renewal", &administered, Stage::Renewal, date!(2026 - 03 - 15), None, date!(2026 - 03 - 15), date!(2027 - 03 - 14)),
            // Renewal continuity.
            ("early renewal continues", &administered, Stage::Renewal, date!(2026 - 12 - 01), Some(date!(2026 - 12 - 31)), date!(2027 - 01 - 01), date!(2027 - 12 - 31)),
            ("renewal on the day after", &product(), Stage::Renewal, date!(2027 - 01 - 01), Some(date!(2026 - 12 - 31)), date!(2027 - 01 - 01), date!(2027 - 12 - 31)),
            ("late renewal leaves a gap", &product(), Stage::Renewal, date!(2027 - 01 - 02), Some(date!(2026 - 12 - 31)), date!(2027 - 01 - 02), date!(2028 - 01 - 01)),
            ("continuity beats the cycles", &half_years, Stage::Renewal, date!(2026 - 03 - 01), Some(date!(2026 - 03 - 31)), date!(2026 - 04 - 01), date!(2027 - 03 - 31)),
            ("late renewal on cycles", &half_years, Stage::Renewal, date!(2026 - 04 - 10), Some(date!(2026 - 03 - 31)), date!(2026 - 07 - 01), date!(2027 - 06 - 30)),
            ("a new policy ignores a previous expiry", &product(), Stage::New, date!(2026 - 12 - 01), Some(date!(2026 - 12 - 31)), date!(2026 - 12 - 01), date!(2027 - 11 - 30)),
        ];
        for &(name, p, stage, enroll, previous, start, expiry) in cases {
            assert_eq!(
                policy_period(p, stage, enroll, previous),
                Ok(Period { start, expiry }),
                "{name}"
            );
        }
    }

    #[test]
    fn month_end_expiry() {
        let mut p = product();
        p.periods.insurance_period = 1;
        let period = policy_period(&p, Stage::New, date!(2026 - 01 - 31), None).unwrap();
        assert_eq!(period.expiry, date!(2026 - 02 - 27));
    }

    #[test]
    fn period_errors() {
        let mut p = product();
        p.periods.insurance_period = 0;
        let enroll = date!(2026 - 01 - 01);
        assert_eq!(
            policy_period(&p, Stage::New, enroll, None),
            Err(PeriodError::NoInsurancePeriod)
        );
        for bad in ["31-02", "1-1", "01/07", "00-01", "01-13"] {
            let p = cycled(&["01-01", bad], 0, 0);
            assert_eq!(
                policy_period(&p, Stage::New, enroll, None),
                Err(PeriodError::BadCycle(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn last_payment_table() {
        let half_years = cycled(&["01-01", "01-07"], 1, 2);
        let no_grace = cycled(&["01-01", "01-07"], 0, 0);
        let mut no_grace_missing = no_grace.clone();
        no_grace_missing.periods.grace_period_enrolment = None;
        let mut free = product();
        free.periods.grace_period_payment = Some(3);
        type Case<'a> = (&'a str, &'a ProductInput, Stage, Date, Date, Date);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("cycles, enrolment grace", &half_years, Stage::New, date!(2026 - 02 - 15), date!(2026 - 07 - 01), date!(2026 - 07 - 31)),
            ("cycles, renewal grace", &half_years, Stage::Renewal, date!(2026 - 12 - 01), date!(2027 - 01 - 01), date!(2027 - 02 - 28)),
            ("cycles, no grace: the start", &no_grace, Stage::New, date!(2026 - 06 - 15), date!(2026 - 07 - 01), date!(2026 - 07 - 01)),
            ("cycles, missing grace: the start", &no_grace_missing, Stage::New, date!(2026 - 06 - 15), date!(2026 - 07 - 01), date!(2026 - 07 - 01)),
            ("cycles, never before enrolment", &half_years, Stage::New, date!(2026 - 02 - 01), date!(2026 - 01 - 01), date!(2026 - 02 - 01)),
            ("free, new", &free, Stage::New, date!(2026 - 03 - 15), date!(2026 - 03 - 15), date!(2026 - 06 - 14)),
            ("free, new, no grace", &product(), Stage::New, date!(2026 - 03 - 15), date!(2026 - 03 - 15), date!(2026 - 03 - 15)),
            ("free, renewal", &free, Stage::Renewal, date!(2026 - 12 - 01), date!(2027 - 01 - 01), date!(2027 - 03 - 31)),
            ("free, renewal, no grace: the old expiry", &product(), Stage::Renewal, date!(2026 - 12 - 01), date!(2027 - 01 - 01), date!(2026 - 12 - 31)),
            ("free, renewal enrolled on its start", &product(), Stage::Renewal, date!(2027 - 01 - 01), date!(2027 - 01 - 01), date!(2027 - 01 - 01)),
        ];
        for &(name, p, stage, enroll, start, want) in cases {
            assert_eq!(last_payment_date(p, stage, enroll, start), want, "{name}");
        }
    }

    fn stage() -> impl Strategy<Value = Stage> {
        prop_oneof![Just(Stage::New), Just(Stage::Renewal)]
    }

    /// A product of 1..=600 months with random cycles and graces.
    fn any_product() -> impl Strategy<Value = ProductInput> {
        let cycle = (1u8..=28, 1u8..=12).prop_map(|(d, m)| format!("{d:02}-{m:02}"));
        (
            1i64..=600,
            proptest::collection::vec(cycle, 0..=4),
            proptest::option::of(-3i64..=24),
            proptest::option::of(-3i64..=24),
            proptest::option::of(-3i64..=24),
            proptest::option::of(-3i64..=24),
        )
            .prop_map(|(insurance, cycles, admin, enrolment, renewal, payment)| {
                let mut p = product();
                p.periods.insurance_period = insurance;
                p.start_cycles = cycles;
                p.periods.administration_period = admin;
                p.periods.grace_period_enrolment = enrolment;
                p.periods.grace_period_renewal = renewal;
                p.periods.grace_period_payment = payment;
                p
            })
    }

    proptest! {
        #[test]
        fn add_months_never_panics(date in any_date(), months in -1200i64..1200) {
            let moved = add_months(date, months);
            let index = |d: Date| i64::from(d.year()) * 12 + i64::from(u8::from(d.month()));
            prop_assert_eq!(index(moved) - index(date), months);
            prop_assert_eq!(moved.day(), date.day().min(moved.month().length(moved.year())));
        }

        #[test]
        fn add_months_any_input(julian in Date::MIN.to_julian_day()..=Date::MAX.to_julian_day(), months in any::<i64>()) {
            let date = Date::from_julian_day(julian).unwrap();
            let _ = add_months(date, months);
        }

        #[test]
        fn expiry_not_before_start(p in any_product(), stage in stage(), enroll in any_date(),
                                   previous in proptest::option::of(any_date())) {
            let period = policy_period(&p, stage, enroll, previous).unwrap();
            prop_assert!(period.expiry >= period.start);
            prop_assert!(period.start >= add_months(enroll, -24), "a start far before enrolment");
        }

        #[test]
        fn continuous_renewal_starts_the_day_after(p in any_product(), expiry in any_date(), early in 0i64..400) {
            let day_after = expiry.next_day().unwrap();
            let enroll = day_after - time::Duration::days(early);
            let period = policy_period(&p, Stage::Renewal, enroll, Some(expiry)).unwrap();
            prop_assert_eq!(period.start, day_after);
        }

        #[test]
        fn cycle_start_is_a_cycle_day(p in any_product(), enroll in any_date()) {
            let period = policy_period(&p, Stage::New, enroll, None).unwrap();
            if has_cycles(&p) {
                let text = format!("{:02}-{:02}", period.start.day(), u8::from(period.start.month()));
                prop_assert!(p.start_cycles.contains(&text));
            } else {
                prop_assert_eq!(period.start, add_months(enroll, months(p.periods.administration_period)));
            }
        }

        #[test]
        fn last_payment_never_before_enrolment(p in any_product(), stage in stage(), enroll in any_date(),
                                               previous in proptest::option::of(any_date())) {
            let period = policy_period(&p, stage, enroll, previous).unwrap();
            let last = last_payment_date(&p, stage, enroll, period.start);
            prop_assert!(last >= enroll);
            if has_cycles(&p) {
                prop_assert!(last >= period.start);
            }
        }
    }
}
