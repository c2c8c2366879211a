//! The readiness kind over evidence shaped as the other kinds file it.

use serde_json::{Value, json};

use super::*;
use crate::ReleaseContext;
use evidence::record::ReleaseBinding;

fn ev(phase: &str, agent: &str, kind: &str, record_type: &str, verdict: Verdict, facts: Value) -> ReleaseEvidence {
    ReleaseEvidence { phase: phase.into(), agent: agent.into(), kind: kind.into(), record_type: record_type.into(), verdict, reason: "as recorded".into(), facts }
}

/// The facts a release in good order files, in the shapes the kinds write them.
fn good_release() -> Vec<ReleaseEvidence> {
    vec![
        ev("P0", "QE Generalist", "junit", "junit", Verdict::Pass, json!({
            "tests": 120, "passed": 119, "flaky": 1, "skipped": 0, "failures": 0, "errors": 0, "failing": [], "flakyTests": ["t"],
            "coverage": { "linesCovered": 850, "linesValid": 1000, "lineRate": 0.85, "minLineRate": 0.8 },
        })),
        ev("P0", "Lint Marshal", "sarif", "lint", Verdict::Pass, json!({ "counts": { "error": 0, "warning": 3, "note": 1, "none": 0 } })),
        ev("P0", "AppSec", "sarif", "sast", Verdict::Pass, json!({ "counts": { "error": 0, "warning": 2, "note": 0, "none": 0 } })),
        ev("P0", "InfraSec", "sarif", "iac-scan", Verdict::Pass, json!({ "counts": { "error": 0, "warning": 0, "note": 0, "none": 0 } })),
        ev("P0", "Secrets Escrow", "secrets", "secrets-scan", Verdict::Pass, json!({ "total": 0, "findings": [] })),
        ev("P0", "Vendor Sentinel", "vulnerabilities", "vulnerabilities", Verdict::Pass, json!({
            "counts": { "low": 1, "medium": 2, "high": 0, "critical": 0, "unknown": 0 }, "yanked": [], "staleReports": [],
        })),
        ev("P0", "Supply-Chain Lead", "sbom", "sbom", Verdict::Pass, json!({ "components": 12, "unpinned": [] })),
        ev("P0", "CI/CD Engineer", "preflight", "preflight", Verdict::Pass, json!({ "checks": [{ "id": "lockfiles", "passed": true, "detail": "ok" }] })),
        ev("P5", "DR/BCP Lead", "drill", "dr-drill", Verdict::Pass, json!({ "recoverySeconds": 40 })),
        ev("P7", "Docs Librarian", "docs", "doc-lint", Verdict::Pass, json!({
            "counts": { "broken-link": 0, "missing-anchor": 0, "undefined-reference": 0 }, "problems": [], "runbooksChecked": 1,
            "required": ["README.md", "CHANGELOG.md"], "changelog": "CHANGELOG.md", "migrationGuide": null, "runbookSections": ["Rollback"],
            "breakingChanges": null,
        })),
    ]
}

fn task(dir: &std::path::Path, evidence: Vec<ReleaseEvidence>, settings: &str) -> AgentTask {
    let binding = ReleaseBinding { version: "v1.2.0".into(), commit: "HEAD".into(), environment: "prod".into(), id: "r1".into() };
    AgentTask::new("Release Conductor", "readiness", "P6", dir, &dir.join("scratch"), toml::from_str(settings).unwrap())
        .with_release(ReleaseContext { evidence, ..ReleaseContext::new(binding) })
}

#[test]
fn every_category_is_read_from_the_facts_the_kinds_file() {
    let gathered = gather::gather(&good_release(), "v1.2.0", Some(&GitBreaking { since: Some("v1.1.0".into()), count: 0 }));
    let d = &gathered.data;
    let tests = d.tests.clone().unwrap();
    assert_eq!((tests.total, tests.failed, tests.flaky), (Some(120), Some(0), Some(1)));
    assert!((tests.line_coverage.unwrap().get() - 0.85).abs() < 1e-9);
    assert_eq!(d.code_quality.clone().unwrap().lint_warnings, Some(3));
    assert_eq!(d.security.clone().unwrap().sast_errors, Some(0));
    assert_eq!(d.documentation.clone().unwrap().readme, Some(true));
    assert_eq!(d.breaking_changes.clone().unwrap().count, Some(0));
    assert_eq!(d.dependencies.clone().unwrap().lockfiles_consistent, Some(true));
    assert_eq!(d.rollback.clone().unwrap(), data::Rollback { plan: Some(true), tested: Some(true) });
    let a = score::assess(d);
    assert_eq!(a.decision, score::Decision::Go, "{:#?}", a.reasons);
    assert_eq!(a.score, score::Score(10000));
}

