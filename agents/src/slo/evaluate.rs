//! One objective evaluated at one time: an instant query per expression for
//! the value that is judged, and a range query per expression for the chart,
//! then the rules that turn what came back into one of four outcomes.

use evidence::timestamp::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::objective::{Expression, Kind, Nan, NoData, Objective};
use super::response::{self, Data, Point, ResponseError};
use super::source::{Fetched, Request, Source};

/// The shortest and longest span a chart covers, in seconds.
const CHART_SPAN: (u64, u64) = (3_600, 86_400);

/// The most samples a chart asks for.
const CHART_POINTS: u64 = 300;

/// How an objective came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    /// The value met its threshold (or zero traffic counts as met).
    Pass,
    /// The value missed its threshold, or no data or NaN fails by rule.
    Fail,
    /// No data or NaN that the rules leave unjudged.
    Inconclusive,
    /// A query could not be answered or its answer cannot be used.
    Error,
}

/// What an instant query gave.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Sampled {
    /// One value (NaN and infinities included).
    Value(f64),
    /// An empty vector.
    NoData,
    /// Why no value can be had.
    Problem(String),
}

/// One API call and what came back, as the snapshot keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub request: Request,
    pub status: Option<u16>,
    pub body: Value,
}

/// One expression's two queries.
#[derive(Clone, Debug)]
pub(crate) struct Measured {
    pub expression: Expression,
    pub instant: Call,
    pub sampled: Sampled,
    pub range: Call,
    pub series: Result<Vec<Point>, String>,
}

/// An objective's evaluation.
#[derive(Clone, Debug)]
pub(crate) struct Evaluation {
    pub objective: Objective,
    pub time: Timestamp,
    pub measured: Vec<Measured>,
    pub outcome: Outcome,
    /// The judged value; `None` when there was none to judge.
    pub value: Option<f64>,
    /// The value Prometheus gave when JSON cannot hold it (`NaN`, `+Inf`).
    pub value_text: Option<String>,
    pub reason: String,
}

/// Evaluates `objective` at `time` against `source`.
pub(crate) async fn evaluate(objective: &Objective, time: Timestamp, source: &dyn Source) -> Evaluation {
    let mut measured = Vec::new();
    for expression in &objective.expressions {
        measured.push(measure(expression, time, source).await);
    }
    let judged = judge(objective, time, &measured);
    Evaluation { objective: objective.clone(), time, measured, outcome: judged.outcome, value: judged.value, value_text: judged.value_text, reason: judged.reason }
}

async fn measure(expression: &Expression, time: Timestamp, source: &dyn Source) -> Measured {
    let instant = Request::Instant { query: expression.promql.clone(), time };
    let (instant, data) = call(instant, source).await;
    let sampled = match data {
        Ok(data) => single(data),
        Err(problem) => Sampled::Problem(problem),
    };
    let (range, data) = call(range_request(expression, time), source).await;
    let series = data.and_then(samples);
    Measured { expression: expression.clone(), instant, sampled, range, series }
}

/// The chart's query: the window back from `time` (at least an hour, at
/// most a day) in steps that keep it to [`CHART_POINTS`] samples.
pub(crate) fn range_request(expression: &Expression, time: Timestamp) -> Request {
    let span = (expression.window.millis / 1000).clamp(CHART_SPAN.0, CHART_SPAN.1);
    let step = span.div_ceil(CHART_POINTS - 1).max(1);
    // The span is at most a day, so the subtraction stays far inside Timestamp's range.
    let start = Timestamp::from_unix(time.unix() - i64::try_from(span).unwrap_or(86_400)).unwrap_or(time);
    Request::Range { query: expression.promql.clone(), start, end: time, step }
}

async fn call(request: Request, source: &dyn Source) -> (Call, Result<Data, String>) {
    match source.fetch(&request).await {
        Ok(Fetched { status, body }) => {
            let data = response::parse(&body).map_err(|e| problem(e, status));
            (Call { request, status: Some(status), body: body_value(&body) }, data)
        }
        Err(e) => (Call { request, status: None, body: Value::Null }, Err(e.to_string())),
    }
}

fn problem(error: ResponseError, status: u16) -> String {
    match error {
        ResponseError::Malformed(m) if !(200..300).contains(&status) => format!("HTTP status {status} with a body that is not a Prometheus API response ({m})"),
        other => other.to_string(),
    }
}

/// The body as JSON when it is JSON, else its start as text.
fn body_value(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned()))
}

