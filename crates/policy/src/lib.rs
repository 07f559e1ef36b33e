//! Policies, contributions, payers and eligibility (spec/health-insurance.md §5–§6): a family
//! enrolled in a product, the money paid for it, and who it covers on which day.

pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("policy": "0001_policy");