#[test]
fn an_outcome_whose_check_did_not_run_gives_no_data_and_says_why() {
    let mut evidence = good_release();
    evidence.retain(|e| e.kind != "junit");
    evidence.push(ReleaseEvidence { reason: "no 'reports' is configured".into(), ..ev("P0", "QE Generalist", "junit", "junit", Verdict::MissingInput, Value::Null) });
    let gathered = gather::gather(&evidence, "v1.2.0", None);
    assert_eq!(gathered.data.tests, None);
    assert!(gathered.notes.iter().any(|n| n.contains("QE Generalist (P0 junit) gave no data: missing-input: no 'reports' is configured")), "{:#?}", gathered.notes);
}

#[test]
fn failures_in_the_facts_lower_their_categories() {
    let mut evidence = good_release();
    for e in &mut evidence {
        match e.kind.as_str() {
            "secrets" => e.facts["total"] = 2.into(),
            "vulnerabilities" => {
                e.facts["counts"]["unknown"] = 1.into();
                e.facts["yanked"] = json!([{ "package": "futures-util", "version": "0.3.29" }]);
            }
            "docs" => e.facts["problems"] = json!([{ "file": "CHANGELOG.md", "line": null, "code": "version-not-documented", "message": "m" }]),
            _ => {}
        }
    }
    let d = gather::gather(&evidence, "v1.2.0", None).data;
    let s = d.security.clone().unwrap();
    assert_eq!((s.secrets, s.critical_vulnerabilities), (Some(2), Some(1)), "an unrated vulnerability counts as critical");
    assert_eq!(d.dependencies.clone().unwrap().yanked, Some(1));
    assert_eq!(d.documentation.clone().unwrap().changelog_mentions_version, Some(false));
    let a = score::assess(&d);
    assert_eq!(a.categories[3].score, 30, "{:#?}", a.categories[3]);
}

#[tokio::test]
async fn the_agent_records_data_scores_and_decision_and_passes_only_on_go() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = ReadinessAgent.run(&task(dir.path(), good_release(), "")).await;
    // No git repository: breaking changes come from no source and score 0.
    assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.reason);
    assert_eq!(outcome.facts["decision"], "NO-GO");
    assert!(outcome.reason.contains("breaking changes 0"), "{}", outcome.reason);
    assert_eq!(outcome.facts["releaseData"]["tests"]["total"], 120);
    let names: Vec<&str> = outcome.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["release_data.json", "readiness-report.json", "readiness-report.txt"]);
    let text = std::fs::read_to_string(&outcome.files[2].path).unwrap();
    assert!(text.starts_with("release readiness of v1.2.0: NO-GO"), "{text}");

    let mut evidence = good_release();
    let docs = evidence.iter_mut().find(|e| e.kind == "docs").unwrap();
    docs.facts["breakingChanges"] = json!({ "since": "v1.1.0", "commits": 4, "breaking": [] });
    let outcome = ReadinessAgent.run(&task(dir.path(), evidence, "")).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["score"], 100.0);
}

#[tokio::test]
async fn the_docs_can_be_checked_here_before_the_docs_phase() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "# Service\n").unwrap();
    std::fs::write(dir.path().join("CHANGELOG.md"), "# Changelog\n\n## 1.2.0\n- Faster.\n").unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/runbook.md"), "# Runbook\n\n## Rollback\n\nRedeploy the previous tag.\n").unwrap();
    let evidence: Vec<ReleaseEvidence> = good_release().into_iter().filter(|e| e.kind != "docs").collect();
    let settings = "[docs]\npaths = [\"README.md\", \"CHANGELOG.md\", \"docs\"]\nrunbook_sections = [\"Rollback\"]\n";
    let outcome = ReadinessAgent.run(&task(dir.path(), evidence, settings)).await;
    let data = &outcome.facts["releaseData"];
    assert_eq!(data["documentation"], json!({ "readme": true, "changelog_mentions_version": true, "broken_links": 0 }), "{:#}", outcome.facts);
    assert_eq!(data["rollback"], json!({ "plan": true, "tested": true }));
    assert!(outcome.facts["notes"].to_string().contains("Release Conductor (own docs check)"));
}

#[tokio::test]
async fn a_docs_setting_that_is_not_a_table_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = ReadinessAgent.run(&task(dir.path(), vec![], "docs = \"README.md\"")).await;
    assert_eq!(outcome.verdict, Verdict::MissingInput);
    assert!(outcome.reason.contains("setting 'docs'"), "{}", outcome.reason);
}
