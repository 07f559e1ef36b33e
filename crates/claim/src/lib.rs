//! Claims (spec/health-insurance.md §7): what a health facility asks to be paid for a visit,
//! adjudicated line by line on submission with a reason a person can read.

pub mod rules;
