//! Breaking changes since the previous tag, read from conventional-commit
//! messages through the `git` command line: a `!` before the header's colon
//! (`feat!:`, `fix(api)!:`) or a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

/// What the history since the previous tag says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct History {
    /// The previous tag, or `None` when there is none and every commit counts.
    pub(crate) since: Option<String>,
    /// How many commits were read.
    pub(crate) commits: usize,
    /// The breaking ones, newest first.
    pub(crate) breaking: Vec<Commit>,
}

/// A breaking commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Commit {
    /// Its id, abbreviated to 12 hex digits.
    pub(crate) commit: String,
    /// Its header line.
    pub(crate) subject: String,
}

/// Why the history could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    /// `git` is not there.
    #[error("git could not be started ({0}); install git, or unset migration_guide")]
    Spawn(#[source] std::io::Error),
    /// A `git` command failed.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
}

/// The commits after the last tag reachable from `revision`'s parent, up to
/// and including `revision`, and which of them break compatibility.
pub(crate) async fn since_previous_tag(repo: &Path, revision: &str) -> Result<History, GitError> {
    let commit = git(repo, &["rev-parse", "--verify", "--end-of-options", &format!("{revision}^{{commit}}")]).await?;
    let commit = commit.trim();
    // A root commit has no parent and a history may have no tags: then there
    // is no previous release and every commit counts.
    let since = git(repo, &["describe", "--tags", "--abbrev=0", "--end-of-options", &format!("{commit}^")]).await.ok().map(|t| t.trim().to_owned());
    let range = since.as_ref().map_or_else(|| commit.to_owned(), |tag| format!("{tag}..{commit}"));
    let log = git(repo, &["log", "--format=%H%x1f%B%x1e", "--end-of-options", &range, "--"]).await?;
    let entries: Vec<(&str, &str)> = log.split('\x1e').filter_map(|e| e.trim_start().split_once('\x1f')).collect();
    let breaking = entries
        .iter()
        .filter(|(_, message)| is_breaking(message))
        .map(|(id, message)| Commit { commit: id.chars().take(12).collect(), subject: message.lines().next().unwrap_or("").to_owned() })
        .collect();
    Ok(History { since, commits: entries.len(), breaking })
}

/// Whether a commit message announces a breaking change.
pub(crate) fn is_breaking(message: &str) -> bool {
    static HEADER: OnceLock<Regex> = OnceLock::new();
    // A fixed pattern that is valid; it cannot fail to compile.
    let header = HEADER.get_or_init(|| Regex::new(r"^[A-Za-z][A-Za-z0-9_-]*(\([^()\r\n]*\))?!:").expect("a valid pattern"));
    let mut lines = message.lines();
    lines.next().is_some_and(|h| header.is_match(h)) || lines.any(|l| l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:"))
}

async fn git(repo: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = tokio::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed { args: args.join(" "), stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned() });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A git repository with one commit per message, tagged where asked.
    pub(crate) fn repo(dir: &Path, commits: &[(&str, Option<&str>)]) {
        let run = |args: &[&str]| {
            let status = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().expect("git is installed (apt-get install git)");
            assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
        };
        run(&["init", "-q", "-b", "main"]);
        for (message, tag) in commits {
            run(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", message]);
            if let Some(tag) = tag {
                run(&["tag", tag]);
            }
        }
    }

    #[test]
    fn headers_and_footers_mark_breaking_changes() {
        assert!(is_breaking("feat!: drop the v1 API"));
        assert!(is_breaking("fix(api)!: rename the field"));
        assert!(is_breaking("refactor: tidy\n\nBREAKING CHANGE: the config moved"));
        assert!(is_breaking("refactor: tidy\n\nBREAKING-CHANGE: the config moved"));
        assert!(!is_breaking("feat: add a flag"));
        assert!(!is_breaking("docs: explain why a breaking change! needs care"));
        assert!(!is_breaking("chore: note\n\nno BREAKING CHANGE: here"));
    }

    #[tokio::test]
    async fn only_commits_after_the_previous_tag_count() {
        let dir = tempfile::tempdir().unwrap();
        repo(dir.path(), &[("feat!: first cut", Some("v0.1.0")), ("fix: small", None), ("feat(api)!: new shape", None), ("docs: notes", None)]);
        let history = since_previous_tag(dir.path(), "HEAD").await.unwrap();
        assert_eq!(history.since.as_deref(), Some("v0.1.0"));
        assert_eq!(history.commits, 3);
        assert_eq!(history.breaking.len(), 1);
        assert_eq!(history.breaking[0].subject, "feat(api)!: new shape");
        assert_eq!(history.breaking[0].commit.len(), 12);
    }

    #[tokio::test]
    async fn without_a_tag_every_commit_counts() {
        let dir = tempfile::tempdir().unwrap();
        repo(dir.path(), &[("feat!: first cut", None), ("fix: small", None)]);
        let history = since_previous_tag(dir.path(), "HEAD").await.unwrap();
        assert_eq!((history.since, history.commits, history.breaking.len()), (None, 2, 1));
    }

    #[tokio::test]
    async fn a_folder_without_git_history_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = since_previous_tag(dir.path(), "HEAD").await.unwrap_err();
        assert!(matches!(err, GitError::Failed { .. }), "{err}");
    }
}
