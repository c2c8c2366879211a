//! History as the changelog reads it: one `git for-each-ref` for the tags and
//! one streamed `git log -z` for the commits, parsed as Conventional Commits.
//! No git process is started per commit or per tag.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::ChangelogError;

/// The commit types the changelog files under a section of their own or
/// under Changed; any other type is listed with the non-conforming commits.
pub const KNOWN_TYPES: [&str; 13] = ["feat", "fix", "perf", "refactor", "docs", "style", "test", "build", "ci", "chore", "revert", "security", "deps"];

/// A Conventional Commits header and footers, as far as the changelog uses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conventional {
    /// The type, lowercased (`feat`, `fix`, ...).
    pub kind: String,
    /// The scope, when the header has one.
    pub scope: Option<String>,
    /// The header's description.
    pub description: String,
    /// Whether it breaks compatibility (`!` or a `BREAKING CHANGE` footer).
    pub breaking: bool,
    /// The `BREAKING CHANGE` footer's text, when it has one.
    pub breaking_note: Option<String>,
}

impl Conventional {
    /// The message parsed, or `None` when it does not follow Conventional Commits.
    pub fn parse(message: &str) -> Option<Self> {
        let commit = git_conventional::Commit::parse(message.trim()).ok()?;
        let note = commit.breaking_description().filter(|d| *d != commit.description()).map(str::to_owned);
        Some(Self {
            kind: commit.type_().as_str().to_ascii_lowercase(),
            scope: commit.scope().map(|s| s.as_str().to_owned()),
            description: commit.description().to_owned(),
            breaking: commit.breaking(),
            breaking_note: note,
        })
    }

    /// Whether the type is one the changelog knows.
    pub fn known(&self) -> bool {
        KNOWN_TYPES.contains(&self.kind.as_str())
    }
}

/// One commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The full id.
    pub id: String,
    /// The author's name.
    pub author: String,
    /// The committer date, RFC 3339 as git writes it.
    pub date: String,
    /// The header line.
    pub subject: String,
    /// The message parsed, `None` when it is not a Conventional Commit.
    pub conventional: Option<Conventional>,
}

impl Commit {
    /// The id abbreviated to seven hex digits.
    pub fn short(&self) -> &str {
        self.id.get(..7).unwrap_or(&self.id)
    }
}

/// A tag whose name is a semantic version, with or without a leading `v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionTag {
    /// The tag's name.
    pub name: String,
    /// The version it names.
    pub version: semver::Version,
    /// The tag's date (tagger date, or the commit's for a lightweight tag),
    /// as `YYYY-MM-DD`.
    pub date: String,
}

/// The version a tag name stands for: `v1.2.0` and `1.2.0` alike.
pub fn tag_version(name: &str) -> Option<semver::Version> {
    semver::Version::parse(name.strip_prefix('v').unwrap_or(name)).ok()
}

/// The repository's version tags by the commit they point at (annotated tags
/// peeled), each commit's tags highest version first.
pub fn version_tags(repo: &Path) -> Result<HashMap<String, Vec<VersionTag>>, ChangelogError> {
    let format = "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)%00%(creatordate:short)";
    let out = run(repo, &["for-each-ref", format, "refs/tags"])?;
    let mut tags: HashMap<String, Vec<VersionTag>> = HashMap::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split('\0').collect();
        let [name, object, peeled, date] = fields[..] else { continue };
        let Some(version) = tag_version(name) else { continue };
        let commit = if peeled.is_empty() { object } else { peeled };
        tags.entry(commit.to_owned()).or_default().push(VersionTag { name: name.to_owned(), version, date: date.to_owned() });
    }
    for list in tags.values_mut() {
        list.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.name.cmp(&b.name)));
    }
    Ok(tags)
}

/// The full id of the commit `reference` names, or [`ChangelogError::MissingRef`].
pub fn resolve(repo: &Path, flag: &'static str, reference: &str) -> Result<String, ChangelogError> {
    let spec = format!("{reference}^{{commit}}");
    run(repo, &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec])
        .map(|id| id.trim().to_owned())
        .map_err(|e| match e {
            ChangelogError::Git { .. } => ChangelogError::MissingRef { flag, reference: reference.to_owned() },
            other => other,
        })
}

/// Which commits a walk reads.
#[derive(Clone, Debug, Default)]
pub struct Walk<'a> {
    /// The newest commit (a ref or id).
    pub to: &'a str,
    /// Commits reachable from this ref are left out.
    pub from: Option<&'a str>,
    /// Only commits touching this path (relative to the repository root).
    pub path: Option<&'a Path>,
}

