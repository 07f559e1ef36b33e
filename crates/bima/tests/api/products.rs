//! Tests of the products endpoints (filled in with the module).
