//! Products (insurance plans): premiums, periods, deductibles and ceilings, limits, and the items and services they cover.

pub mod http;
pub mod service;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("product":);
