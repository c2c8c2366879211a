//! Whole-process benchmark of `conductor changelog` and `conductor version`
//! against git-cliff on one generated repository, with a full `git log`
//! read as the floor: wall time, peak memory and the ratio to that floor.
//!
//! ```text
//! cargo bench --bench changelog
//! BENCH_CHANGELOG_COMMITS=10000 BENCH_CHANGELOG_TAGS=100 BENCH_REPS=1 cargo bench --bench changelog
//! ```
//!
//! Environment:
//! - `BENCH_CHANGELOG_COMMITS` (default 100000): commits of the generated history.
//! - `BENCH_CHANGELOG_TAGS` (default 1000): release tags, evenly spaced.
//! - `BENCH_REPS` (default 3): timed runs per command (the median is
//!   reported), after one untimed warm-up run that fills the page cache;
//!   a first run over 10 s counts as a timed run instead.
//! - `BENCH_CONDUCTOR`: the conductor binary (default: the release build
//!   cargo made for this bench).
//! - `BENCH_KEEP=1`: keep the generated repository.
//!
//! The repository is made with `git fast-import`: a linear history in which
//! each commit appends a line to one of five files, with Conventional
//! Commits messages of mixed types and scopes (about 3% breaking, 10% not
//! conforming), five authors and one-minute steps of committer time; the
//! tags `v1.0.0`, `v1.0.1`, ... are spaced evenly, the last some commits
//! before HEAD so there is unreleased work.
//!
//! git-cliff comes from PyPI (`pip install git-cliff`) into a virtualenv
//! under `target/bench-changelog/`, never into the project. It runs with a
//! minimal configuration written next to the repository (`--config`) that
//! groups commits by conventional type much as conductor does; git-cliff's
//! built-in default configuration is a different, richer template, so it is
//! not used. Commands timed, each on the same repository:
//! - `git log --oneline | wc -l`: every commit read once, the floor;
//! - `conductor changelog` and `git-cliff --config cliff.toml`: every release;
//! - `conductor changelog --from <last tag>` and `git-cliff --unreleased`;
//! - `conductor version --dry-run` and `git-cliff --bumped-version`.

mod measure;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use measure::{AnyResult, Measured, Rng, background_cpu, conductor_binary, env_u64, loadavg, print_conditions, run_measured, target_dir, work_dir};

fn main() {
    measure::bench_main("changelog", run);
}


/// The minimal git-cliff configuration: Keep a Changelog headings, entries
/// grouped by conventional type, non-conforming commits kept.
const CLIFF_TOML: &str = r##"[changelog]
header = "# Changelog\n"
body = """
{% if version %}## [{{ version | trim_start_matches(pat="v") }}] - {{ timestamp | date(format="%Y-%m-%d") }}{% else %}## [Unreleased]{% endif %}
{% for group, commits in commits | group_by(attribute="group") %}
### {{ group }}
{% for commit in commits %}- {% if commit.scope %}**{{ commit.scope }}:** {% endif %}{{ commit.message | split(pat="\n") | first }} ({{ commit.id | truncate(length=7, end="") }}, {{ commit.author.name }})
{% endfor %}{% endfor %}
"""
trim = true

[git]
conventional_commits = true
filter_unconventional = false
filter_commits = false
tag_pattern = "v[0-9].*"
sort_commits = "newest"
commit_parsers = [
  { message = "^feat", group = "Added" },
  { message = "^fix", group = "Fixed" },
  { message = "^(perf|refactor|docs|chore|test|build|ci)", group = "Changed" },
  { message = ".*", group = "Other" },
]
"##;

