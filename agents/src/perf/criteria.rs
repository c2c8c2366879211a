//! Criteria such as `p95 <= +10%`, `rps >= -5%` and `error_rate <= 0.01`,
//! parsed into [`Criterion`]s and held against a scenario and its baseline.
//!
//! A signed percentage is relative to the baseline: `p95 <= +10%` holds when
//! p95 is at most 10% above the baseline's, `rps >= -5%` when throughput fell
//! by at most 5%. A plain number (or an unsigned percentage, `1%` = 0.01) is
//! absolute, in the metric's unit: milliseconds for latency, requests per
//! second for `rps`, a fraction for `error_rate`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The metrics a criterion may name.
pub(crate) const METRICS: [&str; 12] = ["p50", "p75", "p90", "p95", "p99", "avg", "min", "max", "stdev", "rps", "requests", "error_rate"];

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Op {
    /// `<=`
    #[serde(rename = "<=")]
    AtMost,
    /// `<`
    #[serde(rename = "<")]
    Below,
    /// `>=`
    #[serde(rename = ">=")]
    AtLeast,
    /// `>`
    #[serde(rename = ">")]
    Above,
}

impl Op {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::AtMost => value <= bound,
            Op::Below => value < bound,
            Op::AtLeast => value >= bound,
            Op::Above => value > bound,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::AtMost => "<=",
            Op::Below => "<",
            Op::AtLeast => ">=",
            Op::Above => ">",
        }
    }
}

/// One criterion.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Criterion {
    /// As written in the settings.
    pub(crate) text: String,
    /// The metric, one of [`METRICS`].
    pub(crate) metric: &'static str,
    /// The comparison.
    pub(crate) op: Op,
    /// Whether the limit is a change relative to the baseline.
    pub(crate) relative: bool,
    /// The limit: a fraction of change when relative, else a value.
    pub(crate) limit: f64,
}

/// A criterion that does not parse.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadCriterion {
    /// As written.
    pub(crate) text: String,
    /// What is wrong with it.
    pub(crate) why: String,
}

impl fmt::Display for BadCriterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "criterion '{}' {}; write it like \"p95 <= +10%\", \"rps >= -5%\" or \"error_rate <= 0.01\"", self.text, self.why)
    }
}

impl Criterion {
    /// Parses `metric op bound`.
    pub(crate) fn parse(text: &str) -> Result<Self, BadCriterion> {
        let bad = |why: &str| BadCriterion { text: text.to_owned(), why: why.to_owned() };
        let at = text.find(['<', '>']).ok_or_else(|| bad("has no <=, <, >= or >"))?;
        let (name, rest) = text.split_at(at);
        let (op, bound) = [("<=", Op::AtMost), (">=", Op::AtLeast), ("<", Op::Below), (">", Op::Above)]
            .iter()
            .find_map(|(sym, op)| rest.strip_prefix(sym).map(|b| (*op, b.trim())))
            .ok_or_else(|| bad("has no <=, <, >= or >"))?;
        let metric = METRICS.iter().copied().find(|m| *m == name.trim()).ok_or_else(|| bad(&format!("names no known metric (one of {})", METRICS.join(", "))))?;
        let relative = bound.starts_with(['+', '-']) && bound.ends_with('%');
        let number = bound.strip_suffix('%').unwrap_or(bound);
        let mut limit: f64 = number.parse().ok().filter(|n: &f64| n.is_finite()).ok_or_else(|| bad(&format!("has no number after {}", op.text())))?;
        if bound.ends_with('%') {
            limit /= 100.0;
        }
        if !relative && limit < 0.0 {
            return Err(bad("has a negative absolute limit; a change relative to the baseline is signed and ends in %"));
        }
        Ok(Self { text: text.trim().to_owned(), metric, op, relative, limit })
    }

