//! Analysis between canary steps, with the semantics users of Argo Rollouts
//! expect: `count` measurements `interval_seconds` apart, the first
//! `initial_delay_seconds` after the weight changed; a run fails when
//! failed measurements exceed `failure_limit`, errs when consecutive errors
//! exceed `consecutive_error_limit`, is inconclusive when inconclusive
//! measurements exceed `inconclusive_limit`, and passes early after
//! `consecutive_success_limit` successes in a row (0: never early).
//!
//! Each measurement evaluates every metric; the measurement is failed when
//! any metric failed, an error when any erred (and none failed), inconclusive
//! when any was inconclusive, else successful. A metric's value is judged by
//! `success` (the value must meet it) and `failure` (the value must not):
//! with both, a value meeting neither is inconclusive. A query that returns
//! nothing follows the metric's `no_data` rule (default inconclusive), and
//! NaN follows `nan` (default inconclusive): no data never passes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[promotion.analysis]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// Seconds between measurements.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// Seconds from a weight change to the first measurement, so the
    /// metrics' windows see the new traffic.
    #[serde(default)]
    pub initial_delay_seconds: u64,
    /// Measurements per step.
    #[serde(default = "default_count")]
    pub count: u32,
    /// Failed measurements tolerated.
    #[serde(default)]
    pub failure_limit: u32,
    /// Consecutive erring measurements tolerated.
    #[serde(default = "default_error_limit")]
    pub consecutive_error_limit: u32,
    /// Inconclusive measurements tolerated.
    #[serde(default)]
    pub inconclusive_limit: u32,
    /// Successes in a row that end the analysis early; 0 never does.
    #[serde(default)]
    pub consecutive_success_limit: u32,
    /// How long, after a rollback, the metrics may take to hold again
    /// (default five intervals); one successful measurement is recovery.
    pub recovery_seconds: Option<u64>,
    /// Where the metrics come from.
    pub prometheus_url: String,
    /// The metrics.
    pub metrics: Vec<MetricConfig>,
}

impl AnalysisConfig {
    /// The analysis after a rollback: measurements an interval apart until
    /// one succeeds or `recovery_seconds` have passed.
    pub fn recovery(&self) -> Self {
        let window = self.recovery_seconds.unwrap_or(5 * self.interval_seconds);
        let attempts = u32::try_from(window / self.interval_seconds.max(1)).unwrap_or(u32::MAX).max(1);
        Self { count: attempts, failure_limit: attempts, consecutive_error_limit: attempts, inconclusive_limit: attempts, consecutive_success_limit: 1, ..self.clone() }
    }
}

fn default_interval() -> u64 {
    30
}

fn default_count() -> u32 {
    3
}

fn default_error_limit() -> u32 {
    4
}

/// One metric of the analysis.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    /// Its name in messages, such as `error-rate`.
    pub name: String,
    /// The PromQL query; it must give one number. `{weight}`, `{service}`,
    /// `{version}` are replaced before it is sent.
    pub query: String,
    /// What a good value meets, such as `<= 0.01`.
    pub success: Option<String>,
    /// What a bad value meets, such as `> 0.05`.
    pub failure: Option<String>,
    /// What an empty result counts as.
    #[serde(default)]
    pub no_data: NoDataRule,
    /// What NaN (0/0, no traffic) counts as.
    #[serde(default)]
    pub nan: NoDataRule,
    /// The stable version's side of a baseline comparison: a query whose
    /// samples over `lookback_seconds` are compared with the samples of
    /// `query` by a Mann-Whitney U test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// How far back the compared samples reach (default 60 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback_seconds: Option<u64>,
    /// The significance level below which a difference fails (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Which difference counts against the canary (default `increase`).
    #[serde(default)]
    pub direction: super::mann_whitney::Direction,
}

/// What a measurement without a number counts as. Never a success.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NoDataRule {
    /// Pauses the rollout for a human decision.
    #[default]
    Inconclusive,
    /// Counts as a failed measurement.
    Fail,
    /// Counts as an error.
    Error,
}

/// A comparison such as `<= 0.01`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Condition {
    /// `<`, `<=`, `>`, `>=` or `==`.
    pub op: &'static str,
    /// The number compared with.
    pub limit: f64,
}

impl Condition {
    /// Parses `<op> <number>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let op = ["<=", ">=", "==", "<", ">"].into_iter().find(|op| text.starts_with(op)).ok_or_else(|| format!("{text:?} does not start with <, <=, >, >= or =="))?;
        let limit: f64 = text[op.len()..].trim().parse().map_err(|_| format!("{text:?}: the limit is not a number"))?;
        if !limit.is_finite() {
            return Err(format!("{text:?}: the limit must be finite"));
        }
        Ok(Self { op, limit })
    }

    /// Whether `value` meets it.
    pub fn holds(&self, value: f64) -> bool {
        match self.op {
            "<" => value < self.limit,
            "<=" => value <= self.limit,
            ">" => value > self.limit,
            ">=" => value >= self.limit,
            _ => value == self.limit,
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.op, self.limit)
    }
}