/// The one value an instant query must give.
fn single(data: Data) -> Sampled {
    match data {
        Data::Scalar((_, v)) => Sampled::Value(v),
        Data::Vector(series) => match series.as_slice() {
            [] => Sampled::NoData,
            [one] => one.points.first().map_or(Sampled::NoData, |(_, v)| Sampled::Value(*v)),
            many => {
                let names: Vec<&str> = many.iter().take(3).map(|s| s.labels.as_str()).collect();
                Sampled::Problem(format!("the query returned {} series ({}{}) where one is needed; aggregate it, such as with sum(...)", many.len(), names.join(", "), if many.len() > 3 { ", …" } else { "" }))
            }
        },
        Data::Matrix(_) => Sampled::Problem("the query returned a range vector where one value is needed; drop the [range] selector outside rate()".into()),
        Data::String(_) => Sampled::Problem("the query returned a string where a number is needed".into()),
    }
}

/// The samples of a range query: one series, or none.
fn samples(data: Data) -> Result<Vec<Point>, String> {
    match data {
        Data::Matrix(series) => match series.len() {
            0 => Ok(Vec::new()),
            1 => Ok(series.into_iter().flat_map(|s| s.points).collect()),
            n => Err(format!("the range query returned {n} series where one is needed; aggregate it, such as with sum(...)")),
        },
        Data::Scalar(point) => Ok(vec![point]),
        _ => Err("the range query did not return a range vector".into()),
    }
}

struct Judged {
    outcome: Outcome,
    value: Option<f64>,
    value_text: Option<String>,
    reason: String,
}

impl Judged {
    fn new(outcome: Outcome, reason: String) -> Self {
        Self { outcome, value: None, value_text: None, reason }
    }
}

/// The rules, in order: a query problem is an error; no data and NaN follow
/// the objective's rules; an infinite ratio is an error; otherwise the
/// value is compared with the threshold.
fn judge(o: &Objective, time: Timestamp, measured: &[Measured]) -> Judged {
    let name = &o.name;
    for m in measured {
        if let Sampled::Problem(p) = &m.sampled {
            return Judged::new(Outcome::Error, format!("{name}: {p} (query {})", m.expression.promql));
        }
        if let Err(p) = &m.series {
            return Judged::new(Outcome::Error, format!("{name}: {p} (chart query {})", m.expression.promql));
        }
    }
    if let Some(m) = measured.iter().find(|m| m.sampled == Sampled::NoData) {
        let outcome = if o.no_data == NoData::Fail { Outcome::Fail } else { Outcome::Inconclusive };
        return Judged::new(outcome, format!("{name}: no data for the query {} at {time} (no_data = {})", m.expression.promql, rule(o.no_data)));
    }
    let values: Vec<(&Measured, f64)> = measured.iter().filter_map(|m| if let Sampled::Value(v) = m.sampled { Some((m, v)) } else { None }).collect();
    if let Some((m, _)) = values.iter().find(|(_, v)| v.is_nan()) {
        match o.nan {
            Nan::PassAsZeroTraffic if o.kind == Kind::BurnRate => {}
            Nan::PassAsZeroTraffic => {
                return Judged { value_text: Some("NaN".into()), ..Judged::new(Outcome::Pass, format!("{name}: no traffic over {} (the query gives NaN), which nan = pass-as-zero-traffic counts as met", m.expression.window.text)) };
            }
            rule => {
                let outcome = if rule == Nan::Fail { Outcome::Fail } else { Outcome::Inconclusive };
                return Judged { value_text: Some("NaN".into()), ..Judged::new(outcome, format!("{name}: the query {} gives NaN at {time}, which means no traffic over {} (nan = {})", m.expression.promql, m.expression.window.text, rule_nan(rule))) };
            }
        }
    }
    if o.kind != Kind::Latency
        && let Some((_, v)) = values.iter().find(|(_, v)| v.is_infinite())
    {
        return Judged { value_text: Some(response::text(*v)), ..Judged::new(Outcome::Error, format!("{name}: the ratio is {} at {time}: the numerator has samples where the total has none; check the selectors", response::text(*v))) };
    }
    compare(o, &values)
}

