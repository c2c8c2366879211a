//! A real Prometheus for the slo and promotion tests: synthetic history is written as
//! OpenMetrics, backfilled with `promtool tsdb create-blocks-from openmetrics`
//! into a data folder of the test's own, and served on a free loopback port.
//! Every sample ends at a fixed time in the past and queries pass `time=`,
//! so results never depend on the clock. The server dies with the value.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 2026-11-30T12:00:00Z, where every synthetic history ends.
pub const END: i64 = 1_796_040_000;

/// [`END`] as RFC 3339, for `evaluation_time`.
pub const END_TEXT: &str = "2026-11-30T12:00:00Z";

const INSTALL: &str = "install Debian's prometheus (apt-get install prometheus), which brings promtool";

/// The latency buckets' upper bounds, in seconds.
const BUCKETS: [&str; 6] = ["0.05", "0.1", "0.25", "0.5", "1", "+Inf"];

/// One synthetic service's traffic, steady over the whole history.
pub struct Traffic {
    /// The `job` label.
    pub job: &'static str,
    /// Requests per second.
    pub rps: f64,
    /// The fraction answered with status 500.
    pub errors: f64,
    /// The fraction of requests at or under each of [`BUCKETS`] (the last is 1).
    pub latency: [f64; 6],
}

/// Fast: 99% of requests under 100 ms, all under 250 ms.
pub const FAST: [f64; 6] = [0.90, 0.99, 1.0, 1.0, 1.0, 1.0];

/// Slow: only 80% under 250 ms.
pub const SLOW: [f64; 6] = [0.30, 0.50, 0.80, 0.95, 0.99, 1.0];

/// OpenMetrics text of `minutes` of per-minute samples ending at [`END`]:
/// `http_requests_total{job, code}` and `http_request_duration_seconds`.
pub fn openmetrics(traffic: &[Traffic], minutes: i64) -> String {
    let mut text = String::from("# TYPE http_requests counter\n");
    for t in traffic {
        for (code, share) in [("200", 1.0 - t.errors), ("500", t.errors)] {
            series(&mut text, minutes, &format!("http_requests_total{{job=\"{}\",code=\"{code}\"}}", t.job), t.rps * share);
        }
    }
    text.push_str("# TYPE http_request_duration_seconds histogram\n");
    for t in traffic {
        for (le, share) in BUCKETS.iter().zip(t.latency) {
            series(&mut text, minutes, &format!("http_request_duration_seconds_bucket{{job=\"{}\",le=\"{le}\"}}", t.job), t.rps * share);
        }
        series(&mut text, minutes, &format!("http_request_duration_seconds_count{{job=\"{}\"}}", t.job), t.rps);
        series(&mut text, minutes, &format!("http_request_duration_seconds_sum{{job=\"{}\"}}", t.job), t.rps * 0.08);
    }
    text.push_str("# EOF\n");
    text
}

/// A counter growing at `per_second`, one sample a minute.
fn series(text: &mut String, minutes: i64, name: &str, per_second: f64) {
    for i in 0..=minutes {
        let at = END - (minutes - i) * 60;
        let _ = writeln!(text, "{name} {} {at}", (per_second * 60.0 * i as f64).round());
    }
}

/// A running Prometheus serving backfilled history.
pub struct Prometheus {
    child: Child,
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    _data: tempfile::TempDir,
}

impl Prometheus {
    /// Backfills `openmetrics` and starts a server on it; panics with the
    /// install hint when prometheus or promtool is missing.
    pub fn start(openmetrics: &str) -> Self {
        let data = tempfile::tempdir().unwrap();
        let input = data.path().join("history.om.txt");
        std::fs::write(&input, openmetrics).unwrap();
        backfill(&input, &data.path().join("tsdb"));
        Self::serve(data, "global:\n  scrape_interval: 1m\n")
    }

    /// A server scraping the `/metrics` of each `host:port` every second,
    /// for tests of live traffic.
    pub fn scraping(targets: &[&str]) -> Self {
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: service\n    static_configs:\n      - targets: [{}]\n", targets.join(", "));
        Self::serve(tempfile::tempdir().unwrap(), &config)
    }

    fn serve(data: tempfile::TempDir, config_text: &str) -> Self {
        let tsdb = data.path().join("tsdb");
        let config = data.path().join("prometheus.yml");
        std::fs::write(&config, config_text).unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // The history lies in the past; a long retention keeps its blocks.
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("prometheus cannot start ({e}); {INSTALL}"));
        let server = Self { child, url: format!("http://127.0.0.1:{port}"), _data: data };
        server.wait_ready(port);
        server
    }

    fn wait_ready(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if get(port, "/-/ready").is_some_and(|r| r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus on port {port} was not ready within 30 s");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn backfill(input: &Path, tsdb: &Path) {
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(input)
        .arg(tsdb)
        .output()
        .unwrap_or_else(|e| panic!("promtool cannot start ({e}); {INSTALL}"));
    assert!(out.status.success(), "promtool could not backfill: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// A port nothing listens on now: bind port 0 and let it go.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain HTTP GET, enough for a readiness check.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}
