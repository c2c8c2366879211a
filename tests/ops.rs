//! The perf, probe, drill and flags kinds through `conductor run`, each with
//! its gate: P1 perf compares a release with the previous one, P1 slo names
//! the probed endpoint that is down or slow, P5 dr and chaos
//! judge drills run as commands, P8 ga_flip names expired and invalid flags.
//! Each repository overrides its phase so it requires no earlier phase and
//! names only the agents under test, and each problem is fixed afterwards
//! (by the data or by a gate threshold) to show the gate then lets it pass.

use std::path::Path;

use serde_json::Value;

use crate::fixture::{conductor, git, ok, repo};

const K6: &str = include_str!("../agents/src/perf/testdata/k6-summary.json");

/// A repository whose own `phases/<phase>.toml` is `plan`, with `config` as
/// its conductor.toml and `files` written, all committed; then keygen.
pub(crate) fn ops_repo(phase: &str, plan: &str, config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = repo();
    let p = dir.path();
    std::fs::create_dir_all(p.join("phases")).unwrap();
    std::fs::write(p.join(format!("phases/{phase}.toml")), plan).unwrap();
    std::fs::write(p.join("conductor.toml"), config).unwrap();
    write(p, files);
    std::fs::write(p.join(".gitignore"), "/keys/\n/trust.toml\n").unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "chore: release wiring"]);
    ok(p, &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    dir
}

pub(crate) fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        if path.extension().is_some_and(|e| e == "sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

/// Runs `phase` and returns each gate's (passed, reasons).
pub(crate) fn run(dir: &Path, phase: &str) -> Vec<(String, bool, Vec<String>)> {
    conductor(dir, &["run", "--phase", phase]);
    decided(dir, phase)
}

/// Each gate of `phase` as `conductor status` gives its latest decision: (id, passed, reasons).
pub(crate) fn decided(dir: &Path, phase: &str) -> Vec<(String, bool, Vec<String>)> {
    let status: Value = serde_json::from_str(&ok(dir, &["status", "--json"])).unwrap();
    status
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["phase"] == phase)
        .map(|g| {
            let reasons = g["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
            (g["gate"].as_str().unwrap().to_owned(), g["state"] == "passed", reasons)
        })
        .collect()
}

pub(crate) fn gate<'a>(gates: &'a [(String, bool, Vec<String>)], id: &str) -> (bool, &'a [String]) {
    let (_, passed, reasons) = gates.iter().find(|(g, _, _)| g == id).unwrap_or_else(|| panic!("gate {id} was not decided: {gates:#?}"));
    (*passed, reasons)
}

pub(crate) fn append(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    let old = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{old}\n{text}\n")).unwrap();
}

const P1: &str = "id = \"P1\"\nname = \"Baselines\"\nrequires = []\n\n[[gate]]\nid = \"perf\"\npolicy = \"perf\"\nagents = [\"Infra Load-Tester\"]\nneeds = [\"load-test\"]\n";

#[test]
fn perf_is_inconclusive_without_a_baseline_and_names_a_regression_on_the_previous_release() {
    let dir = ops_repo("P1", P1, "[agents.\"Infra Load-Tester\"]\nresults = \"reports/k6.json\"\n", &[("reports/k6.json", K6)]);
    let p = dir.path();
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    let gates = run(p, "P1");
    let (passed, reasons) = gate(&gates, "perf");
    assert!(!passed, "the first release has no baseline");
    assert!(reasons.iter().any(|r| r.starts_with("Infra Load-Tester: inconclusive: ") && r.contains("there is no baseline to compare with")), "{reasons:#?}");

    // The next release is slower: p95 from 187.5 ms to 240 ms.
    let slower = K6.replace("\"p(95)\": 187.5032", "\"p(95)\": 240.0");
    assert_ne!(slower, K6);
    write(p, &[("reports/k6.json", &slower)]);
    git(p, &["commit", "-qam", "feat: heavier order pages"]);
    ok(p, &["init", "--version", "v1.1.0", "--key", "keys/notary.key"]);
    let gates = run(p, "P1");
    let (passed, reasons) = gate(&gates, "perf");
    assert!(!passed);
    assert!(reasons.contains(&"Infra Load-Tester: http p95 240 is +28% on the baseline 187.5 of v1.0.0, over the limit of +10%".to_owned()), "{reasons:#?}");

    // The gate's own threshold accepts it.
    append(p, "conductor.toml", "[gates.perf]\nmax_p95_regression = 0.30");
    let gates = run(p, "P1");
    assert_eq!(gate(&gates, "perf"), (true, &[][..]), "{gates:#?}");
}