fn compare(o: &Objective, values: &[(&Measured, f64)]) -> Judged {
    let (value, shown) = match o.slo_target {
        Some(slo) => {
            // A window without traffic burns no budget (only reached under pass-as-zero-traffic).
            let burns: Vec<(String, f64)> = values.iter().map(|(m, v)| (m.expression.window.text.clone(), if v.is_nan() { 0.0 } else { v / (1.0 - slo) })).collect();
            let min = burns.iter().map(|(_, b)| *b).fold(f64::INFINITY, f64::min);
            (min, format!("burn rate {}", burns.iter().map(|(w, b)| format!("{} ({w})", number(*b))).collect::<Vec<_>>().join(", ")))
        }
        None => {
            let v = values.first().map_or(f64::NAN, |(_, v)| *v);
            (v, describe_value(o, v))
        }
    };
    let held = o.comparison.holds(value, o.threshold);
    let window = windows(o);
    let reason = match (held, o.kind) {
        (true, Kind::BurnRate) => format!("{}: {shown}: not every window exceeds the maximum {}", o.name, number(o.threshold)),
        (false, Kind::BurnRate) => format!("{}: {shown} exceed the maximum {} in every window", o.name, number(o.threshold)),
        (true, _) => format!("{}: {shown} {} {} {}{} over {window}", o.name, o.comparison.text(), bound(o), number(o.threshold), unit(o)),
        (false, _) => format!("{}: {shown} {} {} {}{} over {window}", o.name, o.comparison.broken(), bound(o), number(o.threshold), unit(o)),
    };
    let value_text = (!value.is_finite()).then(|| response::text(value));
    Judged { outcome: if held { Outcome::Pass } else { Outcome::Fail }, value: value.is_finite().then_some(value), value_text, reason }
}

fn describe_value(o: &Objective, v: f64) -> String {
    match (o.kind, o.quantile) {
        (Kind::Latency, Some(q)) => format!("p{} {} s", number(q * 100.0), number(v)),
        _ => number(v),
    }
}

fn bound(o: &Objective) -> &'static str {
    if o.kind == Kind::Latency { "threshold" } else { "target" }
}

fn unit(o: &Objective) -> &'static str {
    if o.kind == Kind::Latency { " s" } else { "" }
}

/// The window, or every burn-rate window, as written.
pub(crate) fn windows(o: &Objective) -> String {
    o.expressions.iter().map(|e| e.window.text.as_str()).collect::<Vec<_>>().join(", ")
}

fn rule(r: NoData) -> &'static str {
    match r {
        NoData::Inconclusive => "inconclusive",
        NoData::Fail => "fail",
    }
}

fn rule_nan(r: Nan) -> &'static str {
    match r {
        Nan::Inconclusive => "inconclusive",
        Nan::Fail => "fail",
        Nan::PassAsZeroTraffic => "pass-as-zero-traffic",
    }
}

/// A number with at most six decimals and no trailing zeros, for reasons.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return response::text(v);
    }
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.to_owned() }
}

impl Evaluation {
    /// The objective's entry in the facts.
    pub(crate) fn facts(&self) -> Value {
        let o = &self.objective;
        let mut facts = json!({
            "name": o.name, "kind": o.kind, "label": label(o), "unit": unit(o).trim(),
            "target": o.threshold, "comparison": o.comparison, "value": self.value, "valueText": self.value_text,
            "outcome": self.outcome, "reason": self.reason,
            "query": o.expressions.first().map(|e| e.promql.clone()), "window": windows(o),
            "noData": o.no_data, "nan": o.nan, "file": format!("slo/{}.json", o.stem),
        });
        if let Some(q) = o.quantile {
            facts["quantile"] = q.into();
        }
        if let Some(slo) = o.slo_target {
            facts["sloTarget"] = slo.into();
            facts["burnRates"] = self.burn_rates(slo);
        }
        facts
    }

    fn burn_rates(&self, slo: f64) -> Value {
        let windows = self.measured.iter().map(|m| {
            let ratio = if let Sampled::Value(v) = m.sampled { Some(v) } else { None };
            let finite = |v: f64| v.is_finite().then_some(v);
            json!({ "window": m.expression.window.text, "query": m.expression.promql, "errorRatio": ratio.and_then(finite), "burnRate": ratio.map(|r| r / (1.0 - slo)).and_then(finite) })
        });
        Value::Array(windows.collect())
    }

    /// The snapshot file: the facts, plus every call with its exact parameters
    /// and the response as Prometheus returned it.
    pub(crate) fn snapshot(&self, source: &Value) -> Value {
        let calls: Vec<Value> = self.measured.iter().map(|m| json!({
            "window": m.expression.window.text, "query": m.expression.promql,
            "instant": call_json(&m.instant), "range": call_json(&m.range),
        })).collect();
        json!({ "objective": self.facts(), "evaluationTime": self.time, "source": source, "queries": calls })
    }
}

fn call_json(c: &Call) -> Value {
    json!({ "request": c.request.describe(), "status": c.status, "response": c.body })
}

/// What the value measures, for gate messages: "availability", "p99 latency".
pub(crate) fn label(o: &Objective) -> String {
    match (o.kind, o.quantile) {
        (Kind::Availability, _) => "availability".into(),
        (Kind::ErrorRate, _) => "error rate".into(),
        (Kind::Latency, Some(q)) => format!("p{} latency", number(q * 100.0)),
        (Kind::Latency, None) => "latency".into(),
        (Kind::BurnRate, _) => "burn rate".into(),
    }
}
