//! The `drill` kind: runs a DR, chaos, resilience or incident drill as a
//! command (through the `command` kind's runner: timeout, output digests and
//! tails, produced files) and reads what it measured from its standard
//! output, one JSON object per line (`conductor/drill-events/v1`):
//!
//! | line | meaning |
//! |---|---|
//! | `{"event":"start","at":"2026-11-30T10:00:00Z"}` | the drill began (the fault was injected) |
//! | `{"event":"outage","at":"..."}` | the service stopped serving |
//! | `{"event":"recovered","at":"..."}` | the service serves again |
//! | `{"event":"data_loss_window","seconds":42}` | writes lost in the recovery (the measured RPO) |
//! | `{"event":"metric","name":"time_to_mitigate_seconds","value":540}` | any other figure, in its unit |
//! | `{"event":"check","name":"steady-state","ok":true,"detail":"..."}` | a hypothesis the drill checked |
//! | `{"event":"end","at":"..."}` | the drill finished |
//!
//! The measured RTO is the metric `rto_seconds` when the drill gives one,
//! else `recovered` minus `outage` (or `start` when there is no outage line).
//! The measured RPO is the metric `rpo_seconds`, else the `data_loss_window`.
//! Lines that are not JSON objects with a known `event` are ignored and
//! counted; a known event that lacks its field is listed as invalid.
//!
//! Limits: `rto_seconds` and `rpo_seconds`, and `limits` (a table of metric
//! names to maxima, such as `time_to_acknowledge_seconds = 300`). The drill
//! fails when the command does not exit 0, when a check is not ok, when a
//! limited figure exceeds its limit, and when a limited figure was not
//! reported at all ("the drill reported no RTO"): missing data never passes.

use std::collections::BTreeMap;

use evidence::timestamp::Timestamp;
use serde_json::{Value, json};

use crate::command;
use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// How many invalid lines the facts list.
const INVALID_KEPT: usize = 20;

/// Runs the `command` setting as a drill.
pub struct DrillAgent;

#[async_trait::async_trait]
impl Agent for DrillAgent {
    fn kind(&self) -> &'static str {
        "drill"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let (argv, limits) = match command::argv(task).and_then(|argv| Ok((argv, limits(task)?))) {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let ran = match command::run(task, &argv).await {
            Ok(ran) => ran,
            Err(e) => return AgentOutcome::error(format!("cannot run `{}`: {e}", argv.join(" "))),
        };
        let stdout = match std::fs::read(&ran.stdout) {
            Ok(bytes) => bytes,
            Err(e) => return AgentOutcome::error(format!("cannot read the drill's output: {e}")),
        };
        let report = Report::parse(&stdout);
        let name = task.settings.get("drill").and_then(toml::Value::as_str).map_or_else(|| ran.line(), str::to_owned);
        let problems = report.problems(&limits);
        let (verdict, reason) = match (ran.failure(), problems.first()) {
            (Some(why), _) => (Verdict::Fail, format!("drill {name}: {why}")),
            (None, Some(problem)) => (Verdict::Fail, format!("drill {name}: {problem}")),
            (None, None) => (Verdict::Pass, format!("drill {name}: {}", report.summary())),
        };
        let mut facts = ran.facts;
        facts["drill"] = name.into();
        facts["schema"] = "conductor/drill-events/v1".into();
        facts["rtoSeconds"] = report.rto().map_or(Value::Null, Value::from);
        facts["rpoSeconds"] = report.rpo().map_or(Value::Null, Value::from);
        facts["metrics"] = json!(report.metrics());
        facts["limits"] = json!(limits);
        facts["checks"] = json!(report.checks);
        facts["events"] = report.events.into();
        facts["ignoredLines"] = report.ignored.into();
        facts["invalidLines"] = json!(report.invalid.iter().take(INVALID_KEPT).collect::<Vec<_>>());
        facts["problems"] = json!(problems);
        AgentOutcome { verdict, reason, facts, files: ran.files }
    }
}

