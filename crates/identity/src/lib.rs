//! Users, roles and rights; logging in; the bootstrap administrator.

pub mod auth;
pub mod http;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;
pub mod system_roles;

pub static MIGRATIONS: &[::store::Migration] =
    ::store::migrations!("identity": "0001_identity", "0002_grants_epoch");
