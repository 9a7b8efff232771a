//! Residency at startup and on the command line: a database that cannot be read refuses to
//! serve, and `sovgate geo lookup` says what the database says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{database, GEO, HEAD};

#[tokio::test]
async fn a_missing_database_refuses_startup() {
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("eu.keys"), "").unwrap();
    std::fs::write(files.path().join("follow.keys"), "").unwrap();
    std::fs::write(files.path().join("open.keys"), "").unwrap();
    let text = format!("{HEAD}{GEO}").replace("{DIR}", &files.path().display().to_string());
    let err = sovgate::config::build("sovgate.toml", &text, files.path()).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.starts_with("database"))
        .unwrap()
        + 1;
    let e = &err.errors()[0];
    assert_eq!(
        (e.file(), e.line(), e.column()),
        ("sovgate.toml", line, 12),
        "{err}"
    );
    assert!(
        e.message().contains("cannot read the geo database"),
        "{err}"
    );
    // A corrupt file is refused the same way.
    std::fs::write(
        files.path().join("country.mmdb"),
        b"\xAB\xCD\xEFMaxMind.com garbage",
    )
    .unwrap();
    let err = sovgate::config::build("sovgate.toml", &text, files.path()).unwrap_err();
    assert!(err.to_string().contains("not a MaxMind DB file"), "{err}");
    // The binary refuses to serve on it, naming the place.
    let cfg = files.path().join("sovgate.toml");
    std::fs::write(&cfg, &text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sovgate"))
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "sovgate.toml:{line}:12: error: cannot read the geo database"
        )),
        "{stderr}"
    );
}

#[test]
fn geo_lookup_agrees_with_the_database() {
    let files = tempfile::tempdir().unwrap();
    database(files.path());
    let cfg = files.path().join("sovgate.toml");
    std::fs::write(
        &cfg,
        GEO.replace("{DIR}", &files.path().display().to_string()),
    )
    .unwrap();
    let db = sovgate::geo::Database::open(&files.path().join("country.mmdb")).unwrap();
    let addrs = [
        "198.51.100.7",
        "203.0.113.9",
        "192.0.2.1",
        "2001:db8::5",
        "8.8.8.8",
        "127.0.0.2",
        "127.0.0.3",
    ];
    let mut args = vec!["geo", "lookup", "--config", cfg.to_str().unwrap()];
    args.extend(addrs);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sovgate"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), addrs.len(), "{stdout}");
    for (line, addr) in lines.iter().zip(addrs) {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], addr, "{line}");
        if addr.starts_with("127.") {
            assert!(line.contains("(override)"), "{line}");
            continue;
        }
        match db.country(addr.parse().unwrap()) {
            Ok(c) => {
                assert_eq!(words[1], c.as_str(), "{line}");
                assert!(line.contains("(database)"), "{line}");
            }
            Err(why) => assert!(line.contains(&format!("unlocated: {why}")), "{line}"),
        }
    }
    assert_eq!(lines[0], "198.51.100.7 FR (database) zones: EU, EEA");
    assert_eq!(lines[2], "192.0.2.1 GB (database) zones: UK");
    assert_eq!(lines[5], "127.0.0.2 DE (override) zones: EU, EEA");
    assert_eq!(lines[6], "127.0.0.3 US (override) zones: US");
    assert!(lines[4].starts_with("8.8.8.8 - (unlocated"), "{}", lines[4]);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_sovgate"))
        .args([
            "geo",
            "lookup",
            "--config",
            cfg.to_str().unwrap(),
            "not-an-ip",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
