//! The policy rules as pure functions: dates and amounts come in as arguments, nothing here
//! reads a clock or a database.

pub mod contribution;
pub mod eligibility;
pub mod members;
pub mod period;
pub mod status;
pub mod value;

pub use contribution::{
    ActivationOption, ContributionError, Outcome, Payment, PolicyMoney, Shortfall,
};
pub use eligibility::{Coverage, LineEligibility, LineTerms, Remaining, StatusLetter, Usage};
pub use members::Join;
pub use period::{Period, PeriodError, add_months};
pub use status::{PolicyStatus, Stage, TransitionError, check_transition};
pub use value::{Member, PolicyValue, RELATIONSHIP_OTHER, ValueInput};

/// Helpers shared by the rule tests: a neutral product and date strategies.
#[cfg(test)]
pub(crate) mod testing {
    use product::model::*;
    use proptest::prelude::*;
    use time::Date;
    use time::macros::date;

    /// A free-cycle product of 12 months for up to 6 members, with nothing else set.
    pub fn product() -> ProductInput {
        ProductInput {
            code: "TEST".into(),
            name: "Test product".into(),
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

    /// Any day from 1900-01-01 to 2199-12-31.
    pub fn any_date() -> impl Strategy<Value = Date> {
        let first = date!(1900 - 01 - 01).to_julian_day();
        let last = date!(2199 - 12 - 31).to_julian_day();
        (first..=last).prop_map(|day| Date::from_julian_day(day).expect("inside the range"))
    }
}
