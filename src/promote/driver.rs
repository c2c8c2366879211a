//! Deploy drivers: what moves traffic. A driver sets the new version's
//! share of traffic, rolls it back, and may report the rollout's status.
//! The `command` driver runs the operator's own commands through `sh -c`
//! with `{service}`, `{weight}`, `{version}`, `{commit}` and `{environment}`
//! filled in, so any tool with a CLI can be driven (Argo Rollouts'
//! `kubectl argo rollouts set weight`, a Flagger canary's `kubectl patch`,
//! an nginx upstream rewrite and reload).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How much of a command's output an action keeps.
const TAIL: usize = 2000;

/// `[promotion.driver]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "kebab-case")]
pub enum DriverConfig {
    /// The operator's own commands.
    Command {
        /// Sets the new version's percent of traffic.
        set_weight: String,
        /// Sends all traffic back to the stable version.
        rollback: String,
        /// Prints the rollout's state; optional.
        status: Option<String>,
        /// How long one command may take.
        #[serde(default = "default_timeout")]
        timeout_seconds: u64,
    },
}

fn default_timeout() -> u64 {
    120
}

/// One thing a driver did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// `set-weight`, `rollback` or `status`.
    pub action: &'static str,
    /// The command as run.
    pub command: String,
    /// Its exit status; none when it was killed or did not start.
    pub exit_code: Option<i32>,
    /// How long it took.
    pub duration_ms: u64,
    /// The end of its standard output.
    pub stdout: String,
    /// The end of its standard error, or why it did not run.
    pub stderr: String,
}

impl Action {
    /// Whether it did what it was asked.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// What went wrong, in a sentence.
    pub fn failure(&self) -> String {
        let status = self.exit_code.map_or_else(|| "was stopped or did not start".to_owned(), |c| format!("exited with status {c}"));
        let detail = self.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        if detail.is_empty() { format!("`{}` {status}", self.command) } else { format!("`{}` {status}: {detail}", self.command) }
    }
}

/// Moves traffic.
pub trait Driver {
    /// Gives the new version `weight` percent of traffic.
    fn set_weight(&mut self, weight: u8) -> Action;
    /// Gives the stable version all traffic again.
    fn rollback(&mut self) -> Action;
    /// The rollout's state, when the driver can tell.
    fn status(&mut self) -> Option<Action>;
}

/// The `command` driver.
pub struct CommandDriver {
    set_weight: String,
    rollback: String,
    status: Option<String>,
    timeout: Duration,
    vars: Vec<(&'static str, String)>,
    workdir: PathBuf,
}

impl CommandDriver {
    /// A driver running `config`'s commands in `workdir`, with `vars`
    /// (already checked to be safe for a shell) filled in.
    pub fn new(config: &DriverConfig, workdir: &Path, vars: Vec<(&'static str, String)>) -> Self {
        let DriverConfig::Command { set_weight, rollback, status, timeout_seconds } = config;
        Self { set_weight: set_weight.clone(), rollback: rollback.clone(), status: status.clone(), timeout: Duration::from_secs(*timeout_seconds), vars, workdir: workdir.to_owned() }
    }

    fn fill(&self, template: &str, weight: Option<u8>) -> String {
        let mut out = template.to_owned();
        for (k, v) in &self.vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        if let Some(w) = weight {
            out = out.replace("{weight}", &w.to_string());
        }
        out
    }

    fn run(&self, action: &'static str, command: String) -> Action {
        let started = Instant::now();
        let spawned = Command::new("sh").arg("-c").arg(&command).current_dir(&self.workdir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => return Action { action, command, exit_code: None, duration_ms: 0, stdout: String::new(), stderr: format!("cannot start sh: {e}") },
        };
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let readers = [stdout.map(|s| std::thread::spawn(move || tail(s))), stderr.map(|s| std::thread::spawn(move || tail(s)))];
        let exit_code = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if started.elapsed() < self.timeout => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let [out, err] = readers.map(|r| r.and_then(|h| h.join().ok()).unwrap_or_default());
        let err = if exit_code.is_none() && started.elapsed() >= self.timeout { format!("{err}\nstopped after {} s (timeout_seconds)", self.timeout.as_secs()) } else { err };
        Action { action, command, exit_code, duration_ms: started.elapsed().as_millis() as u64, stdout: out, stderr: err }
    }
}

fn tail(mut source: impl std::io::Read) -> String {
    let mut bytes = Vec::new();
    let _ = source.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let start = text.len().saturating_sub(TAIL);
    let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
    text[start..].to_owned()
}

impl Driver for CommandDriver {
    fn set_weight(&mut self, weight: u8) -> Action {
        let command = self.fill(&self.set_weight, Some(weight));
        self.run("set-weight", command)
    }

    fn rollback(&mut self) -> Action {
        let command = self.fill(&self.rollback, None);
        self.run("rollback", command)
    }

    fn status(&mut self) -> Option<Action> {
        let command = self.fill(self.status.as_deref()?, None);
        Some(self.run("status", command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(dir: &Path, set_weight: &str, timeout_seconds: u64) -> CommandDriver {
        let config = DriverConfig::Command { set_weight: set_weight.into(), rollback: "echo rollback {service} >> log".into(), status: None, timeout_seconds };
        CommandDriver::new(&config, dir, vec![("service", "orders".into()), ("version", "v1.1.0".into())])
    }

    #[test]
    fn commands_run_with_their_placeholders_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = driver(dir.path(), "echo {service} {version} {weight} >> log", 5);
        assert!(d.set_weight(10).succeeded());
        assert!(d.rollback().succeeded());
        assert!(d.status().is_none());
        assert_eq!(std::fs::read_to_string(dir.path().join("log")).unwrap(), "orders v1.1.0 10\nrollback orders\n");
    }

    #[test]
    fn a_failing_or_hanging_command_is_a_failed_action_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let failed = driver(dir.path(), "echo 'upstream orders not found' >&2; exit 3", 5).set_weight(10);
        assert!(!failed.succeeded());
        assert_eq!(failed.failure(), "`echo 'upstream orders not found' >&2; exit 3` exited with status 3: upstream orders not found");
        let hung = driver(dir.path(), "sleep 5", 1).set_weight(10);
        assert_eq!(hung.exit_code, None);
        assert!(hung.failure().contains("stopped after 1 s"), "{}", hung.failure());
    }
}
