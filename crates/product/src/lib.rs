//! Products (insurance plans): premiums, periods, deductibles and ceilings, limits, and the items and services they cover.

pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("product": "0001_products");
