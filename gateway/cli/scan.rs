//! `sovgate scan`: the dry run. Calls the same core functions as the proxy, in the same order.

use crate::config::{self, Config};
use serde_json::json;
use sovgate_core::api::identify;
use sovgate_core::inspect::inspect_with;
use sovgate_core::policy::Route;
use sovgate_core::rules::RuleSet;
use sovgate_core::transform::transform_with;
use sovgate_core::types::{DestinationKind, Direction};
use sovgate_core::vault::Vault;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(rules: Option<PathBuf>, config: Option<PathBuf>, path: &str, file: &str) -> ExitCode {
    match scan(rules, config, path, file) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sovgate scan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(config: Option<PathBuf>) -> Result<Config, String> {
    match config {
        Some(p) => config::load(&p).map_err(|e| e.to_string()),
        None => config::embedded().map_err(|e| e.to_string()),
    }
}

pub fn rules_for(config: &Config, dir: Option<PathBuf>) -> Result<RuleSet, String> {
    match dir {
        Some(d) => sovgate_core::rules::load_dirs(&[d]).map_err(|e| e.to_string()),
        None => crate::reload::build_rules(&config.rules).map_err(|e| e.to_string()),
    }
}

fn scan(
    rules_dir: Option<PathBuf>,
    config: Option<PathBuf>,
    path: &str,
    file: &str,
) -> Result<serde_json::Value, String> {
    let config = load_config(config)?;
    let rules = rules_for(&config, rules_dir)?;
    let mut body = Vec::new();
    if file == "-" {
        std::io::stdin()
            .read_to_end(&mut body)
            .map_err(|e| format!("reading stdin: {e}"))?;
    } else {
        body = std::fs::read(file).map_err(|e| format!("reading {file}: {e}"))?;
    }
    let ep = identify("POST", path, None).map_err(|e| e.to_string())?;
    let report = match inspect_with(&body, &rules, Direction::Request, &config.inspect) {
        Ok(r) => r,
        Err(e) => return Ok(json!({ "refused": { "status": 400, "reason": e.to_string() } })),
    };
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let r = rules.rule(f.rule);
            json!({
                "rule": r.id, "path": f.path, "count": f.count, "class": r.class,
                "action": r.action, "mode": r.mode, "applies_to": r.applies_to,
                "extent": r.extent,
            })
        })
        .collect();
    let mut out = json!({
        "api": ep.label(),
        "findings": findings,
        "classification": report.class,
        "model": report.model,
        "opaque": report.opaque,
    });
    if let Some(b) = report.block {
        out["refused"] =
            json!({ "status": 403, "code": "policy_blocked", "rule": rules.rule(b).id });
        return Ok(out);
    }
    let model = report.model.clone().or(ep.path_model.clone());
    let route = match crate::routing::choose_route(
        &config,
        None,
        ep.family,
        report.class,
        model.as_deref(),
    ) {
        Ok(r) => r,
        Err(refusal) => {
            out["refused"] = json!({ "status": refusal.status(), "code": refusal.code(), "reason": refusal.to_string() });
            return Ok(out);
        }
    };
    out["route"] = crate::routing::describe(&config, &route);
    let dest = match route {
        Route::Local { .. } => DestinationKind::Local,
        Route::External { .. } => DestinationKind::External,
    };
    let mut vault = Vault::new();
    let t = transform_with(
        &body,
        &rules,
        Direction::Request,
        dest,
        &mut vault,
        &config.inspect,
    )
    .map_err(|e| e.to_string())?;
    out["changed"] = json!(t.body.is_some());
    out["pseudonyms"] = json!(vault.len());
    let leaving = t.body.unwrap_or(body);
    out["body"] = serde_json::from_slice(&leaving)
        .unwrap_or_else(|_| json!(String::from_utf8_lossy(&leaving)));
    Ok(out)
}