/// The limits from `rto_seconds`, `rpo_seconds` and the `limits` table, by
/// metric name, or a missing-input outcome naming a limit that is not a
/// number of zero or more.
fn limits(task: &AgentTask) -> Result<BTreeMap<String, f64>, AgentOutcome> {
    let mut given: Vec<(String, &toml::Value)> = Vec::new();
    for key in ["rto_seconds", "rpo_seconds"] {
        if let Some(v) = task.settings.get(key) {
            given.push((key.to_owned(), v));
        }
    }
    match task.settings.get("limits") {
        Some(toml::Value::Table(table)) => given.extend(table.iter().map(|(k, v)| (k.clone(), v))),
        Some(_) => return Err(AgentOutcome::missing_input(format!("'limits' of [agents.\"{}\"] must be a table of metric names to maxima", task.agent))),
        None => {}
    }
    given
        .into_iter()
        .map(|(key, v)| match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).filter(|n| *n >= 0.0) {
            Some(n) => Ok((key, n)),
            None => Err(AgentOutcome::missing_input(format!("limit '{key}' of [agents.\"{}\"] must be a number of zero or more, such as 300", task.agent))),
        })
        .collect()
}

/// A check the drill made.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub(crate) struct Check {
    /// What was checked, such as `steady-state`.
    pub(crate) name: String,
    /// Whether it held.
    pub(crate) ok: bool,
    /// What the drill said about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// A line the drill printed that looked like an event and was not one.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub(crate) struct Invalid {
    /// Its line number, from 1.
    pub(crate) line: usize,
    /// What was wrong with it.
    pub(crate) reason: String,
}

/// What a drill's output says.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Report {
    /// The times of `start`, `outage`, `recovered` and `end` (the last of each).
    pub(crate) times: BTreeMap<String, Timestamp>,
    /// `data_loss_window` seconds, when given.
    pub(crate) data_loss_seconds: Option<f64>,
    /// Metrics by name.
    pub(crate) metrics: BTreeMap<String, f64>,
    /// Checks in the order printed.
    pub(crate) checks: Vec<Check>,
    /// Events read.
    pub(crate) events: usize,
    /// Lines that were not events (progress output, blank lines).
    pub(crate) ignored: usize,
    /// Known events missing their field.
    pub(crate) invalid: Vec<Invalid>,
}

