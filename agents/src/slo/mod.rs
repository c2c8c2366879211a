//! The `slo` kind: service level objectives (see [`objective`]) evaluated
//! against Prometheus at one evaluation time, from a live server
//! (`prometheus_url`) or from responses recorded from one (`recorded`, see
//! [`source`]), with a snapshot and a chart of every objective.
//!
//! Settings:
//! - `prometheus_url` or `recorded` (a folder), exactly one;
//! - `evaluation_time`: RFC 3339. Required with `recorded`. With a live URL it
//!   defaults to the current time truncated to the minute, and the facts
//!   record the time used (and that it came from the clock), so setting that
//!   time replays the same verdict;
//! - `record_to`: with a live URL, a folder every response is also written
//!   to in the recorded format;
//! - `query_timeout_seconds` (30): the limit on each HTTP request;
//! - `bearer_token_env` or `basic_auth_env` (`user:password`): the names of
//!   environment variables holding credentials, which are never recorded;
//! - `objectives`: the `[[agents."<name>".objectives]]` tables.
//!
//! Each objective is an instant query at the evaluation time (its value) and
//! a range query up to it (its chart), written to `slo/<name>.json` and
//! `slo/<name>.svg`. The verdict is error if any objective errs, else fail if
//! any fails, else inconclusive if any is, else pass; no objectives is a
//! missing input.

mod chart;
mod evaluate;
pub(crate) mod objective;
pub(crate) mod response;
mod source;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use evidence::timestamp::Timestamp;
use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};
use evaluate::{Evaluation, Outcome};
use objective::Objective;
use source::{Auth, PrometheusHttp, Recorded, Recorder, Source};

/// How long one HTTP request may take when `query_timeout_seconds` is unset.
const DEFAULT_QUERY_TIMEOUT: u64 = 30;

/// Evaluates the objectives under `objectives`.
pub struct SloAgent;

#[async_trait::async_trait]
impl Agent for SloAgent {
    fn kind(&self) -> &'static str {
        "slo"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match snapshot(task).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// Where the responses come from, as configured.
enum Configured {
    Live { url: String, record_to: Option<PathBuf> },
    Recorded { folder: String },
}

async fn snapshot(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let objectives = objectives(task)?;
    let configured = configured(task)?;
    let (time, from_clock) = evaluation_time(task, &configured)?;
    let (evaluations, mut source) = match configured {
        Configured::Live { url, record_to } => {
            let live: Box<dyn Source> = Box::new(PrometheusHttp::new(&url, query_timeout(task)?, auth(task)?).map_err(|e| missing(task, e))?);
            match record_to {
                Some(folder) => {
                    let recorder = Recorder::new(live, folder);
                    let evaluations = evaluate_all(&objectives, time, &recorder).await;
                    recorder.finish().map_err(AgentOutcome::error)?;
                    (evaluations, recorder.describe())
                }
                None => (evaluate_all(&objectives, time, live.as_ref()).await, live.describe()),
            }
        }
        Configured::Recorded { folder } => {
            let recorded = Recorded::open(&task.resolve(&folder), &folder).map_err(|e| missing(task, e))?;
            (evaluate_all(&objectives, time, &recorded).await, recorded.describe())
        }
    };
    source["evaluationTimeFrom"] = if from_clock { "clock" } else { "setting" }.into();
    let files = write_files(task, &evaluations, &source)?;
    let (verdict, reason) = judge(&evaluations, time);
    let facts = json!({
        "source": source,
        "evaluationTime": time,
        "objectives": evaluations.iter().map(Evaluation::facts).collect::<Vec<_>>(),
    });
    Ok(AgentOutcome { verdict, reason, facts, files })
}

async fn evaluate_all(objectives: &[Objective], time: Timestamp, source: &dyn Source) -> Vec<Evaluation> {
    let mut evaluations = Vec::with_capacity(objectives.len());
    for o in objectives {
        evaluations.push(evaluate::evaluate(o, time, source).await);
    }
    evaluations
}

fn missing(task: &AgentTask, message: impl std::fmt::Display) -> AgentOutcome {
    AgentOutcome::missing_input(format!("{message} (in [agents.\"{}\"])", task.agent))
}

fn objectives(task: &AgentTask) -> Result<Vec<Objective>, AgentOutcome> {
    let none = || missing(task, format!("no objectives are configured; add [[agents.\"{}\".objectives]] tables with name, kind, target and window", task.agent));
    let value = task.settings.get("objectives").ok_or_else(none)?;
    let objectives = objective::parse(value).map_err(|e| missing(task, e))?;
    if objectives.is_empty() {
        return Err(none());
    }
    Ok(objectives)
}

fn configured(task: &AgentTask) -> Result<Configured, AgentOutcome> {
    let has = |key: &str| task.settings.contains_key(key);
    let record_to = if has("record_to") { Some(task.resolve(task.text_setting("record_to")?)) } else { None };
    match (has("prometheus_url"), has("recorded")) {
        (true, false) => Ok(Configured::Live { url: task.text_setting("prometheus_url")?.to_owned(), record_to }),
        (false, true) if record_to.is_some() => Err(missing(task, "record_to records a live Prometheus; it needs prometheus_url, not recorded")),
        (false, true) => Ok(Configured::Recorded { folder: task.text_setting("recorded")?.to_owned() }),
        (true, true) => Err(missing(task, "set either prometheus_url or recorded, not both")),
        (false, false) => Err(missing(task, "no source is configured; set prometheus_url (such as http://127.0.0.1:9090) or recorded (a folder of recorded responses)")),
    }
}

/// The evaluation time and whether it came from the clock.
fn evaluation_time(task: &AgentTask, configured: &Configured) -> Result<(Timestamp, bool), AgentOutcome> {
    if task.settings.contains_key("evaluation_time") {
        let text = task.text_setting("evaluation_time")?;
        return Timestamp::parse(text).map(|t| (t, false)).map_err(|e| missing(task, format!("evaluation_time: {e}")));
    }
    match configured {
        Configured::Recorded { folder } => {
            let times = Recorded::open(&task.resolve(folder), folder).map(|r| r.times()).unwrap_or_default();
            Err(missing(task, format!("a recording is replayed at a fixed time; set evaluation_time (the recording holds {})", if times.is_empty() { "no times".into() } else { times.join(", ") })))
        }
        Configured::Live { .. } => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let minute = i64::try_from(now - now % 60).unwrap_or(0);
            Timestamp::from_unix(minute).map(|t| (t, true)).map_err(|e| AgentOutcome::error(format!("the clock reads an impossible time: {e}")))
        }
    }
}

