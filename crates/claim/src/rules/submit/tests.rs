//! One case per rejection reason of §7.5 and per step of §7.6, each from the spec.

use super::*;
use crate::rules::testing::*;
use crate::rules::{Facility, History, Line, PastClaim, Patient, Provision, VisitType};
use product::model::{LimitationType, ProductInput};
use proptest::prelude::*;
use time::Date;
use time::macros::date;
use uuid::Uuid;

const PARA: Uuid = Uuid::from_u128(1);
const CONS: Uuid = Uuid::from_u128(2);

/// The world of one test: a product covering PARA and CONS, a patient covered through 2026.
struct World {
    product: ProductInput,
    facility: Facility,
    patient: Patient,
    lines: Vec<Line>,
    history: History,
    date_from: Date,
    date_to: Option<Date>,
    date_claimed: Date,
    visit: VisitType,
    stage: Stage,
    insuree_effective: Date,
    covered: bool,
}

impl World {
    fn new() -> Self {
        let mut product = product("BASIC");
        product.items.push(item_line(PARA));
        product.services.push(service_line(CONS));
        World {
            product,
            facility: facility(),
            patient: patient(),
            lines: vec![
                item(PARA, 2, 500),
                service(CONS, 1, 3000, Category::Consultation),
            ],
            history: History::default(),
            date_from: date!(2026 - 06 - 10),
            date_to: None,
            date_claimed: date!(2026 - 06 - 10),
            visit: VisitType::Other,
            stage: Stage::Renewal,
            insuree_effective: date!(2026 - 01 - 01),
            covered: true,
        }
    }

    fn decide(&self) -> Decision {
        let mut cover = cover(&self.product);
        cover.stage = self.stage;
        cover.insuree_effective = self.insuree_effective;
        let covers = if self.covered { vec![cover] } else { vec![] };
        submit(&ClaimFacts {
            date_claimed: self.date_claimed,
            date_from: self.date_from,
            date_to: self.date_to,
            visit_type: self.visit,
            facility: &self.facility,
            patient: &self.patient,
            lines: &self.lines,
            covers: &covers,
            history: &self.history,
        })
    }

    /// The reason codes of the lines.
    fn reasons(&self) -> Vec<i16> {
        self.decide()
            .lines
            .iter()
            .map(|l| l.reason.code())
            .collect()
    }
}

#[test]
fn reason_0_a_covered_claim_is_checked_with_its_totals() {
    let w = World::new();
    let d = w.decide();
    assert_eq!(d.outcome, ClaimOutcome::Checked);
    assert_eq!(d.rejection_reason, Reason::Accepted);
    assert_eq!(d.category, Category::Consultation);
    assert_eq!((d.claimed, d.approved), (4000, 4000));
    let line = &d.lines[0];
    assert_eq!(
        (line.reason, line.qty_approved, line.price_adjusted),
        (Reason::Accepted, 2, Some(500))
    );
    assert_eq!(line.rule, "accepted");
    assert_eq!(line.explanation, "Accepted under product BASIC: 2 × 5.00.");
    let a = line.assignment.unwrap();
    assert_eq!(
        (a.limitation, a.limitation_value),
        (LimitationType::CoInsurance, 100)
    );
    assert_eq!(
        d.explanation,
        "2 of 2 lines accepted; 40.00 approved of 40.00 claimed."
    );
}

#[test]
fn a_price_above_the_price_list_is_approved_at_the_list_price_unless_origin_o() {
    let mut w = World::new();
    w.lines[0].price_asked = 800; // list: 500
    w.lines[0].price_list = Some(500);
    let d = w.decide();
    assert_eq!(d.lines[0].price_adjusted, Some(500));
    assert_eq!((d.claimed, d.approved), (4600, 4000));
    assert!(
        d.lines[0]
            .explanation
            .contains("the price list's price; 8.00 was asked"),
        "{}",
        d.lines[0].explanation
    );
    // Below the list, what was asked.
    w.lines[0].price_asked = 300;
    assert_eq!(w.decide().lines[0].price_adjusted, Some(300));
    // Origin O: the facility's own price.
    w.lines[0].price_asked = 800;
    w.product.items[0].price_origin = Some(PriceOrigin::Own);
    assert_eq!(w.decide().lines[0].price_adjusted, Some(800));
}

