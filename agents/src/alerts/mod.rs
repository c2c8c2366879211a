//! The `alerts` kind (roster agent "Alert Arborist"): Prometheus alerting-rule
//! hygiene. Every rule file parses; every alert has an expression, a known
//! `severity` label, the required annotations (by default `summary` and
//! `runbook_url`) and a `for` between `min_for` and `max_for`; no two alerts
//! share a name and labels; every objective named in `slos` has a burn-rate
//! alert (an alert whose `slo` or `sloth_slo` label names it, as Pyrra and
//! Sloth generate them); and `promtool check rules` accepts each file when
//! promtool is installed (or named by `promtool`).
//!
//! Settings under `[agents."<name>"]`: `rules` (required: rule files),
//! `severities`, `require_annotations`, `min_for` (default `1m`), `max_for`
//! (default `24h`), `slos`, `promtool`.

pub(crate) mod duration;
pub(crate) mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use self::rules::AlertRule;
use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// Severity labels accepted when the settings name none.
const DEFAULT_SEVERITIES: [&str; 5] = ["critical", "page", "warning", "ticket", "info"];

/// Annotations every alert needs when the settings name none.
const DEFAULT_ANNOTATIONS: [&str; 2] = ["summary", "runbook_url"];

/// How many problems the facts list; `counts` has them all.
const PROBLEMS_KEPT: usize = 100;

/// A hygiene problem with one alert or file, with a stable code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    /// The rule file, relative to the repository.
    pub(crate) file: String,
    /// The line of the alert, 0 for the whole file.
    pub(crate) line: usize,
    /// The alert, when the problem is one alert's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) alert: Option<String>,
    /// The stable kebab-case code, such as `alert-no-runbook`.
    pub(crate) code: &'static str,
    /// What is wrong and what to do.
    pub(crate) message: String,
}

/// What the checks are held to.
struct Settings {
    files: Vec<String>,
    severities: Vec<String>,
    annotations: Vec<String>,
    min_for: u64,
    max_for: u64,
    slos: Vec<String>,
    promtool: Option<PathBuf>,
}

impl Settings {
    fn read(task: &AgentTask) -> Result<Self, AgentOutcome> {
        let invalid = |e: String| AgentOutcome::missing_input(format!("[agents.\"{}\"]: {e}", task.agent));
        let list = |key: &str, default: &[&str]| -> Result<Vec<String>, AgentOutcome> {
            match task.settings.get(key) {
                None => Ok(default.iter().map(|s| (*s).to_owned()).collect()),
                Some(v) => v
                    .as_array()
                    .and_then(|a| a.iter().map(|i| i.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| invalid(format!("'{key}' must be a list of strings"))),
            }
        };
        let window = |key: &str, default: &str| {
            let text = task.settings.get(key).and_then(toml::Value::as_str).unwrap_or(default);
            duration::millis(text).ok_or_else(|| invalid(format!("'{key}' {text:?} is not a Prometheus duration such as 5m or 1h30m")))
        };
        let promtool = match task.settings.get("promtool") {
            Some(v) => Some(v.as_str().map(|p| task.resolve(p)).ok_or_else(|| invalid("'promtool' must be a path".into()))?),
            None => which("promtool"),
        };
        Ok(Self {
            files: task.paths_setting("rules")?,
            severities: list("severities", &DEFAULT_SEVERITIES)?,
            annotations: list("require_annotations", &DEFAULT_ANNOTATIONS)?,
            min_for: window("min_for", "1m")?,
            max_for: window("max_for", "24h")?,
            slos: list("slos", &[])?,
            promtool,
        })
    }
}

/// The first `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Checks Prometheus alerting rules.
pub struct AlertsAgent;

#[async_trait::async_trait]
impl Agent for AlertsAgent {
    fn kind(&self) -> &'static str {
        "alerts"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let settings = match Settings::read(task) {
            Ok(settings) => settings,
            Err(outcome) => return outcome,
        };
        let reports = match task.read_reports("rules") {
            Ok(reports) => reports,
            Err(outcome) => return outcome,
        };
        let mut problems = Vec::new();
        let mut alerts: Vec<(String, AlertRule)> = Vec::new();
        for (file, bytes) in &reports {
            match rules::alert_rules(bytes) {
                Ok(found) => alerts.extend(found.into_iter().map(|a| (file.clone(), a))),
                Err(e) => problems.push(Problem { file: file.clone(), line: 0, alert: None, code: "rule-file-invalid", message: format!("{file} is {e}") }),
            }
        }
        for (file, alert) in &alerts {
            problems.extend(check_alert(file, alert, &settings));
        }
        problems.extend(duplicates(&alerts));
        let covered = burn_rate_alerts(&alerts, &settings.slos);
        for (slo, names) in &covered {
            if names.is_empty() {
                let message = format!("objective {slo} has no burn-rate alert; add one whose labels carry slo: {slo} (as Pyrra and Sloth generate)");
                problems.push(Problem { file: settings.files.join(", "), line: 0, alert: None, code: "slo-no-burn-rate-alert", message });
            }
        }
        let promtool = promtool(settings.promtool.as_deref(), &task.workdir, &settings.files, &mut problems).await;
        outcome(task, &reports, alerts.len(), problems, &covered, promtool)
    }
}

