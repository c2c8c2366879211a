//! Whole-process benchmark of the NATS JetStream bus against the in-process
//! bus, and of the time JetStream takes to notice a dead worker.
//!
//! ```text
//! cargo bench --bench bus
//! BENCH_TASKS=200 BENCH_REPS=5 cargo bench --bench bus
//! ```
//!
//! Environment:
//! - `BENCH_TASKS` (default 40): agents of kind `file` in one phase.
//! - `BENCH_REPS` (default 3): timed runs of each bus, and dead-worker trials.
//! - `BENCH_WORKERS` (default 2): `conductor worker` processes for the NATS runs.
//! - `BENCH_ACK_WAIT` (default 2): the workers' `--ack-wait`, seconds.
//! - `BENCH_CONDUCTOR`: the conductor binary (default: the release build).
//!
//! Set-up (untimed): a nats-server with JetStream on a free loopback port and
//! its own store (Debian's `nats-server`; the bench stops with the install
//! hint without it); a git repository whose roster is `BENCH_TASKS` agents of
//! kind `file` (each ingests its own tiny input) and whose `phases/P0.toml`
//! gates them all (P1..P8 become phases of one unused filler agent, since the
//! roster replaces the built-in one); a notary key, a worker key trusted for kind `file`, a
//! started release.
//!
//! Timed: `conductor run --phase P0` on a fresh copy of the repository, once
//! with the in-process bus and once with `--bus nats://...` to the running
//! workers; tasks per second is agents over the run's wall time (process
//! start, signing and ledger appends included, the same for both buses).
//! Dead worker: one agent of kind `command` whose first attempt hangs; two
//! workers serve it; the one that took the task is killed (SIGKILL) and the
//! time from the kill to the other worker starting the redelivered task is
//! the detection time, bounded by the ack wait.
//!
//! This is a benchmark, not a test: it prints figures and never judges them.

mod measure;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use measure::{AnyResult, conductor_binary, env_u64, work_dir};

fn main() {
    measure::bench_main("bus", run);
}

fn run() -> AnyResult<()> {
    let tasks = env_u64("BENCH_TASKS", 40)?.max(1) as usize;
    let reps = env_u64("BENCH_REPS", 3)?.max(1) as usize;
    let workers = env_u64("BENCH_WORKERS", 2)?.max(1) as usize;
    let ack_wait = env_u64("BENCH_ACK_WAIT", 2)?.max(1);
    let conductor = conductor_binary()?;
    let (work, _cleanup) = work_dir("conductor-bus-")?;
    let server = Server::start(&work.join("nats"))?;
    let url = server.url();
    let template = work.join("template");
    prepare(&conductor, &template, tasks, "file")?;
    println!("conductor: {}\nnats-server on {url}; {tasks} agents of kind file, {workers} workers, ack wait {ack_wait} s", conductor.display());

    let mut local = Vec::new();
    for rep in 0..reps {
        let dir = fresh_copy(&template, &work.join(format!("local-{rep}")))?;
        local.push(timed_run(&conductor, &dir, &[])?);
    }
    let running: Vec<Worker> = (0..workers).map(|i| Worker::start(&conductor, &template, &url, "file", ack_wait, &work.join(format!("worker-{i}.log")))).collect::<AnyResult<_>>()?;
    let mut remote = Vec::new();
    for rep in 0..reps {
        let dir = fresh_copy(&template, &work.join(format!("nats-{rep}")))?;
        remote.push(timed_run(&conductor, &dir, &["--bus", &url])?);
    }
    drop(running);
    report("in-process", tasks, &local);
    report("NATS JetStream", tasks, &remote);

    let detections = dead_worker(&conductor, &work, &url, ack_wait, reps)?;
    let mean = detections.iter().sum::<f64>() / detections.len() as f64;
    let max = detections.iter().cloned().fold(0.0, f64::max);
    println!("dead worker noticed (kill to redelivered start), ack wait {ack_wait} s: mean {mean:.2} s, max {max:.2} s over {} trials", detections.len());
    Ok(())
}