/// Reads the commits of a walk (all of them: the path is applied by the
/// caller through [`touching`]), newest first, until `stop` says a commit
/// ends it (that commit is not returned); git is stopped there, so a walk
/// that ends early does not read the rest of history. Returns the commits
/// and whether `stop` ended the walk.
pub fn read(repo: &Path, walk: &Walk<'_>, mut stop: impl FnMut(&Commit) -> bool) -> Result<(Vec<Commit>, bool), ChangelogError> {
    let range = walk.from.map_or_else(|| walk.to.to_owned(), |from| format!("{from}..{}", walk.to));
    // The whole range is read even with a path filter, so that release
    // tags on commits outside the path still split releases; [`touching`]
    // names the commits the filter keeps.
    let args = ["log".to_owned(), "-z".into(), "--format=%H%x00%an%x00%cI%x00%B".into(), "--end-of-options".into(), range, "--".into()];
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ChangelogError::Spawn)?;
    let Some(stdout) = child.stdout.take() else { return Err(ChangelogError::Spawn(std::io::Error::other("no pipe from git"))) };
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut commits = Vec::new();
    let mut stopped = false;
    while let Some(commit) = next_commit(&mut reader).map_err(ChangelogError::Spawn)? {
        if stop(&commit) {
            stopped = true;
            break;
        }
        commits.push(commit);
    }
    if stopped {
        // Whatever git still has to say is not wanted.
        let _ = child.kill();
        let _ = child.wait();
        return Ok((commits, true));
    }
    let output = child.wait_with_output().map_err(ChangelogError::Spawn)?;
    if !output.status.success() {
        return Err(ChangelogError::Git { args: args.join(" "), stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned() });
    }
    Ok((commits, false))
}

/// The ids of the commits of a walk that touch its path, one more `git log`
/// pass; used to filter a walk of the whole history so release tags on
/// commits outside the path still split releases.
pub fn touching(repo: &Path, walk: &Walk<'_>, path: &Path) -> Result<std::collections::HashSet<String>, ChangelogError> {
    let range = walk.from.map_or_else(|| walk.to.to_owned(), |from| format!("{from}..{}", walk.to));
    let path = path.to_string_lossy();
    let out = run(repo, &["log", "--format=%H", "--end-of-options", &range, "--", &path])?;
    Ok(out.lines().map(str::to_owned).collect())
}

/// One commit from `git log -z` with four NUL-separated fields, or `None` at the end.
pub(crate) fn next_commit(reader: &mut impl BufRead) -> std::io::Result<Option<Commit>> {
    let mut fields: [String; 4] = Default::default();
    let mut buf = Vec::new();
    for (i, field) in fields.iter_mut().enumerate() {
        buf.clear();
        let n = reader.read_until(0, &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if buf.last() == Some(&0) {
            buf.pop();
        }
        // Between records -z leaves a newline at the start of the next id.
        let text = String::from_utf8_lossy(&buf);
        *field = if i == 0 { text.trim().to_owned() } else { text.into_owned() };
        if i == 0 && field.is_empty() {
            return Ok(None);
        }
    }
    let [id, author, date, message] = fields;
    let message = message.trim();
    Ok(Some(Commit { id, author, date, subject: message.lines().next().unwrap_or("").to_owned(), conventional: Conventional::parse(message) }))
}

fn run(repo: &Path, args: &[&str]) -> Result<String, ChangelogError> {
    let out = crate::git::output(repo, args).map_err(ChangelogError::Spawn)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(ChangelogError::Git { args: args.join(" "), stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_headers_and_footers_parse() {
        let c = Conventional::parse("feat(api)!: drop v1\n\nBREAKING CHANGE: clients must move to v2").unwrap();
        assert_eq!((c.kind.as_str(), c.scope.as_deref(), c.description.as_str(), c.breaking), ("feat", Some("api"), "drop v1", true));
        assert_eq!(c.breaking_note.as_deref(), Some("clients must move to v2"));
        let fix = Conventional::parse("Fix: handle empty bodies").unwrap();
        assert_eq!((fix.kind.as_str(), fix.breaking, fix.breaking_note), ("fix", false, None));
        assert!(Conventional::parse("Merge branch 'main' into topic").is_none());
        assert!(Conventional::parse("update readme").is_none());
        assert!(!Conventional::parse("wip: half done").unwrap().known());
    }

    #[test]
    fn tags_name_versions_with_or_without_v() {
        assert_eq!(tag_version("v1.2.0"), Some(semver::Version::new(1, 2, 0)));
        assert_eq!(tag_version("1.3.0-rc.1").map(|v| v.pre.to_string()), Some("rc.1".to_owned()));
        assert_eq!(tag_version("release-2024"), None);
        assert_eq!(tag_version("v1.2"), None);
    }

    #[test]
    fn log_records_split_on_nul() {
        let raw = b"aaaaaaa1\0Ann\x002026-01-02T03:04:05+00:00\0feat: one\n\nbody\n\0\nbbbbbbb2\0Bo\x002026-01-01T00:00:00+00:00\0oops\n";
        let mut reader = &raw[..];
        let first = next_commit(&mut reader).unwrap().unwrap();
        assert_eq!((first.id.as_str(), first.author.as_str(), first.subject.as_str()), ("aaaaaaa1", "Ann", "feat: one"));
        assert_eq!(first.conventional.unwrap().kind, "feat");
        let second = next_commit(&mut reader).unwrap().unwrap();
        assert_eq!((second.id.as_str(), second.subject.as_str(), second.conventional), ("bbbbbbb2", "oops", None));
        assert!(next_commit(&mut reader).unwrap().is_none());
    }
}
