//! The CA's NameConstraints and the ports interception answers on: a minted leaf and the CA read
//! by pyca/cryptography (strict DER, every extension, path validation with name constraints),
//! CONNECT outside the CA's scope or on an unconfigured port refused before the 200, and
//! `sovgate ca init --permit / --unconstrained`.

use super::*;
use crate::cli::{sovgate, text};
use base64::Engine;

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyca_cryptography_reads_the_ca_and_a_minted_leaf_and_enforces_the_constraints() {
    let t = Icpt::start("").await;
    let tls = tunnel_tls(t.forward(), "api.openai.com", client_config(&t.ca_pem, &[]))
        .await
        .unwrap();
    let leaf = t.pki.path().join("leaf.pem");
    std::fs::write(&leaf, pem(&peer_cert(&tls))).unwrap();
    let key = t.pki.path().join("ca.key");
    let mut cmd = std::process::Command::new(crate::sdk::python());
    cmd.arg(crate::sdk::repo().join("tests/python/ca_check.py"))
        .arg(&t.ca_file)
        .arg(&key)
        .arg(&leaf)
        .arg("api.openai.com");
    let ran = crate::sdk::run(cmd, crate::sdk::VENV_HINT).await;
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    let out: serde_json::Value = serde_json::from_str(ran.stdout.trim()).unwrap();
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["rejected"].as_object().unwrap().len(), 4, "{out}");
}

const EXTRA: &str = r#"
[[providers]]
name = "xai"
api = "openai"
hosts = ["api.x.ai"]
upstream = "{EXTERNAL}"
ports = [443, 8443]
key_env = "SOVGATE_TEST_PROVIDER_KEY"

[[providers]]
name = "internal"
api = "openai"
hosts = ["llm.internal.example"]
upstream = "{EXTERNAL}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_only_on_configured_ports_and_inside_the_ca_scope() {
    let t = Icpt::start(EXTRA).await;
    // Default ports: 443 only, for configured and built-in hosts alike; never tunneled instead.
    for authority in [
        "api.openai.com:8443",
        "api.openai.com:80",
        "api.mistral.ai:444",
    ] {
        let (s, head) = connect(t.forward(), authority, "").await;
        assert!(head.starts_with("HTTP/1.1 403"), "{authority}: {head}");
        assert!(head.contains("egress_port_denied"), "{head}");
        assert!(rest(s).await.contains("never tunnels it"));
    }
    // A provider's own `ports`.
    let cfg = client_config(&t.ca_pem, &[]);
    let (s, head) = connect(t.forward(), "api.x.ai:8443", "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let name = ServerName::try_from("api.x.ai".to_owned()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(cfg.clone())
        .connect(name, s)
        .await
        .unwrap();
    let (status, _, _) =
        request(tls, "POST", "api.x.ai", "/v1/chat/completions", &chat("hi")).await;
    assert_eq!(status, 200);
    assert_eq!(t.h.external.calls(), 1);
    // A provider host outside the CA's NameConstraints: refused before the 200, not minted.
    let (s, head) = connect(t.forward(), "llm.internal.example:443", "").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(head.contains("ca_scope"), "{head}");
    assert!(rest(s).await.contains("--permit"));
    assert_eq!(
        t.h.gw.state.intercept.as_ref().unwrap().minter.cached(),
        1,
        "only api.x.ai was minted"
    );
    // The transparent listener refuses that name in the handshake.
    let tcp = TcpStream::connect(t.h.gw.transparent.unwrap())
        .await
        .unwrap();
    let name = ServerName::try_from("llm.internal.example".to_owned()).unwrap();
    assert!(tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await
        .is_err());
    assert_eq!(t.h.external.calls(), 1);
}

fn nc_of(dir: &std::path::Path) -> Option<(Vec<String>, Vec<Vec<u8>>, usize)> {
    use x509_parser::extensions::GeneralName;
    let cert = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    let der = rustls_pemfile::certs(&mut cert.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let (_, x) = x509_parser::parse_x509_certificate(&der).unwrap();
    let nc = x.name_constraints().unwrap()?;
    assert!(nc.critical);
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    for t in nc.value.permitted_subtrees.iter().flatten() {
        match &t.base {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(b) => ips.push(b.to_vec()),
            other => panic!("{other:?}"),
        }
    }
    let excluded = nc.value.excluded_subtrees.as_ref().map_or(0, Vec::len);
    Some((dns, ips, excluded))
}

#[test]
fn ca_init_permits_the_builtin_domains_plus_permit_or_nothing_when_unconstrained() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scoped");
    let o = sovgate(
        &[
            "ca",
            "init",
            "--out",
            out.to_str().unwrap(),
            "--permit",
            "llm.internal.example",
            "--permit",
            "*.models.corp.example",
            "--permit",
            "10.20.0.0/16",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("NameConstraints:"), "{}", text(&o));
    let (dns, ips, excluded) = nc_of(&out).unwrap();
    for d in [
        "api.openai.com",
        "api.anthropic.com",
        "llm.internal.example",
        "models.corp.example",
        "europe-west4-aiplatform.googleapis.com",
    ] {
        assert!(dns.contains(&d.to_owned()), "{d}: {dns:?}");
    }
    assert!(!dns
        .iter()
        .any(|d| d == "googleapis.com" || d == "amazonaws.com"));
    assert_eq!(ips, vec![vec![10, 20, 0, 0, 255, 255, 0, 0]]);
    assert_eq!(
        excluded, 0,
        "permitted IP ranges replace the exclusion of every address"
    );
    let ca = sovgate::intercept::ca::Ca::load(&out.join("ca.pem"), &out.join("ca.key")).unwrap();
    assert!(ca.permits("llm.internal.example") && ca.permits("10.20.1.2"));
    assert!(!ca.permits("example.com") && !ca.permits("10.21.0.1"));

    let default = dir.path().join("default");
    let o = sovgate(&["ca", "init", "--out", default.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));
    let (_, ips, excluded) = nc_of(&default).unwrap();
    assert_eq!(
        (ips.len(), excluded),
        (0, 2),
        "every IPv4 and IPv6 address excluded"
    );

    let open = dir.path().join("open");
    let o = sovgate(
        &[
            "ca",
            "init",
            "--out",
            open.to_str().unwrap(),
            "--unconstrained",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: --unconstrained"));
    assert!(nc_of(&open).is_none());

    let bad = dir.path().join("bad");
    let o = sovgate(
        &[
            "ca",
            "init",
            "--out",
            bad.to_str().unwrap(),
            "--permit",
            "not a domain",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!bad.join("ca.key").exists());
}