#[test]
fn reason_9_a_claim_dated_before_the_visit_rejects_every_line() {
    let mut w = World::new();
    w.date_claimed = date!(2026 - 06 - 09);
    let d = w.decide();
    assert_eq!(d.outcome, ClaimOutcome::Rejected);
    assert_eq!(d.rejection_reason, Reason::TargetDate);
    assert_eq!(w.reasons(), [9, 9]);
    assert_eq!(
        d.lines[0].explanation,
        "The claim is dated 2026-06-09, before the visit on 2026-06-10."
    );
    assert_eq!(d.approved, 0);
}

#[test]
fn reason_7_a_deleted_insuree() {
    let mut w = World::new();
    w.patient.deleted = true;
    assert_eq!(w.reasons(), [7, 7]);
    assert_eq!(w.decide().rejection_reason, Reason::InvalidInsuree);
}

#[test]
fn reason_21_no_window_covers_the_stay_and_the_lines_get_7() {
    let mut w = World::new();
    w.covered = false;
    let d = w.decide();
    assert_eq!(d.rejection_reason, Reason::NoCoverage);
    assert_eq!(d.rejection_reason.code(), 21);
    assert_eq!(w.reasons(), [7, 7]);
    assert_eq!(
        d.lines[1].explanation,
        "Insuree 100000001 has no active policy covering them on 2026-06-10."
    );
    // A stay that runs past the window's end is not covered either.
    let mut w = World::new();
    w.date_from = date!(2026 - 12 - 30);
    w.date_to = Some(date!(2027 - 01 - 02));
    w.date_claimed = date!(2027 - 01 - 02);
    assert_eq!(w.reasons(), [7, 7]);
    assert!(
        w.decide()
            .explanation
            .contains("from 2026-12-30 to 2027-01-02")
    );
}

#[test]
fn reason_1_an_item_no_longer_in_the_register() {
    let mut w = World::new();
    w.lines[0].current = false;
    assert_eq!(w.reasons(), [1, 0]);
    assert_eq!(
        w.decide().lines[0].explanation,
        "Item PARA (Paracetamol) is no longer in the register."
    );
}

#[test]
fn reason_2_not_in_the_facilitys_price_list() {
    let mut w = World::new();
    w.lines[1].price_list = None;
    let d = w.decide();
    assert_eq!(w.reasons(), [0, 2]);
    assert_eq!(
        d.lines[1].explanation,
        "Service CONS (Consultation) is not in the price list of health facility HF01 (Town Clinic)."
    );
    assert_eq!(d.outcome, ClaimOutcome::Checked, "one line passed");
    assert_eq!(d.approved, 1000);
}

#[test]
fn reason_3_no_product_covers_it() {
    let mut w = World::new();
    w.product.items.clear();
    assert_eq!(w.reasons(), [3, 0]);
    assert!(
        w.decide().lines[0]
            .explanation
            .contains("is not covered by any product")
    );
}

#[test]
fn reason_4_patient_category() {
    let mut w = World::new();
    w.lines[0].patient_category = 2 | 4 | 8; // women only
    assert_eq!(w.reasons(), [4, 0]);
    assert_eq!(
        w.decide().lines[0].explanation,
        "Item PARA (Paracetamol) is for women and adults and children only; the patient is a man (adult)."
    );
    w.lines[0].patient_category = 1 | 2 | 8; // children
    assert_eq!(w.reasons(), [4, 0]);
    w.patient.dob = date!(2015 - 01 - 01);
    assert_eq!(w.reasons(), [0, 0], "a boy may have it");
    w.lines[0].patient_category = 0;
    assert_eq!(w.reasons(), [0, 0], "0 means everyone");
}

