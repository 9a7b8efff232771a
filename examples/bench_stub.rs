//! The recording stub as a standalone server, for load tests (`benches/load/run.sh`).
//!
//! `cargo run --release --example bench_stub -- 127.0.0.1:18000` serves the OpenAI, Anthropic
//! and Gemini stub APIs with a short fixed answer on one thread until killed. The stub records
//! every request; under load that would grow without bound, so the records are cleared every
//! second.

use sovgate::stub::{Reply, StubConfig};
use std::error::Error;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18000".into())
        .parse()?;
    let stub = sovgate::stub::start(
        StubConfig {
            name: "bench".into(),
            reply: Reply::Fixed("The account is on track; renewal is due in Q3.".into()),
            ..StubConfig::default()
        },
        addr,
    )
    .await?;
    println!("stub listening on {}", stub.url());
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        stub.clear();
    }
}
