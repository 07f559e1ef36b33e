//! Tests of the registry endpoints (filled in with the module).