#[test]
fn reason_5_frequency_counts_provisions_on_either_side_within_the_days() {
    let mut w = World::new();
    w.lines[0].frequency = Some(30);
    let given = |date: Date| Provision {
        kind: LineKind::Item,
        register_id: PARA,
        date,
        qty: 1,
    };
    w.history.provisions = vec![given(date!(2026 - 05 - 11))]; // 30 days before
    assert_eq!(w.reasons(), [5, 0]);
    assert!(
        w.decide().lines[0]
            .explanation
            .contains("once every 30 days; this insuree received it on 2026-05-11")
    );
    w.history.provisions = vec![given(date!(2026 - 05 - 10))]; // 31 days before
    assert_eq!(w.reasons(), [0, 0]);
    w.history.provisions = vec![given(date!(2026 - 06 - 20))]; // a later claim, within the days
    assert_eq!(w.reasons(), [5, 0]);
    w.history.provisions = vec![given(date!(2026 - 11 - 20))]; // months later: openIMIS would count it
    assert_eq!(w.reasons(), [0, 0]);
}

#[test]
fn reason_10_care_type() {
    let mut w = World::new();
    w.facility.care_type = CareType::OutPatient;
    w.lines[0].care_type = CareType::InPatient;
    assert_eq!(w.reasons(), [10, 0]);
    w.lines[0].care_type = CareType::Both;
    w.date_to = Some(date!(2026 - 06 - 12));
    w.date_claimed = date!(2026 - 06 - 12);
    assert_eq!(
        w.reasons(),
        [10, 10],
        "an out-patient facility claims no stays"
    );
    let mut w = World::new();
    w.facility.care_type = CareType::InPatient;
    w.lines[1].care_type = CareType::OutPatient;
    assert_eq!(w.reasons(), [0, 10]);
}

#[test]
fn checks_run_in_openimis_order() {
    // An item out of the register and out of the price list: 1 first.
    let mut w = World::new();
    w.lines[0].current = false;
    w.lines[0].price_list = None;
    assert_eq!(w.reasons()[0], 1);
    // An item: patient category (4) before frequency (5); a service: frequency first.
    let mut w = World::new();
    for line in &mut w.lines {
        line.patient_category = 2 | 4;
        line.frequency = Some(30);
    }
    w.history.provisions = vec![
        Provision {
            kind: LineKind::Item,
            register_id: PARA,
            date: date!(2026 - 06 - 01),
            qty: 1,
        },
        Provision {
            kind: LineKind::Service,
            register_id: CONS,
            date: date!(2026 - 06 - 01),
            qty: 1,
        },
    ];
    assert_eq!(w.reasons(), [4, 5]);
}

#[test]
fn reason_17_waiting_period_for_new_policies_and_late_members() {
    let mut w = World::new();
    w.product.items[0].waiting_period_adult = Some(6);
    w.stage = Stage::New;
    assert_eq!(w.reasons(), [17, 0], "covered from 2026-07-01");
    assert!(
        w.decide().lines[0]
            .explanation
            .contains("from 2026-07-01, after a waiting period of 6 months")
    );
    w.date_from = date!(2026 - 07 - 01);
    w.date_claimed = w.date_from;
    assert_eq!(w.reasons(), [0, 0]);
    // A renewal does not wait…
    let mut w = World::new();
    w.product.items[0].waiting_period_adult = Some(6);
    w.stage = Stage::Renewal;
    assert_eq!(w.reasons(), [0, 0]);
    // …unless the member joined after the policy took effect.
    w.insuree_effective = date!(2026 - 03 - 01);
    assert_eq!(w.reasons(), [17, 0]);
}

