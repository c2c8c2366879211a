//! The `git` kind, and the small git runner the repository checks share.
//!
//! The kind records the facts of the commit a release is cut from: the
//! commit HEAD is at, the branch, the tags on it, the previous tag and the
//! commits and authors since, whether the work tree is clean and whether the
//! commit is signed. It fails when HEAD is not the commit the release is
//! bound to, when `release_branch` is set and HEAD is on another branch, and
//! when `require_tag` is set and no tag names the release version. Whether
//! a dirty work tree blocks is the gate's decision (`require_clean_worktree`).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// Runs `git -C dir args...` to completion with no standard input: the one
/// place the agents start git synchronously; each caller maps a failure to
/// its own error.
pub(crate) fn output(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).output()
}

/// Runs `git -C dir args...` and returns its standard output, trimmed at the
/// end, or a sentence naming the command and git's own message.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = output(dir, args).map_err(|e| format!("cannot run git ({e}); install git"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    } else {
        Err(format!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Like [`git`], but a failure is an absent answer (a ref that does not
/// exist, a detached HEAD).
pub(crate) fn git_opt(dir: &Path, args: &[&str]) -> Option<String> {
    git(dir, args).ok().filter(|s| !s.is_empty())
}

/// The newest tag reachable from HEAD that does not point at HEAD itself:
/// the release before this one.
pub(crate) fn previous_tag(dir: &Path) -> Option<String> {
    let on_head = git(dir, &["tag", "--points-at", "HEAD"]).unwrap_or_default();
    let latest = git_opt(dir, &["describe", "--tags", "--abbrev=0", "HEAD"])?;
    if on_head.lines().any(|t| t == latest) {
        git_opt(dir, &["describe", "--tags", "--abbrev=0", "HEAD^"])
    } else {
        Some(latest)
    }
}

/// Paths with local changes (staged, unstaged or untracked, not ignored).
pub(crate) fn dirty_paths(dir: &Path) -> Result<Vec<String>, String> {
    Ok(git(dir, &["status", "--porcelain=v1", "--untracked-files=all"])?.lines().map(|l| l.get(3..).unwrap_or(l).to_owned()).collect())
}

/// Reads the release commit's git facts.
pub struct GitAgent;

#[async_trait::async_trait]
impl Agent for GitAgent {
    fn kind(&self) -> &'static str {
        "git"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let release = match task.release() {
            Ok(release) => release.binding.clone(),
            Err(outcome) => return outcome,
        };
        let (dir, settings) = (task.workdir.clone(), task.settings.clone());
        let joined = tokio::task::spawn_blocking(move || facts(&dir, &release, &settings)).await;
        match joined {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => AgentOutcome::error(e),
            Err(e) => AgentOutcome::error(format!("reading git facts stopped: {e}")),
        }
    }
}

fn facts(dir: &Path, release: &evidence::record::ReleaseBinding, settings: &toml::Table) -> Result<AgentOutcome, String> {
    let head = git(dir, &["rev-parse", "--verify", "HEAD^{commit}"])?;
    let branch = git_opt(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"]);
    let tags: Vec<String> = git(dir, &["tag", "--points-at", "HEAD"])?.lines().map(str::to_owned).collect();
    let previous = previous_tag(dir);
    let range = previous.as_ref().map_or_else(|| "HEAD".to_owned(), |t| format!("{t}..HEAD"));
    let commits: usize = git(dir, &["rev-list", "--count", &range])?.parse().unwrap_or(0);
    let mut authors: Vec<String> = git(dir, &["log", "--format=%aE", &range])?.lines().map(str::to_owned).collect();
    authors.sort();
    authors.dedup();
    let dirty = dirty_paths(dir)?;
    let signature = git(dir, &["log", "-1", "--format=%G?", "HEAD"]).unwrap_or_default();
    let remote = git_opt(dir, &["remote", "get-url", "origin"]);
    let release_branch = settings.get("release_branch").and_then(toml::Value::as_str);
    let require_tag = settings.get("require_tag").and_then(toml::Value::as_bool).unwrap_or(false);
    let version_tagged = tags.iter().any(|t| t == &release.version || t.strip_prefix('v') == Some(release.version.as_str()));
    let (verdict, reason) = if head != release.commit {
        (Verdict::Fail, format!("HEAD is {} but the release is bound to {}; check out {} or start a new release", short(&head), short(&release.commit), short(&release.commit)))
    } else if let Some(wanted) = release_branch.filter(|w| branch.as_deref() != Some(*w)) {
        (Verdict::Fail, format!("HEAD is on {} but releases are cut from {wanted}", branch.as_deref().unwrap_or("a detached HEAD")))
    } else if require_tag && !version_tagged {
        (Verdict::Fail, format!("no tag names {} at HEAD; tag it with `git tag -s {}`", release.version, release.version))
    } else {
        let since = previous.as_deref().map_or_else(|| "in all".to_owned(), |t| format!("since {t}"));
        (Verdict::Pass, format!("{} on {}, {commits} commits {since}, work tree {}", short(&head), branch.as_deref().unwrap_or("a detached HEAD"), if dirty.is_empty() { "clean" } else { "dirty" }))
    };
    let facts = json!({
        "commit": head, "branch": branch, "tags": tags, "previousTag": previous, "commitsSincePreviousTag": commits,
        "authors": authors, "clean": dirty.is_empty(), "dirty": dirty.iter().take(50).collect::<Vec<_>>(),
        "signature": signature_name(&signature), "remote": remote,
    });
    Ok(AgentOutcome { verdict, reason, facts, files: vec![] })
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// git's `%G?` letter in words.
fn signature_name(letter: &str) -> &'static str {
    match letter {
        "G" => "good",
        "U" => "good-unknown-validity",
        "X" | "Y" => "good-expired",
        "R" => "good-revoked-key",
        "E" => "cannot-check",
        "B" => "bad",
        _ => "none",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs git in `dir` with a fixed identity, panicking with git's message on failure.
    pub(crate) fn sh(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A repository with a tagged first commit and one more commit.
    pub(crate) fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        sh(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("a.txt"), "one\n").unwrap();
        sh(dir.path(), &["add", "."]);
        sh(dir.path(), &["commit", "-qm", "feat: first"]);
        sh(dir.path(), &["tag", "v0.1.0"]);
        std::fs::write(dir.path().join("a.txt"), "two\n").unwrap();
        sh(dir.path(), &["commit", "-qam", "fix: second"]);
        dir
    }

    fn task(dir: &Path, commit: &str, settings: toml::Table) -> AgentTask {
        let binding = evidence::record::ReleaseBinding { version: "v0.2.0".into(), commit: commit.into(), environment: "prod".into(), id: "r".into() };
        AgentTask::new("Program Scheduler", "git", "P0", dir, dir, settings).with_release(crate::ReleaseContext::new(binding))
    }

    #[tokio::test]
    async fn records_the_release_commit_facts() {
        let dir = repo();
        let head = sh(dir.path(), &["rev-parse", "HEAD"]);
        let outcome = GitAgent.run(&task(dir.path(), &head, toml::Table::new())).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        let f = &outcome.facts;
        assert_eq!((f["commit"].as_str(), f["branch"].as_str(), f["previousTag"].as_str()), (Some(head.as_str()), Some("main"), Some("v0.1.0")));
        assert_eq!((f["commitsSincePreviousTag"].as_u64(), f["clean"].as_bool()), (Some(1), Some(true)));
        assert_eq!(f["authors"], json!(["test@example.com"]));
        std::fs::write(dir.path().join("a.txt"), "three\n").unwrap();
        let dirty = GitAgent.run(&task(dir.path(), &head, toml::Table::new())).await;
        assert_eq!(dirty.facts["dirty"], json!(["a.txt"]));
    }

    #[tokio::test]
    async fn another_commit_branch_or_a_missing_tag_fails() {
        let dir = repo();
        let head = sh(dir.path(), &["rev-parse", "HEAD"]);
        let first = sh(dir.path(), &["rev-parse", "v0.1.0"]);
        let moved = GitAgent.run(&task(dir.path(), &first, toml::Table::new())).await;
        assert_eq!(moved.verdict, Verdict::Fail);
        assert!(moved.reason.contains("but the release is bound to"), "{}", moved.reason);
        let mut settings = toml::Table::new();
        settings.insert("release_branch".into(), "release".into());
        assert!(GitAgent.run(&task(dir.path(), &head, settings)).await.reason.contains("HEAD is on main but releases are cut from release"));
        let mut settings = toml::Table::new();
        settings.insert("require_tag".into(), true.into());
        assert_eq!(GitAgent.run(&task(dir.path(), &head, settings.clone())).await.verdict, Verdict::Fail);
        sh(dir.path(), &["tag", "v0.2.0"]);
        let tagged = GitAgent.run(&task(dir.path(), &head, settings)).await;
        assert_eq!(tagged.verdict, Verdict::Pass, "{}", tagged.reason);
        assert_eq!(tagged.facts["previousTag"], "v0.1.0", "the tag on HEAD is this release, not the previous one");
    }

    #[tokio::test]
    async fn outside_a_release_it_is_missing_input() {
        let dir = repo();
        let task = AgentTask::new("Program Scheduler", "git", "P0", dir.path(), dir.path(), toml::Table::new());
        assert_eq!(GitAgent.run(&task).await.verdict, Verdict::MissingInput);
    }
}
