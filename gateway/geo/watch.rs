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
    // Taken now, not when the task first runs: a change made in between must still count.
    let mut last = fingerprint(&path);
    tokio::spawn(async move {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::GeoConfig;
    use crate::geo::test_mmdb::{build, Rec};

    async fn wait_for(mut ok: impl FnMut() -> bool) -> bool {
        for _ in 0..60 {
            if ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_changed_file_is_swapped_in_and_a_broken_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("country.mmdb");
        std::fs::write(&path, build("T", &[("192.0.2.0/24", Rec::Country("DE"))])).unwrap();
        let cfg = GeoConfig {
            database: Some(path.clone()),
            opened: Some(Arc::new(Database::open(&path).unwrap())),
            cache_size: 16,
            ..GeoConfig::default()
        };
        let geo = Arc::new(Geo::new(&cfg));
        let metrics = Arc::new(Metrics::new());
        let ip = "192.0.2.1".parse().unwrap();
        assert_eq!(geo.locate(ip).unwrap().as_str(), "DE");
        spawn_watcher(Arc::clone(&geo), Arc::clone(&metrics));
        let moved = build(
            "T",
            &[
                ("192.0.2.0/24", Rec::Country("US")),
                ("198.51.100.0/24", Rec::Country("FR")),
            ],
        );
        std::fs::write(&path, moved).unwrap();
        assert!(
            wait_for(|| geo.locate(ip).is_ok_and(|c| c.as_str() == "US")).await,
            "the cached DE answer must go with the old database"
        );
        std::fs::write(&path, b"garbage").unwrap();
        let errors = "sovgate_geo_reload_total{outcome=\"error\"} 1";
        assert!(wait_for(|| metrics.render().contains(errors)).await);
        assert_eq!(
            geo.locate(ip).unwrap().as_str(),
            "US",
            "the previous database stays"
        );
        assert_eq!(geo.database().unwrap().kind(), "T");
    }
}
