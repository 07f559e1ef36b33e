//! Tests of the medical endpoints (filled in with the module).
