//! `[[agents."<name>".objectives]]` tables read into typed objectives, each
//! with the PromQL it needs built from its selectors.
//!
//! - `availability`: `good` + `total` or `errors` + `total` (or a whole
//!   `query`), the good ratio over `window` held `>=` `target`;
//! - `error_rate`: the same selectors, the error ratio held `<=` `target`;
//! - `latency`: `histogram` (a `_bucket` selector) at `quantile`, held `<=`
//!   `threshold_seconds`;
//! - `burn_rate`: the error ratio over each of `windows` divided by the
//!   budget `1 - target`; it fails only when every window burns faster than
//!   `max_burn_rate` (the multiwindow rule of Google's SRE workbook).
//!
//! `no_data` ("inconclusive" by default, or "fail") says what an empty result
//! means; `nan` ("inconclusive" by default, "fail", or "pass-as-zero-traffic")
//! what a 0/0 means. Neither ever passes by default.

use serde::{Deserialize, Serialize};

use crate::alerts::duration;

/// The comparison an objective's value must hold against its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Comparison {
    /// The value must be at least the threshold.
    #[serde(rename = ">=")]
    AtLeast,
    /// The value must be at most the threshold.
    #[serde(rename = "<=")]
    AtMost,
}

impl Comparison {
    /// Whether `value` meets `threshold`.
    pub(crate) fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::AtLeast => value >= threshold,
            Self::AtMost => value <= threshold,
        }
    }

    /// The operator that did not hold, for reasons: `0.99 < target 0.999`.
    pub(crate) fn broken(self) -> &'static str {
        match self {
            Self::AtLeast => "<",
            Self::AtMost => ">",
        }
    }

    /// The operator as written in facts.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::AtLeast => ">=",
            Self::AtMost => "<=",
        }
    }
}

/// What an objective measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// The share of good events, at least the target.
    Availability,
    /// The share of failed events, at most the target.
    ErrorRate,
    /// A histogram quantile, at most the threshold.
    Latency,
    /// How fast the error budget burns in each window, at most the maximum in one of them.
    BurnRate,
}

/// What an empty result means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NoData {
    /// No data cannot be judged.
    #[default]
    Inconclusive,
    /// No data fails the objective.
    Fail,
}

/// What a NaN (0/0: no traffic in the window) means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Nan {
    /// No traffic cannot be judged.
    #[default]
    Inconclusive,
    /// No traffic fails the objective.
    Fail,
    /// No traffic meets the objective (a burn rate: that window burns nothing).
    PassAsZeroTraffic,
}

/// A Prometheus duration as written and in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub text: String,
    pub millis: u64,
}

/// One PromQL expression an objective evaluates, over one window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expression {
    pub window: Window,
    pub promql: String,
}

/// A validated objective.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Objective {
    pub name: String,
    /// The name as a file stem: a-z, 0-9 and '-'.
    pub stem: String,
    pub kind: Kind,
    /// The number the value is compared with (the target, the latency
    /// threshold, or the maximum burn rate).
    pub threshold: f64,
    pub comparison: Comparison,
    /// For burn rates, the SLO whose budget burns.
    pub slo_target: Option<f64>,
    /// For latency, the quantile.
    pub quantile: Option<f64>,
    /// One expression, or one per burn-rate window.
    pub expressions: Vec<Expression>,
    pub no_data: NoData,
    pub nan: Nan,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    kind: Kind,
    target: Option<f64>,
    good: Option<String>,
    errors: Option<String>,
    total: Option<String>,
    query: Option<String>,
    histogram: Option<String>,
    quantile: Option<f64>,
    threshold_seconds: Option<f64>,
    window: Option<String>,
    windows: Option<Vec<String>>,
    max_burn_rate: Option<f64>,
    #[serde(default)]
    no_data: NoData,
    #[serde(default)]
    nan: Nan,
}

/// Reads the `objectives` array; an error names the objective and field.
pub(crate) fn parse(value: &toml::Value) -> Result<Vec<Objective>, String> {
    let items = value.as_array().ok_or("'objectives' must be an array of tables ([[agents.\"…\".objectives]])")?;
    let objectives = items.iter().enumerate().map(|(i, item)| one(i, item)).collect::<Result<Vec<_>, _>>()?;
    for (i, o) in objectives.iter().enumerate() {
        if objectives[..i].iter().any(|p| p.stem == o.stem) {
            return Err(format!("objective '{}' has the same file name '{}' as an earlier one; rename one of them", o.name, o.stem));
        }
    }
    Ok(objectives)
}

fn one(index: usize, item: &toml::Value) -> Result<Objective, String> {
    let raw: Raw = item.clone().try_into().map_err(|e: toml::de::Error| format!("objective {} is not valid: {}", index + 1, e.message()))?;
    let name = raw.name.trim().to_owned();
    let stem = stem(&name).ok_or_else(|| format!("objective {} needs a name with a letter or digit", index + 1))?;
    let fail = |what: String| format!("objective '{name}': {what}");
    let built = match raw.kind {
        Kind::Availability | Kind::ErrorRate => ratio(&raw).map_err(fail)?,
        Kind::Latency => latency(&raw).map_err(fail)?,
        Kind::BurnRate => burn_rate(&raw).map_err(fail)?,
    };
    Ok(Objective { name, stem, kind: raw.kind, no_data: raw.no_data, nan: raw.nan, ..built })
}

