//! Building the rule set from config, and hot reload.
//!
//! Reload polls the rule directories' file list and modification times once a second (robust on
//! every file system, including network mounts and Kubernetes ConfigMap symlink swaps, where
//! change notifications are unreliable). A changed tree is compiled off the request path; a set
//! that compiles replaces the old one atomically, a set that fails leaves the old one serving and
//! logs every positioned error.

use crate::config::RulesConfig;
use crate::proxy::State;
use sovgate_core::rules::{self, RuleErrors, RuleSet, RuleSource};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The rule sources a config names: the embedded packs (if enabled), then each directory's
/// `*.toml` files in name order.
pub fn sources(cfg: &RulesConfig) -> Result<Vec<RuleSource>, RuleErrors> {
    let mut out = if cfg.embedded {
        rules::embedded_sources()
    } else {
        Vec::new()
    };
    if !cfg.dirs.is_empty() {
        // load_dirs validates directory access and reports I/O errors with positions.
        rules::load_dirs(&cfg.dirs)?;
        for dir in &cfg.dirs {
            for path in toml_files(dir) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push(RuleSource {
                    name: path.display().to_string(),
                    text,
                    base_dir: path.parent().map(|p| p.to_path_buf()),
                });
            }
        }
    }
    Ok(out)
}

pub fn build_rules(cfg: &RulesConfig) -> Result<RuleSet, RuleErrors> {
    rules::compile(&sources(cfg)?)
}

fn toml_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// What the rule directories held at one moment: every file's name, size and modification time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot(Vec<(PathBuf, u64, Option<SystemTime>)>);

/// The rule directories of `cfg` as they are now.
pub fn snapshot(cfg: &RulesConfig) -> Snapshot {
    Snapshot(fingerprint(&cfg.dirs))
}

/// A fingerprint of every file in the rule directories (names, sizes, modification times).
fn fingerprint(dirs: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let meta = std::fs::metadata(e.path()).ok();
                out.push((
                    e.path(),
                    meta.as_ref().map_or(0, |m| m.len()),
                    meta.and_then(|m| m.modified().ok()),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Watches the configured rule directories until the process ends. The first comparison is
/// against the snapshot taken before the serving set was read, so an edit made during start-up
/// is reloaded rather than missed.
pub fn spawn_watcher(state: Arc<State>) {
    let cfg = state.config.rules.clone();
    if cfg.dirs.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut last = state.rules_snapshot.0.clone();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = fingerprint(&cfg.dirs);
            if now == last {
                continue;
            }
            last = now;
            let c = cfg.clone();
            let built = tokio::task::spawn_blocking(move || build_rules(&c)).await;
            match built {
                Ok(Ok(set)) => {
                    tracing::info!("rules reloaded: {} rules", set.len());
                    state.rules.store(Arc::new(set));
                    state
                        .metrics
                        .inc("sovgate_rules_reload_total", &[("outcome", "ok")]);
                }
                Ok(Err(errors)) => {
                    tracing::error!(
                        "rule reload failed, the previous rule set keeps serving:\n{errors}"
                    );
                    state
                        .metrics
                        .inc("sovgate_rules_reload_total", &[("outcome", "error")]);
                }
                Err(e) => {
                    tracing::error!("rule reload task failed: {e}");
                    state
                        .metrics
                        .inc("sovgate_rules_reload_total", &[("outcome", "error")]);
                }
            }
        }
    });
}
