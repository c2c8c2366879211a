//! The slo kind against a real Prometheus (see `prometheus.rs`): a failing
//! objective fails the P1 slo gate naming its value and target, no data and
//! NaN follow their rules, bad PromQL is an error naming Prometheus's own
//! message, a recording replays to the same snapshot, and the example
//! service's committed recording is what recording its history gives.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use crate::fixture::git;
use crate::ops::{append, gate, ops_repo, run};
use crate::prometheus::{END_TEXT, FAST, Prometheus, SLOW, Traffic, openmetrics};

/// checkout meets 99.9% (0.9995), reports does not (0.98), idle has no traffic.
fn history() -> String {
    openmetrics(
        &[
            Traffic { job: "checkout", rps: 100.0, errors: 0.0005, latency: FAST },
            Traffic { job: "reports", rps: 10.0, errors: 0.02, latency: SLOW },
            Traffic { job: "idle", rps: 0.0, errors: 0.0, latency: FAST },
        ],
        120,
    )
}

fn availability(name: &str, job: &str, target: f64) -> String {
    format!(
        "[[agents.\"SLO Librarian\".objectives]]\nname = \"{name}\"\nkind = \"availability\"\nerrors = 'http_requests_total{{job=\"{job}\",code=\"500\"}}'\ntotal = 'http_requests_total{{job=\"{job}\"}}'\ntarget = {target}\nwindow = \"30d\"\n"
    )
}

fn librarian(url: &str, objectives: &str) -> String {
    format!("[agents.\"SLO Librarian\"]\nprometheus_url = \"{url}\"\nevaluation_time = \"{END_TEXT}\"\n\n{objectives}")
}

const P1: &str = "id = \"P1\"\nname = \"Baselines\"\nrequires = []\n\n[[gate]]\nid = \"slo\"\npolicy = \"slo\"\nagents = [\"SLO Librarian\"]\nneeds = [\"slo-snapshot\"]\n";

