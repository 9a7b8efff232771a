//! Sovgate: the egress gateway for LLM traffic.
//!
//! The pure policy core lives in the `sovgate-core` crate (re-exported as [`core`]); this crate
//! adds what touches the world: config files, the HTTP data path, the audit log, the CLI.
pub use sovgate_core as core;
pub mod audit;
pub mod metrics;
pub mod stub;
