//! The `junit` kind: JUnit XML test reports (the format pytest, Maven
//! Surefire, Gradle, cargo-nextest, go-junit-report and jest-junit write),
//! one or several files. Retries are told apart from failures: a case that
//! failed and then passed is flaky (it passes, and is counted and named), a
//! case that failed on every attempt fails. Passes when there are test cases
//! and none failed or errored; `max_flaky` (no limit by default) bounds the
//! flaky ones. With `coverage` (Cobertura or LCOV reports) and
//! `min_line_rate` it also holds the run to a line-coverage minimum and
//! records the figures. Besides the reports it files an in-toto test-result
//! statement (`https://in-toto.io/attestation/test-result/v0.1`).

use std::collections::BTreeMap;

use evidence::digest::Sha256;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// How many failing or flaky test names the facts keep.
const NAMES_KEPT: usize = 20;

/// The in-toto test-result predicate type.
pub const TEST_RESULT_PREDICATE: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// Reads the JUnit reports named by `reports`.
pub struct JunitAgent;

/// How one attempt, or the last attempt of a case, came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    Passed,
    Skipped,
    Failed,
    Errored,
}

/// One `<testcase>` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) outcome: Outcome,
    /// Earlier failed attempts the report records inside the case
    /// (`flakyFailure`, `flakyError`, `rerunFailure`, `rerunError`, `rerun`).
    pub(crate) retries: u32,
}

/// A test's verdict over every attempt in every report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Passed,
    Flaky,
    Skipped,
    Failed,
    Errored,
}

#[async_trait::async_trait]
impl Agent for JunitAgent {
    fn kind(&self) -> &'static str {
        "junit"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let (reports, parsed) = match task.parse_reports("reports", "JUnit XML", cases) {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let coverage = match task.settings.contains_key("coverage").then(|| crate::coverage::measure(task, "coverage")).transpose() {
            Ok(coverage) => coverage,
            Err(outcome) => return outcome,
        };
        let max_flaky = task.settings.get("max_flaky").and_then(toml::Value::as_integer).and_then(|n| usize::try_from(n).ok());
        let tests = statuses(parsed.into_iter().flatten());
        let named = |wanted: &[Status]| tests.iter().filter(|(_, s)| wanted.contains(s)).map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let (failing, flaky, passed) = (named(&[Status::Failed, Status::Errored]), named(&[Status::Flaky]), named(&[Status::Passed]));
        let count = |s: Status| tests.values().filter(|x| **x == s).count();
        let (verdict, reason) = if tests.is_empty() {
            (Verdict::Fail, "the reports hold no test cases".to_owned())
        } else if !failing.is_empty() {
            (Verdict::Fail, format!("{} of {} tests failed: {}", failing.len(), tests.len(), kept(&failing).join(", ")))
        } else if max_flaky.is_some_and(|max| flaky.len() > max) {
            (Verdict::Fail, format!("{} flaky tests exceed max_flaky {}: {}", flaky.len(), max_flaky.unwrap_or(0), kept(&flaky).join(", ")))
        } else if let Some((Verdict::Fail, why)) = coverage.as_ref().map(|(_, c)| c.judge()) {
            (Verdict::Fail, why)
        } else {
            (Verdict::Pass, format!("{} tests passed ({} flaky, {} skipped)", passed.len() + flaky.len(), flaky.len(), count(Status::Skipped)))
        };
        let mut facts = json!({
            "tests": tests.len(), "passed": passed.len(), "flaky": flaky.len(), "skipped": count(Status::Skipped),
            "failures": count(Status::Failed), "errors": count(Status::Errored),
            "failing": kept(&failing), "flakyTests": kept(&flaky), "maxFlaky": max_flaky,
        });
        let mut files = task.report_files(&reports);
        if let Some((coverage_reports, figures)) = &coverage {
            facts["coverage"] = figures.facts();
            files.extend(task.report_files(coverage_reports));
        }
        match write_test_result(task, &reports, &passed, &flaky, &failing) {
            Ok(file) => files.push(file),
            Err(e) => return AgentOutcome::error(format!("the test-result statement cannot be written: {e}")),
        }
        AgentOutcome { verdict, reason, facts, files }
    }
}

fn kept(names: &[String]) -> Vec<String> {
    names.iter().take(NAMES_KEPT).cloned().collect()
}

/// Each test's status over all its attempts: passed on the last attempt
/// after a failed one is flaky, whether the retries sit inside one case
/// (Surefire, nextest) or appear as repeated cases (pytest-rerunfailures).
fn statuses(cases: impl Iterator<Item = Case>) -> BTreeMap<String, Status> {
    let mut attempts: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for case in cases {
        attempts.entry(case.name.clone()).or_default().push(case);
    }
    attempts
        .into_iter()
        .map(|(name, runs)| {
            let failed_before = runs.iter().any(|c| c.retries > 0 || matches!(c.outcome, Outcome::Failed | Outcome::Errored));
            let status = match runs.iter().map(|c| c.outcome).rfind(|o| *o != Outcome::Skipped) {
                None => Status::Skipped,
                Some(Outcome::Passed) if failed_before => Status::Flaky,
                Some(Outcome::Passed | Outcome::Skipped) => Status::Passed,
                Some(Outcome::Failed) => Status::Failed,
                Some(Outcome::Errored) => Status::Errored,
            };
            (name, status)
        })
        .collect()
}

