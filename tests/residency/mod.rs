//! Data residency with real sockets: recording upstreams bound on 127.0.0.2 and 127.0.0.3, which
//! `[geo] overrides` place in Germany and the United States, a MaxMind DB built at test time, and
//! clients bound on other loopback addresses so that the gateway sees them "from" chosen countries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::mmdb::{self, Rec};
use crate::support::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sovgate::stub::{StubConfig, StubHandle};
use std::net::IpAddr;
use std::path::Path;

mod startup;

/// 198.51.100.0/24 is in France and 203.0.113.0/24 in the United States per the database; the
/// loopback addresses are placed by overrides.
pub(crate) const GEO: &str = r#"
[geo]
database = "{DIR}/country.mmdb"
overrides = { "127.0.0.1/32" = "DE", "127.0.0.2/32" = "DE", "127.0.0.3/32" = "US", "127.0.0.4/32" = "FR", "127.0.0.5/32" = "JP", "127.0.0.6/32" = "US" }
trusted_proxies = ["127.0.0.6"]
"#;

pub(crate) const HEAD: &str = r#"
[listen]
reverse = "127.0.0.1:0"
admin = "127.0.0.1:0"

[rules]
embedded = true

[policy]
privileged = "local"
confidential = "local"
internal = "residency"
public = "residency"

[[tenants]]
name = "eu"
keys_file = "{DIR}/eu.keys"
residency = ["EU"]

[[tenants]]
name = "follow"
keys_file = "{DIR}/follow.keys"
residency = ["EU", "US"]
residency_from_client = true

[[tenants]]
name = "open"
keys_file = "{DIR}/open.keys"

[audit]
path = "audit.jsonl"
"#;

pub(crate) fn database(dir: &Path) {
    let bytes = mmdb::build(
        "Test-Country",
        &[
            ("198.51.100.0/24", Rec::Country("FR")),
            ("203.0.113.0/24", Rec::Country("US")),
            ("192.0.2.0/24", Rec::City("GB", "London")),
            ("2001:db8::/32", Rec::Country("DE")),
        ],
    );
    std::fs::write(dir.join("country.mmdb"), bytes).unwrap();
}

struct Geo {
    h: Harness,
    de: StubHandle,
    _files: tempfile::TempDir,
}

async fn stub(name: &str, ip: &str) -> StubHandle {
    sovgate::stub::start(
        StubConfig {
            name: name.into(),
            ..StubConfig::default()
        },
        format!("{ip}:0").parse().unwrap(),
    )
    .await
    .unwrap()
}

/// A gateway on `HEAD` + `GEO` + `rest`. `{EXTERNAL}` is the US stub (127.0.0.3), `{DE}` the
/// German one (127.0.0.2), `{LOCAL}` a stub on 127.0.0.1.
async fn start(rest: &str) -> Geo {
    let files = tempfile::tempdir().unwrap();
    database(files.path());
    for t in ["eu", "follow", "open"] {
        let line = format!(
            "sha256:{}\n",
            hex::encode(sovgate::config::hash_key(&format!("{t}-key")))
        );
        std::fs::write(files.path().join(format!("{t}.keys")), line).unwrap();
    }
    let de = stub("de", "127.0.0.2").await;
    let text = format!("{HEAD}{GEO}{rest}")
        .replace("{DIR}", &files.path().display().to_string())
        .replace("{DE}", &de.url());
    let h = Harness::with_stubs(
        &text,
        stub("local", "127.0.0.1").await,
        stub("us", "127.0.0.3").await,
    )
    .await;
    Geo {
        h,
        de,
        _files: files,
    }
}

