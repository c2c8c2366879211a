//! Issue 9: agents on other hosts. A real nats-server with JetStream on a
//! loopback port, `conductor worker` processes and `conductor run --bus`:
//! a phase whose agents run in two workers, a worker killed during a task,
//! a worker that stalls so its task is delivered twice, a restarted server,
//! a task no worker takes, and two releases sharing one server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use evidence::record::Record;
use serde_json::Value;

use crate::fixture::{Release, codes, conductor, ok};
use crate::prometheus::free_port;

/// A nats-server with JetStream, its own store in a temporary folder,
/// killed on drop.
pub struct NatsServer {
    child: Child,
    port: u16,
    store: tempfile::TempDir,
}

impl NatsServer {
    pub fn start() -> Self {
        let store = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = spawn_server(port, store.path());
        let server = Self { child, port, store };
        server.wait_ready();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server and starts it again on the same port and store.
    pub fn restart(&mut self) {
        // SIGTERM, as a service manager restarts it.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        self.child = spawn_server(self.port, self.store.path());
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not listen on port {} within 20 s", self.port);
    }
}

fn spawn_server(port: u16, store: &Path) -> Child {
    Command::new(nats_server())
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start nats-server ({e}); install Debian's nats-server (apt-get install nats-server)"))
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `conductor worker` process, its standard error kept in a file, killed on drop.
pub struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    pub fn start(repo: &Path, url: &str, agents: &str, key: &str, ack_wait: u64) -> Self {
        let log = repo.join(format!("worker-{}.log", key.replace('/', "-")));
        let stderr = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_conductor"))
            .current_dir(repo)
            .args(["worker", "--bus", url, "--agents", agents, "--key", key, "--ack-wait", &ack_wait.to_string(), "--name", key])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let worker = Self { child, log };
        worker.wait_for("serving", Duration::from_secs(20));
        worker
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the worker's log contains `text`.
    pub fn wait_for(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.log().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the worker never logged {text:?}:\n{}", self.log());
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// P3 without prerequisites, gated on two command agents.
fn two_agent_phase(dir: &Path, identity: &str, blue_team: &str, extra: &str) {
    std::fs::create_dir_all(dir.join("phases")).unwrap();
    let phase = "id = \"P3\"\nname = \"Security & compliance\"\nrequires = []\n\n[[gate]]\nid = \"identity\"\npolicy = \"identity\"\nagents = [\"Identity/SSO\", \"Blue Team Sentinel\"]\nneeds = [\"identity-check\", \"detection-test\"]\n";
    std::fs::write(dir.join("phases/P3.toml"), phase).unwrap();
    let config = format!("[agents.\"Identity/SSO\"]\ncommand = {identity:?}\n{extra}\n[agents.\"Blue Team Sentinel\"]\ncommand = {blue_team:?}\n{extra}\n");
    std::fs::write(dir.join("conductor.toml"), config).unwrap();
}

/// A new unencrypted worker key under `keys/`, trusted for `kinds`; returns its id.
fn worker_key(release: &Release, name: &str, kinds: &str) -> String {
    let id = ok(release.path(), &["keygen", "--out", &format!("keys/{name}"), "--no-encrypt"]).trim().to_owned();
    trust_worker(release, release.path(), name, &id, kinds);
    id
}

/// Adds the worker key `keys/<name>.pub` of `owner` to `release`'s trust root.
fn trust_worker(release: &Release, owner: &Path, name: &str, id: &str, kinds: &str) {
    let public = std::fs::read_to_string(owner.join(format!("keys/{name}.pub"))).unwrap();
    let entry = format!("\n[[keys]]\nid = \"{id}\"\nname = \"{name}\"\npublic_key = \"\"\"\n{public}\"\"\"\nphases = [\"*\"]\nkinds = {kinds}\n");
    let trust = std::fs::read_to_string(release.trust()).unwrap();
    std::fs::write(release.trust(), trust + &entry).unwrap();
}

fn run_over(dir: &Path, url: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["run", "--json", "--phase", "P3", "--bus", url];
    args.extend_from_slice(extra);
    let out = conductor(dir, &args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn spawn_run(dir: &Path, url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_conductor"))
        .current_dir(dir)
        .args(["run", "--json", "--phase", "P3", "--bus", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (i32, Value) {
    let out = child.wait_with_output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// The ledger of the (only) release in `dir`.
fn ledger(dir: &Path) -> PathBuf {
    let release = std::fs::read_dir(dir.join(".conductor/releases")).unwrap().next().unwrap().unwrap().path();
    release.join("ledger.intoto.jsonl")
}

/// The agent outcome records of the current release, by agent.
fn outcomes(dir: &Path) -> Vec<(String, Value)> {
    let records: Vec<Record> = evidence::ledger::read_records(&ledger(dir)).unwrap();
    records
        .into_iter()
        .filter(|r| r.statement.predicate_type == "https://conductor.dev/attestation/agent-outcome/v1")
        .map(|r| (r.statement.predicate["agent"].as_str().unwrap_or("").to_owned(), r.statement.predicate.clone()))
        .collect()
}

fn wait_for_file(path: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_phase_runs_its_agents_in_two_worker_processes_each_signing_with_its_own_key() {
    let server = NatsServer::start();
    let release = Release::new();
    let p = release.path();
    two_agent_phase(p, "echo identity ok", "echo detections ok", "");
    let east = worker_key(&release, "east", "[\"command\"]");
    let west = worker_key(&release, "west", "[\"command\"]");
    let _a = Worker::start(p, &server.url(), "Identity/SSO", "keys/east.key", 30);
    let _b = Worker::start(p, &server.url(), "Blue Team Sentinel", "keys/west.key", 30);
    let (code, report) = run_over(p, &server.url(), &[]);
    assert_eq!(code, 0, "{report:#}");
    let outcomes = outcomes(p);
    assert_eq!(outcomes.len(), 2, "{outcomes:#?}");
    for (agent, predicate) in &outcomes {
        let expected = if agent == "Identity/SSO" { &east } else { &west };
        assert_eq!(predicate["worker"]["keyId"], expected.as_str(), "{agent} was attested by its worker's key");
    }
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");

    // A verifier whose trust root lets the west key attest only slo outcomes refuses its command outcome.
    let trust = std::fs::read_to_string(release.trust()).unwrap();
    let narrowed = p.join("narrow.toml");
    let west_entry = trust.find(&format!("id = \"{west}\"")).unwrap();
    std::fs::write(&narrowed, format!("{}{}", &trust[..west_entry], trust[west_entry..].replace("kinds = [\"command\"]", "kinds = [\"slo\"]"))).unwrap();
    let (code, report) = release.verify(&release.pack(), &narrowed);
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["worker-kind-not-allowed"], "{report:#}");

    // A release-key holder who records another verdict than the worker signed is caught.
    let ledger_path = ledger(p);
    let records = evidence::ledger::read_records(&ledger_path).unwrap();
    let signed = records.iter().find(|r| r.statement.predicate["agent"] == "Identity/SSO").unwrap();
    let mut predicate = signed.statement.predicate.clone();
    predicate["verdict"] = "fail".into();
    let draft = evidence::record::RecordDraft {
        phase: signed.link.phase.clone(),
        record_type: signed.link.record_type.clone(),
        predicate_type: signed.statement.predicate_type.clone(),
        predicate,
        subjects: vec![],
        evidence: signed.link.evidence.clone(),
    };
    let mut ledger = evidence::ledger::Ledger::open(&ledger_path).unwrap();
    ledger.append(draft, &signed.link.release, signed.link.recorded_at, &release.key()).unwrap();
    drop(ledger);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["worker-attestation-mismatch"], "{report:#}");
}

#[test]
fn a_worker_killed_during_a_task_has_it_redelivered_to_another() {
    let server = NatsServer::start();
    let release = Release::new();
    let p = release.path();
    // The first attempt marks that it started and hangs; any later one answers at once.
    two_agent_phase(p, "if [ -e first-attempt ]; then echo second attempt; else touch first-attempt; sleep 20; fi", "true", "timeout_seconds = 60\n");
    worker_key(&release, "doomed", "[\"command\"]");
    worker_key(&release, "spare", "[\"command\"]");
    let mut doomed = Worker::start(p, &server.url(), "command", "keys/doomed.key", 2);
    let started = Instant::now();
    let run = spawn_run(p, &server.url());
    wait_for_file(&p.join("first-attempt"), Duration::from_secs(30));
    let _ = doomed.child.kill();
    let _ = doomed.child.wait();
    let spare = Worker::start(p, &server.url(), "command", "keys/spare.key", 2);
    let (code, report) = finish(run);
    assert_eq!(code, 0, "{report:#}\n{}", spare.log());
    assert!(started.elapsed() < Duration::from_secs(20), "the task waited for the hung attempt: {:?}", started.elapsed());
    assert!(spare.log().contains("(delivery 2)"), "{}", spare.log());
    let identity = outcomes(p).into_iter().find(|(a, _)| a == "Identity/SSO").unwrap().1;
    assert!(identity["facts"].to_string().contains("second attempt"), "{identity:#}");
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_task_delivered_twice_is_recorded_once() {
    let server = NatsServer::start();
    let release = Release::new();
    let p = release.path();
    // The stalled worker's run of Identity/SSO outlives its delivery; Blue
    // Team Sentinel keeps the phase open until the stalled worker's late
    // result has been sent too.
    two_agent_phase(
        p,
        "if [ -e first-attempt ]; then echo second attempt; else touch first-attempt; sleep 3; echo first attempt; fi",
        "while [ ! -e released ]; do sleep 0.1; done",
        "timeout_seconds = 60\n",
    );
    worker_key(&release, "stalled", "[\"command\"]");
    worker_key(&release, "steady", "[\"command\"]");
    let stalled = Worker::start(p, &server.url(), "Identity/SSO", "keys/stalled.key", 1);
    let run = spawn_run(p, &server.url());
    wait_for_file(&p.join("first-attempt"), Duration::from_secs(30));
    let steady = Worker::start(p, &server.url(), "Identity/SSO,Blue Team Sentinel", "keys/steady.key", 1);
    // Stopped, the worker sends no progress: its delivery expires and the task goes to the steady worker.
    stalled.signal("-STOP");
    steady.wait_for("finished Identity/SSO", Duration::from_secs(30));
    stalled.signal("-CONT");
    stalled.wait_for("finished Identity/SSO", Duration::from_secs(30));
    std::fs::write(p.join("released"), "").unwrap();
    let (code, report) = finish(run);
    assert_eq!(code, 0, "{report:#}");
    let identity: Vec<Value> = outcomes(p).into_iter().filter(|(a, _)| a == "Identity/SSO").map(|(_, o)| o).collect();
    assert_eq!(identity.len(), 1, "one record for the task: {identity:#?}");
    assert!(identity[0]["facts"].to_string().contains("second attempt"), "the first result to arrive is kept: {:#}", identity[0]);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_restarted_server_loses_no_task_and_no_result() {
    let mut server = NatsServer::start();
    let release = Release::new();
    let p = release.path();
    two_agent_phase(p, "touch started; sleep 2; echo after the restart", "while [ ! -e started ]; do sleep 0.1; done", "timeout_seconds = 60\n");
    worker_key(&release, "survivor", "[\"command\"]");
    let worker = Worker::start(p, &server.url(), "command", "keys/survivor.key", 5);
    let run = spawn_run(p, &server.url());
    wait_for_file(&p.join("started"), Duration::from_secs(30));
    server.restart();
    let (code, report) = finish(run);
    assert_eq!(code, 0, "{report:#}\n{}", worker.log());
    assert_eq!(outcomes(p).len(), 2);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_task_no_worker_takes_fails_after_its_timeout_with_a_reason() {
    let server = NatsServer::start();
    let release = Release::new();
    let p = release.path();
    two_agent_phase(p, "true", "true", "timeout_seconds = 1\n");
    worker_key(&release, "partial", "[\"command\"]");
    let _worker = Worker::start(p, &server.url(), "Identity/SSO", "keys/partial.key", 5);
    let started = Instant::now();
    let (code, report) = run_over(p, &server.url(), &["--task-grace", "1"]);
    assert_eq!(code, 1, "{report:#}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let agents = report[0]["agents"].as_array().unwrap();
    let blue = agents.iter().find(|a| a["agent"] == "Blue Team Sentinel").unwrap();
    assert_eq!(blue["verdict"], "error");
    assert!(blue["reason"].as_str().unwrap().contains("no result within 2 s"), "{blue:#}");
    assert_eq!(report[0]["gates"][0]["passed"], false, "a gate never passes on missing evidence");
}

#[test]
fn two_releases_share_one_server_and_workers_without_crossing() {
    let server = NatsServer::start();
    let (first, second) = (Release::new(), Release::with_version("v2.0.0"));
    two_agent_phase(first.path(), "sleep 1", "sleep 1", "");
    two_agent_phase(second.path(), "sleep 1", "sleep 1", "");
    // One worker key, trusted by both releases' roots.
    let id = worker_key(&first, "shared", "[\"command\"]");
    trust_worker(&second, first.path(), "shared", &id, "[\"command\"]");
    let _worker = Worker::start(first.path(), &server.url(), "command", "keys/shared.key", 30);
    let runs = [spawn_run(first.path(), &server.url()), spawn_run(second.path(), &server.url())];
    for ((release, run), version) in [&first, &second].into_iter().zip(runs).zip(["v1.0.0", "v2.0.0"]) {
        let (code, report) = finish(run);
        assert_eq!(code, 0, "{version}: {report:#}");
        assert_eq!(outcomes(release.path()).len(), 2, "{version} recorded only its own two outcomes");
        let (code, report) = release.verify(&release.pack(), &release.trust());
        assert_eq!(code, 0, "{version}: {report:#}");
    }
}

#[test]
fn a_result_signed_by_a_key_the_trust_root_does_not_list_is_refused() {
    let server = NatsServer::start();
    let release = Release::new();
    let p = release.path();
    two_agent_phase(p, "true", "true", "");
    worker_key(&release, "listed", "[\"command\"]");
    // Generated but never added to trust.toml.
    ok(p, &["keygen", "--out", "keys/stranger", "--no-encrypt"]);
    let _listed = Worker::start(p, &server.url(), "Identity/SSO", "keys/listed.key", 30);
    let _stranger = Worker::start(p, &server.url(), "Blue Team Sentinel", "keys/stranger.key", 30);
    let (code, report) = run_over(p, &server.url(), &[]);
    assert_eq!(code, 1, "{report:#}");
    let blue = report[0]["agents"].as_array().unwrap().iter().find(|a| a["agent"] == "Blue Team Sentinel").unwrap().clone();
    assert_eq!(blue["verdict"], "error");
    let reason = blue["reason"].as_str().unwrap();
    assert!(reason.starts_with("the result from worker keys/stranger.key was refused:") && reason.contains("does not list"), "{reason}");
    assert_eq!(report[0]["gates"][0]["passed"], false);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "the refusal is itself verifiable evidence: {report:#}");
}

/// Debian installs nats-server in /usr/sbin, which is not on every user's PATH.
fn nats_server() -> &'static str {
    if Path::new("/usr/sbin/nats-server").exists() { "/usr/sbin/nats-server" } else { "nats-server" }
}
