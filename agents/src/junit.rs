//! The `junit` kind: JUnit XML test reports (the format pytest, Maven
//! Surefire, Gradle, go-junit-report, jest-junit and cargo2junit write).
//! Passes when there are test cases and none failed or errored.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// How many failing test names the facts keep.
const NAMES_KEPT: usize = 20;

/// Reads the JUnit reports named by `reports`.
pub struct JunitAgent;

#[derive(Default, Debug, PartialEq, Eq)]
struct Tally {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    failing: Vec<String>,
}

#[async_trait::async_trait]
impl Agent for JunitAgent {
    fn kind(&self) -> &'static str {
        "junit"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let (reports, tallies) = match task.parse_reports("reports", "JUnit XML", tally) {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let mut total = Tally::default();
        tallies.into_iter().for_each(|t| total.add(t));
        let (verdict, reason) = if total.tests == 0 {
            (Verdict::Fail, "the reports hold no test cases".to_owned())
        } else if total.failures + total.errors > 0 {
            (Verdict::Fail, format!("{} of {} tests failed and {} errored: {}", total.failures, total.tests, total.errors, total.failing.join(", ")))
        } else {
            (Verdict::Pass, format!("{} tests passed ({} skipped)", total.tests - total.skipped, total.skipped))
        };
        let facts = json!({ "tests": total.tests, "failures": total.failures, "errors": total.errors, "skipped": total.skipped, "failing": total.failing });
        AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) }
    }
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
        self.failing.extend(other.failing);
        self.failing.truncate(NAMES_KEPT);
    }
}

/// Counts test cases by outcome, reading `<testcase>` and its `<failure>`,
/// `<error>` and `<skipped>` children (suite totals are not trusted).
fn tally(bytes: &[u8]) -> Result<Tally, String> {
    let mut reader = Reader::from_reader(bytes);
    let mut tally = Tally::default();
    let mut current: Option<(String, Option<&'static str>)> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().into_inner() {
                    "testcase" => {
                        let name = case_name(e);
                        if empty {
                            tally.tests += 1;
                        } else {
                            current = Some((name, None));
                        }
                    }
                    "failure" => mark(&mut current, "failure"),
                    "error" => mark(&mut current, "error"),
                    "skipped" => mark(&mut current, "skipped"),
                    _ => {}
                }
            }
            Event::End(ref e) if e.local_name().into_inner() == "testcase" => {
                if let Some((name, outcome)) = current.take() {
                    tally.record(name, outcome);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(tally)
}

impl Tally {
    fn record(&mut self, name: String, outcome: Option<&'static str>) {
        self.tests += 1;
        match outcome {
            Some("failure") => self.failures += 1,
            Some("error") => self.errors += 1,
            Some(_) => self.skipped += 1,
            None => return,
        }
        if matches!(outcome, Some("failure" | "error")) && self.failing.len() < NAMES_KEPT {
            self.failing.push(name);
        }
    }
}

/// A failure or error outranks a skip reported for the same case.
fn mark(current: &mut Option<(String, Option<&'static str>)>, what: &'static str) {
    if let Some((_, outcome)) = current
        && (outcome.is_none() || *outcome == Some("skipped")) {
            *outcome = Some(what);
        }
}

fn case_name(e: &quick_xml::events::BytesStart<'_>) -> String {
    let attr = |key: &str| e.attributes().flatten().find(|a| a.key.as_ref() == key).map(|a| a.value.to_string());
    match (attr("classname"), attr("name")) {
        (Some(class), Some(name)) => format!("{class}.{name}"),
        (_, Some(name)) => name,
        _ => "unnamed test".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cases_by_outcome() {
        let xml = br#"<?xml version="1.0"?><testsuites><testsuite name="s" tests="9">
            <testcase classname="a" name="ok"/>
            <testcase classname="a" name="broken"><failure message="assert">boom</failure></testcase>
            <testcase classname="a" name="crashed"><error/></testcase>
            <testcase classname="a" name="later"><skipped/></testcase>
            <testcase name="fine"><system-out>log</system-out></testcase>
        </testsuite></testsuites>"#;
        let t = tally(xml).unwrap();
        assert_eq!((t.tests, t.failures, t.errors, t.skipped), (5, 1, 1, 1));
        assert_eq!(t.failing, ["a.broken", "a.crashed"]);
    }

    #[test]
    fn broken_xml_names_the_position() {
        let err = tally(b"<testsuite><testcase></testsuite>").unwrap_err();
        assert!(err.starts_with("at byte"), "{err}");
    }

    #[tokio::test]
    async fn no_test_cases_fail_and_passing_reports_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty.xml"), "<testsuite tests=\"0\"/>").unwrap();
        std::fs::write(dir.path().join("ok.xml"), "<testsuite><testcase name=\"t\"/></testsuite>").unwrap();
        let run = |report: &str| {
            let mut settings = toml::Table::new();
            settings.insert("reports".into(), toml::Value::Array(vec![report.into()]));
            AgentTask::new("QE Generalist", "junit", "P0", dir.path(), dir.path(), settings)
        };
        assert_eq!(JunitAgent.run(&run("empty.xml")).await.verdict, Verdict::Fail);
        let ok = JunitAgent.run(&run("ok.xml")).await;
        assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.reason);
        assert_eq!(ok.files[0].name, "ok.xml");
    }
}
