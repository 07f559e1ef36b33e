//! The registry of the insured: families and insurees, with their photos and insurance numbers (CHFID).

pub mod config;
pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("registry": "0001_registry");
