//! The `perf` kind: performance results (k6 summary JSON, hyperfine JSON or
//! wrk output, see [`report`]) held to `criteria` (see [`criteria`]) against
//! a baseline: the same agent's results in the previous release, or the
//! report a `baseline` setting names. With `forecast_rps` it also measures
//! capacity headroom, `1 − forecast_rps / peak rps`, against `min_headroom`
//! (0.2 by default).
//!
//! A criterion that fails fails the check. One that cannot be judged (no
//! baseline, a metric the results do not carry) makes it inconclusive, which
//! never passes.

pub(crate) mod criteria;
pub(crate) mod report;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, Verdict};
use criteria::{Check, Criterion};
use report::Scenario;

/// The criteria when the settings give none.
const DEFAULT_CRITERIA: [&str; 3] = ["p95 <= +10%", "rps >= -5%", "error_rate <= 0.01"];

/// The headroom required when `forecast_rps` is set and `min_headroom` is not.
const DEFAULT_MIN_HEADROOM: f64 = 0.2;

/// Reads the results named by `results`.
pub struct PerfAgent;

#[async_trait::async_trait]
impl Agent for PerfAgent {
    fn kind(&self) -> &'static str {
        "perf"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match measure(task) {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// Where the baseline came from, and its scenarios.
struct Baseline {
    source: Value,
    scenarios: Vec<Scenario>,
}

fn measure(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let format = task.choice_setting("format", &report::FORMATS, "auto")?;
    let criteria = criteria_setting(task)?;
    let capacity = capacity_settings(task)?;
    let what = "k6 summary JSON, hyperfine JSON or wrk output";
    let (reports, parsed) = task.parse_reports("results", what, |b| report::parse(b, format))?;
    let scenarios: Vec<Scenario> = parsed.into_iter().flatten().collect();
    let baseline = baseline(task, format)?;
    let checks = checks(&scenarios, &criteria, baseline.as_ref());
    let headroom = capacity.map(|(forecast, min)| headroom(&scenarios, forecast, min));
    let (verdict, reason) = judge(&checks, headroom.as_ref());
    let facts = json!({
        "format": format,
        "results": scenarios,
        "criteria": criteria.iter().map(|c| c.text.clone()).collect::<Vec<_>>(),
        "checks": checks,
        "baseline": baseline.as_ref().map(|b| b.source.clone()),
        "headroom": headroom,
        "inconclusive": verdict == Verdict::Inconclusive,
    });
    Ok(AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) })
}

/// Every criterion held against every scenario and the baseline's scenario of the same name.
fn checks(scenarios: &[Scenario], criteria: &[Criterion], baseline: Option<&Baseline>) -> Vec<Check> {
    let mut checks = Vec::new();
    for s in scenarios {
        let base = baseline.and_then(|b| b.scenarios.iter().find(|b| b.scenario == s.scenario)).map(|b| &b.metrics);
        for c in criteria {
            let mut check = c.check(&s.scenario, &s.metrics, base);
            // A baseline that exists but lacks this scenario says so, not "no baseline".
            if baseline.is_some() && base.is_none() && c.relative && check.value.is_some() {
                check.missing = Some(format!("the baseline has no scenario {}", s.scenario));
            }
            checks.push(check);
        }
    }
    checks
}

/// `criteria`, or the defaults; a criterion that does not parse is a missing input naming it.
fn criteria_setting(task: &AgentTask) -> Result<Vec<Criterion>, AgentOutcome> {
    let texts: Vec<String> = match task.settings.get("criteria") {
        None => DEFAULT_CRITERIA.iter().map(|c| (*c).to_owned()).collect(),
        Some(toml::Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| AgentOutcome::missing_input(format!("'criteria' of [agents.\"{}\"] must list criteria as strings", task.agent)))?,
        Some(_) => return Err(AgentOutcome::missing_input(format!("'criteria' of [agents.\"{}\"] must be a non-empty list such as [\"p95 <= +10%\"]", task.agent))),
    };
    texts.iter().map(|t| Criterion::parse(t).map_err(|e| AgentOutcome::missing_input(format!("{e} (in [agents.\"{}\"])", task.agent)))).collect()
}

