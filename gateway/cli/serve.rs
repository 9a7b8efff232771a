//! `sovgate serve` and the hidden `sovgate stub`.

use crate::audit::AuditLog;
use crate::config::{self, Config};
use crate::proxy::{self, State};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Builds the shared state from a config: rules compiled, audit log opened. Every failure here
/// refuses startup: a gateway that cannot apply its rules or write its audit log must not serve.
pub fn build_state(config: Config) -> anyhow::Result<State> {
    // Taken before the files are read: a change made while they are compiled is seen as a
    // change by the watcher, never folded into a baseline that already includes it.
    let snapshot = crate::reload::snapshot(&config.rules);
    let rules =
        crate::reload::build_rules(&config.rules).map_err(|e| anyhow::anyhow!("rules:\n{e}"))?;
    let audit = match &config.audit.path {
        Some(p) => {
            AuditLog::open(p).map_err(|e| anyhow::anyhow!("audit log {}: {e}", p.display()))?
        }
        None => {
            tracing::warn!("audit is disabled in the config: decisions are not recorded");
            AuditLog::disabled()
        }
    };
    let mut state = State::new(config, rules, audit)?;
    state.rules_snapshot = snapshot;
    Ok(state)
}

pub fn serve(config_path: Option<PathBuf>) -> ExitCode {
    super::init_logging();
    let config = match &config_path {
        Some(p) => config::load(p),
        None => config::embedded(),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let state = Arc::new(build_state(config)?);
        let running = proxy::start(Arc::clone(&state)).await?;
        crate::reload::spawn_watcher(Arc::clone(&state));
        crate::geo::watch::spawn_watcher(Arc::clone(&state.geo), Arc::clone(&state.metrics));
        if let Some(a) = running.reverse {
            // With `[tls] server_cert` the listener speaks only TLS: name the scheme it serves.
            let scheme = if state.server_tls.is_some() {
                "https"
            } else {
                "http"
            };
            tracing::info!(
                "reverse listener on {scheme}://{a} (set base_url to {scheme}://{a}/v1)"
            );
        }
        if let Some(a) = running.forward {
            tracing::info!("forward listener on {a} (HTTPS_PROXY=http://{a})");
        }
        if let Some(a) = running.transparent {
            tracing::info!("transparent TLS listener on {a} (point provider hosts here by DNS)");
        }
        if let Some(a) = running.admin {
            tracing::info!("admin listener on http://{a} (/healthz /readyz /metrics)");
        }
        tracing::info!(
            "config: {}; {} rules",
            state.config.source,
            state.rules.load().len()
        );
        tokio::signal::ctrl_c().await?;
        tracing::info!("shutting down");
        running.shutdown();
        running.join().await;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sovgate serve: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn stub(listen: std::net::SocketAddr, name: String, print_addr: bool) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let cfg = crate::stub::StubConfig {
            name,
            ..crate::stub::StubConfig::default()
        };
        let handle = crate::stub::start(cfg, listen).await?;
        if print_addr {
            println!("{}", handle.addr());
        }
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sovgate stub: {e:#}");
            ExitCode::FAILURE
        }
    }
}