fn run() -> AnyResult<()> {
    let commits = env_u64("BENCH_CHANGELOG_COMMITS", 100_000)?.max(10) as usize;
    let tags = (env_u64("BENCH_CHANGELOG_TAGS", 1000)? as usize).clamp(1, commits / 2);
    let reps = env_u64("BENCH_REPS", 3)?.max(1) as usize;
    let conductor = conductor_binary()?;
    let cliff = install_git_cliff()?;
    let (root, _cleanup) = work_dir("conductor-changelog-bench-")?;
    let repo = root.join("repo");
    let t = Instant::now();
    let last_tag = generate(&repo, commits, tags)?;
    println!("generated {commits} commits with {tags} tags in {:.1} s (last tag {last_tag})", t.elapsed().as_secs_f64());
    let config = root.join("cliff.toml");
    fs::write(&config, CLIFF_TOML)?;
    let config = config.to_str().ok_or("non-UTF-8 temp dir")?.to_owned();
    check_outputs(&repo, &conductor, &last_tag)?;

    let cases: Vec<(&str, &str, Command)> = vec![
        ("full history", "git log --oneline | wc -l", shell(&repo, "git log --oneline | wc -l")),
        ("full changelog", "conductor changelog", cmd(&repo, &conductor, &["changelog"])),
        ("full changelog", "git-cliff --config cliff.toml", cmd(&repo, &cliff, &["--config", &config])),
        ("unreleased", "conductor changelog --from <last tag>", cmd(&repo, &conductor, &["changelog", "--from", &last_tag])),
        ("unreleased", "git-cliff --unreleased", cmd(&repo, &cliff, &["--config", &config, "--unreleased"])),
        ("next version", "conductor version --dry-run", cmd(&repo, &conductor, &["version", "--dry-run"])),
        ("next version", "git-cliff --bumped-version", cmd(&repo, &cliff, &["--config", &config, "--bumped-version"])),
    ];
    let background = background_cpu(Duration::from_secs(1));
    let load_before = loadavg();
    let mut rows = Vec::new();
    for (task, label, command) in cases {
        rows.push((task, label, median(command, reps)?));
    }
    let load_after = loadavg();
    println!();
    println!("{commits} commits, {tags} release tags; median of {reps} run(s) after a warm-up");
    print_conditions(&load_before, &load_after, background, "wall times are inflated");
    println!();
    let floor = rows[0].2.wall.as_secs_f64();
    println!("{:<15} {:<42} {:>10} {:>10} {:>12} {:>10}", "task", "command", "wall", "cpu", "peak memory", "÷ git log");
    for (task, label, m) in &rows {
        let ok = if m.success { "" } else { "  (failed)" };
        println!(
            "{task:<15} {label:<42} {:>8.3} s {:>8.3} s {:>8.1} MiB {:>9.2}×{ok}",
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.maxrss_kib as f64 / 1024.0,
            m.wall.as_secs_f64() / floor
        );
    }
    Ok(())
}

fn cmd(repo: &Path, program: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(repo);
    c
}

fn shell(repo: &Path, script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(script).current_dir(repo);
    c
}

/// A first run longer than this counts as one of the timed runs instead of
/// a warm-up: its page cache is warm long before it ends, and repeating a
/// run of minutes would make the bench take hours.
const SLOW: Duration = Duration::from_secs(10);

/// One warm-up run (unless it was slow), then the run with the median wall time of `reps`.
fn median(command: Command, reps: usize) -> AnyResult<Measured> {
    let rebuild = |c: &Command| {
        let mut n = Command::new(c.get_program());
        n.args(c.get_args());
        if let Some(dir) = c.get_current_dir() {
            n.current_dir(dir);
        }
        n
    };
    let first = run_measured(rebuild(&command))?;
    let slow = first.wall > SLOW;
    let more = if slow { reps - 1 } else { reps };
    let mut runs = (0..more).map(|_| run_measured(rebuild(&command))).collect::<AnyResult<Vec<_>>>()?;
    if slow {
        runs.push(first);
    }
    runs.sort_by_key(|m| m.wall);
    Ok(runs.swap_remove(reps / 2))
}

