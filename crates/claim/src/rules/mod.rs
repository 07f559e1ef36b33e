//! The claim rules as pure functions (spec/health-insurance.md §7): what a claim is made of as
//! the rules see it, the rejection reasons, the claim category, the choice of product per line
//! and the adjudication at submission. Dates and everything read from the database come in as
//! arguments.

pub mod batch;
pub mod category;
pub mod choice;
pub mod reason;
pub mod review;
pub mod submit;
pub mod valuation;

pub use category::claim_category;
pub use choice::{Assignment, choose};
pub use reason::Reason;
pub use submit::{ClaimOutcome, Decision, LineDecision, submit};

pub use location::model::{CareType, FacilityLevel};
/// A claim's category uses the letters of a service's category.
pub use medical::model::ServiceCategory as Category;
use policy::rules::Stage;
use product::model::ProductInput;
use time::Date;
use uuid::Uuid;

kernel::code_enum! {
    /// Why the patient came: E emergency, R referral, O other (the default).
    VisitType { Emergency = "E", Referral = "R", Other = "O" }
}

kernel::code_enum! {
    /// What a claim line asks for: a medical item or a medical service.
    LineKind { Item = "I", Service = "S" }
}

impl LineKind {
    /// "Item" or "Service", to start a sentence.
    pub fn word(self) -> &'static str {
        match self {
            LineKind::Item => "Item",
            LineKind::Service => "Service",
        }
    }
}

/// The health facility that claims, as the rules see it.
#[derive(Debug, Clone)]
pub struct Facility {
    pub code: String,
    pub name: String,
    pub care_type: CareType,
    pub level: FacilityLevel,
}

/// The patient, as the rules see them.
#[derive(Debug, Clone)]
pub struct Patient {
    pub chfid: String,
    /// The insuree record was deleted.
    pub deleted: bool,
    pub female: bool,
    pub dob: Date,
}

/// One line of a claim with what the registers and the facility's price list say about its item
/// or service.
#[derive(Debug, Clone)]
pub struct Line {
    pub kind: LineKind,
    /// The item or service.
    pub register_id: Uuid,
    pub code: String,
    pub name: String,
    /// The register still holds the item or service.
    pub current: bool,
    pub qty: i64,
    /// Per unit, minor units.
    pub price_asked: i64,
    /// The price in the facility's price list (its overrule, else the register price); none when
    /// the list does not hold the item or service.
    pub price_list: Option<i64>,
    pub care_type: CareType,
    /// Who may receive it: 1 man, 2 woman, 4 adult, 8 child; 0 or 15 everyone.
    pub patient_category: i64,
    /// Fewest days between two provisions to the same insuree.
    pub frequency: Option<i64>,
    /// Services only.
    pub service_category: Option<Category>,
}

/// One window of the insuree under a policy that is active or expired.
#[derive(Debug, Clone, Copy)]
pub struct Cover<'a> {
    pub policy_id: Uuid,
    pub product_id: Uuid,
    pub product: &'a ProductInput,
    pub stage: Stage,
    pub policy_effective: Date,
    pub policy_expiry: Date,
    pub insuree_effective: Date,
    pub insuree_expiry: Date,
}

impl Cover<'_> {
    /// Does this window cover `day`: inside the policy's dates and the insuree's window.
    pub fn covers(&self, day: Date) -> bool {
        self.policy_effective <= day
            && self.insuree_effective <= day
            && day <= self.policy_expiry.min(self.insuree_expiry)
    }
}

/// Something the insuree already received in another claim that was submitted and not
/// rejected: one passed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provision {
    pub kind: LineKind,
    pub register_id: Uuid,
    /// The target date of its claim.
    pub date: Date,
    pub qty: i64,
}

/// Another claim of the insuree that was submitted and not rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastClaim {
    pub category: Option<Category>,
    pub date: Date,
}

/// What the insuree received before, from the other claims: the ledger the frequency, quantity
/// and category limits are measured against.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub provisions: Vec<Provision>,
    pub claims: Vec<PastClaim>,
}

/// A claim as the adjudication sees it.
#[derive(Debug, Clone)]
pub struct ClaimFacts<'a> {
    pub date_claimed: Date,
    pub date_from: Date,
    pub date_to: Option<Date>,
    pub visit_type: VisitType,
    pub facility: &'a Facility,
    pub patient: &'a Patient,
    pub lines: &'a [Line],
    /// Every window of the insuree under an active or expired policy.
    pub covers: &'a [Cover<'a>],
    pub history: &'a History,
}

