//! Review (spec §7.9): which claims a medical officer looks at, and what a review may change.
//!
//! The risk score (0–100) is Bima's own; openIMIS selects only by amount, at random or by
//! variance. It adds up what makes a claim worth a second look:
//!
//! | sign | points |
//! |---|---|
//! | a suspected duplicate (same insuree, facility, dates, items and services as another claim) | 40 |
//! | a diagnosis outside the ICD list | 20 |
//! | asked more than 20 % above what was approved (prices above the price list, lines cut) | 15 |
//! | some lines rejected, some accepted | 10 |
//! | approved amount at or above the scheme's review amount | 15 |
//! | a stay of more than one day | 5 |
//! | an emergency visit | 5 |
//!
//! capped at 100. A checked claim scoring at or above the scheme's threshold (default 40, so
//! that a suspected duplicate alone is enough) is selected for review at submission.

use super::VisitType;
use uuid::Uuid;

/// What the risk score looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RiskSigns {
    pub suspected_duplicate: bool,
    pub unknown_diagnosis: bool,
    pub claimed: i64,
    pub approved: i64,
    pub lines_rejected: usize,
    pub lines_accepted: usize,
    pub multi_day: bool,
    pub visit_type: Option<VisitType>,
}

/// The risk score of a checked claim, 0–100 (table above). `review_amount` is the approved
/// amount from which a claim scores for its size (none: size does not count).
pub fn risk_score(s: &RiskSigns, review_amount: Option<i64>) -> i64 {
    let mut score = 0;
    if s.suspected_duplicate {
        score += 40;
    }
    if s.unknown_diagnosis {
        score += 20;
    }
    // claimed > 1.2 × approved, in integers.
    if s.approved >= 0 && s.claimed.saturating_mul(100) > s.approved.saturating_mul(120) {
        score += 15;
    }
    if s.lines_rejected > 0 && s.lines_accepted > 0 {
        score += 10;
    }
    if review_amount.is_some_and(|limit| s.approved >= limit) {
        score += 15;
    }
    if s.multi_day {
        score += 5;
    }
    if s.visit_type == Some(VisitType::Emergency) {
        score += 5;
    }
    score.min(100)
}

/// A random selection of `percent` % of claims that is the same for the same claim and draw:
/// the claim's id mixed with the draw's salt, reduced to 0–99.
pub fn drawn(claim: Uuid, salt: u64, percent: i64) -> bool {
    if percent <= 0 {
        return false;
    }
    if percent >= 100 {
        return true;
    }
    // SplitMix64 finaliser over the id's two halves and the salt: well spread, no dependency.
    let (hi, lo) = claim.as_u64_pair();
    let mut x = hi ^ lo.rotate_left(32) ^ salt;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    ((x % 100) as i64) < percent
}

/// What a medical officer may do to a line at review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReview {
    pub reject: bool,
    pub qty_approved: Option<i64>,
    pub price_approved: Option<i64>,
    pub justification: Option<String>,
}

/// Why a review of a line cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("a change needs a justification")]
    NoJustification,
    #[error("the approved quantity must be between 0 and the {0} provided")]
    Quantity(i64),
    #[error("the approved price cannot be negative")]
    Price,
}