fn query_timeout(task: &AgentTask) -> Result<Duration, AgentOutcome> {
    match task.settings.get("query_timeout_seconds") {
        None => Ok(Duration::from_secs(DEFAULT_QUERY_TIMEOUT)),
        Some(v) => v.as_integer().and_then(|s| u64::try_from(s).ok()).filter(|s| *s > 0).map(Duration::from_secs).ok_or_else(|| missing(task, "query_timeout_seconds must be a whole number of seconds above 0")),
    }
}

/// Credentials from the environment variables the settings name.
fn auth(task: &AgentTask) -> Result<Auth, AgentOutcome> {
    let read = |key: &str| -> Result<Option<String>, AgentOutcome> {
        if !task.settings.contains_key(key) {
            return Ok(None);
        }
        let var = task.text_setting(key)?;
        std::env::var(var).map(Some).map_err(|_| missing(task, format!("{key} names the environment variable {var}, which is not set")))
    };
    match (read("bearer_token_env")?, read("basic_auth_env")?) {
        (Some(_), Some(_)) => Err(missing(task, "set either bearer_token_env or basic_auth_env, not both")),
        (Some(token), None) => Ok(Auth::Bearer(token)),
        (None, Some(pair)) => match pair.split_once(':') {
            Some((user, password)) => Ok(Auth::Basic { user: user.to_owned(), password: password.to_owned() }),
            None => Err(missing(task, "the variable basic_auth_env names must hold user:password")),
        },
        (None, None) => Ok(Auth::None),
    }
}

/// Writes `slo/<stem>.json` and `slo/<stem>.svg` for every objective.
fn write_files(task: &AgentTask, evaluations: &[Evaluation], source: &Value) -> Result<Vec<ProducedFile>, AgentOutcome> {
    let folder = task.scratch.join("slo");
    std::fs::create_dir_all(&folder).map_err(|e| AgentOutcome::error(format!("{} cannot be created: {e}", folder.display())))?;
    let mut files = Vec::new();
    for e in evaluations {
        let mut json = serde_json::to_string_pretty(&e.snapshot(source)).map_err(|err| AgentOutcome::error(format!("the snapshot of {} cannot be written: {err}", e.objective.name)))?;
        json.push('\n');
        let svg = chart::render(&chart_of(e)).map_err(|err| AgentOutcome::error(format!("{}: {err}", e.objective.name)))?;
        for (extension, text) in [("json", json), ("svg", svg)] {
            let name = format!("slo/{}.{extension}", e.objective.stem);
            let path = folder.join(format!("{}.{extension}", e.objective.stem));
            std::fs::write(&path, text).map_err(|err| AgentOutcome::error(format!("{} cannot be written: {err}", path.display())))?;
            files.push(ProducedFile { name, path });
        }
    }
    Ok(files)
}