#[test]
fn a_failing_objective_fails_the_slo_gate_naming_its_value_and_target() {
    let prometheus = Prometheus::start(&history());
    let objectives = format!("{}\n{}", availability("checkout-availability", "checkout", 0.999), availability("reports-availability", "reports", 0.999));
    let dir = ops_repo("P1", P1, &librarian(&prometheus.url, &objectives), &[]);
    let p = dir.path();
    crate::fixture::ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    let gates = run(p, "P1");
    let (passed, reasons) = gate(&gates, "slo");
    assert!(!passed);
    assert_eq!(reasons, ["SLO Librarian: reports-availability: availability 0.98 is below the target 0.999 (30d)"], "{gates:#?}");

    let svg = stored(p, "slo/reports-availability.svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("reports-availability: fail"), "the title names the objective and outcome");
    let snapshot: Value = serde_json::from_str(&stored(p, "slo/reports-availability.json")).unwrap();
    assert_eq!(snapshot["objective"]["value"], 0.98);
    assert_eq!(snapshot["queries"][0]["instant"]["request"]["time"], END_TEXT);
    assert_eq!(snapshot["queries"][0]["instant"]["response"]["status"], "success");

    // The gate's own target for the objective accepts it.
    append(p, "conductor.toml", "[gates.slo]\ntargets = { \"reports-availability\" = 0.95 }");
    git(p, &["commit", "-qam", "chore: reports may miss 99.9%"]);
    let gates = run(p, "P1");
    assert_eq!(gate(&gates, "slo"), (true, &[][..]), "{gates:#?}");
}

/// The text of the evidence file recorded under `name` in the current release.
fn stored(repo: &Path, name: &str) -> String {
    let ledger = std::fs::read_to_string(repo.join(".conductor/releases/v1.0.0/ledger.intoto.jsonl")).unwrap();
    let digest = ledger
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|env| base64::engine::general_purpose::STANDARD.decode(env["payload"].as_str()?).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .find_map(|statement| reference(&statement, name))
        .unwrap_or_else(|| panic!("no evidence named {name} in the ledger"));
    std::fs::read_to_string(repo.join(".conductor/releases/v1.0.0/objects/sha256").join(digest)).unwrap()
}

/// The digest of the evidence reference named `name` anywhere in `v`.
fn reference(v: &Value, name: &str) -> Option<String> {
    match v {
        Value::Object(map) if map.get("name").and_then(Value::as_str) == Some(name) => map.get("sha256").and_then(Value::as_str).map(str::to_owned),
        Value::Object(map) => map.values().find_map(|v| reference(v, name)),
        Value::Array(items) => items.iter().find_map(|v| reference(v, name)),
        _ => None,
    }
}

/// The SLO Librarian's settings from conductor.toml text.
fn settings(text: &str) -> toml::Table {
    let config: toml::Table = toml::from_str(text).unwrap();
    config["agents"]["SLO Librarian"].as_table().unwrap().clone()
}

/// Runs the SLO Librarian once with the settings in `config` (TOML) in `dir`.
fn librarian_run(dir: &Path, config: &str) -> agents::AgentOutcome {
    run_settings(dir, dir, settings(config))
}

/// Runs it with its files written to `scratch`.
fn run_settings(dir: &Path, scratch: &Path, settings: toml::Table) -> agents::AgentOutcome {
    std::fs::create_dir_all(scratch).unwrap();
    let task = agents::AgentTask::new("SLO Librarian", "slo", "P1", dir, scratch, settings);
    tokio::runtime::Runtime::new().unwrap().block_on(agents::run_task(task))
}

#[test]
fn no_data_and_nan_follow_their_rules_and_never_pass_by_default() {
    let prometheus = Prometheus::start(&history());
    let dir = tempfile::tempdir().unwrap();
    let latency = "[[agents.\"SLO Librarian\".objectives]]\nname = \"ghost-latency-p99\"\nkind = \"latency\"\nhistogram = 'http_request_duration_seconds_bucket{job=\"ghost\"}'\nquantile = 0.99\nthreshold_seconds = 0.3\nwindow = \"1h\"\n";
    let outcome = librarian_run(dir.path(), &librarian(&prometheus.url, latency));
    assert_eq!(outcome.verdict, agents::Verdict::Inconclusive, "{}", outcome.reason);
    let want = format!("ghost-latency-p99: no data for the query histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{job=\"ghost\"}}[1h]))) at {END_TEXT} (no_data = inconclusive)");
    assert_eq!(outcome.facts["objectives"][0]["reason"], want.as_str());
    let failing = librarian_run(dir.path(), &librarian(&prometheus.url, &format!("{latency}no_data = \"fail\"\n")));
    assert_eq!(failing.verdict, agents::Verdict::Fail, "{}", failing.reason);

    // idle has counters but no traffic: 0/0 is NaN.
    let idle = availability("idle-availability", "idle", 0.999);
    let outcome = librarian_run(dir.path(), &librarian(&prometheus.url, &idle));
    assert_eq!(outcome.verdict, agents::Verdict::Inconclusive, "{}", outcome.reason);
    let o = &outcome.facts["objectives"][0];
    assert_eq!((o["value"].clone(), o["valueText"].as_str(), o["nan"].as_str()), (Value::Null, Some("NaN"), Some("inconclusive")));
    assert!(o["reason"].as_str().unwrap().contains("gives NaN at 2026-11-30T12:00:00Z, which means no traffic over 30d (nan = inconclusive)"), "{o}");
    let zero = librarian_run(dir.path(), &librarian(&prometheus.url, &format!("{idle}nan = \"pass-as-zero-traffic\"\n")));
    assert_eq!(zero.verdict, agents::Verdict::Pass, "{}", zero.reason);
    assert_eq!(zero.facts["objectives"][0]["nan"], "pass-as-zero-traffic");
    let fail = librarian_run(dir.path(), &librarian(&prometheus.url, &format!("{idle}nan = \"fail\"\n")));
    assert_eq!(fail.verdict, agents::Verdict::Fail, "{}", fail.reason);

    // Without evaluation_time a live source is read now, to the minute, and the facts say so.
    let recent = availability("checkout-availability", "checkout", 0.999).replace("30d", "5m");
    let now = librarian_run(dir.path(), &librarian(&prometheus.url, &recent).replace(&format!("evaluation_time = \"{END_TEXT}\"\n"), ""));
    assert_eq!(now.facts["source"]["evaluationTimeFrom"], "clock");
    let time = now.facts["evaluationTime"].as_str().unwrap();
    assert!(time.ends_with(":00Z") && time > END_TEXT, "{time}");
    assert_eq!(now.verdict, agents::Verdict::Inconclusive, "the history ended more than 5m before now: {}", now.reason);
}

#[test]
fn bad_promql_is_an_error_naming_the_prometheus_error() {
    let prometheus = Prometheus::start(&history());
    let dir = tempfile::tempdir().unwrap();
    let bad = "[[agents.\"SLO Librarian\".objectives]]\nname = \"broken\"\nkind = \"error_rate\"\nquery = \"sum(rate(http_requests_total[5m]) /\"\ntarget = 0.01\nwindow = \"5m\"\n";
    let outcome = librarian_run(dir.path(), &librarian(&prometheus.url, bad));
    assert_eq!(outcome.verdict, agents::Verdict::Error, "{}", outcome.reason);
    assert!(outcome.reason.contains("broken: prometheus answered bad_data: "), "{}", outcome.reason);
    assert_eq!(outcome.facts["objectives"][0]["outcome"], "error");

    // Many series where one is needed is an error that says how to fix it.
    let many = "[[agents.\"SLO Librarian\".objectives]]\nname = \"by-job\"\nkind = \"error_rate\"\nquery = 'rate(http_requests_total{code=\"500\"}[5m])'\ntarget = 0.01\nwindow = \"5m\"\n";
    let outcome = librarian_run(dir.path(), &librarian(&prometheus.url, many));
    assert_eq!(outcome.verdict, agents::Verdict::Error, "{}", outcome.reason);
    assert!(outcome.reason.contains("the query returned 3 series"), "{}", outcome.reason);

    // Nothing listens on the server's port once it is gone.
    let url = prometheus.url.clone();
    drop(prometheus);
    let outcome = librarian_run(dir.path(), &librarian(&url, &availability("checkout-availability", "checkout", 0.999)));
    assert_eq!(outcome.verdict, agents::Verdict::Error, "{}", outcome.reason);
    assert!(outcome.reason.contains("did not answer"), "{}", outcome.reason);
}

/// The example service's SLO Librarian settings (examples/service/conductor.toml).
fn example_settings() -> toml::Table {
    settings(&std::fs::read_to_string(example().join("conductor.toml")).unwrap())
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service")
}

/// The example service's history: a day of orders traffic.
fn example_history() -> String {
    openmetrics(&[Traffic { job: "orders-service", rps: 50.0, errors: 0.0004, latency: FAST }], 24 * 60)
}

#[test]
fn a_recording_replays_to_the_same_snapshot_and_the_example_recording_is_current() {
    let prometheus = Prometheus::start(&example_history());
    let dir = tempfile::tempdir().unwrap();
    let example = example_settings();
    let mut live_settings = example.clone();
    live_settings.remove("recorded");
    live_settings.insert("prometheus_url".into(), prometheus.url.clone().into());
    live_settings.insert("record_to".into(), "recorded".into());
    let live = run_settings(dir.path(), &dir.path().join("live"), live_settings);
    assert_eq!(live.verdict, agents::Verdict::Pass, "{}", live.reason);
    drop(prometheus);
    let mut replay_settings = example;
    replay_settings.insert("recorded".into(), "recorded".into());
    let replayed = run_settings(dir.path(), &dir.path().join("replay"), replay_settings);
    assert_eq!(replayed.verdict, live.verdict, "{}", replayed.reason);
    assert_eq!(replayed.reason, live.reason);
    assert_eq!(replayed.facts["objectives"], live.facts["objectives"]);
    assert_eq!(replayed.facts["evaluationTime"], live.facts["evaluationTime"]);
    assert_eq!(replayed.facts["source"]["kind"], "recorded");
    for (l, r) in live.files.iter().zip(&replayed.files) {
        let (mut a, mut b) = (snapshot(&l.path), snapshot(&r.path));
        if let (Value::Object(a), Value::Object(b)) = (&mut a, &mut b) {
            a.remove("source");
            b.remove("source");
        }
        assert_eq!(a, b, "{} differs on replay", l.name);
    }
    compare_with_example(&dir.path().join("recorded"));
}

/// JSON files as JSON; the SVG charts as text.
fn snapshot(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The example's committed recording must be exactly what recording gives;
/// `CONDUCTOR_UPDATE_GOLDEN=1` rewrites it.
fn compare_with_example(recorded: &Path) {
    let committed = example().join("slo/recorded");
    if std::env::var_os("CONDUCTOR_UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        std::fs::create_dir_all(&committed).unwrap();
        for entry in std::fs::read_dir(recorded).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), committed.join(entry.file_name())).unwrap();
        }
    }
    let names = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
        names.sort();
        names
    };
    assert_eq!(names(&committed), names(recorded), "the example recording is stale; run with CONDUCTOR_UPDATE_GOLDEN=1");
    for name in names(recorded) {
        assert!(std::fs::read(committed.join(&name)).unwrap() == std::fs::read(recorded.join(&name)).unwrap(), "{name} differs; run with CONDUCTOR_UPDATE_GOLDEN=1");
    }
}
