//! Claims (spec/health-insurance.md §7): what a health facility asks to be paid for a visit,
//! adjudicated line by line on submission with a reason a person can read.

pub mod decide;
pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;

pub static MIGRATIONS: &[::store::Migration] =
    ::store::migrations!("claim": "0001_claims", "0002_awaiting_batch", "0003_recent");