    /// Holds the criterion against a scenario's metrics and its baseline's.
    pub(crate) fn check(&self, scenario: &str, metrics: &BTreeMap<String, f64>, baseline: Option<&BTreeMap<String, f64>>) -> Check {
        let value = metrics.get(self.metric).copied();
        let base = baseline.and_then(|b| b.get(self.metric)).copied();
        let (change, passed, missing) = match (value, self.relative, base) {
            (None, _, _) => (None, None, Some(format!("the results carry no {}", self.metric))),
            (Some(v), false, _) => (None, Some(self.op.holds(v, self.limit)), None),
            (Some(_), true, None) if baseline.is_none() => (None, None, Some("there is no baseline to compare with".to_owned())),
            (Some(_), true, None) => (None, None, Some(format!("the baseline carries no {}", self.metric))),
            (Some(_), true, Some(b)) if b <= 0.0 => (None, None, Some(format!("the baseline's {} is 0", self.metric))),
            (Some(v), true, Some(b)) => {
                let change = v / b - 1.0;
                (Some(change), Some(self.op.holds(change, self.limit)), None)
            }
        };
        Check { scenario: scenario.to_owned(), criterion: self.clone(), value, baseline: base, change, passed, missing }
    }
}

/// One criterion held against one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Check {
    /// The scenario.
    pub(crate) scenario: String,
    /// The criterion.
    #[serde(flatten)]
    pub(crate) criterion: Criterion,
    /// The measured value.
    pub(crate) value: Option<f64>,
    /// The baseline's value.
    pub(crate) baseline: Option<f64>,
    /// value / baseline − 1, for relative criteria.
    pub(crate) change: Option<f64>,
    /// Whether it held; `None` when it could not be judged.
    pub(crate) passed: Option<bool>,
    /// Why it could not be judged.
    pub(crate) missing: Option<String>,
}

impl Check {
    /// A sentence with the value, the baseline and the limit.
    pub(crate) fn describe(&self) -> String {
        let c = &self.criterion;
        let value = self.value.map_or_else(|| "?".to_owned(), |v| format!("{v:.2}"));
        match (self.change, self.baseline, &self.missing) {
            (_, _, Some(why)) => format!("{} {}: {why}", self.scenario, c.text),
            (Some(change), Some(base), None) => format!("{} {} {value} is {:+.1}% on the baseline {base:.2} (limit {})", self.scenario, c.metric, change * 100.0, c.text),
            _ => format!("{} {} {value} (limit {})", self.scenario, c.metric, c.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_and_absolute_criteria() {
        let p95 = Criterion::parse("p95 <= +10%").unwrap();
        assert_eq!((p95.metric, p95.op, p95.relative, p95.limit), ("p95", Op::AtMost, true, 0.10));
        let rps = Criterion::parse("rps>=-5%").unwrap();
        assert_eq!((rps.op, rps.relative, rps.limit), (Op::AtLeast, true, -0.05));
        let errors = Criterion::parse("error_rate <= 1%").unwrap();
        assert_eq!((errors.relative, errors.limit), (false, 0.01));
        assert!(!Criterion::parse("error_rate < 0.01").unwrap().relative);
        for bad in ["p95 +10%", "p42 <= +10%", "p95 <= fast", "rps >= -5", ""] {
            assert!(Criterion::parse(bad).is_err(), "{bad}");
        }
        assert!(Criterion::parse("latency <= 10").unwrap_err().to_string().contains("criterion 'latency <= 10' names no known metric"));
    }

    #[test]
    fn checks_against_the_baseline_or_says_why_it_cannot() {
        let now = BTreeMap::from([("p95".to_owned(), 220.0), ("rps".to_owned(), 400.0)]);
        let before = BTreeMap::from([("p95".to_owned(), 200.0)]);
        let p95 = Criterion::parse("p95 <= +5%").unwrap().check("http", &now, Some(&before));
        assert_eq!(p95.passed, Some(false));
        assert!((p95.change.unwrap() - 0.10).abs() < 1e-9);
        assert!(p95.describe().contains("+10.0% on the baseline 200.00"), "{}", p95.describe());
        let rps = Criterion::parse("rps >= -5%").unwrap();
        assert_eq!(rps.check("http", &now, Some(&before)).missing.as_deref(), Some("the baseline carries no rps"));
        assert_eq!(rps.check("http", &now, None).passed, None);
        let errors = Criterion::parse("error_rate <= 0.01").unwrap().check("http", &now, None);
        assert_eq!(errors.missing.as_deref(), Some("the results carry no error_rate"));
    }
}
