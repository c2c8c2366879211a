//! The P0, P1 perf, P3 audit, P5 and P7 gates decide from real-shaped evidence.
//! `fixtures/gates/base` is a repository whose release passes supply_chain,
//! policy_ci, hardening, perf, authz, audit, dr, chaos, alert_hygiene and doc_lint;
//! each folder under `fixtures/gates/planted/` overlays one problem on it, and
//! its `expect.toml` names the gate that must fail and a piece of the reason it
//! must give. The base passing is the "fixed" state of every planted problem.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fixture::git;

/// The gates this suite holds to account.
const GATES: [&str; 10] = ["supply_chain", "policy_ci", "hardening", "perf", "authz", "audit", "dr", "chaos", "alert_hygiene", "doc_lint"];

/// Those of them in P0, which P1, P3, P5 and P7 require.
const P0_GATES: [&str; 3] = ["supply_chain", "policy_ci", "hardening"];

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gates")
}

/// What a planted problem must do.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The gate that must fail.
    gate: String,
    /// Text one of its deny reasons must contain (with `passes`: when the
    /// scenario runs without its `config`).
    reason: String,
    /// The message of the release commit (default a conventional one).
    commit_message: Option<String>,
    /// Base files the problem removes.
    #[serde(default)]
    remove: Vec<String>,
    /// Other P0 gates the same problem rightly fails (a secret fails the
    /// hardening scan and the pre-flight alike).
    #[serde(default)]
    also: Vec<String>,
    /// Overlay files committed in a commit of their own and deleted again in
    /// the release commit, so they live in git history only.
    #[serde(default)]
    transient: Vec<String>,
    /// TOML appended to the base conductor.toml (a gate threshold, say).
    config: Option<String>,
    /// The gate must pass: the problem is there, and the threshold in
    /// `config` accepts it.
    #[serde(default)]
    passes: bool,
}

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else if entry.file_name() != "expect.toml" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub(crate) fn conductor(dir: &Path, args: &[&str]) -> std::process::Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_conductor"));
    // The Policy Gatekeeper runs `conductor policy test` from PATH.
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    std::process::Command::new(&bin).current_dir(dir).args(args).env("PATH", path).output().expect("the conductor binary runs")
}

/// The base fixture as a git repository `ledger/` under `root`: one commit
/// tagged v1.0.0, and a bare `origin` beside it (not yet pushed to).
pub(crate) fn base_repository(root: &Path) -> PathBuf {
    let work = root.join("ledger");
    std::fs::create_dir(&work).unwrap();
    copy_tree(&fixtures().join("base"), &work);
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "feat: ledger v1.0.0"]);
    git(&work, &["tag", "v1.0.0"]);
    let origin = root.join("origin.git");
    git(root, &["init", "-q", "--bare", "-b", "main", origin.to_str().unwrap()]);
    git(&work, &["remote", "add", "origin", origin.to_str().unwrap()]);
    work
}

