use super::*;

const K6: &str = include_str!("testdata/k6-summary.json");
const HYPERFINE: &str = include_str!("testdata/hyperfine.json");
const WRK: &str = include_str!("testdata/wrk.txt");

fn task(dir: &std::path::Path, file: &str, body: &str, extra: &[(&str, toml::Value)]) -> AgentTask {
    std::fs::write(dir.join(file), body).unwrap();
    let mut settings = toml::Table::new();
    settings.insert("results".into(), file.into());
    for (k, v) in extra {
        settings.insert((*k).into(), v.clone());
    }
    AgentTask::new("Perf Engineer", "perf", "P1", dir, dir, settings)
}

/// The task in a release whose previous release recorded `facts`.
fn after(task: AgentTask, facts: Value) -> AgentTask {
    let binding = evidence::record::ReleaseBinding { version: "v1.1.0".into(), commit: "0".repeat(40), environment: "prod".into(), id: "r".into() };
    let previous = crate::PreviousOutcome { version: "v1.0.0".into(), verdict: Verdict::Pass, facts };
    task.with_release(crate::ReleaseContext { previous: Some(previous), ..crate::ReleaseContext::new(binding) })
}

/// The previous release's facts with one metric of the http scenario set to `value`.
fn baseline_with(facts: &Value, metric: &str, value: f64) -> Value {
    let mut facts = facts.clone();
    facts["results"][0]["metrics"][metric] = value.into();
    facts
}

#[tokio::test]
async fn without_a_baseline_the_result_is_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = PerfAgent.run(&task(dir.path(), "k6.json", K6, &[])).await;
    assert_eq!(outcome.verdict, Verdict::Inconclusive, "{}", outcome.reason);
    assert!(outcome.reason.contains("there is no baseline to compare with"), "{}", outcome.reason);
    assert_eq!(outcome.facts["inconclusive"], true);
    assert_eq!(outcome.facts["checks"][2]["passed"], true, "the absolute error-rate criterion needs no baseline");
    assert_eq!(outcome.files[0].name, "k6.json");
}

#[tokio::test]
async fn compares_with_the_previous_release() {
    let dir = tempfile::tempdir().unwrap();
    let first = PerfAgent.run(&task(dir.path(), "k6.json", K6, &[])).await;
    let same = PerfAgent.run(&after(task(dir.path(), "k6.json", K6, &[]), first.facts.clone())).await;
    assert_eq!(same.verdict, Verdict::Pass, "{}", same.reason);
    assert_eq!(same.facts["baseline"]["version"], "v1.0.0");
    // The previous release was faster: p95 187.5 ms now against 150 ms is +25%.
    let faster = baseline_with(&first.facts, "p95", 150.0);
    let slower = PerfAgent.run(&after(task(dir.path(), "k6.json", K6, &[]), faster)).await;
    assert_eq!(slower.verdict, Verdict::Fail);
    assert!(slower.reason.contains("http p95 187.50 is +25.0% on the baseline 150.00 (limit p95 <= +10%)"), "{}", slower.reason);
    let check = &slower.facts["checks"][0];
    assert_eq!((check["metric"].as_str(), check["relative"].as_bool(), check["passed"].as_bool()), (Some("p95"), Some(true), Some(false)));
    // Throughput down 20%: rps >= -5% fails too.
    let busier = baseline_with(&first.facts, "rps", 515.9);
    assert_eq!(PerfAgent.run(&after(task(dir.path(), "k6.json", K6, &[]), busier)).await.verdict, Verdict::Fail);
}

#[tokio::test]
async fn a_baseline_without_the_metric_or_scenario_is_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let criteria = toml::Value::Array(vec!["p99 <= +10%".into(), "rps >= -5%".into()]);
    let first = PerfAgent.run(&task(dir.path(), "wrk.txt", WRK, &[("criteria", criteria.clone())])).await;
    let mut facts = first.facts.clone();
    facts["results"][0]["metrics"].as_object_mut().unwrap().remove("p99");
    let outcome = PerfAgent.run(&after(task(dir.path(), "wrk.txt", WRK, &[("criteria", criteria.clone())]), facts)).await;
    assert_eq!(outcome.verdict, Verdict::Inconclusive);
    assert!(outcome.reason.contains("the baseline carries no p99"), "{}", outcome.reason);
    let mut renamed = first.facts.clone();
    renamed["results"][0]["scenario"] = "grpc".into();
    let other = PerfAgent.run(&after(task(dir.path(), "wrk.txt", WRK, &[("criteria", criteria)]), renamed)).await;
    assert!(other.reason.contains("the baseline has no scenario http"), "{}", other.reason);
}

#[tokio::test]
async fn a_baseline_file_in_the_same_format_stands_in_for_a_release() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("before.json"), HYPERFINE).unwrap();
    let criteria = toml::Value::Array(vec!["avg <= +5%".into(), "p95 <= +10%".into(), "error_rate <= 0".into()]);
    let t = task(dir.path(), "after.json", HYPERFINE, &[("criteria", criteria), ("baseline", "before.json".into())]);
    let outcome = PerfAgent.run(&t).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["checks"].as_array().unwrap().len(), 6, "three criteria for each of two commands");
    assert_eq!(outcome.facts["baseline"]["path"], "before.json");
}

#[tokio::test]
async fn capacity_headroom_against_the_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let absolute = toml::Value::Array(vec!["error_rate <= 0.01".into()]);
    let roomy = PerfAgent.run(&task(dir.path(), "wrk.txt", WRK, &[("criteria", absolute.clone()), ("forecast_rps", 3000.into())])).await;
    assert_eq!(roomy.verdict, Verdict::Pass, "{}", roomy.reason);
    assert!(roomy.reason.contains("capacity headroom 42.1%"), "{}", roomy.reason);
    let h = roomy.facts["headroom"]["headroom"].as_f64().unwrap();
    assert!((h - (1.0 - 3000.0 / 5180.88)).abs() < 1e-9);
    let tight = PerfAgent.run(&task(dir.path(), "wrk.txt", WRK, &[("criteria", absolute), ("forecast_rps", 4800.into())])).await;
    assert_eq!(tight.verdict, Verdict::Fail);
    assert!(tight.reason.contains("capacity headroom 7.4% (peak 5180.88 rps for a forecast of 4800.0 rps) is under the required 20.0%"), "{}", tight.reason);
}

#[tokio::test]
async fn bad_criteria_formats_and_reports_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let bad = toml::Value::Array(vec!["p95 <= +10%".into(), "latency < 200ms".into()]);
    let outcome = PerfAgent.run(&task(dir.path(), "k6.json", K6, &[("criteria", bad)])).await;
    assert_eq!(outcome.verdict, Verdict::MissingInput);
    assert!(outcome.reason.contains("criterion 'latency < 200ms'"), "{}", outcome.reason);
    let wrong_format = PerfAgent.run(&task(dir.path(), "k6.json", K6, &[("format", "locust".into())])).await;
    assert_eq!(wrong_format.verdict, Verdict::MissingInput);
    let garbage = PerfAgent.run(&task(dir.path(), "k6.json", "{\"metrics\": ", &[])).await;
    assert_eq!(garbage.verdict, Verdict::Error);
    assert!(garbage.reason.starts_with("k6.json is not k6 summary JSON"), "{}", garbage.reason);
}