fn outcome(task: &AgentTask, reports: &crate::Reports, alerts: usize, problems: Vec<Problem>, covered: &BTreeMap<String, Vec<String>>, promtool: String) -> AgentOutcome {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &problems {
        *counts.entry(p.code).or_default() += 1;
    }
    let (verdict, reason) = if problems.is_empty() {
        (Verdict::Pass, format!("{alerts} alerts in {} rule files: no problems ({promtool})", reports.len()))
    } else {
        let named: Vec<String> = problems.iter().take(5).map(|p| format!("{}:{}: {}", p.file, p.line, p.code)).collect();
        let more = if problems.len() > 5 { format!(" and {} more", problems.len() - 5) } else { String::new() };
        (Verdict::Fail, format!("{} alert hygiene problems: {}{more}", problems.len(), named.join("; ")))
    };
    let slos: Vec<_> = covered.iter().map(|(slo, names)| json!({ "slo": slo, "alerts": names })).collect();
    let facts = json!({
        "files": reports.iter().map(|(p, _)| p).collect::<Vec<_>>(), "alerts": alerts, "counts": counts,
        "problems": problems.iter().take(PROBLEMS_KEPT).collect::<Vec<_>>(), "slos": slos, "promtool": promtool,
    });
    AgentOutcome { verdict, reason, facts, files: task.report_files(reports) }
}

fn check_alert(file: &str, alert: &AlertRule, settings: &Settings) -> Vec<Problem> {
    let name = &alert.name;
    let mut problems = Vec::new();
    let mut problem = |code: &'static str, message: String| problems.push(Problem { file: file.to_owned(), line: alert.line, alert: Some(name.clone()), code, message });
    if alert.expr.is_none() {
        problem("alert-no-expr", format!("alert {name} has no expr"));
    }
    match alert.labels.get("severity") {
        None => problem("alert-no-severity", format!("alert {name} has no labels.severity; set one of {}", settings.severities.join(", "))),
        Some(s) if !settings.severities.contains(s) => problem("alert-unknown-severity", format!("alert {name} has severity {s}, which is not one of {}", settings.severities.join(", "))),
        Some(_) => {}
    }
    for wanted in &settings.annotations {
        if alert.annotations.get(wanted).is_none_or(|v| v.trim().is_empty()) {
            let code = if wanted == "runbook_url" { "alert-no-runbook" } else { "alert-missing-annotation" };
            problem(code, format!("alert {name} has no annotations.{wanted}"));
        }
    }
    match alert.for_duration.as_deref().map(|text| (text, duration::millis(text))) {
        None => problem("alert-no-for", format!("alert {name} has no `for`, so one bad scrape pages; hold it for at least {}", duration::show(settings.min_for))),
        Some((text, None)) => problem("alert-bad-for", format!("alert {name} has `for: {text}`, which is not a Prometheus duration such as 5m")),
        Some((text, Some(ms))) if ms < settings.min_for => problem("alert-for-too-short", format!("alert {name} fires after `for: {text}`, under the minimum of {}", duration::show(settings.min_for))),
        Some((text, Some(ms))) if ms > settings.max_for => problem("alert-for-too-long", format!("alert {name} waits `for: {text}`, over the maximum of {}", duration::show(settings.max_for))),
        Some(_) => {}
    }
    problems
}

/// An alert's identity to Alertmanager: its name and labels.
type Identity<'a> = (&'a str, &'a BTreeMap<String, String>);

/// Alerts that share a name and labels: Prometheus keeps both and pages twice.
fn duplicates(alerts: &[(String, AlertRule)]) -> Vec<Problem> {
    let mut seen: BTreeMap<Identity<'_>, (&str, usize)> = BTreeMap::new();
    let mut problems = Vec::new();
    for (file, alert) in alerts {
        if let Some((first_file, first_line)) = seen.insert((&alert.name, &alert.labels), (file, alert.line)) {
            let message = format!("alert {} repeats the name and labels of the one at {first_file}:{first_line}", alert.name);
            problems.push(Problem { file: file.clone(), line: alert.line, alert: Some(alert.name.clone()), code: "alert-duplicate", message });
        }
    }
    problems
}

/// For each objective, the alerts whose `slo` or `sloth_slo` label names it.
fn burn_rate_alerts(alerts: &[(String, AlertRule)], slos: &[String]) -> BTreeMap<String, Vec<String>> {
    let unique: BTreeSet<&String> = slos.iter().collect();
    unique
        .into_iter()
        .map(|slo| {
            let names = alerts.iter().filter(|(_, a)| ["slo", "sloth_slo"].iter().any(|l| a.labels.get(*l) == Some(slo))).map(|(_, a)| a.name.clone()).collect();
            (slo.clone(), names)
        })
        .collect()
}

/// Runs `promtool check rules` over the files when promtool is there; says
/// what it did, and adds a problem per file it rejects.
async fn promtool(promtool: Option<&Path>, workdir: &Path, files: &[String], problems: &mut Vec<Problem>) -> String {
    let Some(promtool) = promtool else { return "promtool not installed; checked with the built-in reader only".into() };
    let mut checked = 0;
    for file in files {
        let run = tokio::process::Command::new(promtool).args(["check", "rules", file]).current_dir(workdir).stdin(std::process::Stdio::null()).output().await;
        match run {
            Ok(out) if out.status.success() => checked += 1,
            Ok(out) => {
                let said = String::from_utf8_lossy(if out.stderr.is_empty() { &out.stdout } else { &out.stderr }).trim().to_owned();
                let said: String = said.lines().take(5).collect::<Vec<_>>().join(" / ");
                problems.push(Problem { file: file.clone(), line: 0, alert: None, code: "promtool-rejects", message: format!("`promtool check rules {file}` rejects it: {said}") });
            }
            Err(e) => problems.push(Problem { file: file.clone(), line: 0, alert: None, code: "promtool-failed", message: format!("{} cannot run: {e}", promtool.display()) }),
        }
    }
    format!("promtool check rules accepted {checked} of {} files", files.len())
}

#[cfg(test)]
mod tests;
