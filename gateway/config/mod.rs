//! Configuration: `sovgate.toml` parsed into serde types ([`file`]), then built into the runtime
//! types ([`model`]) that the data path uses. With no file, the embedded default applies: loopback
//! listeners, a local pool at `http://127.0.0.1:8000` (vLLM's default port), everything routed local.

mod build;
mod egress;
mod error;
mod file;
mod geo;
mod inspect;
mod model;

pub use build::{build, hash_key, parse_upstream};
pub use egress::{canonical_ip, Cidr, Egress, TunnelRule};
pub use error::{line_col, ConfigError, ConfigErrors};
pub use model::*;

use std::path::Path;

/// The embedded default config, shown by `sovgate config default`.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// Loads a config file; relative paths inside it resolve against its directory.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigErrors(vec![io_error(&name, &e)]))?;
    let base = path.parent().unwrap_or(Path::new("."));
    build(&name, &text, base)
}

/// The embedded default, relative paths against the working directory.
pub fn embedded() -> Result<Config, ConfigErrors> {
    build("<embedded sovgate.toml>", DEFAULT_CONFIG, Path::new("."))
}

fn io_error(name: &str, e: &std::io::Error) -> ConfigError {
    ConfigError::new(name, 1, 1, format!("cannot read config: {e}"), None)
}

#[cfg(test)]
mod tests;
