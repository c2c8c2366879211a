use super::*;

const GOOD: &str = "groups:
  - name: orders-slo
    rules:
      - alert: OrdersErrorBudgetBurn
        expr: job:slo_errors_per_request:ratio_rate1h{job=\"orders\"} > (14.4 * 0.001)
        for: 2m
        labels:
          severity: page
          slo: orders-availability
        annotations:
          summary: orders is burning its error budget
          runbook_url: docs/runbook.md#ordersburn
      - alert: OrdersLatencyHigh
        expr: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.3
        for: 10m
        labels:
          severity: ticket
        annotations:
          summary: orders p95 latency over 300 ms
          runbook_url: docs/runbook.md#orderslatency
";

const BAD: &str = "groups:
  - name: orders
    rules:
      - alert: OrdersDown
        expr: up{job=\"orders\"} == 0
        annotations:
          summary: orders is down
      - alert: OrdersSlow
        expr: rate(x[5m]) > 1
        for: 10s
        labels: {severity: sev1}
        annotations: {summary: slow, runbook_url: docs/runbook.md#slow}
      - alert: OrdersSlow
        expr: rate(x[5m]) > 2
        for: 5x
        labels: {severity: sev1}
        annotations: {summary: slower, runbook_url: docs/runbook.md#slow}
      - alert: OrdersNoExpr
        for: 48h
        labels: {severity: warning}
        annotations: {runbook_url: docs/runbook.md#x}
";

fn task(dir: &Path, extra: &str) -> AgentTask {
    let settings: toml::Table = toml::from_str(&format!("rules = [\"rules.yml\"]\npromtool = \"no-such-promtool\"\n{extra}")).unwrap();
    AgentTask::new("Alert Arborist", "alerts", "P7", dir, dir, settings)
}

fn codes(outcome: &AgentOutcome) -> Vec<(u64, String)> {
    outcome.facts["problems"].as_array().unwrap().iter().map(|p| (p["line"].as_u64().unwrap(), p["code"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn sound_rules_pass_and_an_slo_with_a_burn_rate_alert_is_covered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), GOOD).unwrap();
    let mut t = task(dir.path(), "slos = [\"orders-availability\"]\n");
    t.settings.remove("promtool");
    let outcome = AlertsAgent.run(&t).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["alerts"], 2);
    assert_eq!(outcome.facts["slos"], json!([{ "slo": "orders-availability", "alerts": ["OrdersErrorBudgetBurn"] }]));
    assert_eq!(outcome.files.len(), 1, "the rule file is evidence");
}

#[tokio::test]
async fn each_hygiene_problem_is_named_with_its_line_and_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), BAD).unwrap();
    let outcome = AlertsAgent.run(&task(dir.path(), "slos = [\"orders-availability\"]\n")).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    let expected: Vec<(u64, String)> = [
        (4, "alert-no-severity"),
        (4, "alert-no-runbook"),
        (4, "alert-no-for"),
        (8, "alert-unknown-severity"),
        (8, "alert-for-too-short"),
        (13, "alert-unknown-severity"),
        (13, "alert-bad-for"),
        (18, "alert-no-expr"),
        (18, "alert-missing-annotation"),
        (18, "alert-for-too-long"),
        (13, "alert-duplicate"),
        (0, "slo-no-burn-rate-alert"),
        (0, "promtool-failed"),
    ]
    .iter()
    .map(|(l, c)| (*l, (*c).to_owned()))
    .collect();
    assert_eq!(codes(&outcome), expected, "{:#}", outcome.facts["problems"]);
    let duplicate = outcome.facts["problems"].as_array().unwrap().iter().find(|p| p["code"] == "alert-duplicate").unwrap();
    assert_eq!(duplicate["message"], "alert OrdersSlow repeats the name and labels of the one at rules.yml:8");
}

#[tokio::test]
async fn a_rule_file_that_is_not_one_is_a_problem_and_a_missing_one_is_missing_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), "rules: []\n").unwrap();
    let outcome = AlertsAgent.run(&task(dir.path(), "")).await;
    assert_eq!(codes(&outcome)[0], (0, "rule-file-invalid".to_owned()));
    std::fs::remove_file(dir.path().join("rules.yml")).unwrap();
    assert_eq!(AlertsAgent.run(&task(dir.path(), "")).await.verdict, Verdict::MissingInput);
    let unset = AgentTask::new("Alert Arborist", "alerts", "P7", dir.path(), dir.path(), toml::Table::new());
    assert_eq!(AlertsAgent.run(&unset).await.verdict, Verdict::MissingInput);
    assert_eq!(AlertsAgent.run(&task(dir.path(), "min_for = \"soon\"\n")).await.verdict, Verdict::MissingInput);
}

#[tokio::test]
async fn promtool_is_run_over_each_file_and_its_rejection_recorded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), GOOD).unwrap();
    let fake = dir.path().join("promtool");
    std::fs::write(&fake, "#!/bin/sh\n[ \"$1 $2\" = \"check rules\" ] || exit 3\ngrep -q OrdersLatencyHigh \"$3\" && { echo \"  FAILED: $3: 1:1: group \\\"orders-slo\\\", rule 2: could not parse expression\" >&2; exit 1; }\nexit 0\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut t = task(dir.path(), "");
    t.settings.insert("promtool".into(), "promtool".into());
    let outcome = AlertsAgent.run(&t).await;
    assert_eq!(codes(&outcome), [(0, "promtool-rejects".to_owned())]);
    assert!(outcome.reason.contains("rules.yml:0: promtool-rejects"), "{}", outcome.reason);
    std::fs::write(&fake, "#!/bin/sh\nexit 0\n").unwrap();
    let outcome = AlertsAgent.run(&t).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["promtool"], "promtool check rules accepted 1 of 1 files");
}
