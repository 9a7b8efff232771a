//! Sovgate: the egress gateway for LLM traffic.
//!
//! The pure policy core lives in the `sovgate-core` crate (re-exported as [`core`]); this crate
//! adds what touches the world: config files, the HTTP data path, the audit log, the CLI.
pub use sovgate_core as core;
pub mod config;
pub mod error;
pub mod proxy;
pub mod routing;
pub mod reload;
pub mod demo;
pub mod cli;