#[test]
fn reason_16_most_units_per_period_with_partial_acceptance() {
    let mut w = World::new();
    w.product.items[0].limit_no_adult = Some(5);
    let given = |qty| Provision {
        kind: LineKind::Item,
        register_id: PARA,
        date: date!(2026 - 02 - 01),
        qty,
    };
    w.history.provisions = vec![given(4)];
    let d = w.decide();
    assert_eq!(d.lines[0].reason, Reason::Accepted);
    assert_eq!(d.lines[0].qty_approved, 1, "1 of the 2 asked is left");
    assert_eq!(d.approved, 500 + 3000);
    w.history.provisions = vec![given(5)];
    assert_eq!(w.reasons(), [16, 0]);
    // Provisions of an earlier policy period do not count.
    w.history.provisions = vec![Provision {
        date: date!(2025 - 12 - 31),
        ..given(5)
    }];
    assert_eq!(w.reasons(), [0, 0]);
}

#[test]
fn reasons_11_to_15_and_19_category_limits_reject_the_whole_claim() {
    let cases = [
        (Category::Consultation, 13),
        (Category::Surgery, 14),
        (Category::Delivery, 15),
        (Category::Antenatal, 19),
        (Category::Visit, 12),
    ];
    for (category, code) in cases {
        let mut w = World::new();
        w.lines[1].service_category = Some(category);
        let limits = &mut w.product.limits;
        match category {
            Category::Consultation => limits.max_no_consultation = Some(2),
            Category::Surgery => limits.max_no_surgery = Some(2),
            Category::Delivery => limits.max_no_delivery = Some(2),
            Category::Antenatal => limits.max_no_antenatal = Some(2),
            _ => limits.max_no_visits = Some(2),
        }
        let past = PastClaim {
            category: Some(category),
            date: date!(2026 - 03 - 01),
        };
        w.history.claims = vec![past];
        assert_eq!(w.reasons(), [0, 0], "{category:?}: one of two used");
        w.history.claims = vec![past, past];
        assert_eq!(w.reasons(), [code, code], "{category:?}: the whole claim");
        assert_eq!(w.decide().outcome, ClaimOutcome::Rejected);
    }
    // 11: a stay of several days is a hospitalisation.
    let mut w = World::new();
    w.date_to = Some(date!(2026 - 06 - 13));
    w.date_claimed = date!(2026 - 06 - 13);
    w.product.limits.max_no_hospitalization = Some(1);
    w.history.claims = vec![PastClaim {
        category: Some(Category::Hospitalization),
        date: date!(2026 - 02 - 01),
    }];
    assert_eq!(w.reasons(), [11, 11]);
    assert!(
        w.decide().lines[0]
            .explanation
            .contains("allows 1 hospital admissions per policy period")
    );
    // Claims without a category count as visits.
    let mut w = World::new();
    w.lines[1].service_category = Some(Category::Visit);
    w.product.limits.max_no_visits = Some(1);
    w.history.claims = vec![PastClaim {
        category: None,
        date: date!(2026 - 02 - 01),
    }];
    assert_eq!(w.reasons(), [12, 12]);
}

#[test]
fn every_line_rejected_makes_the_claim_rejected_with_reason_1() {
    let mut w = World::new();
    w.lines[0].price_list = None;
    w.lines[1].current = false;
    let d = w.decide();
    assert_eq!(d.outcome, ClaimOutcome::Rejected);
    assert_eq!(d.rejection_reason, Reason::NotInRegisters);
    assert_eq!(d.approved, 0);
    assert_eq!(d.claimed, 4000);
}

