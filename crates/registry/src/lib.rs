//! The registry of the insured: families and insurees, with their photos and insurance numbers (CHFID).

pub mod config;
pub mod http;
pub mod service;

pub static MIGRATIONS: &[::store::Migration] = ::store::migrations!("registry":);