/// `forecast_rps` and `min_headroom`, when forecast_rps is set.
fn capacity_settings(task: &AgentTask) -> Result<Option<(f64, f64)>, AgentOutcome> {
    let number = |key: &str| -> Result<Option<f64>, AgentOutcome> {
        match task.settings.get(key) {
            None => Ok(None),
            Some(v) => v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).filter(|n| *n >= 0.0).map(Some).ok_or_else(|| {
                AgentOutcome::missing_input(format!("'{key}' of [agents.\"{}\"] must be a number of zero or more", task.agent))
            }),
        }
    };
    let min = number("min_headroom")?;
    Ok(number("forecast_rps")?.map(|forecast| (forecast, min.unwrap_or(DEFAULT_MIN_HEADROOM))))
}

/// The baseline: the `baseline` report when set, else the previous release's results.
fn baseline(task: &AgentTask, format: &str) -> Result<Option<Baseline>, AgentOutcome> {
    if task.settings.contains_key("baseline") {
        let (_, parsed) = task.parse_reports("baseline", "a baseline in the results' format", |b| report::parse(b, format))?;
        let path = task.paths_setting("baseline")?.join(", ");
        return Ok(Some(Baseline { source: json!({ "source": "file", "path": path }), scenarios: parsed.into_iter().flatten().collect() }));
    }
    let Some(previous) = task.release.as_ref().and_then(|r| r.previous.as_ref()) else { return Ok(None) };
    let scenarios: Vec<Scenario> = previous.facts.get("results").cloned().and_then(|r| serde_json::from_value(r).ok()).unwrap_or_default();
    Ok(Some(Baseline { source: json!({ "source": "release", "version": previous.version }), scenarios }))
}

fn headroom(scenarios: &[Scenario], forecast: f64, min: f64) -> Value {
    let peak = scenarios.iter().filter_map(|s| s.metrics.get("rps").copied()).fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    let fraction = peak.filter(|p| *p > 0.0).map(|p| 1.0 - forecast / p);
    json!({ "forecastRps": forecast, "peakRps": peak, "headroom": fraction, "minHeadroom": min, "passed": fraction.map(|h| h >= min) })
}

fn judge(checks: &[Check], headroom: Option<&Value>) -> (Verdict, String) {
    let failed: Vec<&Check> = checks.iter().filter(|c| c.passed == Some(false)).collect();
    let open: Vec<&Check> = checks.iter().filter(|c| c.passed.is_none()).collect();
    let short = headroom.filter(|h| h["passed"] == false);
    let unknown_headroom = headroom.filter(|h| h["passed"].is_null());
    if let Some(first) = failed.first() {
        return (Verdict::Fail, format!("{} of {} criteria failed: {}", failed.len(), checks.len(), first.describe()));
    }
    if let Some(h) = short {
        let pct = |v: &Value| v.as_f64().unwrap_or(0.0) * 100.0;
        return (Verdict::Fail, format!("capacity headroom {:.1}% (peak {} rps for a forecast of {} rps) is under the required {:.1}%", pct(&h["headroom"]), h["peakRps"], h["forecastRps"], pct(&h["minHeadroom"])));
    }
    if let Some(first) = open.first() {
        return (Verdict::Inconclusive, format!("{} of {} criteria could not be judged: {}", open.len(), checks.len(), first.describe()));
    }
    if unknown_headroom.is_some() {
        return (Verdict::Inconclusive, "the results carry no rps, so capacity headroom cannot be measured".into());
    }
    if checks.is_empty() {
        return (Verdict::Inconclusive, "the results hold no scenario to judge".into());
    }
    let ok: BTreeMap<&str, usize> = checks.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.scenario.as_str()).or_default() += 1;
        m
    });
    let room = headroom.and_then(|h| h["headroom"].as_f64()).map_or_else(String::new, |h| format!("; capacity headroom {:.1}%", h * 100.0));
    (Verdict::Pass, format!("{} criteria held over {} scenario(s){room}", checks.len(), ok.len()))
}

#[cfg(test)]
mod tests;
