//! CAB approvals through the binary: `approve` refuses what the matrix would
//! not count (outsiders, revoked keys, authors of the release), `cab` shows
//! the matrix and its quorum, every pack carries `approvals_matrix.json`, and
//! `verify` rebuilds it from the signed approvals under the auditor's trust.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::fixture::{codes, conductor, ok, repo};

/// Alice, Bob, Carol and Erin are in role cab (2 of 4); Dave is trusted but
/// outside it; Erin's key is revoked; Carol authored a commit of the release.
const PEOPLE: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn public_key(dir: &Path, name: &str) -> evidence::keys::PublicKey {
    evidence::keys::PublicKey::from_pem(&std::fs::read_to_string(dir.join(format!("keys/{name}.pub"))).unwrap()).unwrap()
}

/// The trust root `conductor init` wrote, plus the board.
fn board_trust(dir: &Path, revoked: &[&str]) -> String {
    let mut text = std::fs::read_to_string(dir.join("trust.toml.notary")).unwrap();
    for name in PEOPLE {
        let key = public_key(dir, name);
        text.push_str(&format!(
            "\n[[keys]]\nid = \"{}\"\nname = \"{name}\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = [\"P6\"]\npredicate_types = [\"{}\"]\nidentity = \"{name}@example.com\"\n",
            key.id(),
            key.to_pem(),
            evidence::approval::APPROVAL_PREDICATE
        ));
    }
    for name in revoked {
        text.push_str(&format!("\n[[revoked]]\nid = \"{}\"\nreason = \"key reported lost\"\n", public_key(dir, name).id()));
    }
    let members: Vec<String> = ["alice", "bob", "carol", "erin"].iter().map(|n| format!("\"{}\"", public_key(dir, n).id())).collect();
    text.push_str(&format!("\n[roles.cab]\nthreshold = 2\nkeys = [{}]\n", members.join(", ")));
    text
}

/// A release v1.0.0 whose last commit Carol wrote, with the board's keys and trust root.
fn release() -> tempfile::TempDir {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("service.py"), "print('hello, board')\n").unwrap();
    let status = Command::new("git")
        .current_dir(p)
        .args(["commit", "-qam", "fix: greet the board"])
        .env("GIT_AUTHOR_NAME", "Carol")
        .env("GIT_AUTHOR_EMAIL", "carol@example.com")
        .env("GIT_COMMITTER_NAME", "Release Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.com")
        .status()
        .unwrap();
    assert!(status.success());
    ok(p, &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    std::fs::copy(p.join("trust.toml"), p.join("trust.toml.notary")).unwrap();
    for name in PEOPLE {
        ok(p, &["keygen", "--out", &format!("keys/{name}"), "--no-encrypt"]);
    }
    std::fs::write(p.join("trust.toml"), board_trust(p, &["erin"])).unwrap();
    dir
}

fn approve(dir: &Path, who: &str, decision: &str) -> (i32, String) {
    let key = format!("keys/{who}.key");
    let out = conductor(dir, &["approve", "--role", "cab", "--key", &key, "--decision", decision, "--reason", &format!("{who} read the evidence")]);
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn matrix(dir: &Path) -> (i32, Value) {
    let out = conductor(dir, &["cab", "--json"]);
    (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("cab --json: {e}: {}", String::from_utf8_lossy(&out.stderr))))
}

fn records(dir: &Path) -> usize {
    serde_json::from_str::<Value>(&ok(dir, &["log", "--json"])).unwrap().as_array().unwrap().len()
}

