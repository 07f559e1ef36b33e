//! Locations (region → district → ward → village) and health facilities with their catchments.

pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("location": "0001_locations");
