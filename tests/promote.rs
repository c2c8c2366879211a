//! `conductor promote` moves nothing until the evidence holds: the pack
//! verifies under the operator's trust root, every gate the GA phase requires
//! passed, the required roles approved, and the pack is bound to the release
//! being promoted. Each blocker is named, with exit 1.

use std::path::Path;

use serde_json::Value;

use crate::fixture::{conductor, git, ok, repo};

/// One agent that runs in every phase, so a whole release runs in seconds.
pub(crate) const ROSTER: &str = "[[agent]]\nname = \"Checker\"\nkind = \"command\"\nphases = [\"P0\", \"P1\", \"P2\", \"P3\", \"P4\", \"P5\", \"P6\", \"P7\", \"P8\"]\nrecord_type = \"check\"\ninputs = [\"command\"]\nsummary = \"runs the configured check\"\n";

/// Phase `id` with one gate fed by the Checker.
fn phase(id: &str, requires: &[&str]) -> String {
    let requires: Vec<String> = requires.iter().map(|r| format!("\"{r}\"")).collect();
    format!("id = \"{id}\"\nname = \"{id}\"\nrequires = [{}]\n\n[[gate]]\nid = \"checked\"\npolicy = \"identity\"\nagents = [\"Checker\"]\nneeds = [\"check\"]\n", requires.join(", "))
}

/// A release v1.0.0 of a repository whose own roster and phases are the
/// Checker's, with Alice as the one-member CAB of the trust root.
pub(crate) fn release() -> tempfile::TempDir {
    let dir = repo();
    let p = dir.path();
    std::fs::create_dir_all(p.join("agents")).unwrap();
    std::fs::create_dir_all(p.join("phases")).unwrap();
    std::fs::write(p.join("agents/roster.toml"), ROSTER).unwrap();
    for id in ["P0", "P1", "P2", "P3", "P4", "P5", "P7"] {
        std::fs::write(p.join(format!("phases/{id}.toml")), phase(id, &[])).unwrap();
    }
    std::fs::write(p.join("phases/P6.toml"), phase("P6", &["P0", "P1", "P2", "P3", "P4", "P5"])).unwrap();
    std::fs::write(p.join("phases/P8.toml"), phase("P8", &["P6", "P7"])).unwrap();
    std::fs::write(p.join("conductor.toml"), "[agents.\"Checker\"]\ncommand = \"true\"\n\n[promotion]\nservice = \"orders\"\nsteps = [10, 50, 100]\n").unwrap();
    std::fs::write(p.join(".gitignore"), "/keys/\n/trust.toml\n/*.zip\n").unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "chore: release wiring"]);
    ok(p, &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    ok(p, &["keygen", "--out", "keys/alice", "--no-encrypt"]);
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    let alice = evidence::keys::PublicKey::from_pem(&std::fs::read_to_string(p.join("keys/alice.pub")).unwrap()).unwrap();
    let mut trust = std::fs::read_to_string(p.join("trust.toml")).unwrap();
    trust.push_str(&format!(
        "\n[[keys]]\nid = \"{}\"\nname = \"alice\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = [\"P6\"]\npredicate_types = [\"{}\"]\nidentity = \"alice@example.com\"\n\n[roles.cab]\nthreshold = 1\nkeys = [\"{}\"]\n",
        alice.id(),
        alice.to_pem(),
        evidence::approval::APPROVAL_PREDICATE,
        alice.id()
    ));
    std::fs::write(p.join("trust.toml"), trust).unwrap();
    dir
}

fn promote(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["promote", "--json"];
    args.extend_from_slice(extra);
    let out = conductor(dir, &args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("promote {extra:?}: {e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), json)
}

fn blockers(report: &Value) -> Vec<(String, String)> {
    report["blockers"].as_array().unwrap().iter().map(|b| (b["code"].as_str().unwrap().to_owned(), b["message"].as_str().unwrap().to_owned())).collect()
}

#[test]
fn promotion_is_blocked_until_every_gate_passed_and_the_board_approved() {
    let dir = release();
    let p = dir.path();
    ok(p, &["run", "--phase", "P0"]);
    ok(p, &["pack"]);
    let (code, report) = promote(p, &["--dry-run"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verdict"], "blocked");
    let found = blockers(&report);
    assert!(!found.iter().any(|(_, m)| m.starts_with("P0/")), "{found:#?}");
    for id in ["P1", "P2", "P3", "P4", "P5", "P6", "P7"] {
        assert!(found.contains(&("gate-not-run".into(), format!("{id}/checked has no decision in the pack; run `conductor run --phase {id}` and pack again"))), "{found:#?}");
    }
    assert!(found.contains(&("role-not-approved".into(), "role cab: 0 of 1 required approvals".into())), "{found:#?}");

    // Every phase passes and Alice approves: the plan is cleared, nothing moves in a dry run.
    ok(p, &["run", "--all"]);
    ok(p, &["approve", "--role", "cab", "--key", "keys/alice.key", "--decision", "approve", "--reason", "evidence read"]);
    ok(p, &["pack"]);
    let (code, report) = promote(p, &["--dry-run"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "cleared");
    assert_eq!(report["plan"]["steps"], serde_json::json!([10, 50, 100]));
    assert_eq!(report["plan"]["service"], "orders");
    assert_eq!(report["cleared"]["gates"].as_array().unwrap().len(), 8, "P0..P7, not the GA phase itself: {report:#}");
    assert_eq!(report["cleared"]["roles"], serde_json::json!(["cab"]));
    let (code, report) = promote(p, &["--dry-run", "--canary", "25"]);
    assert_eq!((code, &report["plan"]["steps"]), (0, &serde_json::json!([25])));

    // The pack is for v1.0.0 at this commit in prod, nothing else.
    let (code, report) = promote(p, &["--dry-run", "--version", "v1.0.1", "--env", "staging"]);
    assert_eq!(code, 1);
    let found = blockers(&report);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found.iter().all(|(c, _)| c == "binding-mismatch"));
    assert!(found[0].1.starts_with("the pack is bound to version v1.0.0, but v1.0.1 is being promoted"), "{found:#?}");

    // Without --dry-run nothing moves either: there is no driver to move it with.
    let out = conductor(p, &["promote"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was moved"));
}

#[test]
fn a_tampered_pack_or_an_untrusted_one_moves_nothing() {
    let dir = release();
    let p = dir.path();
    ok(p, &["run", "--all"]);
    ok(p, &["approve", "--role", "cab", "--key", "keys/alice.key", "--decision", "approve", "--reason", "evidence read"]);
    ok(p, &["pack"]);
    let bad = p.join("bad.zip");
    crate::fixture::rewrite(&p.join("evidence-v1.0.0.zip"), &bad, |name, mut bytes| {
        if name.starts_with("evidence/sha256/") && !bytes.is_empty() {
            bytes[0] ^= 1;
        }
        Some(bytes)
    }, &[]);
    let (code, report) = promote(p, &["--dry-run", "--pack", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    let found = blockers(&report);
    assert!(!found.is_empty() && found.iter().all(|(c, _)| c == "pack-unverified"), "{found:#?}");
    assert!(found.iter().any(|(_, m)| m.starts_with("file-digest-mismatch: ")), "{found:#?}");

    // An operator whose trust root does not know the notary's key trusts nothing in the pack.
    let stranger = p.join("stranger.toml");
    std::fs::write(&stranger, "version = 1\n").unwrap();
    let (code, report) = promote(p, &["--dry-run", "--trust", stranger.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(blockers(&report).iter().any(|(c, m)| c == "pack-unverified" && m.starts_with("manifest-key-untrusted")), "{report:#}");
}
