//! The `bima` binary's library half: configuration and the composition root, shared by the
//! command line, the tests and the benchmarks.

pub mod app;
pub mod config;
pub mod fuzz;