impl Report {
    /// Reads JSON lines; never fails, since any output is a drill's to print.
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        let mut report = Self::default();
        for (n, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
            match serde_json::from_str::<Value>(line.trim()) {
                Ok(Value::Object(event)) => report.read(n + 1, &event),
                _ => report.ignored += 1,
            }
        }
        report
    }

    fn read(&mut self, line: usize, event: &serde_json::Map<String, Value>) {
        let kind = event.get("event").and_then(Value::as_str).unwrap_or("");
        let number = |key: &str| event.get(key).and_then(Value::as_f64).filter(|n| n.is_finite() && *n >= 0.0);
        let text = |key: &str| event.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        let invalid = match kind {
            "start" | "outage" | "recovered" | "end" => match text("at").map(Timestamp::parse) {
                Some(Ok(at)) => {
                    self.times.insert(kind.to_owned(), at);
                    None
                }
                _ => Some(format!("{kind} needs \"at\", an RFC 3339 time")),
            },
            "data_loss_window" => match number("seconds") {
                Some(seconds) => {
                    self.data_loss_seconds = Some(seconds);
                    None
                }
                None => Some("data_loss_window needs \"seconds\", a number of zero or more".to_owned()),
            },
            "metric" => match (text("name"), number("value")) {
                (Some(name), Some(value)) => {
                    self.metrics.insert(name.to_owned(), value);
                    None
                }
                _ => Some("metric needs \"name\" and \"value\", a number of zero or more".to_owned()),
            },
            "check" => match (text("name"), event.get("ok").and_then(Value::as_bool)) {
                (Some(name), Some(ok)) => {
                    self.checks.push(Check { name: name.to_owned(), ok, detail: text("detail").map(str::to_owned) });
                    None
                }
                _ => Some("check needs \"name\" and \"ok\", true or false".to_owned()),
            },
            _ => {
                self.ignored += 1;
                return;
            }
        };
        match invalid {
            Some(reason) => self.invalid.push(Invalid { line, reason }),
            None => self.events += 1,
        }
    }

    /// The measured RTO in seconds.
    pub(crate) fn rto(&self) -> Option<f64> {
        self.metrics.get("rto_seconds").copied().or_else(|| {
            let down = self.times.get("outage").or_else(|| self.times.get("start"))?;
            let up = self.times.get("recovered")?;
            (up >= down).then(|| (up.unix() - down.unix()) as f64)
        })
    }

    /// The measured RPO in seconds.
    pub(crate) fn rpo(&self) -> Option<f64> {
        self.metrics.get("rpo_seconds").copied().or(self.data_loss_seconds)
    }

    /// Every figure by name, RTO and RPO included when measured.
    pub(crate) fn metrics(&self) -> BTreeMap<String, f64> {
        let mut all = self.metrics.clone();
        all.extend(self.rto().map(|v| ("rto_seconds".to_owned(), v)));
        all.extend(self.rpo().map(|v| ("rpo_seconds".to_owned(), v)));
        all
    }

    /// What fails the drill: a check not ok, a limited figure missing or over its limit.
    pub(crate) fn problems(&self, limits: &BTreeMap<String, f64>) -> Vec<String> {
        let metrics = self.metrics();
        let mut problems: Vec<String> =
            self.checks.iter().filter(|c| !c.ok).map(|c| format!("check {} did not hold{}", c.name, c.detail.as_ref().map_or_else(String::new, |d| format!(": {d}")))).collect();
        for (name, limit) in limits {
            match metrics.get(name) {
                None => problems.push(format!("the drill reported no {}", label(name))),
                Some(value) if value > limit => problems.push(format!("{} {value}{unit} exceeds the limit of {limit}{unit}", label(name), unit = unit(name))),
                Some(_) => {}
            }
        }
        problems
    }

    /// The figures, the checks and how many lines were not events.
    fn summary(&self) -> String {
        let mut parts = vec!["exited 0".to_owned()];
        parts.extend(self.metrics().iter().map(|(k, v)| format!("{} {v}{}", label(k), unit(k))));
        parts.push(format!("{} checks held", self.checks.len()));
        if self.ignored > 0 {
            parts.push(format!("{} other lines ignored", self.ignored));
        }
        if !self.invalid.is_empty() {
            parts.push(format!("{} malformed events ignored", self.invalid.len()));
        }
        parts.join(", ")
    }
}

/// ` s` for metrics in seconds.
fn unit(metric: &str) -> &'static str {
    if metric.ends_with("_seconds") { " s" } else { "" }
}