/// An objective with its kind's fields set; name, kind and rules come after.
fn shell(threshold: f64, comparison: Comparison, expressions: Vec<Expression>) -> Objective {
    Objective {
        name: String::new(),
        stem: String::new(),
        kind: Kind::Availability,
        threshold,
        comparison,
        slo_target: None,
        quantile: None,
        expressions,
        no_data: NoData::Inconclusive,
        nan: Nan::Inconclusive,
    }
}

fn ratio(raw: &Raw) -> Result<Objective, String> {
    let target = fraction(raw.target, "target")?;
    let window = window(raw.window.as_deref(), "window")?;
    let good = raw.kind == Kind::Availability;
    let promql = match (&raw.query, selectors(raw)?) {
        (Some(q), None) => q.trim().to_owned(),
        (None, Some((numerator, total, numerator_is_good))) => {
            let r = format!("sum(rate({numerator}[{w}])) / sum(rate({total}[{w}]))", w = window.text);
            if numerator_is_good == good { r } else { format!("1 - ({r})") }
        }
        (Some(_), Some(_)) => return Err("give either 'query' or the 'good'/'errors' and 'total' selectors, not both".into()),
        (None, None) => return Err("needs 'good' and 'total', 'errors' and 'total', or a whole 'query'".into()),
    };
    let comparison = if good { Comparison::AtLeast } else { Comparison::AtMost };
    Ok(shell(target, comparison, vec![Expression { window, promql }]))
}

/// (numerator, total, whether the numerator counts good events).
fn selectors(raw: &Raw) -> Result<Option<(String, String, bool)>, String> {
    let text = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    match (text(&raw.good), text(&raw.errors), text(&raw.total)) {
        (None, None, None) => Ok(None),
        (Some(_), Some(_), _) => Err("give 'good' or 'errors', not both".into()),
        (Some(g), None, Some(t)) => Ok(Some((g, t, true))),
        (None, Some(e), Some(t)) => Ok(Some((e, t, false))),
        (_, _, None) => Err("'total' is missing: the ratio needs a denominator".into()),
        (None, None, Some(_)) => Err("'total' needs 'good' or 'errors' beside it".into()),
    }
}

fn latency(raw: &Raw) -> Result<Objective, String> {
    let quantile = fraction(raw.quantile, "quantile")?;
    let threshold = raw.threshold_seconds.filter(|t| t.is_finite() && *t > 0.0).ok_or("'threshold_seconds' must be a number of seconds above 0, such as 0.3")?;
    let window = window(raw.window.as_deref(), "window")?;
    let promql = match (&raw.query, raw.histogram.as_deref().map(str::trim).filter(|h| !h.is_empty())) {
        (Some(q), None) => q.trim().to_owned(),
        (None, Some(bucket)) => format!("histogram_quantile({quantile}, sum by (le) (rate({bucket}[{}])))", window.text),
        _ => return Err("needs a 'histogram' (the _bucket series, such as http_request_duration_seconds_bucket{job=\"api\"}) or a whole 'query', not both".into()),
    };
    Ok(Objective { quantile: Some(quantile), ..shell(threshold, Comparison::AtMost, vec![Expression { window, promql }]) })
}

fn burn_rate(raw: &Raw) -> Result<Objective, String> {
    let target = fraction(raw.target, "target")?;
    if target >= 1.0 {
        return Err("a 'target' of 1 leaves no error budget to burn; use a target below 1, such as 0.999".into());
    }
    let max = raw.max_burn_rate.filter(|m| m.is_finite() && *m > 0.0).ok_or("'max_burn_rate' must be a number above 0, such as 14.4")?;
    let texts = raw.windows.as_deref().filter(|w| !w.is_empty()).ok_or("'windows' must list the windows every one of which must burn too fast to fail, such as [\"1h\", \"5m\"]")?;
    let Some((errors, total, good)) = selectors(raw)? else { return Err("needs 'errors' and 'total' (or 'good' and 'total')".into()) };
    let expressions = texts
        .iter()
        .map(|t| {
            let window = window(Some(t), "windows")?;
            let r = format!("sum(rate({errors}[{w}])) / sum(rate({total}[{w}]))", w = window.text);
            Ok(Expression { window, promql: if good { format!("1 - ({r})") } else { r } })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Objective { slo_target: Some(target), ..shell(max, Comparison::AtMost, expressions) })
}

fn fraction(value: Option<f64>, field: &str) -> Result<f64, String> {
    value.filter(|v| *v > 0.0 && *v <= 1.0).ok_or_else(|| format!("'{field}' must be a number above 0 and at most 1, such as 0.999"))
}

fn window(text: Option<&str>, field: &str) -> Result<Window, String> {
    let text = text.ok_or_else(|| format!("'{field}' is missing: give a Prometheus duration such as \"30d\" or \"1h\""))?;
    match duration::millis(text) {
        Some(millis) if millis >= 1000 => Ok(Window { text: text.to_owned(), millis }),
        _ => Err(format!("'{field}' value '{text}' is not a Prometheus duration of a second or more, such as \"30d\" or \"5m\"")),
    }
}

/// A file stem: lowercase letters and digits, other runs turned into one '-'.
pub(crate) fn stem(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    (!trimmed.is_empty()).then(|| trimmed.chars().take(80).collect::<String>().trim_end_matches('-').to_owned())
}
