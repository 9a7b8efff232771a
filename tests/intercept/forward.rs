//! The forward listener with curl and raw CONNECT clients: interception, leak tests, HTTP/2
//! inside the tunnel, the minted certificate, the certificate cache.

use super::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_the_proxy_clean_goes_external_with_the_provider_key() {
    let t = Icpt::start("").await;
    let body = "{\"model\": \"gpt-4o\",  \"messages\": [{\"role\": \"user\", \"content\": \"plan Q3 \\u00e9t\\u00e9\"}]}";
    let proxy = t.proxy_url();
    let ca = t.ca_file.display().to_string();
    for (i, h2) in [false, true].into_iter().enumerate() {
        let version = if h2 { "--http2" } else { "--http1.1" };
        let args = [
            "-x",
            &proxy,
            "--cacert",
            &ca,
            "-H",
            "authorization: Bearer sk-client-own",
            version,
        ];
        let url = "https://api.openai.com/v1/chat/completions";
        let (code, answer, tail, err) = curl_post(&args, body, url).await;
        assert_eq!(code, Some(0), "curl: {err}");
        assert_eq!(tail, if h2 { "200 2" } else { "200 1.1" }, "{answer}");
        let v: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "[external] plan Q3 été"
        );
        let got = t.h.external.requests();
        assert_eq!(got.len(), i + 1);
        let last = got.last().unwrap();
        assert_eq!(last.path, "/v1/chat/completions");
        assert_eq!(
            last.body,
            body.as_bytes(),
            "a clean body is forwarded byte for byte"
        );
        assert_eq!(auth_headers(last), vec![format!("Bearer {PROVIDER_KEY}")]);
    }
    assert_eq!(t.h.local.calls(), 0);
    assert_eq!(
        t.metric(
            sovgate::intercept::HANDSHAKES,
            &[("listener", "forward"), ("outcome", "ok")]
        ),
        2.0
    );
    let audit = t.h.audit_lines();
    let decisions: Vec<&Value> = audit.iter().filter(|l| l["event"] == "decision").collect();
    assert_eq!(decisions.len(), 2);
    for d in decisions {
        assert_eq!(d["listener"], "forward");
        assert_eq!(d["destination"]["name"], "openai");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_through_connect_stays_local_and_external_sees_nothing() {
    let t = Icpt::start("").await;
    let tls = tunnel_tls(
        t.forward(),
        "api.openai.com",
        client_config(&t.ca_pem, &[b"http/1.1"]),
    )
    .await
    .unwrap();
    let (status, headers, answer) = request(
        tls,
        "POST",
        "api.openai.com",
        "/v1/chat/completions",
        &privileged_chat(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(headers["x-sovgate-classification"], "privileged");
    assert_eq!(
        t.h.external.calls(),
        0,
        "privileged request reached the provider"
    );
    let local = t.h.local.requests();
    assert_eq!(local.len(), 1);
    let body = local[0].body_str();
    assert!(
        !body.contains("legal_case_strategy__c") && !body.contains("laches"),
        "{body}"
    );
    assert!(body.contains("Supplier dispute"), "{body}");
    assert_eq!(local[0].json().unwrap()["model"], "llama-3.1-70b-instruct");
    assert!(
        auth_headers(&local[0]).is_empty(),
        "client key sent to the pool"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_inside_the_tunnel() {
    let t = Icpt::start("").await;
    let tls = tunnel_tls(
        t.forward(),
        "api.openai.com",
        client_config(&t.ca_pem, &[b"h2"]),
    )
    .await
    .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for content in ["first over h2", "second on the same connection"] {
        let req = http::Request::post("https://api.openai.com/v1/chat/completions")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(chat(content))))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), http::Version::HTTP_2);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains(content));
    }
    assert_eq!(t.h.external.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_certificate_names_the_host_and_chains_to_the_ca() {
    let t = Icpt::start("").await;
    // The authority as a sloppy client writes it: case, trailing dot.
    let (s, head) = connect(t.forward(), "API.OpenAI.com.:443", "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let name = ServerName::try_from("api.openai.com").unwrap();
    let tls = tokio_rustls::TlsConnector::from(client_config(&t.ca_pem, &[b"h2", b"http/1.1"]))
        .connect(name, s)
        .await
        .expect("the minted chain verifies against the CA alone");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let der = peer_cert(&tls);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let ca_der = rustls_pemfile::certs(&mut t.ca_pem.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    assert_eq!(cert.issuer(), ca.subject());
    cert.verify_signature(Some(ca.public_key())).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    let dns: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|n| format!("{n}"))
        .collect();
    assert_eq!(dns, vec!["DNSName(api.openai.com)"]);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let v = cert.validity();
    assert!(v.not_before.timestamp() <= now && now - v.not_before.timestamp() < 2 * 3600);
    let left = v.not_after.timestamp() - now;
    assert!((23 * 3600..=24 * 3600 + 60).contains(&left), "{left}s left");
    assert!(!cert.is_ca());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_cache_hit_rate_in_steady_state() {
    let t = Icpt::start("").await;
    let cfg = client_config(&t.ca_pem, &[b"http/1.1"]);
    for _ in 0..200 {
        let tls = tunnel_tls(t.forward(), "api.openai.com", Arc::clone(&cfg))
            .await
            .unwrap();
        let (status, _, _) = request(tls, "GET", "api.openai.com", "/v1/models", "").await;
        assert_eq!(status, 200);
    }
    let hit = t.metric(sovgate::intercept::mint::CACHE_METRIC, &[("result", "hit")]);
    let miss = t.metric(
        sovgate::intercept::mint::CACHE_METRIC,
        &[("result", "miss")],
    );
    assert_eq!(hit + miss, 200.0, "one lookup per handshake");
    let rate = hit / (hit + miss);
    assert!(rate >= 0.99, "hit rate {rate} ({hit} hits, {miss} misses)");
    let (_, text) = get(&format!("{}/metrics", t.h.admin_url())).await;
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("sovgate_intercept_cert_cache_total{result=\"hit\"}"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_form_plain_http_to_an_llm_host_is_inspected() {
    let t = Icpt::start("").await;
    let proxy = t.proxy_url();
    let body = privileged_chat();
    let url = "http://api.openai.com/v1/chat/completions";
    let (code, answer, tail, err) = curl_post(&["-x", &proxy], &body, url).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(tail, "200 1.1", "{answer}");
    assert_eq!(t.h.external.calls(), 0);
    let local = t.h.local.requests();
    assert_eq!(local.len(), 1);
    assert!(!local[0].body_str().contains("laches"));
    // Plain HTTP to anything else is not proxied.
    let (code, answer, tail, _) = curl(&["-x", &proxy, "http://example.com/"]).await;
    assert_eq!(code, Some(0));
    assert_eq!(tail, "403 1.1", "{answer}");
    assert!(answer.contains("egress_denied"), "{answer}");
}
