//! Reloading the database when its file changes.
//!
//! Polled once a second, like the rule directories (`crate::reload`): size and modification time
//! are compared, which works on network mounts and with Kubernetes ConfigMap symlink swaps where
//! change notifications do not. A changed file is read and checked off the request path and swapped
//! in whole. A file that cannot be read keeps the previous database in force (it was valid, and
//! the addresses it places are still placed correctly), logs the error and counts it in
//! `sovgate_geo_reload_total{outcome="error"}`.

use super::{Database, Geo};
use crate::metrics::Metrics;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub const METRIC: &str = "sovgate_geo_reload_total";

fn fingerprint(path: &Path) -> Option<(u64, Option<SystemTime>)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

/// Reads the file again and swaps it in; the error is returned and the old database kept.
pub fn reload(geo: &Geo, path: &Path) -> Result<(), String> {
    let db = Database::open(path)?;
    geo.swap_database(db);
    Ok(())
}

/// Watches the configured database until the process ends. Nothing to watch without one.
pub fn spawn_watcher(geo: Arc<Geo>, metrics: Arc<Metrics>) {
    let Some(path) = geo.path().map(PathBuf::from) else {
        return;
    };
    tokio::spawn(async move {
        let mut last = fingerprint(&path);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = fingerprint(&path);
            if now == last {
                continue;
            }
            last = now;
            let (g, p) = (Arc::clone(&geo), path.clone());
            let outcome = match tokio::task::spawn_blocking(move || reload(&g, &p)).await {
                Ok(Ok(())) => {
                    tracing::info!("geo database reloaded from {}", path.display());
                    "ok"
                }
                Ok(Err(e)) => {
                    tracing::error!(
                        "geo database {} could not be reloaded, the previous one stays in force: {e}",
                        path.display()
                    );
                    "error"
                }
                Err(e) => {
                    tracing::error!("geo reload task failed: {e}");
                    "error"
                }
            };
            metrics.inc(METRIC, &[("outcome", outcome)]);
        }
    });
}
