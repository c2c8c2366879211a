//! `conductor verify --reason` appends who read which pack, when and why to
//! the signed access log beside the pack; `conductor access-log` checks each
//! entry's signature and its chain to the entry before it.

use serde_json::Value;

use crate::fixture::{Release, conductor, ok};

/// The release's trust root, plus an auditor who may only read.
fn with_auditor(release: &Release) {
    let p = release.path();
    ok(p, &["keygen", "--out", "keys/auditor", "--no-encrypt"]);
    let key = evidence::keys::PublicKey::from_pem(&std::fs::read_to_string(p.join("keys/auditor.pub")).unwrap()).unwrap();
    let mut trust = std::fs::read_to_string(release.trust()).unwrap();
    trust.push_str(&format!("\n[[keys]]\nid = \"{}\"\nname = \"auditor\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = []\npredicate_types = []\nidentity = \"ines@audit.example\"\n", key.id(), key.to_pem()));
    std::fs::write(release.trust(), trust).unwrap();
}

#[test]
fn each_read_with_a_reason_is_signed_and_chained_beside_the_pack() {
    let release = Release::new();
    let p = release.path();
    let pack = release.pack();
    with_auditor(&release);
    for reason in ["SOX audit of change CHG-1042", "incident review INC-2026-12-01-01"] {
        let out = conductor(p, &["verify", "pack.zip", "--trust", "trust.toml", "--reason", reason, "--key", "keys/auditor.key"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("access by ines@audit.example recorded in access-log.jsonl: {reason}")), "{}", String::from_utf8_lossy(&out.stdout));
    }
    let entries: Value = serde_json::from_str(&ok(p, &["access-log", "--trust", "trust.toml", "--json"])).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["who"], "ines@audit.example");
    assert_eq!(entries[1]["reason"], "incident review INC-2026-12-01-01");
    assert_eq!(entries[0]["verdict"], "verified");
    let digest = evidence::digest::Sha256::of(&std::fs::read(&pack).unwrap()).to_string();
    assert_eq!(entries[0]["packSha256"], digest.as_str());

    // An entry taken out breaks the chain, and the check names the line.
    let log = p.join("access-log.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.lines().nth(1).unwrap().to_owned() + "\n").unwrap();
    let out = conductor(p, &["access-log", "--trust", "trust.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("access-log.jsonl line 1: names"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_reason_needs_a_key_and_words() {
    let release = Release::new();
    let p = release.path();
    release.pack();
    let out = conductor(p, &["verify", "pack.zip", "--trust", "trust.toml", "--reason", "audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key"));
    with_auditor(&release);
    let out = conductor(p, &["verify", "pack.zip", "--trust", "trust.toml", "--reason", " ", "--key", "keys/auditor.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason is empty"));
    assert!(!p.join("access-log.jsonl").exists());
}