fn chart_of(e: &Evaluation) -> chart::Chart {
    let o = &e.objective;
    let budget = o.slo_target.map(|slo| 1.0 - slo);
    let lines = e
        .measured
        .iter()
        .map(|m| {
            let points = m.series.as_ref().map_or_else(|_| Vec::new(), |p| p.iter().map(|(t, v)| (*t, budget.map_or(*v, |b| v / b))).collect());
            (format!("{} over {}", evaluate::label(o), m.expression.window.text), points)
        })
        .collect();
    let span = e.measured.first().map(|m| evaluate::range_request(&m.expression, e.time)).map_or((e.time.unix() - 3600, e.time.unix()), |r| match r {
        source::Request::Range { start, end, .. } => (start.unix(), end.unix()),
        source::Request::Instant { time, .. } => (time.unix() - 3600, time.unix()),
    });
    let unit = if o.kind == objective::Kind::Latency { " (s)" } else { "" };
    chart::Chart {
        title: format!("{}: {} ({})", o.name, outcome_text(e.outcome), evaluate::windows(o)),
        y_label: format!("{}{unit}", evaluate::label(o)),
        lines,
        threshold: o.threshold,
        threshold_label: format!("{} {}{}", if o.comparison == objective::Comparison::AtLeast { "target" } else { "limit" }, evaluate::number(o.threshold), if unit.is_empty() { "" } else { " s" }),
        x_label: format!("time (UTC) from {} to {}", shown(span.0), shown(span.1)),
        span,
    }
}

/// A chart edge as `2026-11-30 12:00`.
fn shown(unix: i64) -> String {
    Timestamp::from_unix(unix).map(|t| t.to_string().replace('T', " ").chars().take(16).collect()).unwrap_or_default()
}

fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Inconclusive => "inconclusive",
        Outcome::Error => "error",
    }
}

/// Error over fail over inconclusive over pass, with the first reason of the worst.
fn judge(evaluations: &[Evaluation], time: Timestamp) -> (Verdict, String) {
    let total = evaluations.len();
    let of = |outcome: Outcome| evaluations.iter().filter(|e| e.outcome == outcome).collect::<Vec<_>>();
    for (outcome, verdict, what) in [
        (Outcome::Error, Verdict::Error, "could not be evaluated"),
        (Outcome::Fail, Verdict::Fail, "failed"),
        (Outcome::Inconclusive, Verdict::Inconclusive, "could not be judged"),
    ] {
        let hit = of(outcome);
        if let Some(first) = hit.first() {
            return (verdict, format!("{} of {total} objectives {what} at {time}: {}", hit.len(), first.reason));
        }
    }
    let reasons: Vec<&str> = evaluations.iter().map(|e| e.reason.as_str()).collect();
    (Verdict::Pass, format!("{total} objectives met at {time}: {}", reasons.join("; ")))
}

/// One number from a live Prometheus: the instant query `query` at `time`,
/// for the conductor's own analysis between canary steps. `Ok(None)` is an
/// empty result; several series, a string result and Prometheus errors are
/// errors naming what came back.
pub async fn instant_value(prometheus_url: &str, query: &str, time: Timestamp, timeout: Duration) -> Result<Option<f64>, String> {
    match ask(prometheus_url, source::Request::Instant { query: query.to_owned(), time }, timeout).await? {
        response::Data::Vector(series) if series.is_empty() => Ok(None),
        response::Data::Vector(series) if series.len() == 1 => Ok(series[0].points.first().map(|p| p.1)),
        response::Data::Vector(series) => Err(format!("the query gave {} series, not one; aggregate it with sum() or the like", series.len())),
        response::Data::Scalar((_, v)) => Ok(Some(v)),
        other => Err(format!("the query gave {other:?}, not a number")),
    }
}

/// The samples of a live Prometheus range query, `step` seconds apart from
/// `start` to `end`, for comparing a canary with its baseline. The query
/// must give one series (an empty result is an empty list).
pub async fn range_values(prometheus_url: &str, query: &str, start: Timestamp, end: Timestamp, step: u64, timeout: Duration) -> Result<Vec<f64>, String> {
    match ask(prometheus_url, source::Request::Range { query: query.to_owned(), start, end, step: step.max(1) }, timeout).await? {
        response::Data::Matrix(series) if series.is_empty() => Ok(Vec::new()),
        response::Data::Matrix(series) if series.len() == 1 => Ok(series[0].points.iter().map(|p| p.1).collect()),
        response::Data::Matrix(series) => Err(format!("the query gave {} series, not one; aggregate it with sum() or the like", series.len())),
        other => Err(format!("the range query gave {other:?}, not a series")),
    }
}

/// One request to a live Prometheus, its answer parsed.
async fn ask(prometheus_url: &str, request: source::Request, timeout: Duration) -> Result<response::Data, String> {
    let source = PrometheusHttp::new(prometheus_url, timeout, Auth::None)?;
    let fetched = source.fetch(&request).await.map_err(|e| e.to_string())?;
    match response::parse(&fetched.body) {
        Ok(data) => Ok(data),
        Err(e) if fetched.status != 200 => Err(format!("HTTP {}: {e}", fetched.status)),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
