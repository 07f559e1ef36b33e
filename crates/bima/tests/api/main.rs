//! The API tested through the real app over HTTP, on SQLite and (with BIMA_TEST_DATABASE_URL)
//! on PostgreSQL. One test binary, so that it builds once.

mod support;

mod access;
mod audit;
mod auth;
mod backup;
mod bad_input;
mod browser;
mod claims;
mod concurrency;
mod crash;
mod demo;
mod fhir;
mod health_facilities;
mod import;
mod import_claims;
mod import_deleted;
mod import_export;
mod import_proof;
mod locations;
mod medical;
mod policies;
mod products;
mod registry;
mod schemathesis;
mod system;
mod users_roles;
mod vectors;
mod web;