#[test]
fn approve_refuses_outsiders_revoked_keys_and_authors_and_counts_each_key_once() {
    let dir = release();
    let p = dir.path();
    let before = records(p);
    for (who, expected) in [("dave", "is not a member of role cab"), ("erin", "is revoked: key reported lost"), ("carol", "carol@example.com authored commits of this release")] {
        let (code, said) = approve(p, who, "approve");
        assert_eq!(code, 1, "{who}: {said}");
        assert!(said.contains(expected), "{who}: {said}");
    }
    assert_eq!(records(p), before, "a refused decision writes nothing");
    assert_eq!(approve(p, "alice", "approve").0, 0);
    assert_eq!(approve(p, "alice", "approve").0, 0);
    let (code, once) = matrix(p);
    assert_eq!((code, once["roles"][0]["approvals"].as_u64()), (1, Some(1)), "one key counts once: {once:#}");
    let (code, said) = approve(p, "bob", "approve");
    assert!(code == 0 && said.contains("cab now has 2 of 2 approvals"), "{said}");
    let (code, met) = matrix(p);
    assert_eq!((code, met["roles"][0]["quorumMet"].as_bool(), met["roles"][0]["approved"].as_bool()), (0, Some(true), Some(true)));
    let md = ok(p, &["cab", "--md"]);
    assert!(md.contains("| alice@example.com |") && md.contains("| approve |") && md.contains("alice read the evidence"), "{md}");
    assert!(md.contains("Every required role approved the release."), "{md}");
    let (code, said) = approve(p, "bob", "reject");
    assert_eq!(code, 0, "{said}");
    let (code, rejected) = matrix(p);
    assert_eq!((code, rejected["roles"][0]["approved"].as_bool(), rejected["roles"][0]["rejections"].as_u64()), (1, Some(false), Some(1)), "bob's later rejection replaces his approval");
}

#[test]
fn the_pack_carries_the_matrix_and_verify_rebuilds_it_under_the_auditors_trust() {
    let dir = release();
    let p = dir.path();
    assert_eq!(approve(p, "alice", "approve").0, 0);
    assert_eq!(approve(p, "bob", "approve").0, 0);
    ok(p, &["pack", "--out", "pack.zip"]);
    let shown = ok(p, &["cab", "pack.zip"]);
    assert!(shown.contains("role cab (required): 2 of 2 approvals") && shown.contains("every required role approved"), "{shown}");
    let out = conductor(p, &["verify", "pack.zip", "--trust", "trust.toml", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // The auditor's trust root revokes Bob's key: his approval no longer
    // counts, so the packed matrix's quorum is not what the approvals give.
    std::fs::write(p.join("auditor.toml"), board_trust(p, &["erin", "bob"])).unwrap();
    let out = conductor(p, &["verify", "pack.zip", "--trust", "auditor.toml", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(codes(&report).contains(&"approvals-matrix-mismatch".to_owned()), "{report:#}");
    let message = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "approvals-matrix-mismatch").unwrap()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("role cab") && message.contains("is revoked: key reported lost"), "{message}");
}

#[test]
fn the_cab_secretary_files_the_matrix_and_its_gate_names_what_is_missing() {
    let dir = release();
    let p = dir.path();
    // A repository's own P6 and policy: just the quorum, so the test needs no earlier phases.
    std::fs::create_dir_all(p.join("phases")).unwrap();
    std::fs::write(p.join("phases/P6.toml"), "id = \"P6\"\nname = \"Release train\"\nrequires = []\n\n[[gate]]\nid = \"all_required_gates\"\npolicy = \"cab_quorum\"\nagents = [\"CAB Secretary\"]\nneeds = [\"approval\"]\n").unwrap();
    std::fs::create_dir_all(p.join("policies")).unwrap();
    std::fs::write(
        p.join("policies/cab_quorum.rego"),
        "package conductor.gates.cab_quorum\n\nimport rego.v1\n\nimport data.conductor.lib.approvals\nimport data.conductor.lib.evidence\n\ndeny contains msg if {\n\tsome msg in evidence.standard_denials\n}\n\ndeny contains msg if {\n\tsome msg in approvals.denials\n}\n",
    )
    .unwrap();
    assert_eq!(approve(p, "alice", "approve").0, 0);
    assert_eq!(approve(p, "carol", "approve").0, 1);
    let out = conductor(p, &["run", "--phase", "P6"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let status: Value = serde_json::from_str(&ok(p, &["status", "--json"])).unwrap();
    let gate = status.as_array().unwrap().iter().find(|g| g["gate"] == "all_required_gates").unwrap();
    let reasons: Vec<&str> = gate["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons.contains(&"CAB Secretary: role cab is not approved: 1 of 2 required approvals"), "{reasons:#?}");
    assert_eq!(approve(p, "bob", "approve").0, 0);
    let out = conductor(p, &["run", "--phase", "P6"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let log: Value = serde_json::from_str(&ok(p, &["log", "--json"])).unwrap();
    let filed = log.as_array().unwrap().iter().any(|r| r["type"] == "approval" && r["evidence"].as_array().is_some_and(|e| e.iter().any(|f| f["name"] == "approvals_matrix.json")));
    assert!(filed, "the CAB Secretary filed the matrix as a file");
}