/// A metric ready to judge.
#[derive(Clone, Debug)]
pub struct Metric {
    /// As configured.
    pub config: MetricConfig,
    success: Option<Condition>,
    failure: Option<Condition>,
}

impl Metric {
    /// Checks the conditions; at least one is needed.
    pub fn new(config: MetricConfig, index: usize) -> Result<Self, String> {
        let at = |field: &str| format!("promotion.analysis.metrics[{index}].{field}");
        let success = config.success.as_deref().map(Condition::parse).transpose().map_err(|e| format!("{}: {e}", at("success")))?;
        let failure = config.failure.as_deref().map(Condition::parse).transpose().map_err(|e| format!("{}: {e}", at("failure")))?;
        if success.is_none() && failure.is_none() && config.baseline.is_none() {
            return Err(format!("promotion.analysis.metrics[{index}] ({}) has neither success, failure nor baseline; add success = \"<= 0.01\" or the like", config.name));
        }
        if config.alpha.is_some_and(|a| !(a > 0.0 && a < 1.0)) {
            return Err(format!("{}: the significance level must lie between 0 and 1, such as 0.05", at("alpha")));
        }
        Ok(Self { config, success, failure })
    }

    /// Judges one value (or its absence) the way Argo Rollouts does.
    pub fn judge(&self, value: &Sample) -> (Phase, String) {
        let name = &self.config.name;
        let raw = match value {
            Sample::Value(v) if v.is_nan() => return (self.config.nan.phase(), format!("{name}: NaN (nan = {})", self.config.nan.as_str())),
            Sample::Value(v) => *v,
            Sample::NoData => return (self.config.no_data.phase(), format!("{name}: no data (no_data = {})", self.config.no_data.as_str())),
            Sample::Error(e) => return (Phase::Error, format!("{name}: {e}")),
        };
        let success = self.success.map(|c| c.holds(raw));
        let failure = self.failure.map(|c| c.holds(raw));
        let shown = |c: Option<Condition>| c.map(|c| c.to_string()).unwrap_or_default();
        let v = figure(raw);
        match (success, failure) {
            (_, Some(true)) => (Phase::Failed, format!("{name} = {v} meets the failure condition {}", shown(self.failure))),
            (Some(false), None) => (Phase::Failed, format!("{name} = {v} does not meet the success condition {}", shown(self.success))),
            (Some(false), Some(false)) => (Phase::Inconclusive, format!("{name} = {v} meets neither {} nor the failure condition {}", shown(self.success), shown(self.failure))),
            _ => (Phase::Successful, format!("{name} = {v}")),
        }
    }
}

/// A measured value for messages: four significant digits, no trailing zeros.
pub fn figure(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

impl NoDataRule {
    fn phase(self) -> Phase {
        match self {
            Self::Inconclusive => Phase::Inconclusive,
            Self::Fail => Phase::Failed,
            Self::Error => Phase::Error,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Inconclusive => "inconclusive",
            Self::Fail => "fail",
            Self::Error => "error",
        }
    }
}

/// What a query gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Sample {
    /// One number.
    Value(f64),
    /// An empty result.
    NoData,
    /// The query could not be made or answered.
    Error(String),
}

/// The outcome of a measurement, or of a whole analysis run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Held.
    Successful,
    /// Did not hold.
    Failed,
    /// Could not be judged.
    Inconclusive,
    /// Could not be measured.
    Error,
}

/// One measurement: every metric once.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// Its phase.
    pub phase: Phase,
    /// Each metric's value (null when there was none) and what was said of it.
    pub metrics: Vec<MetricResult>,
}

/// One metric in a measurement.
#[derive(Clone, Debug, Serialize)]
pub struct MetricResult {
    /// The metric.
    pub name: String,
    /// Its value; NaN and missing values are null.
    pub value: Option<f64>,
    /// Its phase.
    pub phase: Phase,
    /// The message, naming metric, value and condition.
    pub message: String,
    /// The baseline comparison, when the metric has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<super::mann_whitney::Comparison>,
}

/// Where measurements come from: Prometheus in a rollout, a script in tests.
pub trait Provider {
    /// The value of `query` now.
    fn sample(&mut self, query: &str) -> Sample;

    /// The samples of `query` over the last `lookback`, for a baseline comparison.
    fn series(&mut self, query: &str, lookback: Duration) -> Result<Vec<f64>, String> {
        let _ = (query, lookback);
        Err("this source of measurements has no range queries".into())
    }
}

