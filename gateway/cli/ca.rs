//! `sovgate ca init --out DIR`: the CA that forward and transparent interception mint leaves from.

use crate::intercept::ca::{generate_scoped, write_new, KeyAlgorithm, NewScope};
use std::path::Path;
use std::process::ExitCode;

/// `permit`: the extra domains for the CA's NameConstraints; `None` writes none at all.
pub fn init(
    out: &Path,
    name: &str,
    key: KeyAlgorithm,
    days: u32,
    permit: Option<&[String]>,
) -> ExitCode {
    let scope = match permit.map(NewScope::with).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sovgate ca init: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result =
        generate_scoped(name, key, days, scope.as_ref()).and_then(|ca| write_new(out, &ca));
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
            match &scope {
                Some(s) => println!(
                    "NameConstraints: {} DNS subtrees (the built-in LLM API domains{}), {}",
                    s.dns.len(),
                    if permit.is_some_and(|p| !p.is_empty()) { " and --permit" } else { "" },
                    if s.ips.is_empty() {
                        "no IP addresses".to_owned()
                    } else {
                        format!("{} IP ranges", s.ips.len())
                    }
                ),
                None => eprintln!(
                    "warning: --unconstrained: this CA has no NameConstraints; if its key leaks it can sign a certificate for any site its clients trust it for"
                ),
            }
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
