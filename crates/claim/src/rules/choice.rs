//! Which product pays a line (spec §7.7): among the products that cover it, the one that leaves
//! the patient paying least.

use super::{LineKind, VisitType};
use product::model::{CeilingExclusion, LimitationType, PriceOrigin, ProductInput};
use serde::Serialize;
use uuid::Uuid;

/// The terms of one product for one item or service, for this patient and visit type, with the
/// defaults of §4.1 filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub price_origin: PriceOrigin,
    pub limitation: LimitationType,
    /// C: percent the insurer pays; F: most the insurer pays per unit (minor units).
    pub limit: i64,
    /// Months without coverage after the insuree's coverage starts.
    pub waiting_months: Option<i64>,
    /// Most units per insuree per policy period.
    pub max_units: Option<i64>,
    pub ceiling_exclusion: Option<CeilingExclusion>,
}

/// The product's terms for an item or service; none when the product does not cover it.
pub fn terms(
    product: &ProductInput,
    kind: LineKind,
    register_id: Uuid,
    visit: VisitType,
    adult: bool,
) -> Option<Terms> {
    macro_rules! of {
        ($line:expr) => {{
            let line = $line;
            let index = match visit {
                VisitType::Other => 0,
                VisitType::Referral => 1,
                VisitType::Emergency => 2,
            };
            let (_, kind, limit_adult, limit_child) = line.limits()[index];
            let limitation = kind.unwrap_or(LimitationType::CoInsurance);
            let default = match limitation {
                LimitationType::CoInsurance => 100,
                LimitationType::Fixed => 0,
            };
            fn pick<T>(adult: bool, adult_value: Option<T>, child_value: Option<T>) -> Option<T> {
                if adult { adult_value } else { child_value }
            }
            Terms {
                price_origin: line.price_origin.unwrap_or(PriceOrigin::Schema),
                limitation,
                limit: pick(adult, limit_adult, limit_child).unwrap_or(default),
                waiting_months: pick(adult, line.waiting_period_adult, line.waiting_period_child)
                    .filter(|&m| m > 0),
                max_units: pick(adult, line.limit_no_adult, line.limit_no_child).filter(|&n| n > 0),
                ceiling_exclusion: pick(
                    adult,
                    line.ceiling_exclusion_adult,
                    line.ceiling_exclusion_child,
                ),
            }
        }};
    }
    match kind {
        LineKind::Item => product
            .items
            .iter()
            .find(|l| l.item_id == register_id)
            .map(|l| of!(l)),
        LineKind::Service => product
            .services
            .iter()
            .find(|l| l.service_id == register_id)
            .map(|l| of!(l)),
    }
}

/// The product and policy chosen to pay a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub policy_id: Uuid,
    pub product_id: Uuid,
    pub price_origin: PriceOrigin,
    pub limitation: LimitationType,
    pub limitation_value: i64,
}

