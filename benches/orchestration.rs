//! Whole-process benchmark of `conductor run --all` with agents that do no
//! real work, against the process start-up floor and the fsync floor.
//!
//! Requirement measured: with 60 agents that do no work, orchestrating P0–P8,
//! signing and ledger appends included, costs under 100 ms of wall time; and
//! the bus's messages per second.
//!
//! ```text
//! cargo bench --bench orchestration
//! BENCH_REPS=30 cargo bench --bench orchestration
//! ```
//!
//! Environment:
//! - `BENCH_REPS` (default 10): timed repetitions of each command.
//! - `BENCH_AGENTS` (default 60): roster agents, spread over P0..P8.
//! - `BENCH_CONDUCTOR`: the conductor binary to time (default: the release
//!   build cargo made for this bench, `target/release/conductor`).
//! - `BENCH_KEEP=1`: keep the temporary folder (its `template/` is the
//!   prepared repository, ready for `conductor run --all` under a profiler).
//!
//! Set-up (untimed): a temporary git repository with one commit, a notary key
//! (`conductor keygen --no-encrypt`, so no scrypt) and a started release
//! (`conductor init`). Its own `agents/roster.toml` replaces the roster with
//! `BENCH_AGENTS` agents of kind `file`, the cheapest real kind (it ingests a
//! small named file: each agent reads its own `inputs/<n>.txt`), and its own
//! `phases/P0.toml`..`P8.toml` replace the phases: the built-in ids, names and
//! `requires`, one gate per phase listing that phase's agents, with `needs`
//! their record types. Each gate reuses one built-in gate id and policy of
//! its phase (P6 `all_required_gates` and P8 `ga_flip` also check every
//! earlier gate passed). One untimed `run --all --json` checks every gate
//! passes and counts the agents, gates and ledger records.
//!
//! Timed: every repetition runs on a fresh copy of that prepared repository,
//! so each `run --all` does the whole work (an agent outcome per agent, a
//! phase-started record per phase and a decision per gate, each a signed
//! ledger append with `fsync`, plus an object-store `fsync` per evidence
//! file, gate input and policy bundle). Also timed: `run --phase P0` alone,
//! `conductor --version` (process start-up) and `git rev-parse
//! --show-toplevel` (every `run` asks git for the repository), so that
//! orchestration can be told apart from process start. Wall times come from a
//! small helper process that spawns the command and reaps it with `wait4`,
//! as in `benches/verify_pack.rs`. The timed commands run without
//! `RUST_BACKTRACE`/`RUST_LIB_BACKTRACE` (with either set, regorus's parser
//! captures a backtrace for every error value it makes while backtracking,
//! which is expensive); `run --all` is also timed with `RUST_BACKTRACE=1` and
//! reported apart. Each repetition's copies are made and `sync`ed before its
//! timed runs, and nothing is deleted until the end (see the timing loop).
//!
//! Bus throughput: the bus (`LocalBus`) lives inside the binary, which has
//! no library target a bench could link, so messages per second is the
//! whole-process figure: the messages one `run --all` publishes
//! (PhaseStarted per phase, AgentTask and EvidenceProduced per agent,
//! GateDecided per gate) divided by its wall time. It is a lower bound on
//! what the bus itself carries, not the bus's own throughput.
//!
//! This is a benchmark, not a test: it exits 0 when the limit is missed, but
//! says so in the table.

mod measure;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use measure::{AnyResult, Measured, background_cpu, conductor_binary, env_u64, loadavg, print_conditions, run_measured, work_dir};
use std::time::{Duration, Instant};

use evidence::keys::SecretKey;
use evidence::ledger::Ledger;
use evidence::record::{RecordDraft, ReleaseBinding};
use evidence::store::ObjectStore;
use evidence::timestamp::Timestamp;
use serde_json::{Value, json};

const LIMIT_MS: f64 = 100.0;

