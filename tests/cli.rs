//! The command-line contract: verbs, refusals and exit codes.

use crate::fixture::{Release, conductor, git, ok, repo};

#[test]
fn the_same_ledger_gives_the_same_pack_bytes() {
    let release = Release::new();
    ok(release.path(), &["pack", "--out", "a.zip"]);
    ok(release.path(), &["pack", "--out", "b.zip"]);
    let a = std::fs::read(release.path().join("a.zip")).unwrap();
    let b = std::fs::read(release.path().join("b.zip")).unwrap();
    assert!(a == b, "two packs of one ledger differ");
}

#[test]
fn pack_defaults_to_the_versioned_name() {
    let release = Release::new();
    ok(release.path(), &["pack"]);
    assert!(release.path().join("evidence-v1.0.0.zip").is_file());
}

#[test]
fn init_refuses_a_version_that_exists() {
    let release = Release::new();
    let out = conductor(release.path(), &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn init_refuses_a_tagged_version() {
    let dir = repo();
    git(dir.path(), &["tag", "v0.9.0"]);
    ok(dir.path(), &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    let out = conductor(dir.path(), &["init", "--version", "v0.9.0", "--key", "keys/notary.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tag v0.9.0 already exists"));
    assert!(!dir.path().join(".conductor/releases/v0.9.0").exists(), "nothing half written");
}

#[test]
fn init_binds_an_explicit_commit_and_environment() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("later.txt"), "x").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "fix: later"]);
    ok(p, &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    ok(p, &["init", "--version", "v1.0.1", "--key", "keys/notary.key", "--commit", "HEAD~1", "--env", "staging"]);
    let log: serde_json::Value = serde_json::from_str(&ok(p, &["log", "--json"])).unwrap();
    let genesis = &log[0];
    assert_eq!(genesis["type"], "release");
    let out = std::process::Command::new("git").current_dir(p).args(["rev-parse", "HEAD~1"]).output().unwrap();
    let parent = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let ledger = std::fs::read_to_string(p.join(".conductor/releases/v1.0.1/ledger.intoto.jsonl")).unwrap();
    let record = evidence::record::Record::parse_line(ledger.lines().next().unwrap().as_bytes()).unwrap();
    assert_eq!(record.link.release.commit, parent);
    assert_eq!(record.link.release.environment, "staging");
}

#[test]
fn init_rejects_bad_names_with_the_flag() {
    let dir = repo();
    ok(dir.path(), &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    let out = conductor(dir.path(), &["init", "--version", "v1 0", "--key", "keys/notary.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--version"));
}

#[test]
fn log_lists_every_record() {
    let release = Release::new();
    let log: serde_json::Value = serde_json::from_str(&ok(release.path(), &["log", "--json"])).unwrap();
    let types: Vec<&str> = log.as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["release", "junit", "sbom", "notes"]);
    assert_eq!(log[1]["subjects"][0]["name"], "service.py");
    let text = ok(release.path(), &["log"]);
    assert!(text.contains("junit") && text.contains("sbom.json"));
}

#[test]
fn attest_refuses_a_missing_file() {
    let release = Release::new();
    let out = conductor(release.path(), &["attest", "--phase", "P1", "--type", "junit", "--file", "nope.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.xml"));
    let log: serde_json::Value = serde_json::from_str(&ok(release.path(), &["log", "--json"])).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 4, "nothing was appended");
}

