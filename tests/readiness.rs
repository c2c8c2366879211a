//! `conductor readiness`: the rendered reports of every scenario folder under
//! `tests/fixtures/readiness/` (a `release_data.json`, the expected `exit`
//! code, and `report.txt` and `report.json`, or `stderr.txt` for unusable
//! input), and the readiness evidence a run through P6 records.
//! `CONDUCTOR_UPDATE_GOLDEN=1` rewrites the expected files.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::golden::compare;

fn readiness(dir: &Path, json: bool) -> (i32, String, String) {
    let mut args = vec!["readiness", "--input", "release_data.json"];
    if json {
        args.push("--json");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir).args(&args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn rendered_reports_match_the_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/readiness");
    let mut scenarios: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    scenarios.sort();
    assert!(scenarios.len() >= 5, "too few scenarios under {}", root.display());
    let mut problems = Vec::new();
    for folder in &scenarios {
        let expected: i32 = std::fs::read_to_string(folder.join("exit")).unwrap().trim().parse().unwrap();
        let (text_code, text, text_err) = readiness(folder, false);
        let (json_code, json, _) = readiness(folder, true);
        if text_code != expected || json_code != expected {
            problems.push(format!("{}: exit {text_code}/{json_code}, expected {expected}", folder.display()));
        }
        if expected == 2 {
            assert!(text.is_empty() && json.is_empty(), "{}: unusable input printed a report", folder.display());
            problems.extend(compare(&folder.join("stderr.txt"), &text_err));
        } else {
            problems.extend(compare(&folder.join("report.txt"), &text));
            problems.extend(compare(&folder.join("report.json"), &json));
            let report: Value = serde_json::from_str(&json).unwrap();
            let decision = report["decision"].as_str().unwrap();
            assert_eq!(decision == "GO", expected == 0, "{}: {decision} with exit {expected}", folder.display());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn an_ill_typed_field_is_named_with_its_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("release_data.json"), r#"{"schema":"conductor/release-data/v1","rollback":{"plan":"yes"}}"#).unwrap();
    let (code, out, err) = readiness(dir.path(), true);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("release_data.json: at rollback.plan: invalid type: string \"yes\", expected a boolean"), "{err}");
    std::fs::remove_file(dir.path().join("release_data.json")).unwrap();
    let (code, _, err) = readiness(dir.path(), false);
    assert_eq!(code, 2);
    assert!(err.contains("release_data.json cannot be read"), "{err}");
    std::fs::write(dir.path().join("release_data.json"), "{\"schema\": \"conductor/release-data/v1\"} trailing").unwrap();
    let (code, _, err) = readiness(dir.path(), false);
    assert_eq!(code, 2);
    assert!(err.contains("release_data.json: at the top level: trailing characters"), "{err}");
}

#[test]
fn standard_input_is_read_with_a_dash() {
    use std::io::Write as _;
    let go = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/readiness/go/release_data.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_conductor"))
        .args(["readiness", "--input", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&go).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["decision"].as_str(), report["score"].as_f64()), (Some("GO"), Some(96.5)));
}

/// P6 redefined to need only P0, gated on the readiness agent alone, so a
/// release of the gate fixture (which passes P0) reaches it.
const P6: &str = "id = \"P6\"\nname = \"Release train\"\nrequires = [\"P0\"]\n\n[[gate]]\nid = \"all_required_gates\"\npolicy = \"all_required_gates\"\nagents = [\"Release Conductor\"]\nneeds = [\"release-readiness\"]\n";

/// The readiness agent checks the docs itself, since P7's docs agents run after P6.
const DOCS: &str = "\n[agents.\"Release Conductor\".docs]\npaths = [\"README.md\", \"CHANGELOG.md\", \"docs/runbook.md\"]\nrunbook_sections = [\"Rollback\"]\n";

/// The gate fixture's repository (tests/fixtures/gates/base) with a pushed
/// origin, a tag before the release commit, and release v1.1.0 started.
fn fixture_release() -> (tempfile::TempDir, std::path::PathBuf) {
    use crate::gates::{base_repository, start_release};
    let root = tempfile::tempdir().unwrap();
    let work = base_repository(root.path());
    std::fs::create_dir_all(work.join("phases")).unwrap();
    std::fs::write(work.join("phases/P6.toml"), P6).unwrap();
    let mut config = std::fs::read_to_string(work.join("conductor.toml")).unwrap();
    config.push_str(DOCS);
    std::fs::write(work.join("conductor.toml"), config).unwrap();
    start_release(&work, "fix: report drift per account");
    (root, work)
}

/// `conductor run --json --phase <phase>`: exit code and report.
fn run_phase(work: &Path, phase: &str) -> (i32, Value) {
    let out = crate::gates::conductor(work, &["run", "--json", "--phase", phase]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("run printed no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn records(work: &Path) -> Vec<evidence::record::Record> {
    evidence::ledger::read_records(&work.join(".conductor/releases/v1.1.0/ledger.intoto.jsonl")).unwrap()
}

/// The latest outcome predicate of `agent`, read from the ledger.
fn outcome_of(work: &Path, agent: &str) -> Value {
    let records = records(work);
    let found = records.iter().rev().find(|r| r.statement.predicate["agent"] == agent);
    found.map(|r| r.statement.predicate.clone()).unwrap_or_else(|| panic!("no outcome of {agent} in the ledger"))
}

#[test]
fn a_run_through_p6_scores_the_release_from_its_earlier_evidence() {
    let (_root, work) = fixture_release();
    let (code, p0) = run_phase(&work, "P0");
    assert_eq!(code, 0, "the gate fixture passes P0: {p0:#}");

    // The runbook has no Rollback section and no recovery drill ran: the
    // rollback category blocks, whatever the rest scores.
    let (code, p6) = run_phase(&work, "P6");
    assert_eq!(code, 1, "{p6:#}");
    let reasons = p6[0]["gates"][0]["reasons"].to_string();
    assert!(reasons.contains("release readiness is NO-GO with score") && reasons.contains("blocked by rollback (0)"), "{reasons}");
    let readiness = outcome_of(&work, "Release Conductor");
    assert_eq!(readiness["verdict"], "fail");
    let facts = &readiness["facts"];
    let data = &facts["releaseData"];

    // Every category is the earlier agents' own facts.
    let junit = &outcome_of(&work, "QE Generalist")["facts"];
    assert_eq!(data["tests"]["total"], junit["tests"]);
    assert_eq!(data["tests"]["flaky"], junit["flaky"]);
    let lint = &outcome_of(&work, "Lint Marshal")["facts"];
    assert_eq!(data["code_quality"]["lint_warnings"], lint["counts"]["warning"]);
    assert_eq!(data["security"]["secrets"], outcome_of(&work, "Secrets Escrow")["facts"]["total"]);
    assert_eq!(data["dependencies"]["lockfiles_consistent"], true);
    assert_eq!(data["dependencies"]["unpinned"], 0);
    assert_eq!(data["breaking_changes"]["count"], 0, "a fix since v1.0.0 breaks nothing");
    assert_eq!(data["documentation"]["changelog_mentions_version"], true, "{facts:#}");
    assert_eq!(data["rollback"], serde_json::json!({ "plan": false }), "{facts:#}");
    assert!(facts["notes"].to_string().contains("no recovery drill"), "{facts:#}");

    // The same release with a Rollback section in its runbook is GO.
    let runbook = work.join("docs/runbook.md");
    let text = std::fs::read_to_string(&runbook).unwrap();
    std::fs::write(&runbook, format!("{text}\n## Rollback\n\nRedeploy v1.0.0 with `conductor promote --rollback`.\n")).unwrap();
    let (code, p6) = run_phase(&work, "P6");
    let readiness = outcome_of(&work, "Release Conductor");
    assert_eq!(code, 0, "{p6:#}\n{:#}", readiness["facts"]);
    assert_eq!((readiness["verdict"].as_str(), readiness["facts"]["decision"].as_str()), (Some("pass"), Some("GO")));
    let records = records(&work);
    let record = records.iter().rev().find(|r| r.link.record_type == "release-readiness").unwrap();
    let files: Vec<&str> = record.link.evidence.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(files, ["release_data.json", "readiness-report.json", "readiness-report.txt"]);
}
