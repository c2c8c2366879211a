//! The three result formats the perf kind reads, into one shape: a scenario
//! and its metrics in fixed units (latency in milliseconds, throughput in
//! requests per second, errors as a fraction of requests).
//!
//! - k6 `--summary-export` JSON: `metrics.http_req_duration` (`avg`, `min`,
//!   `med`, `max`, `p(90)`, `p(95)`, `p(99)`), `metrics.http_reqs.rate`,
//!   `metrics.http_req_failed.value` (or `.rate`); also the `handleSummary`
//!   shape, where each metric keeps its figures under `values`.
//! - hyperfine `--export-json`: one scenario per `results[]` command, from
//!   `mean`, `median`, `stddev`, `min`, `max` (seconds), p95 and p99 from
//!   `times` by nearest rank, and the share of non-zero `exit_codes`.
//! - wrk text output: the `Latency` thread-stats row, the `--latency`
//!   distribution, `Requests/sec:`, and socket errors and non-2xx/3xx
//!   responses over the request count.

use std::collections::BTreeMap;

use serde_json::Value;

/// The formats, as the `format` setting names them.
pub(crate) const FORMATS: [&str; 4] = ["auto", "k6", "hyperfine", "wrk"];

/// One measured scenario.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Scenario {
    /// `http` for k6 and wrk, the benchmarked command for hyperfine.
    pub(crate) scenario: String,
    /// The format it was read from.
    pub(crate) format: String,
    /// Metrics by name (see [`super::criteria::METRICS`]).
    pub(crate) metrics: BTreeMap<String, f64>,
}

/// Reads one report in `format` (`auto` detects it).
pub(crate) fn parse(bytes: &[u8], format: &str) -> Result<Vec<Scenario>, String> {
    let format = if format == "auto" { detect(bytes)? } else { format };
    let scenarios = match format {
        "k6" => vec![k6(&json(bytes)?)?],
        "hyperfine" => hyperfine(&json(bytes)?)?,
        _ => vec![wrk(std::str::from_utf8(bytes).map_err(|_| "wrk output is not UTF-8 text".to_owned())?)?],
    };
    Ok(scenarios)
}

fn json(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// k6 has a `metrics` object, hyperfine a `results` array, wrk prints `Requests/sec:`.
fn detect(bytes: &[u8]) -> Result<&'static str, String> {
    if let Ok(doc) = serde_json::from_slice::<Value>(bytes) {
        if doc.get("metrics").is_some_and(Value::is_object) {
            return Ok("k6");
        }
        if doc.get("results").is_some_and(Value::is_array) {
            return Ok("hyperfine");
        }
        return Err("JSON with neither \"metrics\" (k6 --summary-export) nor \"results\" (hyperfine --export-json)".into());
    }
    if memchr::memmem::find(bytes, b"Requests/sec:").is_some() {
        return Ok("wrk");
    }
    Err("neither k6 summary JSON, hyperfine JSON nor wrk output (no Requests/sec: line); set format".into())
}

/// A k6 metric's figure, from `--summary-export` or `handleSummary` JSON.
fn k6_figure<'a>(metrics: &'a Value, metric: &str, figure: &str) -> Option<&'a Value> {
    let m = metrics.get(metric)?;
    m.get("values").unwrap_or(m).get(figure)
}

fn k6(doc: &Value) -> Result<Scenario, String> {
    let metrics = &doc["metrics"];
    let number = |metric: &str, figure: &str| k6_figure(metrics, metric, figure).and_then(Value::as_f64).filter(|n| n.is_finite() && *n >= 0.0);
    if metrics.get("http_req_duration").is_none() {
        return Err("metrics.http_req_duration is missing: the summary has no HTTP requests".into());
    }
    let mut out = BTreeMap::new();
    for (figure, name) in [("avg", "avg"), ("min", "min"), ("med", "p50"), ("max", "max"), ("p(75)", "p75"), ("p(90)", "p90"), ("p(95)", "p95"), ("p(99)", "p99")] {
        out.extend(number("http_req_duration", figure).map(|v| (name.to_owned(), v)));
    }
    out.extend(number("http_reqs", "rate").map(|v| ("rps".to_owned(), v)));
    out.extend(number("http_reqs", "count").map(|v| ("requests".to_owned(), v)));
    out.extend(number("http_req_failed", "value").or_else(|| number("http_req_failed", "rate")).filter(|r| *r <= 1.0).map(|v| ("error_rate".to_owned(), v)));
    Ok(Scenario { scenario: "http".into(), format: "k6".into(), metrics: out })
}

fn hyperfine(doc: &Value) -> Result<Vec<Scenario>, String> {
    let results = doc["results"].as_array().ok_or("\"results\" is not an array")?;
    if results.is_empty() {
        return Err("\"results\" is empty".into());
    }
    results.iter().enumerate().map(|(i, r)| hyperfine_result(i, r)).collect()
}