/// The in-toto test-result statement about the release commit (or, outside a
/// release, about the reports themselves), written to the task's scratch folder.
fn write_test_result(task: &AgentTask, reports: &[(String, Vec<u8>)], passed: &[String], flaky: &[String], failing: &[String]) -> std::io::Result<ProducedFile> {
    let configuration: Vec<Value> = reports.iter().map(|(p, bytes)| json!({ "name": p, "digest": { "sha256": Sha256::of(bytes).to_hex() } })).collect();
    let subject = match &task.release {
        Some(r) => vec![json!({ "name": r.binding.version, "digest": { "gitCommit": r.binding.commit } })],
        None => configuration.clone(),
    };
    let result = if !failing.is_empty() {
        "FAILED"
    } else if !flaky.is_empty() {
        "WARNED"
    } else {
        "PASSED"
    };
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subject,
        "predicateType": TEST_RESULT_PREDICATE,
        "predicate": { "result": result, "configuration": configuration, "passedTests": passed, "warnedTests": flaky, "failedTests": failing },
    });
    std::fs::create_dir_all(&task.scratch)?;
    let path = task.scratch.join("test-result.intoto.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&statement)?)?;
    Ok(ProducedFile { name: "test-result.intoto.json".into(), path })
}

/// Every `<testcase>` of one report with its last outcome and the retries
/// recorded inside it (suite totals are not trusted).
pub(crate) fn cases(bytes: &[u8]) -> Result<Vec<Case>, String> {
    let mut reader = Reader::from_reader(bytes);
    let mut out = Vec::new();
    let mut current: Option<Case> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = e.local_name().into_inner().to_owned();
                if tag == "testcase" {
                    let case = Case { name: case_name(e), outcome: Outcome::Passed, retries: 0 };
                    if empty { out.push(case) } else { current = Some(case) }
                } else if let Some(case) = current.as_mut() {
                    mark(case, &tag);
                }
            }
            Event::End(ref e) if e.local_name().into_inner() == "testcase" => out.extend(current.take()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// A child element's effect: a failure or error outranks a skip reported for
/// the same case; retry elements count attempts without changing the outcome.
fn mark(case: &mut Case, tag: &str) {
    let outcome = match tag {
        "failure" => Outcome::Failed,
        "error" => Outcome::Errored,
        "skipped" => Outcome::Skipped,
        "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" | "rerun" => {
            case.retries += 1;
            return;
        }
        _ => return,
    };
    case.outcome = case.outcome.max(outcome);
}

fn case_name(e: &BytesStart<'_>) -> String {
    let attr = |key: &str| e.attributes().flatten().find(|a| a.key.as_ref() == key).map(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_or_else(|_| a.value.to_string(), |v| v.into_owned()));
    match (attr("classname"), attr("name")) {
        (Some(class), Some(name)) if !class.is_empty() => format!("{class}.{name}"),
        (_, Some(name)) => name,
        _ => "unnamed test".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(xml: &[&[u8]]) -> BTreeMap<String, Status> {
        statuses(xml.iter().flat_map(|x| cases(x).unwrap()))
    }

    #[test]
    fn counts_cases_by_outcome() {
        let xml: &[u8] = br#"<?xml version="1.0"?><testsuites><testsuite name="s" tests="9">
            <testcase classname="a" name="ok"/>
            <testcase classname="a" name="broken"><failure message="assert">boom</failure></testcase>
            <testcase classname="a" name="crashed"><error/></testcase>
            <testcase classname="a" name="later"><skipped/></testcase>
            <testcase name="fine &amp; dandy"><system-out>log</system-out></testcase>
        </testsuite></testsuites>"#;
        let s = status_of(&[xml]);
        assert_eq!(s.len(), 5);
        assert_eq!(s["a.broken"], Status::Failed);
        assert_eq!(s["a.crashed"], Status::Errored);
        assert_eq!(s["a.later"], Status::Skipped);
        assert_eq!(s["fine & dandy"], Status::Passed, "attribute values are unescaped");
    }

    /// cargo-nextest and Maven Surefire write earlier attempts inside the case:
    /// `flakyFailure` in a case that finally passed, `rerunFailure` beside the
    /// `failure` of one that never did.
    #[test]
    fn retries_inside_a_case_tell_flaky_from_failed() {
        let nextest: &[u8] = br#"<testsuites name="nextest-run"><testsuite name="conductor" tests="2">
            <testcase name="bus::reconnects" classname="conductor"><flakyFailure type="test failure">first try</flakyFailure></testcase>
            <testcase name="pack::seals" classname="conductor"><failure type="test failure">third try</failure><rerunFailure>1</rerunFailure><rerunFailure>2</rerunFailure></testcase>
        </testsuite></testsuites>"#;
        let s = status_of(&[nextest]);
        assert_eq!(s["conductor.bus::reconnects"], Status::Flaky);
        assert_eq!(s["conductor.pack::seals"], Status::Failed);
    }

    /// pytest-rerunfailures and reports merged from several CI attempts
    /// repeat the case; the last attempt decides, an earlier failure makes it flaky.
    #[test]
    fn repeated_cases_across_reports_are_attempts() {
        let first: &[u8] = br#"<testsuite><testcase classname="tests.test_api" name="test_login"><failure/></testcase><testcase classname="tests.test_api" name="test_logout"/></testsuite>"#;
        let second: &[u8] = br#"<testsuite><testcase classname="tests.test_api" name="test_login"/></testsuite>"#;
        let s = status_of(&[first, second]);
        assert_eq!(s["tests.test_api.test_login"], Status::Flaky);
        assert_eq!(s["tests.test_api.test_logout"], Status::Passed);
        assert_eq!(status_of(&[second, first])["tests.test_api.test_login"], Status::Failed, "a failing last attempt fails");
    }

    #[test]
    fn broken_xml_names_the_position() {
        let err = cases(b"<testsuite><testcase></testsuite>").unwrap_err();
        assert!(err.starts_with("at byte"), "{err}");
    }

    fn task(dir: &std::path::Path, reports: &[&str], max_flaky: Option<i64>) -> AgentTask {
        let mut settings = toml::Table::new();
        settings.insert("reports".into(), toml::Value::Array(reports.iter().map(|r| (*r).into()).collect()));
        if let Some(max) = max_flaky {
            settings.insert("max_flaky".into(), max.into());
        }
        AgentTask::new("QE Generalist", "junit", "P0", dir, &dir.join("scratch"), settings)
    }

    #[tokio::test]
    async fn no_test_cases_fail_and_passing_reports_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty.xml"), "<testsuite tests=\"0\"/>").unwrap();
        std::fs::write(dir.path().join("ok.xml"), "<testsuite><testcase name=\"t\"/></testsuite>").unwrap();
        assert_eq!(JunitAgent.run(&task(dir.path(), &["empty.xml"], None)).await.verdict, Verdict::Fail);
        let ok = JunitAgent.run(&task(dir.path(), &["ok.xml"], None)).await;
        assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.reason);
        assert_eq!(ok.files[0].name, "ok.xml");
    }

    #[tokio::test]
    async fn flaky_tests_pass_within_max_flaky_and_are_warned_in_the_test_result() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), r#"<testsuite><testcase name="t"><flakyFailure/></testcase><testcase name="u"/></testsuite>"#).unwrap();
        let outcome = JunitAgent.run(&task(dir.path(), &["a.xml"], None)).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!((outcome.facts["flaky"].as_u64(), outcome.facts["passed"].as_u64()), (Some(1), Some(1)));
        let statement: Value = serde_json::from_slice(&std::fs::read(&outcome.files[1].path).unwrap()).unwrap();
        assert_eq!(statement["predicateType"], TEST_RESULT_PREDICATE);
        assert_eq!(statement["predicate"]["result"], "WARNED");
        assert_eq!(statement["predicate"]["warnedTests"], json!(["t"]));
        let strict = JunitAgent.run(&task(dir.path(), &["a.xml"], Some(0))).await;
        assert!(outcome.facts.get("coverage").is_none(), "no coverage is claimed without reports");
        assert_eq!(strict.verdict, Verdict::Fail);
        assert!(strict.reason.contains("exceed max_flaky 0: t"), "{}", strict.reason);
    }

    #[tokio::test]
    async fn coverage_reports_are_held_to_the_minimum() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml"), r#"<testsuite><testcase name="t"/></testsuite>"#).unwrap();
        std::fs::write(dir.path().join("lcov.info"), "SF:src/a.rs\nDA:1,1\nDA:2,0\nDA:3,1\nDA:4,1\nLF:4\nLH:3\nend_of_record\n").unwrap();
        let with_min = |min: f64| {
            let mut t = task(dir.path(), &["a.xml"], None);
            t.settings.insert("coverage".into(), "lcov.info".into());
            t.settings.insert("min_line_rate".into(), min.into());
            t
        };
        let ok = JunitAgent.run(&with_min(0.75)).await;
        assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.reason);
        assert_eq!(ok.facts["coverage"]["lineRate"], 0.75);
        assert!(ok.files.iter().any(|f| f.name == "lcov.info"));
        let low = JunitAgent.run(&with_min(0.8)).await;
        assert_eq!(low.verdict, Verdict::Fail);
        assert!(low.reason.contains("75.0% is below the required 80.0%"), "{}", low.reason);
    }
}
