//! Logs and telemetry: `--log-format json` gives one JSON object per event
//! carrying the release; with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the spans of
//! a run (phase, agent, gate, with the release's attributes) and its gate
//! metrics arrive over OTLP/HTTP at a receiver on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::promote::release;

/// The requests a receiver got: (path, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An OTLP/HTTP receiver: answers every POST with 200 and keeps (path, body).
fn receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 {
                            return;
                        }
                        if header == "\r\n" {
                            break;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    store.lock().unwrap().push((path, body));
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n");
                }
            });
        }
    });
    (url, got)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn json_logs_carry_the_release_on_every_event() {
    let dir = release();
    let out = Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir.path()).args(["--log-format", "json", "run", "--phase", "P0"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<Value> = String::from_utf8_lossy(&out.stderr).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))).collect();
    assert!(events.len() >= 3, "{events:#?}");
    for event in &events {
        let release = &event["spans"][0];
        assert_eq!((release["name"].as_str(), release["release.version"].as_str(), release["release.environment"].as_str()), (Some("release"), Some("v1.0.0"), Some("prod")), "{event:#}");
        assert_eq!(release["release.commit"].as_str().map(str::len), Some(40));
    }
    assert!(events.iter().any(|e| e["message"] == "gate P0/checked passed" && e["level"] == "INFO"), "{events:#?}");
    assert!(events.iter().any(|e| e["message"] == "agent Checker: pass"), "{events:#?}");

    // The default is readable text.
    let out = Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir.path()).args(["run", "--phase", "P1"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("gate P1/checked passed") && !text.trim_start().starts_with('{'), "{text}");
}

#[test]
fn spans_and_gate_metrics_arrive_over_otlp() {
    let (url, got) = receiver();
    let dir = release();
    let out = Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir.path()).args(["run", "--phase", "P0"]).env("OTEL_EXPORTER_OTLP_ENDPOINT", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = got.lock().unwrap();
    let traces: Vec<&Vec<u8>> = got.iter().filter(|(p, _)| p == "/v1/traces").map(|(_, b)| b).collect();
    let metrics: Vec<&Vec<u8>> = got.iter().filter(|(p, _)| p == "/v1/metrics").map(|(_, b)| b).collect();
    assert!(!traces.is_empty() && !metrics.is_empty(), "requests: {:?}", got.iter().map(|(p, b)| (p, b.len())).collect::<Vec<_>>());
    let spans: Vec<u8> = traces.into_iter().flatten().copied().collect();
    for name in ["release", "phase", "agent", "gate", "release.version", "v1.0.0", "release.environment", "Checker", "service.name", "conductor"] {
        assert!(contains(&spans, name), "no {name} in the exported spans");
    }
    let metrics: Vec<u8> = metrics.into_iter().flatten().copied().collect();
    assert!(contains(&metrics, "conductor.gate.decisions") && contains(&metrics, "conductor.agent.duration"), "the gate and agent metrics");
}
