//! The few git facts a release needs, asked of the real `git`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("cannot run git; install git and try again")
}

/// The top folder of the repository holding `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf> {
    let out = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        bail!("{} is not inside a git repository; run conductor from the repository you release", dir.display());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The full id of the commit `rev` names.
pub fn resolve_commit(repo: &Path, rev: &str) -> Result<String> {
    let out = git(repo, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])?;
    if !out.status.success() {
        bail!("'{rev}' does not name a commit in {}; pass --commit with an existing commit id", repo.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Whether a tag named `name` exists.
pub fn tag_exists(repo: &Path, name: &str) -> Result<bool> {
    let out = git(repo, &["rev-parse", "--verify", "--quiet", &format!("refs/tags/{name}")])?;
    Ok(out.status.success())
}

/// Adds `pattern` to the repository's own exclude file (`.git/info/exclude`,
/// never committed) unless it is there, so conductor's state folder never
/// shows as a local change.
pub fn exclude_locally(repo: &Path, pattern: &str) -> Result<()> {
    let out = git(repo, &["rev-parse", "--git-path", "info/exclude"])?;
    if !out.status.success() {
        bail!("cannot find the exclude file of {}: {}", repo.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let path = repo.join(String::from_utf8_lossy(&out.stdout).trim());
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.lines().any(|l| l.trim() == pattern) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let separator = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
    std::fs::write(&path, format!("{text}{separator}{pattern}\n")).with_context(|| format!("cannot write {}", path.display()))
}

/// The release tag before `version` reachable from `commit`, and the
/// commits since it up to `commit` (`<short id> <author> <subject>`, newest
/// first, at most `limit`): the suspects when a promotion goes wrong.
pub fn commits_since_previous_release(repo: &Path, commit: &str, version: &str, limit: usize) -> Result<(Option<String>, Vec<String>)> {
    let out = git(repo, &["describe", "--tags", "--abbrev=0", "--exclude", version, commit])?;
    let previous = out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|t| !t.is_empty());
    let range = previous.as_ref().map_or_else(|| commit.to_owned(), |p| format!("{p}..{commit}"));
    let max = format!("--max-count={limit}");
    let out = git(repo, &["log", &max, "--format=%h %an %s", &range])?;
    if !out.status.success() {
        bail!("git log {range}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok((previous, String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()))
}