/// Commits what is in `work` as the release commit, pushes it to origin,
/// builds the release artifact and starts release v1.1.0 with a new key.
pub(crate) fn start_release(work: &Path, message: &str) {
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "--allow-empty", "-m", message]);
    git(work, &["push", "-q", "origin", "main"]);
    std::fs::create_dir_all(work.join("dist")).unwrap();
    std::fs::write(work.join("dist/ledger-1.1.0.tar.gz"), b"release artifact bytes\n").unwrap();
    for args in [&["keygen", "--out", "keys/notary", "--no-encrypt"][..], &["init", "--version", "v1.1.0", "--key", "keys/notary.key"]] {
        let out = conductor(work, args);
        assert!(out.status.success(), "conductor {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Builds the repository (base plus overlay), pushes it to a bare origin,
/// starts release v1.1.0 on it, runs every phase and returns each gate's
/// (passed, reasons).
fn release(overlay: Option<(&Path, &Expect)>, with_config: bool) -> (tempfile::TempDir, Vec<(String, bool, Vec<String>)>) {
    let root = tempfile::tempdir().unwrap();
    let work = base_repository(root.path());
    let mut message = "fix: report drift per account".to_owned();
    if let Some((dir, expect)) = overlay {
        copy_tree(dir, &work);
        for path in &expect.remove {
            std::fs::remove_file(work.join(path)).unwrap();
        }
        message = expect.commit_message.clone().unwrap_or(message);
        if let Some(extra) = expect.config.as_ref().filter(|_| with_config) {
            let config = work.join("conductor.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            std::fs::write(&config, format!("{text}\n{extra}\n")).unwrap();
        }
        if !expect.transient.is_empty() {
            git(&work, &["add", "-A"]);
            git(&work, &["commit", "-q", "-m", "chore: local settings"]);
            for path in &expect.transient {
                std::fs::remove_file(work.join(path)).unwrap();
            }
        }
    }
    start_release(&work, &message);
    conductor(&work, &["run", "--all"]);
    let out = conductor(&work, &["status", "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let gates = status
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| GATES.contains(&g["gate"].as_str().unwrap_or("")))
        .map(|g| {
            let reasons = g["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
            (g["gate"].as_str().unwrap().to_owned(), g["state"] == "passed", reasons)
        })
        .collect();
    (root, gates)
}

#[test]
fn the_base_release_passes_every_gate() {
    let (dir, gates) = release(None, false);
    assert_eq!(gates.len(), GATES.len(), "{gates:?}");
    for (gate, passed, reasons) in &gates {
        assert!(passed, "{gate} failed on the base fixture: {reasons:#?}");
    }
    test_result_parses_with_in_toto_attestation(&dir.path().join("ledger"));
    sbom_statement_parses_with_in_toto_attestation(&dir.path().join("ledger"));
    release_notes_are_rendered_into_the_pack(&dir.path().join("ledger"));
}

/// The Comms Bard (kind `changelog`) rendered the notes of v1.1.0 from the
/// commits since v1.0.0 and filed them as an evidence file of the pack.
fn release_notes_are_rendered_into_the_pack(work: &Path) {
    let object = stored(work, "release-notes.md");
    let digest = object.file_name().unwrap().to_string_lossy().into_owned();
    let notes = std::fs::read_to_string(&object).unwrap();
    assert!(notes.starts_with("# Release notes\n\n## [1.1.0] - "), "{notes}");
    assert!(notes.contains("### Fixed\n\n- report drift per account (") && !notes.contains("ledger v1.0.0"), "{notes}");
    let out = conductor(work, &["pack", "--out", "notes.zip"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut archive = zip::ZipArchive::new(std::fs::File::open(work.join("notes.zip")).unwrap()).unwrap();
    let mut packed = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(&format!("evidence/sha256/{digest}")).unwrap(), &mut packed).unwrap();
    assert_eq!(packed, notes);
}

/// The object store's copy of the evidence file the release filed as `name`.
fn stored(work: &Path, name: &str) -> PathBuf {
    let log: Value = serde_json::from_slice(&conductor(work, &["log", "--json"]).stdout).unwrap();
    let digest = log
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["evidence"].as_array().cloned().unwrap_or_default())
        .find(|e| e["name"] == name)
        .map(|e| e["sha256"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("the release filed no {name}"));
    work.join(".conductor/releases/v1.1.0/objects/sha256").join(digest)
}

/// The Supply-Chain Lead's SBOM statement is an in-toto Statement with the
/// CycloneDX predicate, about the release commit, according to PyPI's
/// in-toto-attestation.
fn sbom_statement_parses_with_in_toto_attestation(work: &Path) {
    let script = r#"
import json, sys
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
doc = json.load(open(sys.argv[1]))
statement = json_format.ParseDict(doc, statement_pb2.Statement())
assert statement.predicate_type == "https://cyclonedx.org/bom", statement.predicate_type
assert len(statement.subject[0].digest["gitCommit"]) == 40
assert doc["predicate"]["bomFormat"] == "CycloneDX" and doc["predicate"]["specVersion"] == "1.6"
assert doc["predicate"]["metadata"]["component"]["version"] == "v1.1.0"
print("ok")
"#;
    let out = std::process::Command::new(crate::crosscheck::python()).arg("-c").arg(script).arg(stored(work, "sbom.intoto.json")).output().unwrap();
    assert!(out.status.success(), "in-toto-attestation refused the SBOM statement: {}", String::from_utf8_lossy(&out.stderr));
}

/// The QE Generalist's test-result statement, read from the release's object
/// store, is a valid in-toto Statement with a test-result v0.1 predicate
/// according to PyPI's in-toto-attestation.
fn test_result_parses_with_in_toto_attestation(work: &Path) {
    let object = stored(work, "test-result.intoto.json");
    let script = r#"
import json, sys
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
doc = json.load(open(sys.argv[1]))
statement = json_format.ParseDict(doc, statement_pb2.Statement())
assert statement.predicate_type == "https://in-toto.io/attestation/test-result/v0.1", statement.predicate_type
result = json_format.ParseDict(doc["predicate"], test_result_pb2.TestResult())
assert result.result == "WARNED", result.result
assert "ledger-api::bin/ledger-api.tests::reconnects_to_db" in result.warned_tests, list(result.warned_tests)
assert len(result.passed_tests) == 4 and not result.failed_tests
assert [c.name for c in result.configuration] == ["reports/nextest-junit.xml", "reports/pytest-junit.xml"]
assert statement.subject[0].digest["gitCommit"]
print("ok")
"#;
    let out = std::process::Command::new(crate::crosscheck::python()).arg("-c").arg(script).arg(&object).output().unwrap();
    assert!(out.status.success(), "in-toto-attestation refused the test result: {}", String::from_utf8_lossy(&out.stderr));
}

/// Why `gates` do not show the expected gate failing for the expected
/// reason, or nothing when they do.
fn unexplained(gates: &[(String, bool, Vec<String>)], expect: &Expect) -> Option<String> {
    let Some((_, passed, reasons)) = gates.iter().find(|(g, _, _)| *g == expect.gate) else {
        return Some(format!("gate {} was not decided", expect.gate));
    };
    (*passed || !reasons.iter().any(|r| r.contains(&expect.reason)))
        .then(|| format!("{} {} without a reason containing {:?}: {reasons:#?}", expect.gate, if *passed { "passed" } else { "failed" }, expect.reason))
}

#[test]
fn each_planted_problem_fails_its_gate_for_its_reason() {
    let planted = fixtures().join("planted");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&planted).unwrap().map(|e| e.unwrap().path()).collect();
    scenarios.sort();
    assert!(scenarios.len() >= 10, "the planted problems are missing");
    let mut wrong = Vec::new();
    for dir in &scenarios {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expect: Expect = toml::from_str(&std::fs::read_to_string(dir.join("expect.toml")).unwrap()).unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
        if expect.passes {
            // The problem alone fails the gate for its reason; the threshold
            // in `config` is what lets it through.
            let (_dir, gates) = release(Some((dir, &expect)), false);
            if let Some(problem) = unexplained(&gates, &expect) {
                wrong.push(format!("{name} without its config: {problem}"));
            }
        }
        let (_dir, gates) = release(Some((dir, &expect)), true);
        let Some((_, passed, reasons)) = gates.iter().find(|(g, _, _)| *g == expect.gate) else {
            wrong.push(format!("{name}: gate {} was not decided", expect.gate));
            continue;
        };
        if expect.passes {
            if !passed {
                wrong.push(format!("{name}: {} failed although its threshold accepts the problem: {reasons:#?}", expect.gate));
            }
        } else if let Some(problem) = unexplained(&gates, &expect) {
            wrong.push(format!("{name}: {problem}"));
        }
        // The planted problem is the only one: the other P0 gates still pass
        // (P1, P3, P5 and P7 do not run while a P0 gate fails).
        for (gate, passed, reasons) in gates.iter().filter(|(g, _, _)| *g != expect.gate && P0_GATES.contains(&g.as_str()) && !expect.also.contains(g)) {
            if !passed {
                wrong.push(format!("{name}: {gate} failed too: {reasons:#?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
