//! Who a policy covers, and from when (spec §2.3).
//!
//! A policy belongs to a family, but a person is covered only through their own insuree-policy
//! window: from its effective date to its expiry date, both included, and only while the policy
//! is active (or, for dates inside the window, expired).

use crate::rules::PolicyStatus;
use time::Date;

/// What happens to a family's policy when a person joins the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Join {
    /// The policy does not take the new member.
    NotCovered { reason: String },
    /// The new member is on the policy; `effective` is when their coverage starts (none: not
    /// covered until the policy is (fully) paid).
    Covered { effective: Option<Date> },
}

/// A person joins (on `joined`) a family holding a policy (openIMIS `uspAddInsureePolicy`).
///
/// - If the family now has more members than the product's `max_members`, the policy does not
///   cover the newcomer.
/// - Otherwise they are on the policy. If their arrival raised the policy value and what has
///   been paid (photo fees left out) is below the new value, they are not covered until the
///   top-up is paid (`effective` none).
/// - Else they are covered from the policy's effective date, but never before the day they
///   joined; while the policy has no effective date (not paid yet), neither do they.
pub fn member_joins(
    max_members: i64,
    members_after: i64,
    policy_effective: Option<Date>,
    joined: Date,
    value_before: i64,
    value_after: i64,
    paid: i64,
) -> Join {
    if members_after > max_members {
        return Join::NotCovered {
            reason: format!(
                "the family has {members_after} members, the product covers at most {max_members}"
            ),
        };
    }
    if value_after > value_before && paid < value_after {
        return Join::Covered { effective: None };
    }
    Join::Covered {
        effective: policy_effective.map(|effective| effective.max(joined)),
    }
}

/// Does an insuree-policy window cover `date`? Only an active or expired policy covers, and only
/// from the insuree's effective date to the expiry date, both included; without an effective
/// date it covers nothing. (An expired policy still covers the days of its window: a claim for
/// a service given then is paid.)
pub fn covers(status: PolicyStatus, effective: Option<Date>, expiry: Date, date: Date) -> bool {
    matches!(status, PolicyStatus::Active | PolicyStatus::Expired)
        && effective.is_some_and(|effective| effective <= date)
        && date <= expiry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::any_date;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn joins_table() {
        let paid_from = Some(date!(2026 - 02 - 01));
        let joined = date!(2026 - 05 - 10);
        let early = date!(2026 - 01 - 15);
        #[rustfmt::skip]
        let cases = [
            ("too many members", 6, 7, paid_from, joined, 1000, 1500, 1000,
             Join::NotCovered { reason: "the family has 7 members, the product covers at most 6".into() }),
            ("exactly the maximum, value unchanged", 6, 6, paid_from, joined, 1000, 1000, 1000,
             Join::Covered { effective: Some(joined) }),
            ("value went up, top-up unpaid", 6, 5, paid_from, joined, 1000, 1500, 1000,
             Join::Covered { effective: None }),
            ("value went up, already paid enough", 6, 5, paid_from, joined, 1000, 1500, 1500,
             Join::Covered { effective: Some(joined) }),
            ("joined before the policy took effect", 6, 5, paid_from, early, 1000, 1000, 1000,
             Join::Covered { effective: paid_from }),
            ("policy not paid yet", 6, 5, None, joined, 1000, 1000, 0,
             Join::Covered { effective: None }),
            ("value went down", 6, 5, paid_from, joined, 1500, 1000, 0,
             Join::Covered { effective: Some(joined) }),
        ];
        for (name, max, after, effective, joined, before, value_after, paid, want) in cases {
            assert_eq!(
                member_joins(max, after, effective, joined, before, value_after, paid),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn covers_table() {
        let from = Some(date!(2026 - 02 - 01));
        let expiry = date!(2027 - 01 - 31);
        #[rustfmt::skip]
        let cases = [
            ("active, inside", PolicyStatus::Active, from, date!(2026 - 06 - 01), true),
            ("active, first day", PolicyStatus::Active, from, date!(2026 - 02 - 01), true),
            ("active, last day", PolicyStatus::Active, from, date!(2027 - 01 - 31), true),
            ("active, before", PolicyStatus::Active, from, date!(2026 - 01 - 31), false),
            ("active, after", PolicyStatus::Active, from, date!(2027 - 02 - 01), false),
            ("expired, inside", PolicyStatus::Expired, from, date!(2026 - 06 - 01), true),
            ("expired, after", PolicyStatus::Expired, from, date!(2027 - 02 - 01), false),
            ("idle", PolicyStatus::Idle, from, date!(2026 - 06 - 01), false),
            ("ready", PolicyStatus::Ready, from, date!(2026 - 06 - 01), false),
            ("suspended", PolicyStatus::Suspended, from, date!(2026 - 06 - 01), false),
            ("no effective date", PolicyStatus::Active, None, date!(2026 - 06 - 01), false),
        ];
        for (name, status, effective, date, want) in cases {
            assert_eq!(covers(status, effective, expiry, date), want, "{name}");
        }
    }

    proptest! {
        #[test]
        fn a_newcomer_is_never_covered_before_joining(
            max in 0i64..10, after in 0i64..12,
            effective in proptest::option::of(any_date()), joined in any_date(),
            before in 0i64..5000, value_after in 0i64..5000, paid in 0i64..5000,
        ) {
            match member_joins(max, after, effective, joined, before, value_after, paid) {
                Join::NotCovered { .. } => prop_assert!(after > max),
                Join::Covered { effective: Some(from) } => {
                    prop_assert!(from >= joined);
                    prop_assert!(effective.is_some_and(|e| from >= e));
                }
                Join::Covered { effective: None } => {}
            }
        }

        #[test]
        fn coverage_stays_inside_the_window(
            status in proptest::sample::select(PolicyStatus::ALL),
            effective in proptest::option::of(any_date()), expiry in any_date(), date in any_date(),
        ) {
            if covers(status, effective, expiry, date) {
                prop_assert!(effective.is_some_and(|e| e <= date) && date <= expiry);
            }
        }
    }
}
