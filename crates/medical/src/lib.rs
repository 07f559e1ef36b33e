//! Medical registers: items, services, diagnoses (ICD codes), and price lists of items and services.

pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("medical": "0001_medical");