fn report(bus: &str, tasks: usize, walls: &[Duration]) {
    let secs: Vec<f64> = walls.iter().map(Duration::as_secs_f64).collect();
    let mean = secs.iter().sum::<f64>() / secs.len() as f64;
    let best = secs.iter().cloned().fold(f64::MAX, f64::min);
    println!("{bus:<15} run --phase P0: mean {:7.1} ms, best {:7.1} ms; {:7.1} tasks/s (mean), {:7.1} tasks/s (best)", mean * 1e3, best * 1e3, tasks as f64 / mean, tasks as f64 / best);
}

/// Times `conductor run --phase P0` in `dir`, insisting every gate passes.
fn timed_run(conductor: &Path, dir: &Path, extra: &[&str]) -> AnyResult<Duration> {
    let started = Instant::now();
    let out = Command::new(conductor).current_dir(dir).args(["run", "--phase", "P0"]).args(extra).stdin(Stdio::null()).output()?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(format!("`conductor run --phase P0 {}` failed: {}{}", extra.join(" "), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(wall)
}

/// Each trial: two workers serve one hanging agent; the one that took it is
/// killed; the time until the other starts the redelivery is returned.
fn dead_worker(conductor: &Path, work: &Path, url: &str, ack_wait: u64, trials: usize) -> AnyResult<Vec<f64>> {
    let mut times = Vec::new();
    for trial in 0..trials {
        let dir = work.join(format!("dead-{trial}"));
        prepare(conductor, &dir, 1, "command")?;
        let logs = [dir.join("a.log"), dir.join("b.log")];
        let mut pair = [Worker::start(conductor, &dir, url, "command", ack_wait, &logs[0])?, Worker::start(conductor, &dir, url, "command", ack_wait, &logs[1])?];
        let mut run = Command::new(conductor).current_dir(&dir).args(["run", "--phase", "P0", "--bus", url]).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let taker = loop {
            if let Some(i) = logs.iter().position(|l| fs::read_to_string(l).unwrap_or_default().contains("started")) {
                break i;
            }
            if Instant::now() > deadline {
                return Err("no worker started the task within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        pair[taker].kill();
        let killed = Instant::now();
        let other = &logs[1 - taker];
        while !fs::read_to_string(other).unwrap_or_default().contains("(delivery 2)") {
            if killed.elapsed() > Duration::from_secs(ack_wait * 5 + 10) {
                return Err("the task was not redelivered".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        times.push(killed.elapsed().as_secs_f64());
        let status = run.wait()?;
        if !status.success() {
            return Err(format!("the dead-worker run failed ({status})").into());
        }
    }
    Ok(times)
}

/// A repository with `agents` agents of `kind` in P0 and a worker key trusted for it.
fn prepare(conductor: &Path, repo: &Path, agents: usize, kind: &str) -> AnyResult<()> {
    fs::create_dir_all(repo.join("agents"))?;
    fs::create_dir_all(repo.join("phases"))?;
    fs::create_dir_all(repo.join("inputs"))?;
    let mut roster = String::from("# Benchmark roster.\n");
    let mut config = String::new();
    let (mut names, mut needs) = (Vec::new(), Vec::new());
    let input = if kind == "file" { "path" } else { "command" };
    for n in 0..agents {
        let name = format!("Bench Agent {n:03}");
        roster.push_str(&format!("\n[[agent]]\nname = {name:?}\nkind = {kind:?}\nphases = [\"P0\"]\nrecord_type = \"bench-{n:03}\"\ninputs = [{input:?}]\nsummary = \"benchmark agent\"\n"));
        if kind == "file" {
            config.push_str(&format!("[agents.{name:?}]\npath = \"inputs/{n:03}.txt\"\n\n"));
            fs::write(repo.join("inputs").join(format!("{n:03}.txt")), format!("input {n}\n"))?;
        } else {
            // The first attempt marks itself and hangs; a redelivered one answers at once.
            config.push_str(&format!("[agents.{name:?}]\ncommand = \"if [ -e hung ]; then true; else touch hung; sleep 60; fi\"\ntimeout_seconds = 120\n\n"));
        }
        names.push(format!("{name:?}"));
        needs.push(format!("\"bench-{n:03}\""));
    }
    let phase = format!("id = \"P0\"\nname = \"Bench\"\nrequires = []\n\n[[gate]]\nid = \"supply_chain\"\npolicy = \"supply_chain\"\nagents = [{}]\nneeds = [{}]\n", names.join(", "), needs.join(", "));
    fs::write(repo.join("phases/P0.toml"), phase)?;
    // The roster replaces the built-in one, so the other phases, never run
    // here, each gate one filler agent instead of the built-in agents.
    roster.push_str("\n[[agent]]\nname = \"Bench Filler\"\nkind = \"file\"\nphases = [\"P1\", \"P2\", \"P3\", \"P4\", \"P5\", \"P6\", \"P7\", \"P8\"]\nrecord_type = \"bench-filler\"\ninputs = [\"path\"]\nsummary = \"never run\"\n");
    for n in 1..=8 {
        let filler = format!("id = \"P{n}\"\nname = \"Unused {n}\"\nrequires = []\n\n[[gate]]\nid = \"unused_{n}\"\npolicy = \"supply_chain\"\nagents = [\"Bench Filler\"]\nneeds = [\"bench-filler\"]\n");
        fs::write(repo.join(format!("phases/P{n}.toml")), filler)?;
    }
    fs::write(repo.join("agents/roster.toml"), roster)?;
    fs::write(repo.join("conductor.toml"), config)?;
    git(repo, &["init", "-q", "-b", "main"])?;
    git(repo, &["add", "."])?;
    git(repo, &["commit", "-qm", "bench: bus fixture"])?;
    conductor_ok(conductor, repo, &["keygen", "--out", "keys/notary", "--no-encrypt"])?;
    conductor_ok(conductor, repo, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"])?;
    let id = conductor_ok(conductor, repo, &["keygen", "--out", "keys/worker", "--no-encrypt"])?.trim().to_owned();
    let public = fs::read_to_string(repo.join("keys/worker.pub"))?;
    let trust = fs::read_to_string(repo.join("trust.toml"))?;
    fs::write(repo.join("trust.toml"), format!("{trust}\n[[keys]]\nid = \"{id}\"\nname = \"bench worker\"\npublic_key = \"\"\"\n{public}\"\"\"\nphases = [\"*\"]\nkinds = [{kind:?}]\n"))?;
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> AnyResult<()> {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()?;
    if !status.success() {
        return Err(format!("git {args:?} failed").into());
    }
    Ok(())
}

fn conductor_ok(conductor: &Path, dir: &Path, args: &[&str]) -> AnyResult<String> {
    let out = Command::new(conductor).current_dir(dir).args(args).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("conductor {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn fresh_copy(from: &Path, to: &Path) -> AnyResult<PathBuf> {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status()?;
    if !status.success() {
        return Err(format!("cp -a {} {} failed", from.display(), to.display()).into());
    }
    Ok(to.to_owned())
}

/// nats-server with JetStream on a free loopback port, stopped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(store: &Path) -> AnyResult<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nats-server ({e}); install Debian's nats-server (apt-get install nats-server)"))?;
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("nats-server did not listen within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `conductor worker`, killed on drop.
struct Worker(Child);

impl Worker {
    fn start(conductor: &Path, repo: &Path, url: &str, agents: &str, ack_wait: u64, log: &Path) -> AnyResult<Self> {
        let child = Command::new(conductor)
            .current_dir(repo)
            .args(["worker", "--bus", url, "--agents", agents, "--key", "keys/worker.key", "--parallelism", "8", "--ack-wait", &ack_wait.to_string()])
            .stdout(Stdio::null())
            .stderr(fs::File::create(log)?)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !fs::read_to_string(log).unwrap_or_default().contains("serving") {
            if Instant::now() > deadline {
                return Err(format!("the worker did not start: {}", fs::read_to_string(log).unwrap_or_default()).into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Self(child))
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Debian installs nats-server in /usr/sbin, which is not on every user's PATH.
fn nats_server() -> &'static str {
    if Path::new("/usr/sbin/nats-server").exists() { "/usr/sbin/nats-server" } else { "nats-server" }
}
