#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use std::path::Path;

#[test]
fn embedded_default_builds_and_routes_everything_local() {
    let c = embedded().unwrap();
    assert_eq!(c.listen.reverse.unwrap().to_string(), "127.0.0.1:8080");
    assert_eq!(c.pools.len(), 1);
    assert_eq!(c.pools[0].endpoints[0].url(), "http://127.0.0.1:8000");
    for class in sovgate_core::types::Class::ALL {
        assert_eq!(
            c.policy.placement(class),
            sovgate_core::policy::Placement::Local
        );
    }
    assert!(c.tenants.is_empty());
    assert!(c.rules.embedded);
}

#[test]
fn every_error_reported_with_position() {
    let text = r#"[listen]
reverse = "not-an-address"

[policy]
privileged = "outside"

[[pools]]
name = "a"
endpoints = ["ftp://x"]

[[models]]
external = "gpt-*"
pool = "missing"
"#;
    let errs = build("t.toml", text, Path::new(".")).unwrap_err();
    let msgs: Vec<String> = errs.errors().iter().map(|e| e.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("t.toml:2:11: error: `not-an-address`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("t.toml:5:14: error: unknown placement")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("endpoint `ftp://x`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("t.toml:13:8: error: no pool named `missing`")),
        "{msgs:?}"
    );
}

#[test]
fn unknown_key_names_line() {
    let errs = build(
        "t.toml",
        "[listen]\nreverse = \"127.0.0.1:1\"\nbogus = 1\n",
        Path::new("."),
    )
    .unwrap_err();
    let e = &errs.errors()[0];
    assert_eq!((e.line(), e.column()), (3, 1), "{e}");
    assert!(e.message().contains("bogus"), "{e}");
}

#[test]
fn upstream_urls() {
    let u = parse_upstream("https://api.openai.com/v1/").unwrap();
    assert_eq!(
        (u.https, u.host.as_str(), u.port, u.base_path.as_str()),
        (true, "api.openai.com", 443, "/v1")
    );
    assert_eq!(u.url(), "https://api.openai.com/v1");
    let u = parse_upstream("http://127.0.0.1:8000").unwrap();
    assert_eq!(u.authority(), "127.0.0.1:8000");
    assert!(parse_upstream("ftp://x").is_none());
    assert!(parse_upstream("http://").is_none());
}

#[test]
fn tenants_keys_and_residency() {
    let dir = tempfile::tempdir().unwrap();
    let hash = hex::encode(hash_key("sk-sovgate-legal"));
    std::fs::write(
        dir.path().join("legal.keys"),
        format!("# legal team\nsha256:{hash}\n"),
    )
    .unwrap();
    let text = r#"
[[tenants]]
name = "legal-eu"
keys_file = "legal.keys"
residency = ["EU"]

[[tenants]]
name = "bad"
keys_file = "legal.keys"
residency = ["Atlantis"]
"#;
    let errs = build("t.toml", text, dir.path()).unwrap_err();
    assert_eq!(errs.errors().len(), 1, "{errs}");
    assert!(errs.errors()[0].to_string().contains("Atlantis"));
    let ok = build(
        "t.toml",
        &text.replace("\"Atlantis\"", "\"CH\""),
        dir.path(),
    )
    .unwrap();
    assert!(ok.tenants[0]
        .key_hashes
        .contains(&hash_key("sk-sovgate-legal")));
    assert!(ok.tenants[0].residency.as_ref().unwrap().allows("FR"));
    assert!(!ok.tenants[0].anonymous);
}

#[test]
fn sizes() {
    let c = build("t.toml", "[limits]\nmax_body = \"4MiB\"\n", Path::new(".")).unwrap();
    assert_eq!(c.limits.max_body, 4 << 20);
    let c = build("t.toml", "[limits]\nmax_body = 1000\n", Path::new(".")).unwrap();
    assert_eq!(c.limits.max_body, 1000);
    assert!(build(
        "t.toml",
        "[limits]\nmax_body = \"4 parsecs\"\n",
        Path::new(".")
    )
    .is_err());
}

#[test]
fn pool_backpressure_keys() {
    let pool = |extra: &str| {
        format!("[[pools]]\nname = \"p\"\nendpoints = [\"http://127.0.0.1:1\"]\n{extra}\n")
    };
    let c = build(
        "t.toml",
        &pool("max_inflight = 4\nqueue_size = 10\nqueue_timeout_ms = 250\nretry_budget_ms = 900"),
        Path::new("."),
    )
    .unwrap();
    let t = &c.pools[0].tuning;
    assert_eq!(t.max_inflight, Some(4));
    assert_eq!(t.queue_size, 10);
    assert_eq!(t.queue_timeout, std::time::Duration::from_millis(250));
    assert_eq!(t.retry_budget, std::time::Duration::from_millis(900));
    let d = build("t.toml", &pool(""), Path::new(".")).unwrap();
    assert_eq!(d.pools[0].tuning.max_inflight, None, "no cap unless asked");
    let errs = build("t.toml", &pool("max_inflight = 0"), Path::new(".")).unwrap_err();
    let e = &errs.errors()[0];
    assert_eq!((e.line(), e.column()), (4, 16), "{e}");
    assert!(e.message().contains("max_inflight"), "{e}");
}

#[test]
fn default_providers_cover_regional_and_pattern_hosts() {
    let c = embedded().unwrap();
    let azure = c
        .providers
        .iter()
        .find(|p| p.name == "azure-openai")
        .unwrap();
    assert!(
        azure.follow_host,
        "intercepted Azure calls go to the resource the client named"
    );
    let openai = c.providers.iter().find(|p| p.name == "openai").unwrap();
    assert_eq!(openai.upstream.url(), "https://api.openai.com");
    assert!(openai.hosts.iter().any(|h| h == "eu.api.openai.com"));
}

#[test]
fn interception_listeners_need_the_ca() {
    let err = build(
        "t.toml",
        "[listen]\nforward = \"127.0.0.1:3128\"\n",
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("t.toml:2:11") && err.contains("ca_cert"),
        "{err}"
    );
    let err = build(
        "t.toml",
        "[tls]\nclient_ca = \"c.pem\"\n\n[egress]\ntunnel = [\"x:y\"]\nclients = [\"10/8\"]\n",
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    for want in ["client_ca needs TLS", "not a port", "not an address block"] {
        assert!(err.contains(want), "{want}: {err}");
    }
}