const P5: &str = "id = \"P5\"\nname = \"DR / chaos\"\nrequires = []\n\n[[gate]]\nid = \"dr\"\npolicy = \"dr\"\nagents = [\"DR/BCP Lead\"]\nneeds = [\"dr-drill\"]\n\n[[gate]]\nid = \"chaos\"\npolicy = \"chaos\"\nagents = [\"Chaos Captain\"]\nneeds = [\"chaos-experiment\"]\n";

const FAILOVER: &str = "#!/bin/sh\necho '{\"event\":\"start\",\"at\":\"2026-11-30T10:00:00Z\"}'\necho 'promoting the replica'\necho '{\"event\":\"outage\",\"at\":\"2026-11-30T10:00:05Z\"}'\necho '{\"event\":\"recovered\",\"at\":\"2026-11-30T10:04:05Z\"}'\necho '{\"event\":\"data_loss_window\",\"seconds\":12}'\n";

const POD_KILL: &str = "#!/bin/sh\necho '{\"event\":\"start\",\"at\":\"2026-11-30T10:00:00Z\"}'\necho '{\"event\":\"check\",\"name\":\"steady-state\",\"ok\":true}'\n";

#[test]
fn drills_are_held_to_their_rto_and_rpo_by_the_dr_and_chaos_gates() {
    let config = "[agents.\"DR/BCP Lead\"]\ndrill = \"region failover\"\ncommand = \"./drills/failover.sh\"\nrto_seconds = 120\nrpo_seconds = 60\n\n[agents.\"Chaos Captain\"]\ndrill = \"pod kill\"\ncommand = [\"./drills/pod-kill.sh\"]\nrto_seconds = 30\n";
    let dir = ops_repo("P5", P5, config, &[("drills/failover.sh", FAILOVER), ("drills/pod-kill.sh", POD_KILL)]);
    let p = dir.path();
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    let gates = run(p, "P5");
    let (passed, reasons) = gate(&gates, "dr");
    assert!(!passed);
    assert_eq!(reasons, ["DR/BCP Lead: drill region failover: RTO 240 s exceeds the limit of 120 s"]);
    let (passed, reasons) = gate(&gates, "chaos");
    assert!(!passed);
    assert_eq!(reasons, ["Chaos Captain: drill pod kill: the drill reported no RTO; the limit is 30 s"]);

    // The experiment now measures its recovery, and the dr gate allows five minutes.
    write(p, &[("drills/pod-kill.sh", &format!("{POD_KILL}echo '{{\"event\":\"metric\",\"name\":\"rto_seconds\",\"value\":4.2}}'\n"))]);
    append(p, "conductor.toml", "[gates.dr]\nmax_rto_seconds = 300");
    let gates = run(p, "P5");
    assert_eq!(gate(&gates, "dr"), (true, &[][..]), "{gates:#?}");
    assert_eq!(gate(&gates, "chaos"), (true, &[][..]), "{gates:#?}");

    // A drill that fails exits non-zero: no threshold lets it through.
    write(p, &[("drills/failover.sh", &format!("{FAILOVER}exit 3\n"))]);
    let gates = run(p, "P5");
    assert_eq!(gate(&gates, "dr"), (false, &["DR/BCP Lead: drill region failover exited with status 3".to_owned()][..]));
}

const P8: &str = "id = \"P8\"\nname = \"GA flip\"\nrequires = []\n\n[[gate]]\nid = \"ga_flip\"\npolicy = \"ga_flip\"\nagents = [\"Feature Flag Butler\"]\nneeds = [\"flag-state\"]\n";

const FLAGS: &str = r#"{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "new-checkout": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on", "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", "off"]}},
    "legacy-search": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "metadata": {"removal_date": "2026-01-15"}},
    "dark-mode": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "dark"}
  }
}
"#;

