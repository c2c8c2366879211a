//! What an SBOM describes: the repository by name, version and commit, and
//! the time the document says it was made.

use std::path::{Path, PathBuf};

use evidence::timestamp::Timestamp;

use super::SbomError;

/// The thing an SBOM describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The repository's name.
    pub name: String,
    /// Its version, such as `v1.2.0` or what `git describe` says.
    pub version: String,
    /// The full commit id, when known.
    pub commit: Option<String>,
    /// When the document was made, as the caller decides: never read from
    /// the clock here.
    pub created: Timestamp,
}

impl Subject {
    /// The repository whose top folder is `root`: named after the folder,
    /// versioned by `git describe --tags --always`, at commit `HEAD`, made at
    /// `SOURCE_DATE_EPOCH` when it is set or else at the commit's time, so
    /// building twice from one commit gives the same document.
    pub fn from_git(root: &Path) -> Result<Self, SbomError> {
        let commit = git(root, &["rev-parse", "--verify", "HEAD^{commit}"], "rev-parse --verify HEAD")?;
        let version = git(root, &["describe", "--tags", "--always"], "describe --tags --always")?;
        let created = match source_date_epoch()? {
            Some(time) => time,
            None => {
                let seconds = git(root, &["show", "-s", "--format=%ct", "HEAD"], "show -s --format=%ct HEAD")?;
                seconds
                    .parse::<i64>()
                    .ok()
                    .and_then(|s| Timestamp::from_unix(s).ok())
                    .ok_or_else(|| SbomError::Git { root: root.to_owned(), args: "show -s --format=%ct HEAD", detail: format!("'{seconds}' is not a time") })?
            }
        };
        let name = root.file_name().map_or_else(|| "repository".to_owned(), |n| n.to_string_lossy().into_owned());
        Ok(Self { name, version, commit: Some(commit), created })
    }
}

/// The time in `SOURCE_DATE_EPOCH` (reproducible-builds.org), when it is set.
pub fn source_date_epoch() -> Result<Option<Timestamp>, SbomError> {
    let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") else { return Ok(None) };
    let value = value.to_string_lossy().into_owned();
    value.trim().parse::<i64>().ok().and_then(|s| Timestamp::from_unix(s).ok()).map(Some).ok_or(SbomError::SourceDateEpoch { value })
}

/// git's trimmed output, or an error with its message.
fn git(root: &Path, args: &[&str], shown: &'static str) -> Result<String, SbomError> {
    let failed = |detail: String| SbomError::Git { root: PathBuf::from(root), args: shown, detail };
    let out = crate::git::output(root, args).map_err(|e| failed(format!("{e}; install git")))?;
    if !out.status.success() {
        return Err(failed(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .env("GIT_COMMITTER_DATE", "1700000000 +0000")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn a_repository_is_named_versioned_and_timed_by_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("service");
        std::fs::create_dir(&root).unwrap();
        assert!(matches!(Subject::from_git(&root), Err(SbomError::Git { .. })));
        run(&root, &["init", "-q"]);
        run(&root, &["commit", "-q", "--allow-empty", "-m", "first"]);
        run(&root, &["tag", "v1.0.0"]);
        let subject = Subject::from_git(&root).unwrap();
        let expected = source_date_epoch().unwrap().map_or(1_700_000_000, |t| t.unix());
        assert_eq!((subject.name.as_str(), subject.version.as_str()), ("service", "v1.0.0"));
        assert_eq!(subject.commit.as_deref().map(str::len), Some(40));
        assert_eq!(subject.created.unix(), expected);
    }
}