/// One gate per phase, each a built-in gate id (and policy) of that phase.
const GATES: [(&str, &str); 9] = [
    ("P0", "supply_chain"),
    ("P1", "slo"),
    ("P2", "migrations"),
    ("P3", "identity"),
    ("P4", "product_slos"),
    ("P5", "dr"),
    ("P6", "all_required_gates"),
    ("P7", "doc_lint"),
    ("P8", "ga_flip"),
];

fn main() {
    measure::bench_main("orchestration", run);
}


/// What one checked `run --all` did, counted from its JSON report and its ledger.
struct Counts {
    phases: usize,
    agents: usize,
    gates: usize,
    /// Records `run --all` appended (the ledger after, less the ledger before).
    appended: usize,
    /// Mean length of an appended ledger line, bytes.
    line_bytes: usize,
}

impl Counts {
    /// Bus messages one run publishes: PhaseStarted per phase, AgentTask and
    /// EvidenceProduced (or AgentFailed) per agent, GateDecided per gate.
    fn messages(&self) -> usize {
        self.phases + 2 * self.agents + self.gates
    }
}

fn run() -> AnyResult<()> {
    let reps = env_u64("BENCH_REPS", 10)?.max(1) as usize;
    let agents = env_u64("BENCH_AGENTS", 60)? as usize;
    if agents < GATES.len() {
        return Err(format!("BENCH_AGENTS must be at least {} (one agent per phase)", GATES.len()).into());
    }
    let conductor = conductor_binary()?;
    let (work_path, _cleanup) = work_dir("conductor-orchestration-")?;
    let template = work_path.join("template");
    let work = WorkDir(work_path);
    let t = Instant::now();
    prepare(&conductor, &template, agents)?;
    println!("conductor: {}\nprepared repository with {agents} file agents over P0..P8 in {:.1} s: {}", conductor.display(), t.elapsed().as_secs_f64(), template.display());

    // Check (untimed): `run --all` exits 0 with every gate passed, and count what it did.
    let counts = check_run(&conductor, &template, &work.path().join("check"))?;
    println!(
        "check run: {} phases, {} agents, {} gates, all passed; {} ledger records appended (mean line {} bytes)",
        counts.phases, counts.agents, counts.gates, counts.appended, counts.line_bytes
    );
    let p0_check = fresh_copy(&template, &work.path().join("check-p0"))?;
    let out = Command::new(&conductor).current_dir(&p0_check).args(["run", "--phase", "P0"]).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("`conductor run --phase P0` failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).into());
    }

    // The floors, in this process: what the disk charges for the fsyncs a
    // run makes, and what signing and appending costs without a process.
    let floors = disk_floors(work.path(), &counts)?;

    // Commands run without RUST_BACKTRACE / RUST_LIB_BACKTRACE, as a user's
    // shell has them: with them set, every error value regorus's parser makes
    // while it backtracks captures a backtrace (through anyhow), which costs
    // real time at policy-compile time. `run --all` is also timed with
    // RUST_BACKTRACE=1, as in many CI environments, and reported apart.
    let run_cmd = |args: &[&str], dir: &Path| {
        let mut cmd = Command::new(&conductor);
        cmd.args(args).current_dir(dir).env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE");
        cmd
    };
    // Warm-up (untimed): page cache for the binary, git and the template.
    for i in 0..2 {
        run_measured(run_cmd(&["--version"], &template))?;
        let dir = fresh_copy(&template, &work.path().join(format!("warm-{i}")))?;
        let m = run_measured(run_cmd(&["run", "--all"], &dir))?;
        if !m.success {
            return Err(format!("warm-up `conductor run --all` failed (exit {:?})", m.code).into());
        }
    }

    let background = background_cpu(Duration::from_secs(1));
    let load_before = loadavg();
    let mut all = Vec::new();
    let mut p0 = Vec::new();
    let mut version = Vec::new();
    let mut git = Vec::new();
    let mut all_bt = Vec::new();
    for rep in 0..reps {
        // Copies first, then `sync`, so no timed run shares the disk with
        // their write-back. Nothing is deleted until the end: on ext4 without
        // a journal (as on this kind of VM) every file creation checks the
        // inodes freed in the last few seconds, so deleting the previous
        // copies would slow the object-store writes of the next run.
        let dirs: Vec<PathBuf> = ["all", "p0", "bt"].iter().map(|k| fresh_copy(&template, &work.path().join(format!("rep-{rep}-{k}")))).collect::<AnyResult<_>>()?;
        sync_disk();
        let dir = &dirs[0];
        let a = run_measured(run_cmd(&["run", "--all"], dir))?;
        if !a.success {
            return Err(format!("`conductor run --all` failed in repetition {} (exit {:?}) in {}", rep + 1, a.code, dir.display()).into());
        }
        let p = run_measured(run_cmd(&["run", "--phase", "P0"], &dirs[1]))?;
        if !p.success {
            return Err(format!("`conductor run --phase P0` failed in repetition {} (exit {:?})", rep + 1, p.code).into());
        }
        let mut bt = run_cmd(&["run", "--all"], &dirs[2]);
        bt.env("RUST_BACKTRACE", "1");
        let b = run_measured(bt)?;
        if !b.success {
            return Err(format!("`RUST_BACKTRACE=1 conductor run --all` failed in repetition {} (exit {:?})", rep + 1, b.code).into());
        }
        let v = run_measured(run_cmd(&["--version"], &template))?;
        let mut g = Command::new("git");
        g.args(["rev-parse", "--show-toplevel"]).current_dir(&template);
        let g = run_measured(g)?;
        println!(
            "  rep {:>2}: run --all {:6.1} ms (cpu {:5.1} ms)   run --phase P0 {:5.1} ms   RUST_BACKTRACE=1 run --all {:6.1} ms   --version {:4.1} ms   git rev-parse {:4.1} ms",
            rep + 1, ms(a.wall), ms(a.cpu), ms(p.wall), ms(b.wall), ms(v.wall), ms(g.wall)
        );
        all_bt.push(b);
        all.push(a);
        p0.push(p);
        version.push(v);
        git.push(g);
    }
    let load_after = loadavg();

    let walls = |v: &[Measured]| v.iter().map(|m| ms(m.wall)).collect::<Vec<_>>();
    let (all_med, all_min) = (median(walls(&all)), min(walls(&all)));
    let (p0_med, p0_min) = (median(walls(&p0)), min(walls(&p0)));
    let (ver_med, ver_min) = (median(walls(&version)), min(walls(&version)));
    let (git_med, git_min) = (median(walls(&git)), min(walls(&git)));
    let (bt_med, bt_min) = (median(walls(&all_bt)), min(walls(&all_bt)));
    let all_cpu = median(all.iter().map(|m| ms(m.cpu)).collect());
    let messages = counts.messages();
    let rate = messages as f64 / (all_med / 1000.0);
    let rate_best = messages as f64 / (all_min / 1000.0);
    let start_floor = ver_med + git_med;
    let orchestration = all_med - start_floor;
    let pass = all_med < LIMIT_MS;
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };

    println!();
    println!("orchestration: {reps} repetitions, {} CPUs, fresh copy of the prepared repository per run", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    print_conditions(&load_before, &load_after, background, "wall times are inflated");
    println!();
    println!("| runs | agents | `run --all` median ms | min ms | cpu median ms | ledger appends/run | bus messages/run | messages/s (median) | messages/s (min) | < {LIMIT_MS} ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {reps} | {} | {all_med:.1} | {all_min:.1} | {all_cpu:.1} | {} | {messages} | {rate:.0} | {rate_best:.0} | {} |",
        counts.agents, counts.appended, verdict(pass)
    );
    println!();
    println!("| command | median ms | min ms |");
    println!("|---|---|---|");
    println!("| `conductor run --all` | {all_med:.1} | {all_min:.1} |");
    println!("| `conductor run --phase P0` | {p0_med:.1} | {p0_min:.1} |");
    println!("| `RUST_BACKTRACE=1 conductor run --all` | {bt_med:.1} | {bt_min:.1} |");
    println!("| `conductor --version` (process start) | {ver_med:.1} | {ver_min:.1} |");
    println!("| `git rev-parse --show-toplevel` (each run spawns it) | {git_med:.1} | {git_min:.1} |");
    println!();
    println!(
        "fsync floor on this disk ({}): {} ledger appends (write {} bytes + fdatasync) {:.1} ms; {} object-store puts (new file + fsync + rename) {:.1} ms",
        work.path().display(), counts.appended, counts.line_bytes, floors.ledger_fsync_ms, floors.store_puts, floors.store_ms
    );
    println!(
        "in-process floor: {} signed `Ledger::append`s (Ed25519, fdatasync) {:.1} ms; a single fdatasync {:.2} ms (medians of {FLOOR_TRIALS} trials of {})",
        counts.appended, floors.signed_appends_ms, floors.one_fsync_ms, counts.appended
    );
    println!(
        "orchestration beyond process start (run --all median - --version median - git median): {orchestration:.1} ms; of which the fsync floor is {:.1} ms",
        floors.ledger_fsync_ms + floors.store_ms
    );
    println!("bus messages/s is the whole-process figure ({messages} messages / `run --all` wall time): the in-process LocalBus is not reachable from a bench (the binary has no library target)");
    println!(
        "RESULT: {} (`run --all` median {all_med:.1} ms vs limit {LIMIT_MS} ms; {messages} bus messages at {rate:.0} messages/s)",
        if pass { "PASS" } else { "FAIL — requirement missed" }
    );
    Ok(())
}

