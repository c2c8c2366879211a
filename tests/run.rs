//! Running phases: agents over the bus, gates from Rego, evidence in the ledger.

use std::path::Path;
use std::time::Duration;

use crate::fixture::{Release, conductor, ok};

fn run_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["run", "--json"];
    all.extend_from_slice(args);
    let out = conductor(dir, &all);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// P3 redefined without prerequisites, gated on two command agents.
fn command_phase(dir: &Path, identity: &str, blue_team: &str) {
    std::fs::create_dir_all(dir.join("phases")).unwrap();
    let phase = "id = \"P3\"\nname = \"Security & compliance\"\nrequires = []\n\n[[gate]]\nid = \"identity\"\npolicy = \"identity\"\nagents = [\"Identity/SSO\", \"Blue Team Sentinel\"]\nneeds = [\"identity-check\", \"detection-test\"]\n";
    std::fs::write(dir.join("phases/P3.toml"), phase).unwrap();
    let config = format!("[agents.\"Identity/SSO\"]\ncommand = {identity:?}\n\n[agents.\"Blue Team Sentinel\"]\ncommand = {blue_team:?}\n");
    std::fs::write(dir.join("conductor.toml"), config).unwrap();
}

#[test]
fn a_bare_repository_never_passes() {
    let release = Release::new();
    let (code, report) = run_json(release.path(), &["--all"]);
    assert_eq!(code, 1);
    let phases = report.as_array().unwrap();
    assert_eq!(phases.len(), 9);
    assert!(phases.iter().all(|p| p["passed"] == false));
    assert!(phases[0]["gates"].as_array().unwrap().iter().all(|g| g["passed"] == false));
    assert!(phases[1]["refused"].as_str().unwrap().contains("requires P0"));
    let status: serde_json::Value = serde_json::from_str(&ok(release.path(), &["status", "--json"])).unwrap();
    assert!(status.as_array().unwrap().iter().any(|g| g["state"] == "failed"));
    let (code, _) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "a failed run is still verifiable evidence");
}

#[test]
fn a_phase_whose_agents_pass_passes_and_is_recorded() {
    let release = Release::new();
    command_phase(release.path(), "echo ok", "true");
    let (code, report) = run_json(release.path(), &["--phase", "P3"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report[0]["gates"][0]["passed"], true);
    let log: serde_json::Value = serde_json::from_str(&ok(release.path(), &["log", "--json"])).unwrap();
    let types: Vec<&str> = log.as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"identity-check") && types.contains(&"gate-decision") && types.contains(&"phase-started"), "{types:?}");
    let (code, _) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0);
}

#[test]
fn a_failing_agent_fails_its_gate_and_a_rerun_supersedes_it() {
    let release = Release::new();
    command_phase(release.path(), "exit 4", "true");
    let (code, report) = run_json(release.path(), &["--phase", "P3"]);
    assert_eq!(code, 1);
    let reasons = report[0]["gates"][0]["reasons"].to_string();
    assert!(reasons.contains("Identity/SSO: fail:") && reasons.contains("status 4"), "{reasons}");
    command_phase(release.path(), "true", "true");
    let (code, _) = run_json(release.path(), &["--phase", "P3"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&ok(release.path(), &["status", "--json"])).unwrap();
    let identity = status.as_array().unwrap().iter().find(|g| g["gate"] == "identity").unwrap();
    assert_eq!(identity["state"], "passed");
}

#[test]
fn an_interrupted_run_resumes_without_redoing_finished_agents() {
    let release = Release::new();
    command_phase(release.path(), "true", "sleep 30");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conductor"))
        .current_dir(release.path())
        .args(["run", "--phase", "P3"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ledger = release.path().join(".conductor/releases/v1.0.0/ledger.intoto.jsonl");
    let outcomes = |agent: &str| std::fs::read_to_string(&ledger).unwrap().lines().filter(|l| decoded(l).contains(&format!("\"agent\":\"{agent}\""))).count();
    for _ in 0..200 {
        if outcomes("Identity/SSO") == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(outcomes("Identity/SSO"), 1);
    assert_eq!(outcomes("Blue Team Sentinel"), 0);
    command_phase(release.path(), "true", "true");
    let (code, report) = run_json(release.path(), &["--phase", "P3"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(outcomes("Identity/SSO"), 1, "a finished agent was run again");
    assert_eq!(outcomes("Blue Team Sentinel"), 1);
}

#[test]
fn a_phase_with_unmet_prerequisites_is_refused() {
    let release = Release::new();
    let (code, report) = run_json(release.path(), &["--phase", "P6"]);
    assert_eq!(code, 1);
    assert!(report[0]["refused"].as_str().unwrap().contains("P6 requires P0"), "{report:#}");
}

#[test]
fn validate_lists_each_problem() {
    let release = Release::new();
    let out = conductor(release.path(), &["validate", "--phase", "P3"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("P3 Identity/SSO: 'command' is not configured"), "{text}");
    command_phase(release.path(), "true", "true");
    let out = conductor(release.path(), &["validate", "--phase", "P3"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn policy_test_runs_the_rego_tests() {
    let release = Release::new();
    let out = ok(release.path(), &["policy", "test"]);
    assert!(out.contains(" 0 failed"), "{out}");
}

fn decoded(line: &str) -> String {
    use base64::Engine as _;
    let env: serde_json::Value = serde_json::from_str(line).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(env["payload"].as_str().unwrap()).unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn verify_re_decides_every_gate_and_catches_a_forged_decision() {
    let release = Release::new();
    command_phase(release.path(), "exit 1", "true");
    let (code, _) = run_json(release.path(), &["--phase", "P3"]);
    assert_eq!(code, 1);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["gates"]["verdict"], "pass");
    assert_eq!(report["gates"]["decisions"], 1);
    // A notary that records a pass the policy does not give: every signature
    // is valid, but re-deciding the gate from the packed input disagrees.
    let path = release.path().join(".conductor/releases/v1.0.0/ledger.intoto.jsonl");
    let mut ledger = evidence::ledger::Ledger::open(&path).unwrap();
    let real = ledger.records().iter().rev().find(|r| r.link.record_type == "gate-decision").unwrap().clone();
    let mut predicate = real.statement.predicate.clone();
    predicate["passed"] = true.into();
    predicate["reasons"] = serde_json::json!([]);
    let draft = evidence::record::RecordDraft {
        phase: real.link.phase.clone(),
        record_type: real.link.record_type.clone(),
        predicate_type: real.statement.predicate_type.clone(),
        predicate,
        subjects: vec![],
        evidence: real.link.evidence.clone(),
    };
    ledger.append(draft, &real.link.release, real.link.recorded_at, &release.key()).unwrap();
    drop(ledger);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["gates"]["findings"][0]["code"], "gate-decision-mismatch");
}
