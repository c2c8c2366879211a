//! Promotion end to end on a real target: the example service in two
//! versions behind nginx, whose weighted upstream the command driver
//! (`examples/service/deploy/`) rewrites and reloads; Prometheus scraping
//! both versions; a load generator on loopback. A good version goes
//! 10 → 50 → 100 and reaches GA; a version that raises its error rate is
//! rolled back at the first step, with exit 3 and an incident record.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixture::{conductor, git, ok};
use crate::prometheus::{Prometheus, free_port};
use crate::promote::release;

const NGINX_INSTALL: &str = "install Debian's nginx (apt-get install nginx); scripts/test.sh does";

/// nginx from PATH, or where Debian puts it (a user's PATH may lack /usr/sbin).
fn nginx() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("nginx")).find(|p| p.is_file()))
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service")
}

/// A child process that dies with the value.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} on port {port} did not start within 20 s");
}

/// The example service at `version`, failing `error_rate` of its order lookups.
fn service(version: &str, error_rate: f64) -> (Process, String) {
    let port = free_port();
    let child = Command::new("python3")
        .arg(example().join("app.py"))
        .env("PORT", port.to_string())
        .env("VERSION", version)
        .env("ERROR_RATE", error_rate.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the example service; install python3");
    let process = Process(child);
    wait_for(port, "the example service");
    (process, format!("127.0.0.1:{port}"))
}

/// nginx in a prefix folder of its own, proxying to the upstream `orders`,
/// all of it on the stable version to begin with.
struct Nginx {
    process: Child,
    prefix: tempfile::TempDir,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // A killed master would leave its workers serving; a stop signal takes them down with it.
        let _ = Command::new(nginx()).arg("-p").arg(self.prefix.path()).args(["-c", "nginx.conf", "-s", "stop"]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.process.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Nginx {
    fn start(stable: &str) -> Self {
        let prefix = tempfile::tempdir().unwrap();
        let p = prefix.path();
        for dir in ["logs", "tmp"] {
            std::fs::create_dir_all(p.join(dir)).unwrap();
        }
        let port = free_port();
        let temp: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].iter().map(|t| format!("    {t}_temp_path {}/tmp/{t};\n", p.display())).collect();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/logs/error.log;\nevents {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n{temp}    include upstream.conf;\n    server {{\n        listen 127.0.0.1:{port};\n        location / {{ proxy_pass http://orders; }}\n    }}\n}}\n",
            dir = p.display()
        );
        std::fs::write(p.join("nginx.conf"), conf).unwrap();
        std::fs::write(p.join("upstream.conf"), format!("upstream orders {{\n    server {stable} weight=100;\n}}\n")).unwrap();
        let process = Command::new(nginx()).arg("-p").arg(p).args(["-c", "nginx.conf"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| panic!("nginx cannot start ({e}); {NGINX_INSTALL}"));
        let nginx = Self { process, prefix, port };
        wait_for(port, "nginx");
        nginx
    }
}

/// Requests order lookups through nginx until dropped, counting answers by class.
struct Load {
    stop: Arc<AtomicBool>,
    errors: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicU64::new(0));
        let (s, e) = (stop.clone(), errors.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if !get_ok(port, "/orders/1001") {
                    e.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self { stop, errors, thread: Some(thread) }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn get_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

/// The example service's own `[promotion]` (from its conductor.toml, to the
/// end of the file), with its driver scripts found in the example and its
/// analysis reading `prometheus`.
fn promotion_config(prometheus: &str) -> String {
    let example_config = std::fs::read_to_string(example().join("conductor.toml")).unwrap();
    let section = &example_config[example_config.find("\n[promotion]\n").expect("the example configures its promotion")..];
    let deploy = format!("\"{}/", example().join("deploy").display());
    section.replace("\"deploy/", &deploy).replace("http://127.0.0.1:18390", prometheus)
}

/// A cleared release of the Checker repository, wired to promote through
/// `nginx` with analysis on `prometheus`.
fn cleared_release(prometheus: &str) -> tempfile::TempDir {
    let dir = release();
    let p = dir.path();
    let config = std::fs::read_to_string(p.join("conductor.toml")).unwrap();
    let config = config.split("[promotion]").next().unwrap().to_owned();
    std::fs::write(p.join("conductor.toml"), format!("{config}{}", promotion_config(prometheus))).unwrap();
    ok(p, &["run", "--all"]);
    ok(p, &["approve", "--role", "cab", "--key", "keys/alice.key", "--decision", "approve", "--reason", "evidence read"]);
    ok(p, &["pack"]);
    dir
}

/// The conductor in `dir` with the driver scripts' environment: nginx's prefix and both versions.
fn conductor_for(dir: &Path, nginx: &Nginx, stable: &str, canary: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conductor"));
    command.current_dir(dir).env("NGINX_PREFIX", nginx.prefix.path()).env("STABLE_ADDR", stable).env("CANARY_ADDR", canary);
    command
}

fn promote(dir: &Path, nginx: &Nginx, stable: &str, canary: &str) -> (i32, Value, String) {
    let out = conductor_for(dir, nginx, stable, canary).args(["promote", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("promote --json: {e}: {}{stderr}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// `promote` without --json, insisting its output contains `expect`.
fn promote_text(dir: &Path, nginx: &Nginx, stable: &str, canary: &str, expect: &str) -> (i32, String, String) {
    let out = conductor_for(dir, nginx, stable, canary).arg("promote").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains(expect), "{stdout}");
    (out.status.code().unwrap_or(-1), stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn upstream(nginx: &Nginx) -> String {
    std::fs::read_to_string(nginx.prefix.path().join("upstream.conf")).unwrap()
}

fn ledger_types(dir: &Path) -> Vec<String> {
    let log: Value = serde_json::from_str(&ok(dir, &["log", "--json"])).unwrap();
    log.as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap_or_default().to_owned()).collect()
}

/// The target, up and measured: both versions, nginx on the stable one, load, Prometheus.
struct Target {
    _stable: Process,
    _canary: Process,
    stable: String,
    canary: String,
    nginx: Nginx,
    load: Load,
    prometheus: Prometheus,
}

/// The canary reports the version being promoted, as the analysis's
/// `{version}` expects; the stable version an earlier one.
fn target(canary_error_rate: f64) -> Target {
    let (stable_process, stable) = service("v0.9.0", 0.0);
    let (canary_process, canary) = service("v1.0.0", canary_error_rate);
    let prometheus = Prometheus::scraping(&[stable.as_str(), canary.as_str()]);
    let nginx = Nginx::start(&stable);
    let load = Load::start(nginx.port);
    measured(&prometheus.url);
    Target { _stable: stable_process, _canary: canary_process, stable, canary, nginx, load, prometheus }
}

/// Waits until Prometheus has scraped enough of the load for a five-second
/// rate (it discovers its targets a few seconds after it starts).
fn measured(prometheus: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let now = evidence::timestamp::Timestamp::from_unix(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64).unwrap();
        if let Ok(Some(v)) = runtime.block_on(agents::instant_value(prometheus, "sum(rate(http_requests_total[5s]))", now, Duration::from_secs(5)))
            && v > 0.0
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("prometheus at {prometheus} saw no traffic within 60 s");
}

#[test]
fn a_good_version_goes_10_50_100_and_reaches_ga() {
    let t = target(0.0);
    let dir = cleared_release(&t.prometheus.url);
    let p = dir.path();
    let (code, report, stderr) = promote(p, &t.nginx, &t.stable, &t.canary);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "promoted");
    assert_eq!(upstream(&t.nginx), format!("upstream orders {{\n    server {} weight=100;\n}}\n", t.canary));
    let types = ledger_types(p);
    let promotion: Vec<&str> = types.iter().map(String::as_str).skip_while(|t| *t != "promotion-decision").collect();
    assert_eq!(promotion, ["promotion-decision", "promotion-step", "promotion-analysis", "promotion-step", "promotion-analysis", "promotion-step", "promotion-analysis", "ga-flip"]);
    let log: Value = serde_json::from_str(&ok(p, &["log", "--json"])).unwrap();
    let flip = log.as_array().unwrap().last().unwrap();
    assert_eq!((flip["type"].as_str(), flip["phase"].as_str()), (Some("ga-flip"), Some("P8")));
    let decision = log.as_array().unwrap().iter().find(|r| r["type"] == "promotion-decision").unwrap();
    // Each analysis compared the canary's errors with the stable version's (both none here).
    let ledger = std::fs::read_to_string(p.join(".conductor/releases/v1.0.0/ledger.intoto.jsonl")).unwrap();
    let analyses: Vec<Value> = ledger
        .lines()
        .filter_map(|l| evidence::record::Record::parse_line(l.as_bytes()).ok())
        .filter(|r| r.link.record_type == "promotion-analysis")
        .map(|r| r.statement.predicate)
        .collect();
    assert_eq!(analyses.len(), 3);
    for a in &analyses {
        let compared = &a["measurements"][0]["metrics"][1];
        assert_eq!(compared["name"], "canary-errors-vs-stable");
        assert_eq!(compared["comparison"]["p"], 1.0, "{compared:#}");
        assert!(compared["comparison"]["canarySamples"].as_u64().unwrap() >= 3, "{compared:#}");
    }
    assert_eq!(decision["predicateType"], "https://slsa.dev/verification_summary/v1");
    assert_eq!(t.load.errors.load(Ordering::Relaxed), 0, "no request failed during the rollout");
    // The promotion resealed the pack; the new one extends the one promoted from.
    assert_eq!(report["pack"], "evidence-v1.0.0-promotion.zip");
    ok(p, &["verify", "evidence-v1.0.0-promotion.zip", "--trust", "trust.toml", "--extends", "evidence-v1.0.0.zip"]);
}

#[test]
fn a_version_that_raises_its_error_rate_is_rolled_back_at_the_first_step() {
    let t = target(1.0);
    let dir = cleared_release(&t.prometheus.url);
    let p = dir.path();
    git(p, &["tag", "v0.9.0", "HEAD~1"]);
    let (code, report, stderr) = promote(p, &t.nginx, &t.stable, &t.canary);
    assert_eq!(code, 3, "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "aborted");
    assert_eq!(report["state"]["step"], 1);
    assert_eq!(report["state"]["weight"], 10);
    let reason = report["state"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("step 1 (10%): measurement 1: error-rate = ") && reason.contains("does not meet the success condition <= 0.02"), "{reason}");
    assert_eq!(upstream(&t.nginx), format!("upstream orders {{\n    server {} weight=100;\n}}\n", t.stable), "all traffic back on the stable version");
    let incident = p.join(report["state"]["incident"].as_str().unwrap());
    let text = std::fs::read_to_string(&incident).unwrap();
    assert!(incident.file_name().unwrap().to_string_lossy().starts_with("INC-"), "{}", incident.display());
    assert!(text.contains("- Status: ABORTED"), "{text}");
    assert!(text.contains("Commits since v0.9.0:\n\n- "), "{text}");
    assert!(text.contains("chore: release wiring"), "the release commit is a suspect: {text}");
    assert!(text.contains("The metrics recovered"), "{text}");
    let types = ledger_types(p);
    assert!(types.ends_with(&["promotion-rollback".into(), "promotion-recovery".into(), "incident".into()]), "{types:?}");
    assert!(!types.contains(&"promotion-step".into()) || types.iter().filter(|t| *t == "promotion-step").count() == 1);
    // An aborted release is not promoted again.
    let (code, _, _) = promote_text(p, &t.nginx, &t.stable, &t.canary, "was ABORTED: step 1 (10%)");
    assert_eq!(code, 1);
    // The release report says so and links the incident record.
    let md = std::fs::read_to_string(p.join("reports/release-v1.0.0.md")).unwrap();
    assert!(md.starts_with("# Release v1.0.0 (prod): ABORTED\n"), "{md}");
    assert!(md.contains(&format!("- Incident: [{0}](../{0})", report["state"]["incident"].as_str().unwrap())), "{md}");
    assert!(md.contains("| promotion-rollback |"), "{md}");
    // The resealed pack holds the incident record and extends the one promoted from.
    let out = conductor(p, &["verify", "evidence-v1.0.0-promotion.zip", "--trust", "trust.toml", "--extends", "evidence-v1.0.0.zip"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_inconclusive_step_pauses_until_a_signed_decision_continues_or_aborts() {
    let t = target(0.0);
    let dir = cleared_release(&t.prometheus.url);
    let p = dir.path();
    // The metric now asks for a series nobody exports: no data, so each step is inconclusive.
    let config = std::fs::read_to_string(p.join("conductor.toml")).unwrap().replace("sum(rate(http_requests_total[5s]))'", "sum(rate(checkout_requests_total[5s]))'")
        .replace("recovery_seconds = 30", "recovery_seconds = 4");
    std::fs::write(p.join("conductor.toml"), config).unwrap();
    ok(p, &["keygen", "--out", "keys/oncall", "--no-encrypt"]);
    let (code, report, stderr) = promote(p, &t.nginx, &t.stable, &t.canary);
    assert_eq!(code, 4, "{report:#}\n{stderr}");
    assert_eq!((report["verdict"].as_str(), report["state"]["step"].as_u64()), (Some("paused"), Some(1)));
    assert!(report["state"]["reason"].as_str().unwrap().contains("error-rate: no data (no_data = inconclusive)"), "{report:#}");
    assert!(upstream(&t.nginx).contains("weight=10;"), "traffic stays at the paused step");

    // Only a key the trust root lets sign promotion records may decide.
    let resume = |decision: &str| {
        conductor_for(p, &t.nginx, &t.stable, &t.canary)
            .args(["promote", "--json", "--resume", "--decision", decision, "--key", "keys/oncall.key", "--reason", "the checkout metric is not exported yet"])
            .output()
            .unwrap()
    };
    let refused = resume("continue");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not in the trust root"), "{}", String::from_utf8_lossy(&refused.stderr));
    let oncall = evidence::keys::PublicKey::from_pem(&std::fs::read_to_string(p.join("keys/oncall.pub")).unwrap()).unwrap();
    let mut trust = std::fs::read_to_string(p.join("trust.toml")).unwrap();
    trust.push_str(&format!("\n[[keys]]\nid = \"{}\"\nname = \"oncall\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = [\"P8\"]\npredicate_types = [\"https://conductor.dev/attestation/promotion/v1\"]\n", oncall.id(), oncall.to_pem()));
    std::fs::write(p.join("trust.toml"), trust).unwrap();

    // Continue takes the next step, which is inconclusive too; abort then rolls back.
    let out = resume("continue");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(4), "{report:#}");
    assert_eq!(report["state"]["step"], 2);
    assert!(upstream(&t.nginx).contains("weight=50;"));
    let out = resume("abort");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    assert!(report["state"]["reason"].as_str().unwrap().starts_with("step 2 (50%): aborted by a signed human decision: the checkout metric is not exported yet"), "{report:#}");
    assert_eq!(upstream(&t.nginx), format!("upstream orders {{\n    server {} weight=100;\n}}\n", t.stable));
    let types = ledger_types(p);
    assert_eq!(types.iter().filter(|t| *t == "promotion-human-decision").count(), 2, "{types:?}");
    ok(p, &["verify", "evidence-v1.0.0-promotion.zip", "--trust", "trust.toml", "--extends", "evidence-v1.0.0.zip"]);
}
