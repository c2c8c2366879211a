//! The `command` kind: runs a configured command and records what it did:
//! exit status, duration, the digests and tails of its output, and the
//! files it was expected to produce, by digest.

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use evidence::digest::Sha256;
use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// How much of the end of stdout and stderr is kept in the facts.
const TAIL_BYTES: u64 = 2048;

/// Runs the `command` setting: a string runs through `sh -c`, an array runs
/// directly. `produces` lists files the command must leave behind; `env`
/// adds environment variables.
pub struct CommandAgent;

#[async_trait::async_trait]
impl Agent for CommandAgent {
    fn kind(&self) -> &'static str {
        "command"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let argv = match argv(task) {
            Ok(argv) => argv,
            Err(missing) => return missing,
        };
        match execute(task, &argv).await {
            Ok(outcome) => outcome,
            Err(e) => AgentOutcome::error(format!("cannot run `{}`: {e}", argv.join(" "))),
        }
    }
}

/// The `command` setting as argv: a string through `sh -c`, an array as is.
pub(crate) fn argv(task: &AgentTask) -> Result<Vec<String>, AgentOutcome> {
    match task.settings.get("command") {
        Some(toml::Value::String(line)) if !line.trim().is_empty() => Ok(vec!["sh".into(), "-c".into(), line.clone()]),
        Some(toml::Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AgentOutcome::missing_input(format!("'command' of [agents.\"{}\"] must be a string or an array of strings", task.agent))),
        _ => task.text_setting("command").map(|_| Vec::new()),
    }
}

/// What a command did: its argv, exit code, duration, the facts of its
/// output and produced files, and the evidence files to store.
pub(crate) struct Ran {
    /// The command as run.
    pub(crate) argv: Vec<String>,
    /// Its exit code; `None` when a signal killed it.
    pub(crate) exit_code: Option<i32>,
    /// Where its standard output was captured.
    pub(crate) stdout: std::path::PathBuf,
    /// The first `produces` file it did not leave behind.
    pub(crate) missing: Option<String>,
    /// Command, exit code, duration, output digests and tails, produced files.
    pub(crate) facts: Value,
    /// stdout.txt, stderr.txt and the produced files.
    pub(crate) files: Vec<ProducedFile>,
}

impl Ran {
    /// The command line for messages.
    pub(crate) fn line(&self) -> String {
        self.argv.join(" ")
    }

    /// Why the command failed (it did not exit 0, or did not produce what it
    /// must), or `None` when it did neither.
    pub(crate) fn failure(&self) -> Option<String> {
        match (self.exit_code, &self.missing) {
            (Some(0), None) => None,
            (Some(0), Some(path)) => Some(format!("`{}` exited 0 but did not produce {path}", self.line())),
            (Some(code), _) => Some(format!("`{}` exited with status {code}", self.line())),
            (None, _) => Some(format!("`{}` was killed by a signal", self.line())),
        }
    }
}

async fn execute(task: &AgentTask, argv: &[String]) -> std::io::Result<AgentOutcome> {
    let ran = run(task, argv).await?;
    let (verdict, reason) = match ran.failure() {
        None => (Verdict::Pass, format!("`{}` exited 0 in {} ms", ran.line(), ran.facts["durationMs"])),
        Some(why) => (Verdict::Fail, why),
    };
    Ok(AgentOutcome { verdict, reason, facts: ran.facts, files: ran.files })
}

/// Runs `argv` in the repository with the task's `env`, capturing stdout and
/// stderr into the scratch folder; the process dies if the run is dropped.
pub(crate) async fn run(task: &AgentTask, argv: &[String]) -> std::io::Result<Ran> {
    tokio::fs::create_dir_all(&task.scratch).await?;
    let stdout_path = task.scratch.join("stdout.txt");
    let stderr_path = task.scratch.join("stderr.txt");
    let mut command = tokio::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(&task.workdir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path)?)
        .stderr(std::fs::File::create(&stderr_path)?)
        // Dropping the run (timeout, cancellation) kills the process.
        .kill_on_drop(true);
    if let Some(toml::Value::Table(env)) = task.settings.get("env") {
        command.envs(env.iter().filter_map(|(k, v)| v.as_str().map(|v| (k, v))));
    }
    let started = Instant::now();
    let status = command.status().await?;
    let duration_ms = started.elapsed().as_millis() as u64;
    let stdout = output_facts(&stdout_path)?;
    let stderr = output_facts(&stderr_path)?;
    let (produced, missing) = produced_files(task);
    let mut files = vec![
        ProducedFile { name: "stdout.txt".into(), path: stdout_path.clone() },
        ProducedFile { name: "stderr.txt".into(), path: stderr_path },
    ];
    files.extend(produced.iter().map(|(name, path, _)| ProducedFile { name: name.clone(), path: path.clone() }));
    let facts = json!({
        "command": argv,
        "exitCode": status.code(),
        "durationMs": duration_ms,
        "stdout": stdout,
        "stderr": stderr,
        "produced": produced.iter().map(|(name, _, facts)| json!({ "path": name, "sha256": facts.0, "size": facts.1 })).collect::<Vec<_>>(),
        "missing": missing,
    });
    Ok(Ran { argv: argv.to_vec(), exit_code: status.code(), stdout: stdout_path, missing: missing.first().cloned(), facts, files })
}