impl ClaimFacts<'_> {
    /// The day the claim is judged on: the discharge date, else the visit date.
    pub fn target(&self) -> Date {
        self.date_to.unwrap_or(self.date_from)
    }

    /// A stay of more than one day.
    pub fn multi_day(&self) -> bool {
        self.date_to.is_some_and(|to| to != self.date_from)
    }

    /// Is the patient an adult (18 or older) on the target date?
    pub fn adult(&self) -> bool {
        policy::rules::add_months(self.patient.dob, 18 * 12) <= self.target()
    }
}

/// Helpers shared by the rule tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use product::model::*;
    use time::macros::date;

    pub fn product(code: &str) -> ProductInput {
        ProductInput {
            code: code.into(),
            name: format!("Product {code}"),
            location_id: None,
            date_from: date!(2020 - 01 - 01),
            date_to: date!(2040 - 12 - 31),
            conversion_product_id: None,
            periods: Periods {
                insurance_period: 12,
                ..Periods::default()
            },
            start_cycles: Vec::new(),
            premium: Premium {
                max_members: 6,
                ..Premium::default()
            },
            deductibles: Deductibles::default(),
            ceilings: Ceilings::default(),
            ceiling_type: None,
            ceiling_interpretation: CeilingInterpretation::ClaimType,
            limits: Limits::default(),
            capitation_levels: Vec::new(),
            capitation: Capitation::default(),
            acc_code_premiums: None,
            acc_code_remuneration: None,
            items: Vec::new(),
            services: Vec::new(),
            relative_distribution: Vec::new(),
            version: None,
        }
    }

    /// A coverage line for `id` with the defaults of §4.1.
    pub fn item_line(id: Uuid) -> ProductItem {
        ProductItem {
            item_id: id,
            price_origin: None,
            limitation_type: None,
            limitation_type_r: None,
            limitation_type_e: None,
            limit_adult: None,
            limit_child: None,
            limit_adult_r: None,
            limit_child_r: None,
            limit_adult_e: None,
            limit_child_e: None,
            waiting_period_adult: None,
            waiting_period_child: None,
            limit_no_adult: None,
            limit_no_child: None,
            ceiling_exclusion_adult: None,
            ceiling_exclusion_child: None,
        }
        .with_defaults()
    }

    pub fn service_line(id: Uuid) -> ProductService {
        let i = item_line(id);
        ProductService {
            service_id: id,
            price_origin: i.price_origin,
            limitation_type: i.limitation_type,
            limitation_type_r: i.limitation_type_r,
            limitation_type_e: i.limitation_type_e,
            limit_adult: i.limit_adult,
            limit_child: i.limit_child,
            limit_adult_r: i.limit_adult_r,
            limit_child_r: i.limit_child_r,
            limit_adult_e: i.limit_adult_e,
            limit_child_e: i.limit_child_e,
            waiting_period_adult: i.waiting_period_adult,
            waiting_period_child: i.waiting_period_child,
            limit_no_adult: i.limit_no_adult,
            limit_no_child: i.limit_no_child,
            ceiling_exclusion_adult: i.ceiling_exclusion_adult,
            ceiling_exclusion_child: i.ceiling_exclusion_child,
        }
    }

    pub fn facility() -> Facility {
        Facility {
            code: "HF01".into(),
            name: "Town Clinic".into(),
            care_type: CareType::Both,
            level: FacilityLevel::HealthCentre,
        }
    }

    pub fn patient() -> Patient {
        Patient {
            chfid: "100000001".into(),
            deleted: false,
            female: false,
            dob: date!(1980 - 05 - 01),
        }
    }

    pub fn item(id: Uuid, qty: i64, asked: i64) -> Line {
        Line {
            kind: LineKind::Item,
            register_id: id,
            code: "PARA".into(),
            name: "Paracetamol".into(),
            current: true,
            qty,
            price_asked: asked,
            price_list: Some(asked),
            care_type: CareType::Both,
            patient_category: 15,
            frequency: None,
            service_category: None,
        }
    }

    pub fn service(id: Uuid, qty: i64, asked: i64, category: Category) -> Line {
        Line {
            kind: LineKind::Service,
            code: "CONS".into(),
            name: "Consultation".into(),
            service_category: Some(category),
            ..item(id, qty, asked)
        }
    }

    /// A new policy of `product` covering the patient through 2026.
    pub fn cover(product: &ProductInput) -> Cover<'_> {
        Cover {
            policy_id: Uuid::from_u128(0xB0),
            product_id: Uuid::from_u128(0xC0),
            product,
            stage: Stage::New,
            policy_effective: date!(2026 - 01 - 01),
            policy_expiry: date!(2026 - 12 - 31),
            insuree_effective: date!(2026 - 01 - 01),
            insuree_expiry: date!(2026 - 12 - 31),
        }
    }
}
