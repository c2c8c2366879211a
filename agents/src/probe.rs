//! The `probe` kind: synthetic HTTP probes of the endpoints a release serves,
//! each judged on its status and latency, with retries for the transient
//! failures any network has.
//!
//! ```toml
//! [agents."Probe Master"]
//! samples = 3          # requests per endpoint, for a latency figure
//! retries = 2          # extra attempts when a request fails to connect or gets a 5xx
//! retry_delay_ms = 250
//!
//! [[agents."Probe Master".endpoints]]
//! name = "health"
//! url = "http://127.0.0.1:18080/healthz"
//! expect_status = [200]      # default 200..=299
//! max_latency_ms = 300       # the slowest successful sample must be within it
//! body_contains = "\"ok\""   # optional
//! ```
//!
//! Every sample records its attempts (status, latency, error). An endpoint
//! fails when a sample still has the wrong status (or no answer) after its
//! retries, when the body lacks `body_contains`, or when its slowest sample
//! is over `max_latency_ms`. An endpoint that never answers is a failed probe,
//! not an error: an unreachable service is what the probe exists to notice.
//! No endpoints configured is missing input. URLs are recorded without their
//! user and password.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// Requests per endpoint when `samples` is not set.
const DEFAULT_SAMPLES: u32 = 3;

/// Extra attempts per sample when `retries` is not set.
const DEFAULT_RETRIES: u32 = 2;

/// Pause between attempts when `retry_delay_ms` is not set.
const DEFAULT_RETRY_DELAY_MS: u64 = 250;

/// How long one request may take when `request_timeout_ms` is not set.
const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// How much of a body is read for `body_contains`.
const BODY_LIMIT: usize = 1 << 20;

/// Probes the `endpoints` setting.
pub struct ProbeAgent;

#[async_trait::async_trait]
impl Agent for ProbeAgent {
    fn kind(&self) -> &'static str {
        "probe"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match Plan::from_task(task) {
            Ok(plan) => probe_all(task, &plan).await,
            Err(outcome) => outcome,
        }
    }
}

/// One endpoint as configured.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointSpec {
    name: String,
    url: String,
    #[serde(default = "get")]
    method: String,
    #[serde(default)]
    expect_status: Vec<u16>,
    max_latency_ms: Option<u64>,
    body_contains: Option<String>,
    #[serde(default)]
    headers: toml::Table,
}

fn get() -> String {
    "GET".into()
}

/// What to probe and how hard to try.
struct Plan {
    endpoints: Vec<(EndpointSpec, reqwest::Url, reqwest::Method)>,
    samples: u32,
    retries: u32,
    retry_delay: Duration,
    request_timeout: Duration,
}

impl Plan {
    /// The plan from the settings, or a missing-input outcome naming the
    /// setting that is wrong and how to write it.
    fn from_task(task: &AgentTask) -> Result<Self, AgentOutcome> {
        let bad = |why: String| AgentOutcome::missing_input(format!("[agents.\"{}\"] {why}", task.agent));
        let Some(toml::Value::Array(items)) = task.settings.get("endpoints") else {
            return Err(bad("has no endpoints; add [[agents.\"…\".endpoints]] tables with name and url".replace('…', &task.agent)));
        };
        if items.is_empty() {
            return Err(bad("lists no endpoints; add at least one with name and url".into()));
        }
        let mut endpoints = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let spec: EndpointSpec = item.clone().try_into().map_err(|e| bad(format!("endpoints[{i}]: {}", toml_message(&e))))?;
            let url = reqwest::Url::parse(&spec.url).map_err(|e| bad(format!("endpoints[{i}].url {:?}: {e}; write a full http:// or https:// URL", redact(&spec.url))))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad(format!("endpoints[{i}].url {:?} is not http or https", redact(&spec.url))));
            }
            let method = reqwest::Method::from_bytes(spec.method.to_ascii_uppercase().as_bytes()).map_err(|_| bad(format!("endpoints[{i}].method {:?} is not an HTTP method", spec.method)))?;
            endpoints.push((spec, url, method));
        }
        Ok(Self {
            endpoints,
            samples: count(task, "samples", DEFAULT_SAMPLES.into(), 1).map_err(bad)? as u32,
            retries: count(task, "retries", DEFAULT_RETRIES.into(), 0).map_err(bad)? as u32,
            retry_delay: Duration::from_millis(count(task, "retry_delay_ms", DEFAULT_RETRY_DELAY_MS, 0).map_err(bad)?),
            request_timeout: Duration::from_millis(count(task, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS, 1).map_err(bad)?),
        })
    }
}

