use serde_json::json;

use super::*;

fn builtin() -> PolicySet {
    let dir = tempfile::tempdir().unwrap();
    PolicySet::load(dir.path()).unwrap()
}

/// Every built-in policy's Rego tests pass, and every gate policy has tests.
#[test]
fn the_builtin_policy_tests_pass() {
    let set = builtin();
    let results = set.run_tests().unwrap();
    let failed: Vec<&str> = results.iter().filter(|r| !r.passed).map(|r| r.name.as_str()).collect();
    assert!(failed.is_empty(), "failing policy tests: {failed:?}");
    for path in set.sources.keys().filter(|p| !p.ends_with("_test.rego")) {
        let package = agents::rego_tests::package_of(&set.sources[path]).unwrap();
        assert!(results.iter().any(|r| r.name.starts_with(&format!("data.{package}_test."))), "{path} has no tests");
    }
}

#[test]
fn every_gate_of_the_plan_has_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let plan = crate::phases::PhasePlan::load(dir.path(), &agents::Roster::builtin().unwrap()).unwrap();
    let set = builtin();
    for gate in plan.phases().iter().flat_map(|p| &p.gates) {
        assert!(set.has_gate(&gate.policy), "no policy for gate {}", gate.id);
    }
}

#[test]
fn a_gate_with_missing_evidence_fails_with_reasons() {
    let set = builtin();
    let mut engine = set.engine().unwrap();
    let input = json!({
        "release": {"version": "v1.0.0", "commit": "a".repeat(40), "environment": "prod"},
        "phase": "P7",
        "gate": {"id": "doc_lint", "agents": ["Docs Librarian"], "needs": ["doc-lint"]},
        "evidence": [],
        "prior_gates": []
    });
    let decision = set.decide(&mut engine, "doc_lint", &input).unwrap();
    assert!(!decision.passed);
    assert!(decision.reasons.contains(&"Docs Librarian: no evidence recorded".to_owned()), "{:?}", decision.reasons);
    assert!(matches!(set.decide(&mut engine, "nonexistent", &input), Err(PolicyError::Missing { .. })));
}

#[test]
fn a_repository_policy_replaces_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    let lenient = "package conductor.gates.doc_lint\nimport rego.v1\ndeny contains msg if { false; msg := \"never\" }\n";
    std::fs::write(dir.path().join("policies/doc_lint.rego"), lenient).unwrap();
    let set = PolicySet::load(dir.path()).unwrap();
    assert_ne!(set.digest(), builtin().digest());
    let mut engine = set.engine().unwrap();
    let decision = set.decide(&mut engine, "doc_lint", &json!({"evidence": []})).unwrap();
    assert!(decision.passed);
}