/// Of the candidates' terms, the index of the one that leaves the patient paying least for a
/// unit at `price`: the best co-insurance line (highest percent) against the best fixed-amount
/// line (highest amount). A fixed amount of 0 (no cap) or above the price wins; otherwise the one
/// with the smaller share for the patient (co-insurance on a tie). None without candidates.
pub fn choose(candidates: &[Terms], price: i64) -> Option<usize> {
    let best = |kind: LimitationType| {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, t)| t.limitation == kind)
            // A fixed amount of 0 has no cap: better than any amount.
            .max_by_key(|(i, t)| {
                let rank = match t.limitation {
                    LimitationType::Fixed if t.limit == 0 => i64::MAX,
                    _ => t.limit,
                };
                (rank, std::cmp::Reverse(*i))
            })
            .map(|(i, t)| (i, t.limit))
    };
    match (
        best(LimitationType::CoInsurance),
        best(LimitationType::Fixed),
    ) {
        (None, None) => None,
        (Some((c, _)), None) => Some(c),
        (None, Some((f, _))) => Some(f),
        (Some((c, percent)), Some((f, fixed))) => {
            if fixed == 0 || fixed > price {
                Some(f)
            } else if percent < 100 {
                // Patient's share per unit, ×100 to stay in integers.
                let own_fixed = (price - fixed) * 100;
                let own_coinsurance = (100 - percent) * price;
                Some(if own_coinsurance > own_fixed { f } else { c })
            } else {
                Some(c)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use proptest::prelude::*;

    fn t(limitation: LimitationType, limit: i64) -> Terms {
        Terms {
            price_origin: PriceOrigin::Schema,
            limitation,
            limit,
            waiting_months: None,
            max_units: None,
            ceiling_exclusion: None,
        }
    }
    use LimitationType::{CoInsurance as C, Fixed as F};

    #[test]
    fn least_cost_for_the_patient_table() {
        // (candidates, price, chosen index) — spec §7.7.
        let cases: &[(&[Terms], i64, Option<usize>)] = &[
            (&[], 1000, None),
            (&[t(C, 80)], 1000, Some(0)),
            (&[t(F, 500)], 1000, Some(0)),
            // The highest percent among co-insurance lines.
            (&[t(C, 50), t(C, 90), t(C, 70)], 1000, Some(1)),
            // A fixed amount above the price pays it all: F.
            (&[t(C, 80), t(F, 1500)], 1000, Some(1)),
            // A fixed amount of 0 has no cap: F.
            (&[t(C, 80), t(F, 0)], 1000, Some(1)),
            // ... and beats a capped fixed amount.
            (&[t(F, 600), t(F, 0), t(C, 80)], 1000, Some(1)),
            // 100 % co-insurance beats a capped fixed amount.
            (&[t(C, 100), t(F, 600)], 1000, Some(0)),
            // 80 %: the patient pays 200; fixed 600: the patient pays 400 → C.
            (&[t(C, 80), t(F, 600)], 1000, Some(0)),
            // 50 %: the patient pays 500; fixed 900: the patient pays 100 → F.
            (&[t(C, 50), t(F, 900)], 1000, Some(1)),
            // Equal shares: co-insurance.
            (&[t(C, 50), t(F, 500)], 1000, Some(0)),
        ];
        for (candidates, price, expected) in cases {
            assert_eq!(
                choose(candidates, *price),
                *expected,
                "{candidates:?} at {price}"
            );
        }
    }

    #[test]
    fn terms_follow_the_visit_type_and_age() {
        let id = Uuid::from_u128(7);
        let mut p = product("P");
        let mut line = item_line(id);
        line.limit_adult = Some(80);
        line.limit_child = Some(100);
        line.limitation_type_e = Some(F);
        line.limit_adult_e = Some(2500);
        line.waiting_period_child = Some(3);
        line.limit_no_adult = Some(0);
        p.items.push(line);
        let adult = terms(&p, LineKind::Item, id, VisitType::Other, true).unwrap();
        assert_eq!((adult.limitation, adult.limit), (C, 80));
        assert_eq!(adult.waiting_months, None);
        assert_eq!(adult.max_units, None, "0 means no limit");
        let child = terms(&p, LineKind::Item, id, VisitType::Other, false).unwrap();
        assert_eq!((child.limit, child.waiting_months), (100, Some(3)));
        let emergency = terms(&p, LineKind::Item, id, VisitType::Emergency, true).unwrap();
        assert_eq!((emergency.limitation, emergency.limit), (F, 2500));
        assert_eq!(
            terms(&p, LineKind::Service, id, VisitType::Other, true),
            None
        );
        assert_eq!(
            terms(&p, LineKind::Item, Uuid::nil(), VisitType::Other, true),
            None
        );
    }

    fn any_terms() -> impl Strategy<Value = Terms> {
        (any::<bool>(), 0i64..=100, 0i64..5_000).prop_map(|(co, percent, fixed)| {
            if co { t(C, percent) } else { t(F, fixed) }
        })
    }

    /// The patient's share per unit (×100) under some terms.
    fn own(terms: &Terms, price: i64) -> i64 {
        match terms.limitation {
            C => (100 - terms.limit) * price,
            F if terms.limit == 0 || terms.limit >= price => 0,
            F => (price - terms.limit) * 100,
        }
    }

    proptest! {
        #[test]
        fn the_choice_is_a_candidate_and_never_costs_more_than_the_best_of_its_kind(
            candidates in proptest::collection::vec(any_terms(), 0..6),
            price in 1i64..10_000,
        ) {
            match choose(&candidates, price) {
                None => prop_assert!(candidates.is_empty()),
                Some(i) => {
                    prop_assert!(i < candidates.len());
                    let chosen = own(&candidates[i], price);
                    let best = candidates.iter().map(|c| own(c, price)).min().unwrap();
                    prop_assert_eq!(chosen, best);
                }
            }
        }
    }
}
