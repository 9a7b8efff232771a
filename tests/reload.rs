#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hot reload: a new rule set takes effect without a restart; a broken one leaves the old serving.

use crate::support::*;
use std::time::Duration;

const RULE: &str = "[[rule]]\nid = \"acme.codename\"\nkind = \"literal\"\npatterns = [\"Nightingale\"]\naction = \"block\"\nclass = \"privileged\"\nexamples.match = [\"Project Nightingale\"]\nexamples.no_match = [\"a bird\"]\n";

async fn wait_for(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..50 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A gateway whose rules include a watched directory holding one empty `custom.toml`.
async fn watched_harness() -> (tempfile::TempDir, Harness) {
    let rules_dir = tempfile::tempdir().unwrap();
    std::fs::write(rules_dir.path().join("custom.toml"), "").unwrap();
    let config = CONFIG.replace(
        "[rules]\nembedded = true",
        &format!(
            "[rules]\nembedded = true\ndirs = [\"{}\"]",
            rules_dir.path().display()
        ),
    );
    (rules_dir, Harness::with_config(&config).await)
}

fn has_codename_rule(state: &sovgate::proxy::State) -> bool {
    state
        .rules
        .load()
        .rules()
        .iter()
        .any(|r| r.id == "acme.codename")
}

#[tokio::test]
async fn rules_reload_and_bad_sets_keep_the_old_one() {
    let (rules_dir, h) = watched_harness().await;
    sovgate::reload::spawn_watcher(std::sync::Arc::clone(&h.gw.state));
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("status of Project Nightingale"),
        )
        .await;
    assert_eq!(status, 200, "not blocked before the rule exists");

    std::fs::write(rules_dir.path().join("custom.toml"), RULE).unwrap();
    let state = std::sync::Arc::clone(&h.gw.state);
    assert!(wait_for(|| has_codename_rule(&state)).await, "reloaded");
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("status of Project Nightingale"),
        )
        .await;
    assert_eq!(status, 403, "blocked after reload");

    std::fs::write(
        rules_dir.path().join("custom.toml"),
        "[[rule]]\nid = \"broken\"\nkind = \"regex\"\npattern = \"(\"\n",
    )
    .unwrap();
    let metrics = std::sync::Arc::clone(&h.gw.state.metrics);
    assert!(
        wait_for(|| metrics
            .get("sovgate_rules_reload_total", &[("outcome", "error")])
            .unwrap_or(0.0)
            >= 1.0)
        .await,
        "failure counted"
    );
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("status of Project Nightingale"),
        )
        .await;
    assert_eq!(status, 403, "the previous rule set keeps serving");
}

/// A rule file edited after the serving set was read but before the watcher started (the
/// start-up window) is still picked up: the watcher compares against the snapshot taken before
/// the files were read, not against the directory as it finds it.
#[tokio::test]
async fn an_edit_during_start_up_is_not_missed() {
    let (rules_dir, h) = watched_harness().await;
    // The edit lands before the watcher exists.
    std::fs::write(rules_dir.path().join("custom.toml"), RULE).unwrap();
    let state = std::sync::Arc::clone(&h.gw.state);
    assert!(
        !state
            .rules
            .load()
            .rules()
            .iter()
            .any(|r| r.id == "acme.codename"),
        "the serving set was read before the edit"
    );
    sovgate::reload::spawn_watcher(std::sync::Arc::clone(&h.gw.state));
    assert!(
        wait_for(|| has_codename_rule(&state)).await,
        "the edit made during start-up was reloaded"
    );
    let (status, _, _) = h
        .post(
            "/v1/chat/completions",
            chat("status of Project Nightingale"),
        )
        .await;
    assert_eq!(status, 403, "blocked after reload");
}
