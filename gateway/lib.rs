//! Sovgate: the egress gateway for LLM traffic.
//!
//! The pure policy core lives in the `sovgate-core` crate (re-exported as [`core`]); this crate
//! adds what touches the world: config files, the HTTP data path, the audit log, the CLI.
pub use sovgate_core as core;

pub mod audit;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod geo;
pub mod intercept;
pub mod metrics;
pub mod proxy;
pub mod reload;
pub mod routing;
pub mod stub;
