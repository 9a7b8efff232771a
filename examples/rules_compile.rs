//! Rule-set compile time and peak memory, for the default packs alone and with a matter
//! dictionary of 10k or 100k entries (issue target: a 100k dictionary compiles in under 2 s and
//! 256 MB).
//!
//! Each size runs in a child process of its own, so memory freed by one build cannot hide the
//! next one's peak. Memory is the growth of the process's peak RSS (`VmHWM`, reset through
//! `/proc/self/clear_refs` just before compiling) over its RSS at that point, after the rule
//! text was generated: what compiling costs, not the sources. Linux only.
//!
//! `cargo run --release --example rules_compile` prints one line per size.

#[path = "../benches/common/mod.rs"]
mod common;

use std::error::Error;
use std::process::Command;
use std::time::Instant;

/// A field of `/proc/self/status` in KiB.
fn status_kib(field: &str) -> Result<u64, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .ok_or("malformed status line")?
        .parse()?;
    Ok(kib)
}

/// Compiles the default packs plus `entries` dictionary entries; prints time and memory.
fn measure(entries: usize) -> Result<(), Box<dyn Error>> {
    let names = common::matter_names(entries);
    let mut sources = sovgate_core::rules::embedded_sources();
    if entries > 0 {
        sources.push(common::dictionary_source(&names));
    }
    let source_bytes: usize = sources.iter().map(|s| s.text.len()).sum();
    // Writing 5 resets the peak RSS to the current RSS (Linux >= 4.0).
    std::fs::write("/proc/self/clear_refs", "5")?;
    let before = status_kib("VmRSS:")?;
    let start = Instant::now();
    let set = sovgate_core::rules::compile(&sources).map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let peak = status_kib("VmHWM:")?;
    let kept = status_kib("VmRSS:")?;
    println!(
        "entries={entries:>6} rules={:>3} source={:>5} KiB compile={:>8.1} ms peak_growth={:>6.1} MiB retained={:>6.1} MiB",
        set.len(),
        source_bytes / 1024,
        elapsed.as_secs_f64() * 1e3,
        peak.saturating_sub(before) as f64 / 1024.0,
        kept.saturating_sub(before) as f64 / 1024.0,
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.get(1) {
        return measure(n.parse()?);
    }
    let me = std::env::current_exe()?;
    for entries in [0usize, 10_000, 100_000] {
        let status = Command::new(&me).arg(entries.to_string()).status()?;
        if !status.success() {
            return Err(format!("measuring {entries} entries failed: {status}").into());
        }
    }
    Ok(())
}