#[test]
fn the_product_that_leaves_the_patient_paying_least_pays_the_line() {
    let mut w = World::new();
    w.product.items[0].limit_adult = Some(50);
    let mut other = product("FIXED");
    let mut line = item_line(PARA);
    line.limitation_type = Some(LimitationType::Fixed);
    line.limit_adult = Some(450);
    other.items.push(line);
    let mut a = cover(&w.product);
    a.stage = Stage::Renewal;
    let b = Cover {
        policy_id: Uuid::from_u128(0xB1),
        product_id: Uuid::from_u128(0xC1),
        ..cover(&other)
    };
    let covers = [a, b];
    let d = submit(&ClaimFacts {
        date_claimed: w.date_claimed,
        date_from: w.date_from,
        date_to: None,
        visit_type: VisitType::Other,
        facility: &w.facility,
        patient: &w.patient,
        lines: &w.lines,
        covers: &covers,
        history: &w.history,
    });
    // 50 %: the patient pays 250 a unit; fixed 450: 50 a unit.
    assert_eq!(
        d.lines[0].assignment.unwrap().product_id,
        Uuid::from_u128(0xC1)
    );
    assert!(
        d.lines[0]
            .explanation
            .starts_with("Accepted under product FIXED")
    );
    // The service is only in BASIC.
    assert_eq!(
        d.lines[1].assignment.unwrap().product_id,
        Uuid::from_u128(0xC0)
    );
}

#[test]
fn a_failing_product_falls_back_to_another_that_passes() {
    let mut w = World::new();
    w.product.items[0].waiting_period_adult = Some(12);
    w.stage = Stage::New;
    let mut other = product("OTHER");
    other.items.push(item_line(PARA));
    let mut a = cover(&w.product);
    a.stage = Stage::New;
    let b = Cover {
        stage: Stage::Renewal,
        product_id: Uuid::from_u128(0xC1),
        ..cover(&other)
    };
    let covers = [a, b];
    let d = submit(&ClaimFacts {
        date_claimed: w.date_claimed,
        date_from: w.date_from,
        date_to: None,
        visit_type: VisitType::Other,
        facility: &w.facility,
        patient: &w.patient,
        lines: &w.lines,
        covers: &covers,
        history: &w.history,
    });
    assert_eq!(d.lines[0].reason, Reason::Accepted);
    assert_eq!(
        d.lines[0].assignment.unwrap().product_id,
        Uuid::from_u128(0xC1)
    );
}

proptest! {
    /// Whatever the claim: approved never above claimed, never negative, one decision per line,
    /// a rejected line approves nothing, and the outcome follows the lines.
    #[test]
    fn totals_and_outcome_are_consistent(
        qtys in proptest::collection::vec(1i64..20, 1..6),
        asked in proptest::collection::vec(1i64..100_000, 6),
        listed in proptest::collection::vec(proptest::option::of(1i64..100_000), 6),
        limit in proptest::option::of(1i64..10),
        used in 0i64..12,
        days_before in 0i64..400,
    ) {
        let mut w = World::new();
        w.product.items[0].limit_no_adult = limit;
        w.lines = qtys.iter().enumerate().map(|(i, &q)| {
            let mut l = item(PARA, q, asked[i]);
            l.price_list = listed[i];
            l
        }).collect();
        w.history.provisions = vec![Provision { kind: LineKind::Item, register_id: PARA, date: date!(2026 - 02 - 01), qty: used }];
        w.date_from = date!(2026 - 06 - 10) - Duration::days(days_before);
        w.date_claimed = date!(2026 - 06 - 10);
        let d = w.decide();
        prop_assert_eq!(d.lines.len(), w.lines.len());
        prop_assert!(d.approved >= 0);
        prop_assert!(d.approved <= d.claimed);
        for (line, decision) in w.lines.iter().zip(&d.lines) {
            prop_assert!(decision.qty_approved <= line.qty);
            if !decision.accepted() {
                prop_assert_eq!(decision.approved(), 0);
            } else {
                prop_assert!(decision.price_adjusted.unwrap() <= line.price_asked);
            }
        }
        let any = d.lines.iter().any(|l| l.accepted());
        prop_assert_eq!(d.outcome == ClaimOutcome::Checked, any);
    }
}