#[test]
fn the_ga_flip_names_each_expired_and_invalid_flag() {
    let dir = ops_repo("P8", P8, "[agents.\"Feature Flag Butler\"]\nflag_files = [\"flags/flags.json\"]\n", &[("flags/flags.json", FLAGS)]);
    let p = dir.path();
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    let gates = run(p, "P8");
    let (passed, reasons) = gate(&gates, "ga_flip");
    assert!(!passed);
    assert!(reasons.contains(&"Feature Flag Butler: flag dark-mode in flags/flags.json is invalid: defaultVariant 'dark' is not one of its variants (off, on)".to_owned()), "{reasons:#?}");
    let expired = reasons.iter().find(|r| r.starts_with("Feature Flag Butler: flag legacy-search in flags/flags.json was due for removal on 2026-01-15 (as of ")).unwrap_or_else(|| panic!("{reasons:#?}"));
    assert!(expired.ends_with("); remove it or set allow_expired_flags"), "{expired}");

    // Allowing expired flags leaves the invalid one, which no threshold excuses.
    append(p, "conductor.toml", "[gates.ga_flip]\nallow_expired_flags = true");
    let gates = run(p, "P8");
    let (_, reasons) = gate(&gates, "ga_flip");
    assert!(!reasons.iter().any(|r| r.contains("legacy-search")), "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("flag dark-mode in flags/flags.json is invalid")), "{reasons:#?}");
}

const P1_PROBES: &str = "id = \"P1\"\nname = \"Baselines\"\nrequires = []\n\n[[gate]]\nid = \"slo\"\npolicy = \"slo\"\nagents = [\"Probe Master\"]\nneeds = [\"probe-snapshot\"]\n";

/// A loopback HTTP server: `/healthz` answers 200 `{"ok":true}` after
/// `delay_ms`, anything else 503. Returns its base URL.
fn service(delay_ms: u64) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                let healthy = String::from_utf8_lossy(&buf[..n]).starts_with("GET /healthz ");
                std::thread::sleep(std::time::Duration::from_millis(delay_ms));
                let (status, body) = if healthy { ("200 OK", "{\"ok\":true}") } else { ("503 Service Unavailable", "") };
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            });
        }
    });
    url
}

#[test]
fn probes_name_the_endpoint_that_is_down_or_slow_in_the_slo_gate() {
    let url = service(0);
    let config = format!(
        "[agents.\"Probe Master\"]\nsamples = 2\nretries = 1\nretry_delay_ms = 10\n\n[[agents.\"Probe Master\".endpoints]]\nname = \"health\"\nurl = \"{url}/healthz\"\nbody_contains = \"ok\"\nmax_latency_ms = 5000\n\n[[agents.\"Probe Master\".endpoints]]\nname = \"orders\"\nurl = \"{url}/orders/1001\"\n"
    );
    let dir = ops_repo("P1", P1_PROBES, &config, &[]);
    let p = dir.path();
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    let gates = run(p, "P1");
    let (passed, reasons) = gate(&gates, "slo");
    assert!(!passed);
    assert_eq!(reasons, [format!("Probe Master: probe orders ({url}/orders/1001): sample 1: status 503, expected 2xx (after 2 attempts)"), format!("Probe Master: probe orders ({url}/orders/1001): sample 2: status 503, expected 2xx (after 2 attempts)")]);

    // Only the healthy endpoint, now answering slowly: the latency limit names it, and the gate's
    // own limit accepts it.
    let slow = service(300);
    std::fs::write(p.join("conductor.toml"), format!("[agents.\"Probe Master\"]\nsamples = 1\n\n[[agents.\"Probe Master\".endpoints]]\nname = \"health\"\nurl = \"{slow}/healthz\"\nmax_latency_ms = 100\n")).unwrap();
    let gates = run(p, "P1");
    let (passed, reasons) = gate(&gates, "slo");
    assert!(!passed);
    assert_eq!(reasons.len(), 1, "{reasons:#?}");
    assert!(reasons[0].starts_with("Probe Master: probe health: latency 3") && reasons[0].ends_with(" ms is over the limit of 100 ms"), "{reasons:#?}");
    append(p, "conductor.toml", "[gates.slo]\nmax_probe_latency_ms = 5000");
    let gates = run(p, "P1");
    assert_eq!(gate(&gates, "slo"), (true, &[][..]), "{gates:#?}");
}