/// Check a review of one line provided `qty` units: any change (a rejection, a quantity or a
/// price) needs a justification; the quantity cannot rise above what was provided.
pub fn check_line(review: &LineReview, qty: i64) -> Result<(), ReviewError> {
    let changes = review.reject || review.qty_approved.is_some() || review.price_approved.is_some();
    if changes
        && review
            .justification
            .as_deref()
            .is_none_or(|j| j.trim().is_empty())
    {
        return Err(ReviewError::NoJustification);
    }
    if review.qty_approved.is_some_and(|q| q < 0 || q > qty) {
        return Err(ReviewError::Quantity(qty));
    }
    if review.price_approved.is_some_and(|p| p < 0) {
        return Err(ReviewError::Price);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn risk_score_table() {
        let base = RiskSigns {
            claimed: 1000,
            approved: 1000,
            lines_accepted: 2,
            ..RiskSigns::default()
        };
        let cases: &[(RiskSigns, Option<i64>, i64)] = &[
            (base, None, 0),
            (
                RiskSigns {
                    suspected_duplicate: true,
                    ..base
                },
                None,
                40,
            ),
            (
                RiskSigns {
                    unknown_diagnosis: true,
                    ..base
                },
                None,
                20,
            ),
            (
                RiskSigns {
                    claimed: 1201,
                    ..base
                },
                None,
                15,
            ),
            (
                RiskSigns {
                    claimed: 1200,
                    ..base
                },
                None,
                0,
            ),
            (
                RiskSigns {
                    lines_rejected: 1,
                    ..base
                },
                None,
                10,
            ),
            (
                RiskSigns {
                    lines_rejected: 1,
                    lines_accepted: 0,
                    ..base
                },
                None,
                0,
            ),
            (base, Some(1000), 15),
            (base, Some(1001), 0),
            (
                RiskSigns {
                    multi_day: true,
                    visit_type: Some(VisitType::Emergency),
                    ..base
                },
                None,
                10,
            ),
            (
                RiskSigns {
                    suspected_duplicate: true,
                    unknown_diagnosis: true,
                    claimed: 5000,
                    lines_rejected: 1,
                    multi_day: true,
                    visit_type: Some(VisitType::Emergency),
                    ..base
                },
                Some(0),
                100,
            ),
        ];
        for (signs, amount, expected) in cases {
            assert_eq!(
                risk_score(signs, *amount),
                *expected,
                "{signs:?} {amount:?}"
            );
        }
    }

    #[test]
    fn a_review_change_needs_a_justification_and_a_possible_quantity() {
        let none = LineReview {
            reject: false,
            qty_approved: None,
            price_approved: None,
            justification: None,
        };
        assert_eq!(check_line(&none, 3), Ok(()));
        let cut = LineReview {
            qty_approved: Some(2),
            ..none.clone()
        };
        assert_eq!(check_line(&cut, 3), Err(ReviewError::NoJustification));
        let cut = LineReview {
            justification: Some("only two given".into()),
            ..cut
        };
        assert_eq!(check_line(&cut, 3), Ok(()));
        let more = LineReview {
            qty_approved: Some(4),
            ..cut.clone()
        };
        assert_eq!(check_line(&more, 3), Err(ReviewError::Quantity(3)));
        let price = LineReview {
            price_approved: Some(-1),
            ..cut.clone()
        };
        assert_eq!(check_line(&price, 3), Err(ReviewError::Price));
        let reject = LineReview {
            reject: true,
            justification: Some("  ".into()),
            ..none
        };
        assert_eq!(check_line(&reject, 3), Err(ReviewError::NoJustification));
    }

    proptest! {
        #[test]
        fn the_score_stays_within_0_and_100(
            dup in any::<bool>(), icd in any::<bool>(), claimed in 0i64..1_000_000, approved in 0i64..1_000_000,
            rejected in 0usize..5, accepted in 0usize..5, stay in any::<bool>(), amount in proptest::option::of(0i64..1_000_000),
        ) {
            let s = RiskSigns { suspected_duplicate: dup, unknown_diagnosis: icd, claimed, approved,
                lines_rejected: rejected, lines_accepted: accepted, multi_day: stay, visit_type: None };
            let score = risk_score(&s, amount);
            prop_assert!((0..=100).contains(&score));
            if dup { prop_assert!(score >= 40); }
        }

        #[test]
        fn a_draw_selects_about_the_percent_asked(salt in any::<u64>(), percent in 0i64..=100) {
            let n = 2000;
            let hits = (0..n).filter(|i| drawn(Uuid::from_u128(*i as u128 * 7919 + 13), salt, percent)).count() as i64;
            // Within 5 points of the percent asked.
            prop_assert!((hits * 100 / n - percent).abs() <= 5, "{hits} of {n} at {percent} %");
        }
    }
}