/// One chat request as tenant `key`, from source address `from`, with extra headers.
async fn ask(
    g: &Geo,
    key: &str,
    from: &str,
    model: &str,
    headers: &[(&str, &str)],
) -> (u16, http::HeaderMap, Value) {
    let mut http = HttpConnector::new();
    http.set_local_address(Some(from.parse::<IpAddr>().unwrap()));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(http);
    let body = serde_json::json!({"model": model, "messages": [{"role": "user", "content": "What is the capital of France?"}]});
    let mut req = http::Request::post(format!("{}/v1/chat/completions", g.h.url()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}-key"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status.as_u16(), parts.headers, v)
}

fn last_decision(g: &Geo) -> Value {
    g.h.audit_lines()
        .into_iter()
        .rev()
        .find(|l| l["event"] == "decision")
        .unwrap()
}

const LYING_PROVIDER: &str = r#"
[[providers]]
name = "openai"
api = "openai"
hosts = ["api.openai.com"]
upstream = "{EXTERNAL}"
region = "DE"
"#;

#[tokio::test]
async fn an_eu_tenant_never_reaches_the_us_upstream() {
    // The provider claims Germany; its address is in the United States.
    let g = start(LYING_PROVIDER).await;
    for _ in 0..3 {
        let (status, headers, body) = ask(&g, "eu", "127.0.0.1", "gpt-4o", &[]).await;
        assert_eq!(status, 451, "{body}");
        assert_eq!(headers["x-sovgate-error"], "residency_destination_outside");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("127.0.0.3 is in US"), "{msg}");
    }
    assert_eq!(
        g.h.external.calls(),
        0,
        "the US upstream saw the EU tenant's request"
    );
    assert_eq!(g.de.calls() + g.h.local.calls(), 0);
    let rec = last_decision(&g);
    assert_eq!(rec["action"], "refuse");
    let r = &rec["residency"];
    assert_eq!(r["outcome"], "residency_destination_outside", "{rec}");
    assert_eq!(r["zone"], serde_json::json!(["EU"]));
    assert_eq!(r["client"], "127.0.0.1");
    assert_eq!(r["client_country"], "DE");
    // A tenant without residency goes there: the stub is reachable, only residency kept it out.
    let (status, _, _) = ask(&g, "open", "127.0.0.1", "gpt-4o", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(g.h.external.calls(), 1);
    assert!(g
        .h
        .audit_lines()
        .iter()
        .all(|l| l["tenant"] != "open" || l.get("residency").is_none()));
}

#[tokio::test]
async fn a_declared_region_outside_is_refused_before_any_lookup() {
    let g = start(&LYING_PROVIDER.replace("region = \"DE\"", "region = \"US\"")).await;
    let (status, headers, _) = ask(&g, "eu", "127.0.0.1", "gpt-4o", &[]).await;
    assert_eq!(status, 451);
    assert_eq!(headers["x-sovgate-error"], "residency_unmet");
    assert_eq!(g.h.external.calls() + g.de.calls(), 0);
    let r = &last_decision(&g)["residency"];
    assert_eq!(r["outcome"], "residency_unmet");
}

const ZONED_PROVIDER: &str = r#"
[[providers]]
name = "openai"
api = "openai"
hosts = ["api.openai.com"]
upstream = "{EXTERNAL}"
region = "US"
upstreams = { EU = "{DE}" }
"#;

#[tokio::test]
async fn the_per_zone_upstream_is_chosen() {
    let g = start(ZONED_PROVIDER).await;
    let (status, headers, body) = ask(&g, "eu", "127.0.0.1", "gpt-4o", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-sovgate-destination"], "external:openai");
    assert_eq!(g.de.calls(), 1);
    assert_eq!(g.h.external.calls(), 0);
    let rec = last_decision(&g);
    assert_eq!(rec["destination"]["endpoint"], g.de.url(), "{rec}");
    let r = &rec["residency"];
    assert_eq!(r["outcome"], "allowed");
    assert_eq!(r["destination_address"], "127.0.0.2");
    assert_eq!(r["destination_country"], "DE");
    // The answer really came from the German stub, with the Host it is known by.
    let seen = &g.de.requests()[0];
    assert_eq!(seen.header("host").unwrap(), g.de.addr().to_string());
    // Unconstrained tenants keep the default upstream.
    let (status, _, _) = ask(&g, "open", "127.0.0.1", "gpt-4o", &[]).await;
    assert_eq!(status, 200);
    assert_eq!((g.de.calls(), g.h.external.calls()), (1, 1));
    let (_, metrics) = get(&format!("{}/metrics", g.h.admin_url())).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("sovgate_residency_decisions_total{outcome=\"allowed\",zone=\"EU\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_pinned_address_still_verifies_tls_on_the_host_name() {
    // `localhost` resolves to loopback; 127.0.0.1 is in Germany. The connection goes to the
    // checked address, and TLS is still verified against the test CA for the upstream's name.
    let pki = crate::tls::pki();
    let roots = tempfile::tempdir().unwrap();
    std::fs::write(roots.path().join("ca.pem"), &pki.ca_pem).unwrap();
    let backend = stub("de-tls", "127.0.0.2").await;
    let front = crate::tls::tls_front(&pki, backend.addr()).await;
    let rest = format!(
        "[tls]\nupstream_roots = \"{}/ca.pem\"\n{}",
        roots.path().display(),
        LYING_PROVIDER.replace("{EXTERNAL}", &format!("https://localhost:{}", front.port()))
    );
    let g = start(&rest).await;
    let (status, _, body) = ask(&g, "eu", "127.0.0.1", "gpt-4o", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((backend.calls(), g.h.external.calls()), (1, 0));
    let r = &last_decision(&g)["residency"];
    assert_eq!(
        (
            r["destination_address"].as_str(),
            r["destination_country"].as_str()
        ),
        (Some("127.0.0.1"), Some("DE"))
    );
    assert_eq!(
        backend.requests()[0].header("host").unwrap(),
        format!("localhost:{}", front.port())
    );
}

#[tokio::test]
async fn a_spoofed_forwarded_for_changes_nothing() {
    let g = start(ZONED_PROVIDER).await;
    // From Japan: outside both of the tenant's zones, whatever the headers claim.
    for headers in [
        vec![],
        vec![("x-forwarded-for", "198.51.100.7")],
        vec![("forwarded", "for=198.51.100.7")],
    ] {
        let (status, h, body) = ask(&g, "follow", "127.0.0.5", "gpt-4o", &headers).await;
        assert_eq!(status, 451, "{headers:?}: {body}");
        assert_eq!(h["x-sovgate-error"], "residency_client_outside");
        let r = &last_decision(&g)["residency"];
        assert_eq!(
            (r["client"].as_str(), r["client_country"].as_str()),
            (Some("127.0.0.5"), Some("JP"))
        );
    }
    assert_eq!(g.de.calls() + g.h.external.calls(), 0);
    // From France, claiming to be in the US: the data stays in the EU.
    let (status, _, _) = ask(
        &g,
        "follow",
        "127.0.0.4",
        "gpt-4o",
        &[("x-forwarded-for", "203.0.113.9")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!((g.de.calls(), g.h.external.calls()), (1, 0));
    let r = &last_decision(&g)["residency"];
    assert_eq!(r["zone"], serde_json::json!(["EU"]));
    assert_eq!(r["client_country"], "FR");
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_client_location() {
    let g = start(ZONED_PROVIDER).await;
    // 127.0.0.6 is a trusted proxy; the database places the forwarded clients.
    let (status, _, body) = ask(
        &g,
        "follow",
        "127.0.0.6",
        "gpt-4o",
        &[("x-forwarded-for", "198.51.100.7")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (g.de.calls(), g.h.external.calls()),
        (1, 0),
        "a French client stays in the EU"
    );
    let r = &last_decision(&g)["residency"];
    assert_eq!(
        (r["client"].as_str(), r["client_country"].as_str()),
        (Some("198.51.100.7"), Some("FR"))
    );
    let (status, _, _) = ask(
        &g,
        "follow",
        "127.0.0.6",
        "gpt-4o",
        &[("forwarded", "for=203.0.113.9")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (g.de.calls(), g.h.external.calls()),
        (1, 1),
        "a US client goes to the US upstream"
    );
    // A hop the proxy could not read is not guessed.
    let (status, h, _) = ask(
        &g,
        "follow",
        "127.0.0.6",
        "gpt-4o",
        &[("x-forwarded-for", "unknown")],
    )
    .await;
    assert_eq!(status, 451);
    assert_eq!(h["x-sovgate-error"], "residency_client_unlocated");
    // An address the database does not know is outside every zone.
    let (status, h, _) = ask(
        &g,
        "follow",
        "127.0.0.6",
        "gpt-4o",
        &[("x-forwarded-for", "8.8.8.8")],
    )
    .await;
    assert_eq!(status, 451);
    assert_eq!(h["x-sovgate-error"], "residency_client_unlocated");
    assert_eq!((g.de.calls(), g.h.external.calls()), (1, 1));
}

#[tokio::test]
async fn local_pool_endpoints_are_checked_too() {
    let rest = r#"
[[pools]]
name = "gpu"
api = "openai"
balance = "round_robin"
health_interval_ms = 0
endpoints = ["{EXTERNAL}", "{DE}"]

[[pools]]
name = "gpu-us"
api = "openai"
region = "US"
health_interval_ms = 0
endpoints = ["{EXTERNAL}"]

[[models]]
external = "llama-eu*"
pool = "gpu"

[[models]]
external = "llama-us*"
pool = "gpu-us"
"#;
    let g = start(rest).await;
    for _ in 0..4 {
        let (status, _, body) = ask(&g, "eu", "127.0.0.1", "llama-eu", &[]).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        (g.de.calls(), g.h.external.calls()),
        (4, 0),
        "the US endpoint left rotation"
    );
    let (status, h, _) = ask(&g, "eu", "127.0.0.1", "llama-us", &[]).await;
    assert_eq!(status, 451);
    assert_eq!(h["x-sovgate-error"], "residency_destination_outside");
    assert_eq!(g.h.external.calls(), 0);
    // Without a residency the pool balances over both.
    for _ in 0..2 {
        assert_eq!(ask(&g, "open", "127.0.0.1", "llama-eu", &[]).await.0, 200);
    }
    assert_eq!(g.h.external.calls(), 1);
}
