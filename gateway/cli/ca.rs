//! `sovgate ca init --out DIR`: the CA that forward and transparent interception mint leaves from.

use crate::intercept::ca::{generate, write_new, KeyAlgorithm};
use std::path::Path;
use std::process::ExitCode;

pub fn init(out: &Path, name: &str, key: KeyAlgorithm, days: u32) -> ExitCode {
    let result = generate(name, key, days).and_then(|ca| write_new(out, &ca));
    match result {
        Ok((cert, key)) => {
            println!(
                "CA certificate: {} (distribute it to clients)",
                cert.display()
            );
            println!(
                "CA key:         {} (mode 0600; keep it on the gateway only)",
                key.display()
            );
            println!(
                "\nIn sovgate.toml:\n[tls]\nca_cert = \"{}\"\nca_key  = \"{}\"",
                cert.display(),
                key.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sovgate ca init: {e:#}");
            ExitCode::FAILURE
        }
    }
}
