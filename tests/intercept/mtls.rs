//! mTLS on the reverse listener: a client certificate from `client_ca` naming a tenant is the
//! tenant's identity; no certificate, another CA, or an unknown name fails the handshake.

use super::*;

struct Issued {
    cert: String,
    key: String,
}

fn ca(cn: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    (p.self_signed(&key).unwrap(), key)
}

fn issue(
    by: &(rcgen::Certificate, rcgen::KeyPair),
    cn: &str,
    sans: &[&str],
    client: bool,
) -> Issued {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p =
        rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.extended_key_usages = vec![if client {
        rcgen::ExtendedKeyUsagePurpose::ClientAuth
    } else {
        rcgen::ExtendedKeyUsagePurpose::ServerAuth
    }];
    let cert = p.signed_by(&key, &by.0, &by.1).unwrap();
    Issued {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_identify_tenants_and_others_fail_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let write = |n: &str, text: &str| std::fs::write(dir.path().join(n), text).unwrap();
    let server_ca = ca("Gateway server CA");
    let server = issue(&server_ca, "localhost", &["localhost"], false);
    let clients_ca = ca("CRM client CA");
    let stranger_ca = ca("Someone else's CA");
    write("server-ca.pem", &server_ca.0.pem());
    write("server.pem", &server.cert);
    write("server.key", &server.key);
    write("clients-ca.pem", &clients_ca.0.pem());
    // The tenant's name in the subject CN for one certificate, in a SAN for the other.
    for (name, issued) in [
        ("by-cn", issue(&clients_ca, "crm.example.com", &[], true)),
        (
            "by-san",
            issue(
                &clients_ca,
                "Salesforce callout",
                &["crm.example.com"],
                true,
            ),
        ),
        (
            "unknown",
            issue(&clients_ca, "intruder.example.com", &[], true),
        ),
        (
            "stranger",
            issue(&stranger_ca, "crm.example.com", &[], true),
        ),
    ] {
        write(&format!("{name}.pem"), &issued.cert);
        write(&format!("{name}.key"), &issued.key);
    }
    write(
        "crm.keys",
        &format!(
            "sha256:{}\n",
            hex::encode(sovgate::config::hash_key("unused"))
        ),
    );
    let config = CONFIG.replace(
        "[policy]",
        &format!(
            "[tls]\nserver_cert = \"{}\"\nserver_key = \"{}\"\nclient_ca = \"{}\"\n\n[policy]",
            p("server.pem"),
            p("server.key"),
            p("clients-ca.pem")
        ),
    ) + &format!(
        "\n[[tenants]]\nname = \"crm\"\nkeys_file = \"{}\"\nclient_names = [\"crm.example.com\"]\n",
        p("crm.keys")
    );
    let h = Harness::with_config(&config).await;
    let url = format!(
        "https://localhost:{}/v1/chat/completions",
        h.gw.reverse.unwrap().port()
    );
    let server_ca_file = p("server-ca.pem");
    let body = chat("callout from the CRM");
    let call = |who: Option<&str>| {
        let mut args = vec!["--cacert".to_owned(), server_ca_file.clone()];
        if let Some(who) = who {
            args.extend(["--cert".into(), p(&format!("{who}.pem"))]);
            args.extend(["--key".into(), p(&format!("{who}.key"))]);
        }
        args
    };
    for who in ["by-cn", "by-san"] {
        let args = call(Some(who));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, answer, tail, err) = curl_post(&args, &body, &url).await;
        assert_eq!(code, Some(0), "{who}: {err}");
        assert!(tail.starts_with("200"), "{who}: {answer}");
    }
    let tenants: Vec<String> = h
        .audit_lines()
        .iter()
        .filter(|l| l["event"] == "decision")
        .map(|l| l["tenant"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        tenants,
        vec!["crm", "crm"],
        "the certificate named the tenant"
    );
    for who in [None, Some("unknown"), Some("stranger")] {
        let args = call(who);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, answer, _, err) = curl_post(&args, &body, &url).await;
        assert_ne!(code, Some(0), "{who:?} was admitted: {answer}");
        assert!(answer.is_empty(), "{who:?}: no HTTP answer at all, {err}");
    }
    assert_eq!(
        h.external.calls(),
        2,
        "only the admitted calls went anywhere"
    );
    assert_eq!(
        h.audit_lines()
            .iter()
            .filter(|l| l["event"] == "decision")
            .count(),
        2
    );
    assert!(
        h.gw.state
            .metrics
            .get(
                sovgate::intercept::HANDSHAKE_FAILURES,
                &[
                    ("listener", "reverse"),
                    ("client", "127.0.0.1"),
                    ("host", "-"),
                    ("outcome", "failed")
                ]
            )
            .unwrap_or(0.0)
            >= 2.0
    );
}