/// Checks once, outside the timings, that conductor's commands work and
/// says what they found (git-cliff runs take minutes at full size, so its
/// success is only reported with its timings).
fn check_outputs(repo: &Path, conductor: &Path, last_tag: &str) -> AnyResult<()> {
    let capture = |program: &Path, args: &[&str]| -> AnyResult<String> {
        let out = Command::new(program).args(args).current_dir(repo).stdin(Stdio::null()).output()?;
        if !out.status.success() {
            return Err(format!("{} {} failed: {}", program.display(), args.join(" "), String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let ours = capture(conductor, &["changelog"])?;
    let headings = ours.lines().filter(|l| l.starts_with("## [")).count();
    println!("conductor changelog: {} bytes, {headings} release headings (with Unreleased)", ours.len());
    let unreleased = capture(conductor, &["changelog", "--from", last_tag])?;
    println!("unreleased since {last_tag}: {} entries", unreleased.lines().filter(|l| l.starts_with("- ")).count());
    println!("next version: {}", capture(conductor, &["version", "--dry-run"])?.trim());
    Ok(())
}

// ---------------------------------------------------------------------------
// The generated repository

const FILES: [&str; 5] = ["src/ledger.rs", "src/api.rs", "src/db.rs", "docs/guide.md", "README.md"];
const AUTHORS: [&str; 5] = ["Ann Author", "Bo Builder", "Cy Coder", "Di Dev", "Ed Editor"];
const SCOPES: [&str; 5] = ["api", "db", "ledger", "cli", "security"];

fn message(rng: &mut Rng, i: usize) -> String {
    let roll = rng.below(100);
    let scope = if rng.below(2) == 0 { format!("({})", SCOPES[rng.below(5)]) } else { String::new() };
    match roll {
        0..=2 => format!("feat{scope}!: reshape record {i}\n\nBREAKING CHANGE: record {i} moved"),
        3..=12 => format!("update things around record {i}"),
        13..=42 => format!("feat{scope}: add record {i}\n\nA longer body that explains\nwhy record {i} matters."),
        43..=72 => format!("fix{scope}: repair record {i}"),
        73..=80 => format!("perf{scope}: speed up record {i}"),
        81..=88 => format!("refactor{scope}: tidy record {i}"),
        89..=94 => format!("docs: describe record {i}"),
        _ => format!("chore: maintain record {i}"),
    }
}

/// Writes the history through `git fast-import`; returns the last tag.
fn generate(repo: &Path, commits: usize, tags: usize) -> AnyResult<String> {
    fs::create_dir_all(repo)?;
    let init = Command::new("git").args(["init", "-q", "-b", "main"]).current_dir(repo).status()?;
    if !init.success() {
        return Err("git init failed; install git".into());
    }
    let mut child = Command::new("git").args(["fast-import", "--quiet", "--done"]).current_dir(repo).stdin(Stdio::piped()).spawn()?;
    let stdin = child.stdin.take().ok_or("no pipe to git fast-import")?;
    let mut out = BufWriter::with_capacity(1 << 20, stdin);
    let mut rng = Rng(0x5eed_c0de);
    let mut lines: Vec<usize> = vec![0; FILES.len()];
    // Tags every `spacing` commits, the last one `spacing / 2` before HEAD.
    let spacing = commits / tags;
    let first_tag = commits - spacing / 2 - (tags - 1) * spacing;
    let mut last_tag = String::new();
    for i in 0..commits {
        let file = rng.below(FILES.len());
        lines[file] += 1;
        let author = AUTHORS[rng.below(AUTHORS.len())];
        let email = author.split(' ').next().unwrap_or("dev").to_ascii_lowercase();
        let when = 1_700_000_000 + 60 * i as u64;
        let text = message(&mut rng, i);
        writeln!(out, "commit refs/heads/main\nmark :{}", i + 1)?;
        writeln!(out, "author {author} <{email}@example.com> {when} +0000\ncommitter {author} <{email}@example.com> {when} +0000")?;
        writeln!(out, "data {}\n{text}", text.len())?;
        if i > 0 {
            writeln!(out, "from :{i}")?;
        }
        let content = format!("line {} of {}\n", lines[file], FILES[file]);
        writeln!(out, "M 100644 inline {}\ndata {}\n{content}", FILES[file], content.len())?;
        if i + 1 >= first_tag && (i + 1 - first_tag).is_multiple_of(spacing) {
            let n = (i + 1 - first_tag) / spacing;
            last_tag = format!("v{}.{}.{}", n / 100 + 1, (n / 10) % 10, n % 10);
            writeln!(out, "reset refs/tags/{last_tag}\nfrom :{}\n", i + 1)?;
        }
    }
    writeln!(out, "done")?;
    out.flush()?;
    drop(out);
    if !child.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    let checkout = Command::new("git").args(["checkout", "-q", "main"]).current_dir(repo).status()?;
    if !checkout.success() {
        return Err("git checkout failed".into());
    }
    Ok(last_tag)
}

// ---------------------------------------------------------------------------
// Tools



/// git-cliff from a virtualenv under target/, installed by pip when missing.
fn install_git_cliff() -> AnyResult<PathBuf> {
    let venv = target_dir().join("bench-changelog/venv");
    let cliff = venv.join("bin/git-cliff");
    if cliff.is_file() {
        return Ok(cliff);
    }
    fs::create_dir_all(venv.parent().ok_or("bad target dir")?)?;
    let steps: [(&str, Vec<&str>); 2] =
        [("python3", vec!["-m", "venv", venv.to_str().ok_or("non-UTF-8 target dir")?]), ("pip", vec!["install", "--disable-pip-version-check", "-q", "git-cliff"])];
    for (program, args) in steps {
        let program = if program == "pip" { venv.join("bin/pip") } else { PathBuf::from(program) };
        println!("installing git-cliff: {} {}", program.display(), args.join(" "));
        let out = Command::new(&program).args(&args).stdin(Stdio::null()).output().map_err(|e| format!("cannot run {}: {e}; install python3 and python3-venv", program.display()))?;
        if !out.status.success() {
            return Err(format!("{} {} failed: {}{}", program.display(), args.join(" "), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).into());
        }
    }
    if cliff.is_file() { Ok(cliff) } else { Err(format!("pip installed git-cliff but {} is missing", cliff.display()).into()) }
}