fn hyperfine_result(i: usize, r: &Value) -> Result<Scenario, String> {
    let seconds = |key: &str| r.get(key).and_then(Value::as_f64).filter(|n| n.is_finite() && *n >= 0.0);
    let command = r.get("command").and_then(Value::as_str).ok_or_else(|| format!("results[{i}] has no \"command\""))?;
    let mean = seconds("mean").ok_or_else(|| format!("results[{i}] has no \"mean\""))?;
    let mut out = BTreeMap::from([("avg".to_owned(), mean * 1000.0)]);
    for (key, name) in [("median", "p50"), ("stddev", "stdev"), ("min", "min"), ("max", "max")] {
        out.extend(seconds(key).map(|v| (name.to_owned(), v * 1000.0)));
    }
    let mut times: Vec<f64> = r.get("times").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_f64).filter(|t| t.is_finite()).collect();
    times.sort_by(f64::total_cmp);
    for (p, name) in [(0.95, "p95"), (0.99, "p99")] {
        out.extend(nearest_rank(&times, p).map(|v| (name.to_owned(), v * 1000.0)));
    }
    if let Some(codes) = r.get("exit_codes").and_then(Value::as_array).filter(|c| !c.is_empty()) {
        let failed = codes.iter().filter(|c| c.as_i64() != Some(0)).count();
        out.insert("error_rate".into(), failed as f64 / codes.len() as f64);
    }
    Ok(Scenario { scenario: command.to_owned(), format: "hyperfine".into(), metrics: out })
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

fn wrk(text: &str) -> Result<Scenario, String> {
    let mut out = BTreeMap::new();
    let mut requests = None;
    let mut errors = 0.0;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", avg, stdev, max, ..] => {
                for (name, v) in [("avg", avg), ("stdev", stdev), ("max", max)] {
                    out.insert(name.to_owned(), duration_ms(v).ok_or_else(|| format!("'{v}' in the Latency row is not a duration"))?);
                }
            }
            [p, v] if p.ends_with('%') && duration_ms(v).is_some() => {
                if let Ok(p) = p.trim_end_matches('%').parse::<f64>() {
                    out.insert(format!("p{}", p.round()), duration_ms(v).unwrap_or_default());
                }
            }
            ["Requests/sec:", v] => {
                out.insert("rps".into(), v.parse::<f64>().map_err(|_| format!("Requests/sec '{v}' is not a number"))?);
            }
            [n, "requests", "in", ..] => requests = n.parse::<f64>().ok(),
            ["Socket", "errors:", rest @ ..] => errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<f64>().ok()).sum::<f64>(),
            ["Non-2xx", "or", "3xx", "responses:", n] => errors += n.parse::<f64>().unwrap_or(0.0),
            _ => {}
        }
    }
    if !out.contains_key("rps") {
        return Err("no Requests/sec: line".into());
    }
    if let Some(n) = requests.filter(|n| *n > 0.0) {
        out.insert("requests".into(), n);
        out.insert("error_rate".into(), (errors / n).min(1.0));
    }
    Ok(Scenario { scenario: "http".into(), format: "wrk".into(), metrics: out })
}

/// A wrk duration (`812.00us`, `12.41ms`, `1.02s`, `1.50m`) in milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let scale = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K6: &str = include_str!("testdata/k6-summary.json");
    const HYPERFINE: &str = include_str!("testdata/hyperfine.json");
    const WRK: &str = include_str!("testdata/wrk.txt");

    #[test]
    fn reads_a_k6_summary_export() {
        let s = &parse(K6.as_bytes(), "auto").unwrap()[0];
        assert_eq!(s.format, "k6");
        assert_eq!(s.metrics["p95"], 187.5032);
        assert_eq!(s.metrics["p50"], 91.2001);
        assert_eq!(s.metrics["rps"], 412.73046);
        assert_eq!(s.metrics["error_rate"], 51.0 / 12399.0);
        let handle_summary = r#"{"metrics":{"http_req_duration":{"type":"trend","contains":"time","values":{"avg":10.5,"p(95)":20.25}},"http_req_failed":{"type":"rate","values":{"rate":0.5,"passes":1,"fails":1}}}}"#;
        let s = &parse(handle_summary.as_bytes(), "k6").unwrap()[0];
        assert_eq!((s.metrics["p95"], s.metrics["error_rate"]), (20.25, 0.5));
        assert!(parse(br#"{"metrics":{}}"#, "auto").is_err());
    }

    #[test]
    fn reads_hyperfine_json_per_command() {
        let scenarios = parse(HYPERFINE.as_bytes(), "auto").unwrap();
        assert_eq!(scenarios.len(), 2);
        let s = &scenarios[0];
        assert_eq!(s.scenario, "./target/release/orders-cli import fixtures/orders.csv");
        assert!((s.metrics["avg"] - 41.234567).abs() < 1e-9);
        assert!((s.metrics["p95"] - 44.9).abs() < 1e-9, "{}", s.metrics["p95"]);
        assert_eq!(s.metrics["error_rate"], 0.0);
    }

    #[test]
    fn reads_wrk_output_with_the_latency_distribution() {
        let s = &parse(WRK.as_bytes(), "auto").unwrap()[0];
        assert_eq!(s.format, "wrk");
        assert_eq!(s.metrics["avg"], 12.41);
        assert_eq!(s.metrics["max"], 212.0);
        assert_eq!(s.metrics["p99"], 31.7);
        assert_eq!(s.metrics["p50"], 11.92);
        assert_eq!(s.metrics["rps"], 5180.88);
        assert!((s.metrics["error_rate"] - 43.0 / 155_582.0).abs() < 1e-12);
        assert!(parse(b"hello", "auto").is_err());
    }
}
