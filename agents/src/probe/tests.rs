use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// A loopback HTTP server answering request n with `script[n]` (the last
/// entry repeats): a status, a body and a delay before answering.
struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
}

async fn serve(script: Vec<(u16, &'static str, u64)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, body, delay) = script[n.min(script.len() - 1)];
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    Server { url, hits }
}

fn task(dir: &std::path::Path, endpoints: &str, extra: &str) -> AgentTask {
    let settings: toml::Table = toml::from_str(&format!("retry_delay_ms = 1\n{extra}\n{endpoints}")).unwrap();
    AgentTask::new("Probe Master", "probe", "P1", dir, dir, settings)
}

fn endpoint(name: &str, url: &str, rest: &str) -> String {
    format!("[[endpoints]]\nname = \"{name}\"\nurl = \"{url}\"\n{rest}\n")
}

#[tokio::test]
async fn a_healthy_endpoint_passes_with_every_sample_recorded() {
    let server = serve(vec![(200, "{\"ok\":true}", 0)]).await;
    let dir = tempfile::tempdir().unwrap();
    let t = task(dir.path(), &endpoint("health", &format!("{}/healthz", server.url), "max_latency_ms = 5000\nbody_contains = \"ok\""), "samples = 4");
    let outcome = ProbeAgent.run(&t).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    let e = &outcome.facts["endpoints"][0];
    assert_eq!(e["samples"].as_array().unwrap().len(), 4);
    assert_eq!(e["samples"][0][0]["status"], 200);
    assert!(e["latencyMs"].as_f64().unwrap() > 0.0);
    assert_eq!(server.hits.load(Ordering::SeqCst), 4);
    assert_eq!(outcome.files[0].name, "probe.json");
    let written: Value = serde_json::from_slice(&std::fs::read(&outcome.files[0].path).unwrap()).unwrap();
    assert_eq!(written["endpoints"][0]["name"], "health");
    assert_eq!(written["endpoints"][0]["samples"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_transient_5xx_is_retried_and_a_lasting_one_fails() {
    let flaky = serve(vec![(503, "", 0), (200, "", 0)]).await;
    let dir = tempfile::tempdir().unwrap();
    let outcome = ProbeAgent.run(&task(dir.path(), &endpoint("api", &flaky.url, ""), "samples = 1\nretries = 2")).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["endpoints"][0]["samples"][0].as_array().unwrap().len(), 2);

    let down = serve(vec![(503, "", 0)]).await;
    let outcome = ProbeAgent.run(&task(dir.path(), &endpoint("api", &down.url, ""), "samples = 1\nretries = 2")).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(outcome.reason.contains("api: sample 1: status 503, expected 2xx (after 3 attempts)"), "{}", outcome.reason);
    assert_eq!(down.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_fails_unless_expected() {
    let server = serve(vec![(404, "", 0)]).await;
    let dir = tempfile::tempdir().unwrap();
    let outcome = ProbeAgent.run(&task(dir.path(), &endpoint("missing", &server.url, ""), "samples = 1")).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    let outcome = ProbeAgent.run(&task(dir.path(), &endpoint("missing", &server.url, "expect_status = [404]"), "samples = 1")).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
}

#[tokio::test]
async fn slow_answers_and_missing_body_text_fail_naming_the_limit() {
    let server = serve(vec![(200, "degraded", 150)]).await;
    let dir = tempfile::tempdir().unwrap();
    let outcome = ProbeAgent.run(&task(dir.path(), &endpoint("search", &server.url, "max_latency_ms = 50\nbody_contains = \"ok\""), "samples = 1")).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    let problems = outcome.facts["endpoints"][0]["problems"].to_string();
    assert!(problems.contains("is over max_latency_ms 50"), "{problems}");
    assert!(problems.contains("body does not contain \\\"ok\\\""), "{problems}");
}

#[tokio::test]
async fn an_endpoint_nobody_listens_on_fails_after_its_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let outcome = ProbeAgent.run(&task(dir.path(), &endpoint("gone", &format!("http://127.0.0.1:{port}/"), ""), "samples = 1\nretries = 1")).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(outcome.reason.contains("could not connect"), "{}", outcome.reason);
    assert!(outcome.reason.contains("after 2 attempts"), "{}", outcome.reason);
}

#[tokio::test]
async fn bad_settings_are_missing_input_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let none = ProbeAgent.run(&task(dir.path(), "", "")).await;
    assert_eq!(none.verdict, Verdict::MissingInput);
    assert!(none.reason.contains("has no endpoints"), "{}", none.reason);
    let typo = ProbeAgent.run(&task(dir.path(), &endpoint("a", "http://127.0.0.1:1/", "max_latency = 3"), "")).await;
    assert_eq!(typo.verdict, Verdict::MissingInput);
    assert!(typo.reason.contains("endpoints[0]") && typo.reason.contains("max_latency"), "{}", typo.reason);
    let scheme = ProbeAgent.run(&task(dir.path(), &endpoint("a", "ftp://127.0.0.1/", ""), "")).await;
    assert!(scheme.reason.contains("is not http or https"), "{}", scheme.reason);
    let samples = ProbeAgent.run(&task(dir.path(), &endpoint("a", "http://127.0.0.1:1/", ""), "samples = 0")).await;
    assert!(samples.reason.contains("samples must be a whole number from 1"), "{}", samples.reason);
}

#[test]
fn urls_are_recorded_without_credentials() {
    assert_eq!(redact("https://bot:s3cret@status.example.com/health"), "https://status.example.com/health");
    assert_eq!(redact("http://127.0.0.1:8080/healthz"), "http://127.0.0.1:8080/healthz");
    assert!(!redact("not a url user:pw@host").contains("pw"));
}