#[test]
fn verify_only_reports_the_chosen_phase() {
    let release = Release::new();
    let pack = release.pack();
    let out = conductor(release.path(), &["verify", pack.to_str().unwrap(), "--trust", "trust.toml", "--json", "--only", "P3"]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phases: Vec<&str> = report["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["P3"]);
    assert!(report["notes"].to_string().contains("not hashed"));
}

#[test]
fn verify_exits_2_on_unusable_input() {
    let release = Release::new();
    let pack = release.pack();
    let missing = conductor(release.path(), &["verify", "missing.zip", "--trust", "trust.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    std::fs::write(release.path().join("not.zip"), "hello").unwrap();
    let not_zip = conductor(release.path(), &["verify", "not.zip", "--trust", "trust.toml"]);
    assert_eq!(not_zip.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_zip.stderr).contains("not a zip"));
    let as_json = conductor(release.path(), &["verify", "not.zip", "--trust", "trust.toml", "--json"]);
    assert_eq!(as_json.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&as_json.stdout).unwrap();
    assert_eq!(report["verdict"], "unusable");
    std::fs::write(release.path().join("bad-trust.toml"), "version = 1\n[[keys]]\nid = \"zz\"\n").unwrap();
    let bad_trust = conductor(release.path(), &["verify", pack.to_str().unwrap(), "--trust", "bad-trust.toml"]);
    assert_eq!(bad_trust.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_trust.stderr).contains("bad-trust.toml"));
}

#[test]
fn human_output_names_the_record_and_the_code() {
    let release = Release::new();
    let pack = release.pack();
    let bad = release.path().join("bad.zip");
    crate::fixture::rewrite(&pack, &bad, |name, mut bytes| {
        if name.starts_with("evidence/") && bytes.starts_with(b"<testsuite") {
            bytes[1] ^= 1;
        }
        Some(bytes)
    }, &[]);
    let out = conductor(release.path(), &["verify", "bad.zip", "--trust", "trust.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error[evidence-digest-mismatch] record 1 (P1 junit"), "{text}");
}

#[test]
fn keygen_encrypts_by_default_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let id = ok(dir.path(), &["keygen", "--out", "k/alice"]);
    assert_eq!(id.trim().len(), 64);
    let pem = std::fs::read_to_string(dir.path().join("k/alice.key")).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("k/alice.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = conductor(dir.path(), &["keygen", "--out", "k/alice"]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn keygen_writes_cosign_format_ecdsa_keys() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["keygen", "--out", "cosign", "--algorithm", "ecdsa-p256"]);
    let pem = std::fs::read_to_string(dir.path().join("cosign.key")).unwrap();
    assert!(pem.contains("ENCRYPTED SIGSTORE PRIVATE KEY"), "{pem}");
    let public = std::fs::read_to_string(dir.path().join("cosign.pub")).unwrap();
    let key = evidence::keys::PublicKey::from_pem(&public).unwrap();
    assert_eq!(key.algorithm(), evidence::keys::Algorithm::EcdsaP256);
}

#[test]
fn init_refuses_an_ecdsa_notary() {
    let dir = repo();
    ok(dir.path(), &["keygen", "--out", "keys/cosign", "--algorithm", "ecdsa-p256"]);
    let out = conductor(dir.path(), &["init", "--version", "v1.0.0", "--key", "keys/cosign.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Ed25519"));
}

#[test]
fn a_later_pack_extends_an_earlier_one() {
    let release = Release::new();
    ok(release.path(), &["pack", "--out", "early.zip"]);
    ok(release.path(), &["attest", "--phase", "P4", "--type", "notes", "--file", "service.py"]);
    ok(release.path(), &["pack", "--out", "late.zip"]);
    let out = ok(release.path(), &["verify", "late.zip", "--trust", "trust.toml", "--extends", "early.zip"]);
    assert!(out.contains("the first 4 of 5 records"), "{out}");
    // The earlier pack does not extend the later one: records would have been removed.
    let back = conductor(release.path(), &["verify", "early.zip", "--trust", "trust.toml", "--extends", "late.zip", "--json"]);
    assert_eq!(back.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!(report["extends"]["code"], "pack-does-not-extend");
    assert_eq!(report["verdict"], "failed");
}


#[test]
fn verify_only_skips_the_record_checks_of_other_phases() {
    let release = Release::new();
    let pack = release.pack();
    let text = std::fs::read_to_string(release.trust()).unwrap().replace("phases = [\"*\"]", "phases = [\"P0\", \"P3\"]");
    std::fs::write(release.path().join("p3-only.toml"), text).unwrap();
    let all = conductor(release.path(), &["verify", pack.to_str().unwrap(), "--trust", "p3-only.toml"]);
    assert_eq!(all.status.code(), Some(1), "the P1 record's key is not allowed for P1");
    let only = conductor(release.path(), &["verify", pack.to_str().unwrap(), "--trust", "p3-only.toml", "--only", "P3"]);
    assert_eq!(only.status.code(), Some(0), "{}", String::from_utf8_lossy(&only.stdout));
}

#[test]
fn init_keeps_the_state_folder_out_of_git_status() {
    let release = crate::fixture::Release::new();
    let out = std::process::Command::new("git").current_dir(release.path()).args(["status", "--porcelain", "--untracked-files=all"]).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(!status.contains(".conductor"), "{status}");
    let exclude = std::fs::read_to_string(release.path().join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.conductor/").count(), 1);
}
