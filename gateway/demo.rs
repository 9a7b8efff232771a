//! `sovgate demo`: the whole job on one screen, with no set-up.
//!
//! Starts the built-in stub inference backend (standing in for a GPU server), starts the gateway
//! on the embedded defaults pointed at it, sends three sample CRM payloads through the gateway as a
//! client would, and prints what the client sent beside what the backend actually received. Then
//! it keeps serving so the user can try their own requests.

use crate::config;
use crate::proxy;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;

fn samples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Salesforce case with privileged litigation strategy",
            json!({
                "model": "gpt-4o",
                "messages": [
                    {"role": "system", "content": "You summarize Salesforce cases for account managers."},
                    {"role": "user", "content": serde_json::to_string(&json!({
                        "Id": "5003000000D8cuI", "Subject": "Contract dispute - Acme GmbH",
                        "Status": "Escalated",
                        "legal_case_strategy__c": "Settle below EUR 2M; argue laches if they sue in Munich.",
                        "Description": "Customer disputes renewal pricing."
                    })).unwrap_or_default()}
                ]
            }),
        ),
        (
            "HR note with a social security number and an e-mail address",
            json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content":
                    "Draft a reply to jane.doe@example.com about her benefits enrolment. Her SSN on file is 123-45-6789."}]
            }),
        ),
        (
            "Benign request (forwarded byte for byte)",
            json!({
                "model": "gpt-4o",
                "temperature": 0.2,
                "messages": [{"role": "user", "content": "Suggest three subject lines for our Q3 newsletter."}]
            }),
        ),
    ]
}

pub fn run(once: bool) -> ExitCode {
    crate::cli::init_logging_quiet();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(demo(once)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sovgate demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bind_or_ephemeral(preferred: &str) -> anyhow::Result<std::net::SocketAddr> {
    let addr: std::net::SocketAddr = preferred.parse()?;
    Ok(match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l.local_addr()?,
        Err(_) => "127.0.0.1:0".parse()?,
    })
}

async fn demo(once: bool) -> anyhow::Result<()> {
    let stub = crate::stub::start(
        crate::stub::StubConfig {
            name: "local-gpu".into(),
            ..crate::stub::StubConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let audit_dir = std::env::temp_dir().join(format!("sovgate-demo-{}", std::process::id()));
    let mut cfg = config::embedded().map_err(|e| anyhow::anyhow!("{e}"))?;
    cfg.pools[0].endpoints =
        vec![config::parse_upstream(&stub.url()).ok_or_else(|| anyhow::anyhow!("stub url"))?];
    cfg.listen.reverse = Some(bind_or_ephemeral("127.0.0.1:8080").await?);
    cfg.listen.admin = Some(bind_or_ephemeral("127.0.0.1:9090").await?);
    cfg.audit.path = Some(audit_dir.join("audit.jsonl"));
    let state = Arc::new(crate::cli::build_state(cfg)?);
    let running = proxy::start(Arc::clone(&state)).await?;
    let gw = running
        .reverse
        .ok_or_else(|| anyhow::anyhow!("no reverse listener"))?;

    println!(
        "Sovgate demo: gateway on http://{gw}, stub GPU backend on {}\n",
        stub.url()
    );
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    for (i, (title, body)) in samples().into_iter().enumerate() {
        let sent = serde_json::to_vec(&body)?;
        let before = stub.calls();
        let req = http::Request::post(format!("http://{gw}/v1/chat/completions"))
            .header("content-type", "application/json")
            .header("authorization", "Bearer demo-key")
            .body(Full::new(Bytes::from(sent.clone())))?;
        let resp = client.request(req).await?;
        let status = resp.status();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned()
        };
        let decision = format!(
            "classified {} → routed to {}",
            header("x-sovgate-classification"),
            header("x-sovgate-destination")
        );
        let answer = resp.into_body().collect().await?.to_bytes();
        println!("── {}. {title}", i + 1);
        println!("   decision        : {decision}");
        println!("   client sent     : {}", String::from_utf8_lossy(&sent));
        match stub.requests().get(before) {
            Some(r) => {
                let same = r.body == sent;
                println!("   backend received: {}", String::from_utf8_lossy(&r.body));
                println!(
                    "   {}",
                    if same {
                        "(byte-identical: no rule fired)"
                    } else {
                        "(transformed by Sovgate before it left)"
                    }
                );
            }
            None => println!("   backend received: nothing"),
        }
        println!(
            "   answer ({status}): {}\n",
            String::from_utf8_lossy(&answer)
        );
    }
    println!(
        "Audit log: {} (check it with `sovgate audit verify`)",
        audit_dir.join("audit.jsonl").display()
    );
    if once {
        running.shutdown();
        return Ok(());
    }
    println!("\nStill serving. Try:");
    println!("  curl -s http://{gw}/v1/chat/completions -H 'content-type: application/json' \\");
    println!("       -d '{{\"model\":\"gpt-4o\",\"messages\":[{{\"role\":\"user\",\"content\":\"my SSN is 078-05-1120\"}}]}}'");
    println!("  python3 -c \"import openai; c=openai.OpenAI(base_url='http://{gw}/v1', api_key='x'); print(c.chat.completions.create(model='gpt-4o', messages=[{{'role':'user','content':'hi'}}]).choices[0].message.content)\"");
    if let Some(a) = running.admin {
        println!("  curl -s http://{a}/metrics");
    }
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    running.shutdown();
    Ok(())
}