/// The analysis of one step.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// The run's phase.
    pub phase: Phase,
    /// Why, naming the metric, value and condition that decided it.
    pub reason: String,
    /// Every measurement taken.
    pub measurements: Vec<Measurement>,
}

/// Measures until the limits decide, waiting `wait` between measurements.
pub fn run(config: &AnalysisConfig, metrics: &[Metric], vars: &[(&str, String)], provider: &mut dyn Provider, wait: &mut dyn FnMut(Duration)) -> Run {
    let mut taken: Vec<Measurement> = Vec::new();
    let (mut failed, mut inconclusive, mut errors_in_row, mut successes_in_row) = (0, 0, 0, 0);
    if config.initial_delay_seconds > 0 {
        wait(Duration::from_secs(config.initial_delay_seconds));
    }
    for i in 0..config.count {
        if i > 0 {
            wait(Duration::from_secs(config.interval_seconds));
        }
        let m = measure(metrics, vars, provider);
        let why = m.metrics.iter().find(|r| r.phase == m.phase).map(|r| r.message.clone()).unwrap_or_default();
        match m.phase {
            Phase::Successful => {
                errors_in_row = 0;
                successes_in_row += 1;
            }
            Phase::Failed => {
                failed += 1;
                errors_in_row = 0;
                successes_in_row = 0;
            }
            Phase::Inconclusive => {
                inconclusive += 1;
                errors_in_row = 0;
                successes_in_row = 0;
            }
            Phase::Error => {
                errors_in_row += 1;
                successes_in_row = 0;
            }
        }
        taken.push(m);
        let n = taken.len();
        let decided = if failed > config.failure_limit {
            Some((Phase::Failed, format!("measurement {n}: {why} ({failed} failed, failure_limit {})", config.failure_limit)))
        } else if errors_in_row > config.consecutive_error_limit {
            Some((Phase::Error, format!("measurement {n}: {why} ({errors_in_row} errors in a row, consecutive_error_limit {})", config.consecutive_error_limit)))
        } else if inconclusive > config.inconclusive_limit {
            Some((Phase::Inconclusive, format!("measurement {n}: {why} ({inconclusive} inconclusive, inconclusive_limit {})", config.inconclusive_limit)))
        } else if config.consecutive_success_limit > 0 && successes_in_row >= config.consecutive_success_limit {
            Some((Phase::Successful, format!("{successes_in_row} successful measurements in a row (consecutive_success_limit)")))
        } else {
            None
        };
        if let Some((phase, reason)) = decided {
            return Run { phase, reason, measurements: taken };
        }
    }
    // Failures, inconclusive results and errors within their limits are tolerated, but a run in
    // which no measurement succeeded never passes: it takes the worst phase it saw.
    let saw = |p: Phase| taken.iter().any(|m| m.phase == p);
    let phase = [Phase::Successful, Phase::Failed, Phase::Inconclusive].into_iter().find(|p| saw(*p)).unwrap_or(Phase::Error);
    let reason = format!("{} measurements: {successes} successful, {failed} failed, {inconclusive} inconclusive", taken.len(), successes = taken.iter().filter(|m| m.phase == Phase::Successful).count());
    Run { phase, reason, measurements: taken }
}

fn measure(metrics: &[Metric], vars: &[(&str, String)], provider: &mut dyn Provider) -> Measurement {
    let fill = |q: &str| vars.iter().fold(q.to_owned(), |q, (k, v)| q.replace(&format!("{{{k}}}"), v));
    let results: Vec<MetricResult> = metrics
        .iter()
        .map(|metric| {
            let mut judged = Vec::new();
            let mut value = None;
            if metric.success.is_some() || metric.failure.is_some() {
                let sample = provider.sample(&fill(&metric.config.query));
                judged.push(metric.judge(&sample));
                value = match sample {
                    Sample::Value(v) if v.is_finite() => Some(v),
                    _ => None,
                };
            }
            let comparison = metric.config.baseline.as_deref().map(|b| baseline::judge(metric, &fill(&metric.config.query), &fill(b), provider));
            let comparison = comparison.map(|(phase, message, c)| {
                judged.push((phase, message));
                c
            });
            let phase = worst(judged.iter().map(|(p, _)| *p));
            let message = judged.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; ");
            MetricResult { name: metric.config.name.clone(), value, phase, message, comparison: comparison.flatten() }
        })
        .collect();
    Measurement { phase: worst(results.iter().map(|r| r.phase)), metrics: results }
}

/// Failed before error before inconclusive before successful.
fn worst(phases: impl Iterator<Item = Phase> + Clone) -> Phase {
    [Phase::Failed, Phase::Error, Phase::Inconclusive].into_iter().find(|p| phases.clone().any(|q| q == *p)).unwrap_or(Phase::Successful)
}

mod baseline;
#[cfg(test)]
mod tests;
