//! `sovgate ca init`: the CA files, their modes, and never overwriting them.

use crate::cli::{sovgate, text};

#[test]
fn ca_init_writes_a_usable_ca_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out_s = out.display().to_string();
    let o = sovgate(&["ca", "init", "--out", &out_s], None);
    assert!(o.status.success(), "{}", text(&o));
    let key = std::fs::read_to_string(out.join("ca.key")).unwrap();
    let cert = std::fs::read_to_string(out.join("ca.pem")).unwrap();
    assert!(key.contains("PRIVATE KEY") && cert.contains("BEGIN CERTIFICATE"));
    assert!(
        !text(&o).contains("PRIVATE KEY"),
        "the key is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // ECDSA P-256 by default, a CA, named as asked.
    let der = rustls_pemfile::certs(&mut cert.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let (_, x) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(x.is_ca());
    assert!(x.subject().to_string().contains("Sovgate Interception CA"));
    assert_eq!(
        x.public_key()
            .algorithm
            .parameters
            .as_ref()
            .unwrap()
            .as_oid()
            .unwrap()
            .to_id_string(),
        "1.2.840.10045.3.1.7",
        "prime256v1"
    );
    // The gateway loads what it wrote.
    sovgate::intercept::ca::Ca::load(&out.join("ca.pem"), &out.join("ca.key")).unwrap();

    let o = sovgate(
        &["ca", "init", "--out", &out_s, "--key", "ecdsa-p384"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("refusing to overwrite"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("ca.key")).unwrap(),
        key,
        "key untouched"
    );
}
