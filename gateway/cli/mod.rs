//! Command line: the contract in DESIGN.md (`serve`, `demo`, `rules check|test`, `scan`,
//! `ca init`, `audit verify`) plus helpers (`geo lookup`, `keys hash`, `config default|check`,
//! `stub`).

mod ca;
mod geo_cmd;
pub mod rules_cmd;
mod scan;
mod serve;

pub use serve::build_state;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sovgate",
    version,
    about = "Sovereign egress gateway for LLM traffic"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the gateway (embedded defaults without --config).
    Serve {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Start the gateway with a built-in stub backend, push sample CRM payloads through it and
    /// show what left the gateway; then keep serving.
    Demo {
        /// Exit after the samples instead of serving.
        #[arg(long)]
        once: bool,
    },
    /// Rule files: validate, or run their examples.
    Rules {
        #[command(subcommand)]
        cmd: RulesCmd,
    },
    /// Dry run: findings, classification, route and transformed body for a payload, as JSON.
    Scan {
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Which API the payload is for (path as the client would call it).
        #[arg(long, default_value = "/v1/chat/completions")]
        path: String,
        /// A file, or - for standard input.
        file: String,
    },
    /// The interception CA.
    Ca {
        #[command(subcommand)]
        cmd: CaCmd,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Where addresses are, per the configured `[geo]` database and overrides.
    Geo {
        #[command(subcommand)]
        cmd: GeoCmd,
    },
    /// Tenant keys.
    Keys {
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// The config file.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Run the stub OpenAI-compatible inference backend (tests and demos; records what it gets).
    #[command(hide = true)]
    Stub {
        #[arg(long, default_value = "127.0.0.1:8000")]
        listen: std::net::SocketAddr,
        #[arg(long, default_value = "stub")]
        name: String,
        /// Print the bound address as the first line of output.
        #[arg(long)]
        print_addr: bool,
    },
}

#[derive(Subcommand)]
enum RulesCmd {
    /// Validate rule files; errors name file:line:column.
    Check { dir: Option<PathBuf> },
    /// Run every rule's examples.
    Test { dir: Option<PathBuf> },
}

#[derive(Subcommand)]
enum CaCmd {
    /// Create a CA certificate (DIR/ca.pem) and key (DIR/ca.key, mode 0600); never overwrites.
    Init {
        #[arg(long)]
        out: PathBuf,
        /// The CA's common name, as users see it in their trust store.
        #[arg(long, default_value = "Sovgate Interception CA")]
        name: String,
        #[arg(long, value_enum, default_value = "ecdsa-p256")]
        key: crate::intercept::ca::KeyAlgorithm,
        /// Validity in days.
        #[arg(long, default_value_t = 1825)]
        days: u32,
        /// Also permit this domain (and every name under it), IP address or CIDR range in the
        /// CA's NameConstraints, beside the built-in LLM API domains; repeatable.
        #[arg(long, value_name = "DOMAIN")]
        permit: Vec<String>,
        /// Write no NameConstraints: the CA can sign for any site (not recommended).
        #[arg(long, conflicts_with = "permit")]
        unconstrained: bool,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain; exit 1 with the first broken record on tampering.
    Verify { file: PathBuf },
}

#[derive(Subcommand)]
enum GeoCmd {
    /// Print the country and zones of each address.
    Lookup {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(required = true)]
        addrs: Vec<String>,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Print the line to put in a tenant's keys_file for KEY.
    Hash { key: String },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print the embedded default config.
    Default,
    /// Validate a config file.
    Check { file: PathBuf },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve { config } => serve::serve(config),
        Cmd::Demo { once } => crate::demo::run(once),
        Cmd::Rules {
            cmd: RulesCmd::Check { dir },
        } => rules_cmd::check(dir),
        Cmd::Rules {
            cmd: RulesCmd::Test { dir },
        } => rules_cmd::test(dir),
        Cmd::Scan {
            rules,
            config,
            path,
            file,
        } => scan::run(rules, config, &path, &file),
        Cmd::Ca {
            cmd:
                CaCmd::Init {
                    out,
                    name,
                    key,
                    days,
                    permit,
                    unconstrained,
                },
        } => ca::init(
            &out,
            &name,
            key,
            days,
            (!unconstrained).then_some(&permit[..]),
        ),
        Cmd::Audit {
            cmd: AuditCmd::Verify { file },
        } => match crate::audit::verify_file(&file) {
            Ok(r) => {
                println!("ok: {} records, chain intact", r.records);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("audit log {}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
        Cmd::Geo {
            cmd: GeoCmd::Lookup { config, addrs },
        } => geo_cmd::lookup(config, &addrs),
        Cmd::Keys {
            cmd: KeysCmd::Hash { key },
        } => {
            println!("sha256:{}", hex::encode(crate::config::hash_key(&key)));
            ExitCode::SUCCESS
        }
        Cmd::Config {
            cmd: ConfigCmd::Default,
        } => {
            print!("{}", crate::config::DEFAULT_CONFIG);
            ExitCode::SUCCESS
        }
        Cmd::Config {
            cmd: ConfigCmd::Check { file },
        } => match crate::config::load(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Stub {
            listen,
            name,
            print_addr,
        } => serve::stub(listen, name, print_addr),
    }
}

/// Sets up logging once: `RUST_LOG` or info.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Logging for interactive commands: warnings only, unless `RUST_LOG` says otherwise.
pub(crate) fn init_logging_quiet() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