/// Digest, size and tail of a captured output stream.
fn output_facts(path: &Path) -> std::io::Result<Value> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let (digest, size) = Sha256::of_reader(&mut file)?;
    file.seek(SeekFrom::Start(size.saturating_sub(TAIL_BYTES)))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    Ok(json!({ "sha256": digest, "size": size, "tail": String::from_utf8_lossy(&tail) }))
}

type Produced = Vec<(String, std::path::PathBuf, (Sha256, u64))>;

/// The `produces` files that exist (with digest and size) and those that do not.
fn produced_files(task: &AgentTask) -> (Produced, Vec<String>) {
    let wanted: Vec<&str> = match task.settings.get("produces") {
        Some(toml::Value::Array(items)) => items.iter().filter_map(toml::Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for relative in wanted {
        let path = task.resolve(relative);
        match std::fs::File::open(&path).and_then(Sha256::of_reader) {
            Ok(facts) if path.is_file() => found.push((relative.to_owned(), path, facts)),
            _ => missing.push(relative.to_owned()),
        }
    }
    (found, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(dir: &Path, command: toml::Value, extra: &[(&str, toml::Value)]) -> AgentTask {
        let mut settings = toml::Table::new();
        settings.insert("command".into(), command);
        for (k, v) in extra {
            settings.insert((*k).into(), v.clone());
        }
        AgentTask::new("CI/CD Engineer", "command", "P0", dir, &dir.join("scratch"), settings)
    }

    #[tokio::test]
    async fn records_status_output_and_produced_files() {
        let dir = tempfile::tempdir().unwrap();
        let produces = toml::Value::Array(vec!["out.txt".into()]);
        let t = task(dir.path(), "echo built; echo done > out.txt".into(), &[("produces", produces)]);
        let outcome = CommandAgent.run(&t).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!(outcome.facts["exitCode"], 0);
        assert_eq!(outcome.facts["stdout"]["tail"], "built\n");
        assert_eq!(outcome.facts["stdout"]["sha256"], Sha256::of(b"built\n").to_hex());
        assert_eq!(outcome.facts["produced"][0]["sha256"], Sha256::of(b"done\n").to_hex());
        let names: Vec<&str> = outcome.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["stdout.txt", "stderr.txt", "out.txt"]);
    }

    #[tokio::test]
    async fn a_failing_command_fails_and_a_missing_product_fails() {
        let dir = tempfile::tempdir().unwrap();
        let failing = CommandAgent.run(&task(dir.path(), "echo oops >&2; exit 3".into(), &[])).await;
        assert_eq!(failing.verdict, Verdict::Fail);
        assert!(failing.reason.contains("status 3"));
        assert_eq!(failing.facts["stderr"]["tail"], "oops\n");
        let produces = toml::Value::Array(vec!["never.txt".into()]);
        let lazy = CommandAgent.run(&task(dir.path(), "true".into(), &[("produces", produces)])).await;
        assert_eq!(lazy.verdict, Verdict::Fail);
        assert!(lazy.reason.contains("never.txt"));
    }

    #[tokio::test]
    async fn an_unconfigured_or_unstartable_command_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let t = AgentTask::new("CI/CD Engineer", "command", "P0", dir.path(), dir.path(), toml::Table::new());
        assert_eq!(CommandAgent.run(&t).await.verdict, Verdict::MissingInput);
        let argv = toml::Value::Array(vec!["/nonexistent/tool".into()]);
        assert_eq!(CommandAgent.run(&task(dir.path(), argv, &[])).await.verdict, Verdict::Error);
    }

    #[tokio::test]
    async fn a_hanging_command_times_out_and_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let t = task(dir.path(), toml::Value::Array(vec!["sleep".into(), "30".into()]), &[("timeout_seconds", 1.into())]);
        let started = Instant::now();
        let outcome = crate::run_task(t).await;
        assert_eq!(outcome.verdict, Verdict::TimedOut);
        assert!(started.elapsed().as_secs() < 10);
    }
}