/// The temporary folder's path (the `TempDir` itself is dropped or kept in `run`).
struct WorkDir(PathBuf);

impl WorkDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------
// Locating things


// ---------------------------------------------------------------------------
// The prepared repository

fn git(dir: &Path, args: &[&str]) -> AnyResult<()> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Release Bot")
        .env("GIT_AUTHOR_EMAIL", "bot@example.com")
        .env("GIT_COMMITTER_NAME", "Release Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.com")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

fn conductor_ok(conductor: &Path, dir: &Path, args: &[&str]) -> AnyResult<String> {
    let out = Command::new(conductor).current_dir(dir).args(args).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("conductor {args:?} failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn agent_name(n: usize) -> String {
    format!("Bench Agent {n:02}")
}

fn record_type(n: usize) -> String {
    format!("bench-input-{n:02}")
}

/// The agents of each phase: `agents` split over the nine phases as evenly as
/// possible, earlier phases taking the remainder.
fn agents_by_phase(agents: usize) -> Vec<Vec<usize>> {
    let phases = GATES.len();
    let mut out = Vec::new();
    let mut next = 0;
    for i in 0..phases {
        let count = agents / phases + usize::from(i < agents % phases);
        out.push((next..next + count).collect());
        next += count;
    }
    out
}

/// The built-in phase `id`: its name and `requires`, read from the
/// repository's `phases/` (the files the binary embeds).
fn builtin_phase(id: &str, gate: &str) -> AnyResult<(String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("phases").join(format!("{id}.toml"));
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = doc.get("name").and_then(toml::Value::as_str).ok_or_else(|| format!("{}: no name", path.display()))?;
    let requires = doc.get("requires").and_then(toml::Value::as_array).map(|a| a.iter().filter_map(toml::Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
    let gates = doc.get("gate").and_then(toml::Value::as_array).cloned().unwrap_or_default();
    if !gates.iter().any(|g| g.get("id").and_then(toml::Value::as_str) == Some(gate)) {
        return Err(format!("{}: the built-in phase has no gate {gate}; update GATES in this bench", path.display()).into());
    }
    Ok((name.to_owned(), requires))
}

fn toml_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "))
}

/// Writes the repository, commits it, makes the key and starts release v1.0.0.
fn prepare(conductor: &Path, repo: &Path, agents: usize) -> AnyResult<()> {
    fs::create_dir_all(repo.join("agents"))?;
    fs::create_dir_all(repo.join("phases"))?;
    fs::create_dir_all(repo.join("inputs"))?;
    let by_phase = agents_by_phase(agents);
    let mut roster = String::from("# Benchmark roster: agents of kind `file` that ingest one tiny file each.\n");
    let mut config = String::new();
    for (p, members) in by_phase.iter().enumerate() {
        let (phase, gate) = GATES[p];
        for &n in members {
            roster.push_str(&format!(
                "\n[[agent]]\nname = {:?}\nkind = \"file\"\nphases = [{phase:?}]\nrecord_type = {:?}\ninputs = [\"path\"]\nsummary = \"ingests inputs/{n:02}.txt\"\n",
                agent_name(n), record_type(n)
            ));
            config.push_str(&format!("[agents.{:?}]\npath = \"inputs/{n:02}.txt\"\n\n", agent_name(n)));
            fs::write(repo.join("inputs").join(format!("{n:02}.txt")), format!("input {n} of the orchestration benchmark\n"))?;
        }
        let (name, requires) = builtin_phase(phase, gate)?;
        let names: Vec<String> = members.iter().map(|&n| agent_name(n)).collect();
        let needs: Vec<String> = members.iter().map(|&n| record_type(n)).collect();
        fs::write(
            repo.join("phases").join(format!("{phase}.toml")),
            format!(
                "id = {phase:?}\nname = {name:?}\nrequires = {}\n\n[[gate]]\nid = {gate:?}\npolicy = {gate:?}\nagents = {}\nneeds = {}\n",
                toml_list(&requires), toml_list(&names), toml_list(&needs)
            ),
        )?;
    }
    fs::write(repo.join("agents").join("roster.toml"), roster)?;
    fs::write(repo.join("conductor.toml"), config)?;
    git(repo, &["init", "-q", "-b", "main"])?;
    git(repo, &["add", "."])?;
    git(repo, &["commit", "-qm", "bench: orchestration fixture"])?;
    conductor_ok(conductor, repo, &["keygen", "--out", "keys/notary", "--no-encrypt"])?;
    conductor_ok(conductor, repo, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"])?;
    Ok(())
}

/// Flushes dirty pages to disk (`sync`), so that timed runs start on a quiet disk.
fn sync_disk() {
    let _ = Command::new("sync").status();
}

/// A copy of `from` at `to` (replacing anything there), symlinks as symlinks.
fn fresh_copy(from: &Path, to: &Path) -> AnyResult<PathBuf> {
    if to.exists() {
        fs::remove_dir_all(to)?;
    }
    copy_tree(from, to)?;
    Ok(to.to_owned())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &dst)?;
        } else {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

fn ledger_lines(repo: &Path) -> AnyResult<Vec<usize>> {
    let path = repo.join(".conductor/releases/v1.0.0/ledger.intoto.jsonl");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().map(str::len).collect())
}

/// One untimed `run --all --json` on a copy: exit 0, every phase and gate
/// passed, every agent passed; returns what it counted.
fn check_run(conductor: &Path, template: &Path, dir: &Path) -> AnyResult<Counts> {
    let dir = fresh_copy(template, dir)?;
    let before = ledger_lines(&dir)?.len();
    let out = Command::new(conductor).current_dir(&dir).args(["run", "--all", "--json"]).stdin(Stdio::null()).output()?;
    let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("`run --all --json` printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))?;
    if !out.status.success() {
        return Err(format!("`conductor run --all` exited {} on the prepared repository {}:\n{report:#}", out.status, dir.display()).into());
    }
    let phases = report.as_array().ok_or("the report is not a list of phases")?;
    let mut counts = Counts { phases: phases.len(), agents: 0, gates: 0, appended: 0, line_bytes: 0 };
    for phase in phases {
        if phase["passed"] != true {
            return Err(format!("phase did not pass: {phase:#}").into());
        }
        for agent in phase["agents"].as_array().ok_or("no agents list")? {
            if agent["verdict"] != "pass" {
                return Err(format!("agent did not pass: {agent}").into());
            }
            counts.agents += 1;
        }
        for gate in phase["gates"].as_array().ok_or("no gates list")? {
            if gate["passed"] != true {
                return Err(format!("gate did not pass: {gate}").into());
            }
            counts.gates += 1;
        }
    }
    if counts.phases != GATES.len() {
        return Err(format!("`run --all` ran {} phases, not {}", counts.phases, GATES.len()).into());
    }
    let lines = ledger_lines(&dir)?;
    let new = &lines[before..];
    counts.appended = new.len();
    counts.line_bytes = new.iter().sum::<usize>() / new.len().max(1);
    let expected = counts.phases + counts.agents + counts.gates;
    if counts.appended != expected {
        return Err(format!("`run --all` appended {} records, expected {expected} (phase-started + outcomes + decisions)", counts.appended).into());
    }
    Ok(counts)
}

// ---------------------------------------------------------------------------
// The disk floors

struct Floors {
    /// `appended` writes of a ledger-sized line, each followed by fdatasync.
    ledger_fsync_ms: f64,
    /// Median of those fdatasyncs alone.
    one_fsync_ms: f64,
    /// Object-store puts a run makes: one per agent evidence file, and a gate
    /// input and a policy bundle per gate.
    store_puts: usize,
    store_ms: f64,
    /// `appended` signed appends through `evidence::ledger::Ledger`.
    signed_appends_ms: f64,
}

/// Trials of each floor; the medians are reported.
const FLOOR_TRIALS: usize = 5;

/// Measures the floors in `dir`, [`FLOOR_TRIALS`] times each, deleting
/// nothing (see the timing loop for why).
fn disk_floors(dir: &Path, counts: &Counts) -> AnyResult<Floors> {
    let n = counts.appended;
    let store_puts = counts.agents + 2 * counts.gates;
    let line = vec![b'x'; counts.line_bytes.max(1)];
    let key = SecretKey::ed25519_from_seed(&[7; 32])?;
    let release = ReleaseBinding {
        version: "v1.0.0".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        environment: "prod".into(),
        id: "fedcba9876543210fedcba9876543210".into(),
    };
    let at = Timestamp::from_unix(1_800_000_000)?;
    let (mut ledger_fsync, mut one_fsync, mut store_t, mut signed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for trial in 0..FLOOR_TRIALS {
        sync_disk();
        let mut file = fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("fsync-floor-{trial}.jsonl")))?;
        let mut syncs = Vec::new();
        let t = Instant::now();
        for _ in 0..n {
            file.write_all(&line)?;
            file.write_all(b"\n")?;
            let s = Instant::now();
            file.sync_data()?;
            syncs.push(ms(s.elapsed()));
        }
        ledger_fsync.push(ms(t.elapsed()));
        one_fsync.push(median(syncs));
        drop(file);

        sync_disk();
        let store = ObjectStore::new(dir.join(format!("fsync-floor-store-{trial}")));
        let t = Instant::now();
        for i in 0..store_puts {
            store.put(format!("object {i} of the fsync floor\n").as_bytes())?;
        }
        store_t.push(ms(t.elapsed()));

        sync_disk();
        let mut ledger = Ledger::open(&dir.join(format!("signed-floor-{trial}.intoto.jsonl")))?;
        let t = Instant::now();
        for i in 0..n {
            let draft = RecordDraft {
                phase: "P0".into(),
                record_type: "bench-input-00".into(),
                predicate_type: "https://conductor.dev/attestation/agent-outcome/v1".into(),
                predicate: json!({ "agent": agent_name(i), "kind": "file", "verdict": "pass", "reason": "ingested inputs/00.txt (41 bytes)",
                    "facts": { "path": "inputs/00.txt", "size": 41 }, "runId": "0123456789abcdef01234567", "taskId": "0123456789abcdef01234567" }),
                subjects: vec![],
                evidence: vec![],
            };
            ledger.append(draft, &release, at, &key)?;
        }
        signed.push(ms(t.elapsed()));
    }
    Ok(Floors { ledger_fsync_ms: median(ledger_fsync), one_fsync_ms: median(one_fsync), store_puts, store_ms: median(store_t), signed_appends_ms: median(signed) })
}

// ---------------------------------------------------------------------------
// Statistics

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min(v: Vec<f64>) -> f64 {
    v.into_iter().fold(f64::INFINITY, f64::min)
}