/// A whole-number setting of at least `min`, `default` when absent.
fn count(task: &AgentTask, key: &str, default: u64, min: u64) -> Result<u64, String> {
    match task.settings.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_integer()
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n >= min && *n <= 1_000_000)
            .ok_or_else(|| format!("{key} must be a whole number from {min} to 1000000")),
    }
}

/// The first line of a TOML error, which names the field.
fn toml_message(e: &toml::de::Error) -> String {
    e.message().lines().next().unwrap_or("invalid").to_owned()
}

/// A URL without its user and password, for facts and reasons.
pub(crate) fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            // Setting them on a parsed http(s) URL cannot fail.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => url.split_once('@').map_or_else(|| url.to_owned(), |(_, rest)| format!("…@{rest}")),
    }
}

/// One request and what came back.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Attempt {
    status: Option<u16>,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    body: Option<String>,
}

/// One endpoint's result.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EndpointResult {
    name: String,
    url: String,
    method: String,
    expect_status: Value,
    max_latency_ms: Option<u64>,
    /// Each sample's attempts; the last attempt of a sample is the one judged.
    samples: Vec<Vec<Attempt>>,
    /// The slowest judged attempt that got an answer.
    latency_ms: Option<f64>,
    outcome: Verdict,
    problems: Vec<Problem>,
}

async fn probe_all(task: &AgentTask, plan: &Plan) -> AgentOutcome {
    let client = match reqwest::Client::builder().timeout(plan.request_timeout).redirect(reqwest::redirect::Policy::none()).build() {
        Ok(c) => c,
        Err(e) => return AgentOutcome::error(format!("cannot start an HTTP client: {e}")),
    };
    let mut results = Vec::with_capacity(plan.endpoints.len());
    for (spec, url, method) in &plan.endpoints {
        results.push(probe(&client, plan, spec, url, method).await);
    }
    let failed: Vec<&EndpointResult> = results.iter().filter(|r| r.outcome != Verdict::Pass).collect();
    let (verdict, reason) = match failed.first() {
        Some(first) => (Verdict::Fail, format!("{} of {} endpoints failed; {}: {}", failed.len(), results.len(), first.name, messages(&first.problems))),
        None => (Verdict::Pass, format!("{} endpoints answered as expected: {}", results.len(), summary(&results))),
    };
    let facts = json!({
        "samples": plan.samples,
        "retries": plan.retries,
        "retryDelayMs": plan.retry_delay.as_millis() as u64,
        "requestTimeoutMs": plan.request_timeout.as_millis() as u64,
        "endpoints": results,
    });
    let mut outcome = AgentOutcome { verdict, reason, facts, files: Vec::new() };
    let path = task.scratch.join("probe.json");
    let written = serde_json::to_vec_pretty(&outcome.facts).map_err(std::io::Error::other).and_then(|b| {
        std::fs::create_dir_all(&task.scratch)?;
        std::fs::write(&path, b)
    });
    match written {
        Ok(()) => outcome.files.push(ProducedFile { name: "probe.json".into(), path }),
        Err(e) => return AgentOutcome::error(format!("cannot write probe.json: {e}")),
    }
    outcome
}

fn messages(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ")
}

fn summary(results: &[EndpointResult]) -> String {
    results.iter().map(|r| format!("{} {:.0} ms", r.name, r.latency_ms.unwrap_or_default())).collect::<Vec<_>>().join(", ")
}

async fn probe(client: &reqwest::Client, plan: &Plan, spec: &EndpointSpec, url: &reqwest::Url, method: &reqwest::Method) -> EndpointResult {
    let mut samples = Vec::with_capacity(plan.samples as usize);
    for _ in 0..plan.samples {
        samples.push(sample(client, plan, spec, url, method).await);
    }
    judge(spec, samples)
}

/// One sample: attempts until one is not worth retrying or the retries run out.
async fn sample(client: &reqwest::Client, plan: &Plan, spec: &EndpointSpec, url: &reqwest::Url, method: &reqwest::Method) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for n in 0..=plan.retries {
        if n > 0 {
            tokio::time::sleep(plan.retry_delay).await;
        }
        let attempt = request(client, spec, url, method).await;
        let retry = attempt.status.is_none_or(|s| s >= 500);
        attempts.push(attempt);
        if !retry {
            break;
        }
    }
    attempts
}

