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
