//! The Prometheus HTTP API's response envelope (`/api/v1/query` and
//! `/api/v1/query_range`): `{"status": "success", "data": {"resultType", "result"}}`
//! or `{"status": "error", "errorType", "error"}`. Sample values arrive as
//! strings so that `NaN`, `+Inf` and `-Inf` survive JSON; they are read here
//! into `f64`, which holds all three.

use serde::Deserialize;
use serde_json::Value;

/// One sample: seconds since the epoch and the value.
pub(crate) type Point = (f64, f64);

/// The `data` of a successful response.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    /// An instant vector: one sample per series.
    Vector(Vec<Series>),
    /// A range vector: many samples per series.
    Matrix(Vec<Series>),
    /// A single number.
    Scalar(Point),
    /// A string result, which no objective can use.
    String(String),
}

/// One series: its labels as Prometheus writes them, and its samples.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub labels: String,
    pub points: Vec<Point>,
}

/// Why a response body cannot be used.
#[derive(Debug, PartialEq, thiserror::Error)]
pub(crate) enum ResponseError {
    /// Prometheus answered with `status: error`.
    #[error("prometheus answered {error_type}: {error}")]
    Prometheus { error_type: String, error: String },
    /// The body is not the API's envelope.
    #[error("the response is not a Prometheus API response: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<RawData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct RawData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Value,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: serde_json::Map<String, Value>,
    #[serde(default)]
    value: Option<(Value, Value)>,
    #[serde(default)]
    values: Option<Vec<(Value, Value)>>,
}

/// Reads a response body.
pub(crate) fn parse(body: &[u8]) -> Result<Data, ResponseError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    if envelope.status != "success" {
        return Err(ResponseError::Prometheus {
            error_type: envelope.error_type.unwrap_or_else(|| "an unnamed error".into()),
            error: envelope.error.unwrap_or_else(|| format!("status '{}' without an error message", envelope.status)),
        });
    }
    let data = envelope.data.ok_or_else(|| ResponseError::Malformed("a success without 'data'".into()))?;
    match data.result_type.as_str() {
        "vector" => series(data.result, false).map(Data::Vector),
        "matrix" => series(data.result, true).map(Data::Matrix),
        "scalar" => serde_json::from_value::<(Value, Value)>(data.result).map_err(|e| ResponseError::Malformed(format!("scalar: {e}"))).and_then(|p| point(&p)).map(Data::Scalar),
        "string" => Ok(Data::String(data.result.get(1).and_then(Value::as_str).unwrap_or_default().to_owned())),
        other => Err(ResponseError::Malformed(format!("unknown resultType '{other}'"))),
    }
}

fn series(result: Value, range: bool) -> Result<Vec<Series>, ResponseError> {
    let raw: Vec<RawSeries> = serde_json::from_value(result).map_err(|e| ResponseError::Malformed(format!("result: {e}")))?;
    raw.into_iter()
        .map(|s| {
            let pairs = if range { s.values.unwrap_or_default() } else { s.value.into_iter().collect() };
            let points = pairs.iter().map(point).collect::<Result<_, _>>()?;
            Ok(Series { labels: labels(&s.metric), points })
        })
        .collect()
}

/// `[<seconds>, "<value>"]`: the time is a number, the value a string.
fn point((time, value): &(Value, Value)) -> Result<Point, ResponseError> {
    let t = time.as_f64().ok_or_else(|| ResponseError::Malformed(format!("sample time {time} is not a number")))?;
    let text = value.as_str().ok_or_else(|| ResponseError::Malformed(format!("sample value {value} is not a string")))?;
    Ok((t, number(text).ok_or_else(|| ResponseError::Malformed(format!("sample value '{text}' is not a number")))?))
}

/// A Prometheus float: decimal, `NaN`, `+Inf`, `-Inf` (Go's spellings).
pub(crate) fn number(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// Labels as PromQL writes a selector: `{code="500",job="api"}`.
fn labels(metric: &serde_json::Map<String, Value>) -> String {
    let pairs: Vec<String> = metric.iter().map(|(k, v)| format!("{k}={}", Value::String(v.as_str().unwrap_or_default().to_owned()))).collect();
    format!("{{{}}}", pairs.join(","))
}

/// A float as Prometheus writes it, for values JSON cannot hold.
pub(crate) fn text(value: f64) -> String {
    match value {
        v if v.is_nan() => "NaN".into(),
        v if v == f64::INFINITY => "+Inf".into(),
        v if v == f64::NEG_INFINITY => "-Inf".into(),
        v => v.to_string(),
    }
}