async fn request(client: &reqwest::Client, spec: &EndpointSpec, url: &reqwest::Url, method: &reqwest::Method) -> Attempt {
    let mut builder = client.request(method.clone(), url.clone());
    for (name, value) in &spec.headers {
        if let Some(v) = value.as_str() {
            builder = builder.header(name.as_str(), v);
        }
    }
    let started = Instant::now();
    let response = builder.send().await;
    let (status, body, error) = match response {
        Ok(r) => {
            let status = r.status().as_u16();
            match spec.body_contains {
                Some(_) => match read_body(r).await {
                    Ok(b) => (Some(status), Some(b), None),
                    Err(e) => (Some(status), None, Some(format!("body could not be read: {e}"))),
                },
                None => (Some(status), None, None),
            }
        }
        Err(e) => (None, None, Some(describe(&e))),
    };
    Attempt { status, latency_ms: started.elapsed().as_micros() as f64 / 1000.0, error, body }
}

async fn read_body(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() >= BODY_LIMIT {
            body.truncate(BODY_LIMIT);
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// A transport error in a few words, without the URL's credentials.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { what.to_owned() } else { format!("{what}: {cause}") }
}

/// A reason an endpoint failed, with a stable code for gate policies.
#[derive(Clone, Debug, Serialize)]
struct Problem {
    /// `no-answer`, `unexpected-status`, `body-mismatch`, `body-unreadable` or `slow`.
    code: &'static str,
    message: String,
}

fn problem(code: &'static str, message: String) -> Problem {
    Problem { code, message }
}

fn judge(spec: &EndpointSpec, samples: Vec<Vec<Attempt>>) -> EndpointResult {
    let mut problems = Vec::new();
    for (i, attempts) in samples.iter().enumerate() {
        if let Some(a) = attempts.last() {
            problems.extend(sample_problems(spec, a, i + 1, attempts.len()));
        }
    }
    let latency_ms = samples.iter().filter_map(|s| s.last()).filter(|a| a.status.is_some()).map(|a| a.latency_ms).reduce(f64::max);
    if let (Some(max), Some(worst)) = (spec.max_latency_ms, latency_ms)
        && worst > max as f64
    {
        problems.push(problem("slow", format!("latency {worst:.0} ms is over max_latency_ms {max}")));
    }
    EndpointResult {
        name: spec.name.clone(),
        url: redact(&spec.url),
        method: spec.method.to_ascii_uppercase(),
        expect_status: if spec.expect_status.is_empty() { json!("2xx") } else { json!(spec.expect_status) },
        max_latency_ms: spec.max_latency_ms,
        samples,
        latency_ms,
        outcome: if problems.is_empty() { Verdict::Pass } else { Verdict::Fail },
        problems,
    }
}

/// What is wrong with the judged (last) attempt of sample `n`.
fn sample_problems(spec: &EndpointSpec, a: &Attempt, n: usize, tries: usize) -> Vec<Problem> {
    let mut found = Vec::new();
    match a.status {
        None => found.push(problem("no-answer", format!("sample {n}: {} after {tries} attempts", a.error.as_deref().unwrap_or("no answer")))),
        Some(s) if !status_ok(spec, s) => found.push(problem("unexpected-status", format!("sample {n}: status {s}, expected {} (after {tries} attempts)", expected(spec)))),
        Some(_) => {}
    }
    if let Some(needle) = &spec.body_contains {
        match (&a.body, &a.error) {
            (Some(body), _) if !body.contains(needle.as_str()) => found.push(problem("body-mismatch", format!("sample {n}: body does not contain {needle:?}"))),
            (None, Some(e)) if a.status.is_some() => found.push(problem("body-unreadable", format!("sample {n}: {e}"))),
            _ => {}
        }
    }
    found
}

fn status_ok(spec: &EndpointSpec, status: u16) -> bool {
    if spec.expect_status.is_empty() { (200..300).contains(&status) } else { spec.expect_status.contains(&status) }
}

fn expected(spec: &EndpointSpec) -> String {
    if spec.expect_status.is_empty() {
        "2xx".into()
    } else {
        spec.expect_status.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")
    }
}

#[cfg(test)]
mod tests;