/// `RTO` and `RPO` for their metrics, the name otherwise.
fn label(metric: &str) -> String {
    match metric {
        "rto_seconds" => "RTO".to_owned(),
        "rpo_seconds" => "RPO".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a region-failover script prints: progress text among the events.
    const FAILOVER: &str = r#"{"event":"start","at":"2026-11-30T10:00:00Z"}
promoting replica db-eu-2 ...
{"event":"outage","at":"2026-11-30T10:00:05Z"}
{"event":"recovered","at":"2026-11-30T10:04:05+00:00"}
{"event":"data_loss_window","seconds":12}
{"event":"check","name":"orders readable after failover","ok":true}
{"event":"end","at":"2026-11-30T10:05:00Z"}
"#;

    fn task(dir: &std::path::Path, output: &str, exit: i32, extra: &[(&str, toml::Value)]) -> AgentTask {
        std::fs::write(dir.join("drill.out"), output).unwrap();
        let mut settings = toml::Table::new();
        settings.insert("command".into(), format!("cat drill.out; exit {exit}").into());
        for (k, v) in extra {
            settings.insert((*k).into(), v.clone());
        }
        AgentTask::new("DR/BCP Lead", "drill", "P5", dir, &dir.join("scratch"), settings)
    }

    #[test]
    fn reads_times_windows_metrics_and_checks() {
        let report = Report::parse(FAILOVER.as_bytes());
        assert_eq!(report.rto(), Some(240.0), "from the outage, not the start");
        assert_eq!(report.rpo(), Some(12.0));
        assert_eq!((report.events, report.ignored), (6, 1));
        let explicit = Report::parse(b"{\"event\":\"metric\",\"name\":\"rto_seconds\",\"value\":90}\n{\"event\":\"start\",\"at\":\"2026-11-30T10:00:00Z\"}\n{\"event\":\"recovered\",\"at\":\"2026-11-30T11:00:00Z\"}\n");
        assert_eq!(explicit.rto(), Some(90.0), "a measured metric wins over the timestamps");
        let bad = Report::parse(b"{\"event\":\"recovered\",\"at\":\"soon\"}\n{\"event\":\"metric\",\"name\":\"x\"}\n[1,2]\n{\"progress\":50}\n");
        assert_eq!(bad.invalid.len(), 2);
        assert_eq!(bad.ignored, 2);
        assert_eq!(bad.rto(), None);
    }

    #[tokio::test]
    async fn a_drill_within_its_limits_passes_with_its_figures() {
        let dir = tempfile::tempdir().unwrap();
        let t = task(dir.path(), FAILOVER, 0, &[("rto_seconds", 300.into()), ("rpo_seconds", 60.into()), ("drill", "region failover".into())]);
        let outcome = DrillAgent.run(&t).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!(outcome.facts["rtoSeconds"], 240.0);
        assert_eq!(outcome.facts["limits"]["rpo_seconds"], 60.0);
        assert_eq!(outcome.facts["drill"], "region failover");
        assert_eq!(outcome.facts["ignoredLines"], 1);
        assert!(outcome.reason.ends_with("RPO 12 s, RTO 240 s, 1 checks held, 1 other lines ignored"), "{}", outcome.reason);
        assert_eq!(outcome.files[0].name, "stdout.txt");
    }

    #[tokio::test]
    async fn over_a_limit_missing_a_figure_a_failed_check_or_a_bad_exit_fails() {
        let dir = tempfile::tempdir().unwrap();
        let slow = DrillAgent.run(&task(dir.path(), FAILOVER, 0, &[("rto_seconds", 120.into())])).await;
        assert_eq!(slow.verdict, Verdict::Fail);
        assert!(slow.reason.contains("RTO 240 s exceeds the limit of 120 s"), "{}", slow.reason);
        let silent = DrillAgent.run(&task(dir.path(), "restored\n", 0, &[("rto_seconds", 300.into())])).await;
        assert_eq!(silent.verdict, Verdict::Fail);
        assert!(silent.reason.contains("the drill reported no RTO"), "{}", silent.reason);
        let broken = "{\"event\":\"check\",\"name\":\"steady-state\",\"ok\":false,\"detail\":\"p99 2.1 s\"}\n";
        let unsteady = DrillAgent.run(&task(dir.path(), broken, 0, &[])).await;
        assert!(unsteady.reason.contains("check steady-state did not hold: p99 2.1 s"), "{}", unsteady.reason);
        let crashed = DrillAgent.run(&task(dir.path(), FAILOVER, 4, &[("rto_seconds", 300.into())])).await;
        assert_eq!(crashed.verdict, Verdict::Fail);
        assert!(crashed.reason.contains("exited with status 4"), "{}", crashed.reason);
        assert_eq!(crashed.facts["exitCode"], 4);
    }

    #[tokio::test]
    async fn other_limits_and_bad_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut limits = toml::Table::new();
        limits.insert("time_to_acknowledge_seconds".into(), 300.into());
        let game_day = "{\"event\":\"metric\",\"name\":\"time_to_acknowledge_seconds\",\"value\":420}\n";
        let late = DrillAgent.run(&task(dir.path(), game_day, 0, &[("limits", toml::Value::Table(limits))])).await;
        assert!(late.reason.contains("time_to_acknowledge_seconds 420 s exceeds the limit of 300 s"), "{}", late.reason);
        let negative = DrillAgent.run(&task(dir.path(), FAILOVER, 0, &[("rto_seconds", (-1).into())])).await;
        assert_eq!(negative.verdict, Verdict::MissingInput);
        let unset = AgentTask::new("Chaos Captain", "drill", "P5", dir.path(), dir.path(), toml::Table::new());
        assert_eq!(DrillAgent.run(&unset).await.verdict, Verdict::MissingInput);
    }
}
