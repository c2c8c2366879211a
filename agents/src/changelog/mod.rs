//! Versions and release notes from Conventional Commits, and the
//! `changelog` kind that files a release's notes as evidence.
//!
//! History is read in one pass (`git for-each-ref` for the tags, one
//! streamed `git log -z` for the commits) and split into releases at the
//! commits that version tags (`v1.2.0`, `1.2.0`, `v1.3.0-rc.1`) point at.
//! [`changelog`] renders with [`render`] as Keep a Changelog markdown;
//! [`next_version`] applies the [`bump`] rules; [`version_files`] writes the
//! new version into the project's manifests.
//!
//! ```
//! use agents::changelog::{bump::Bump, commits::{Commit, Conventional}};
//! let commit = Commit {
//!     id: "0123456789abcdef0123456789abcdef01234567".into(),
//!     author: "Ann".into(),
//!     date: "2026-01-01T00:00:00+00:00".into(),
//!     subject: "feat(api): paging".into(),
//!     conventional: Conventional::parse("feat(api): paging"),
//! };
//! assert_eq!(Bump::of(&commit), Bump::Minor);
//! let next = agents::changelog::bump::next_stable(&semver::Version::new(1, 2, 0), Bump::of(&commit));
//! assert_eq!(next.unwrap().to_string(), "1.3.0");
//! ```

pub mod bump;
pub mod commits;
mod error;
pub mod render;
pub mod version_files;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::json;

pub use error::ChangelogError;
use bump::{Bump, Channel};
use commits::{Commit, VersionTag, Walk};
use render::{Release, Section};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// Which part of history a changelog covers.
#[derive(Clone, Debug)]
pub struct Range<'a> {
    /// Commits reachable from this ref are left out; `None` for all history.
    pub from: Option<&'a str>,
    /// The newest commit, such as `HEAD`.
    pub to: &'a str,
    /// Only commits touching this folder (relative to the repository root).
    pub path: Option<&'a Path>,
}

/// The releases in a range, newest first: first the commits after the
/// newest version tag (titled Unreleased; left out only when `to` is a
/// release tag other than `HEAD`), then one release per tagged commit. With a path, releases left without commits are dropped.
pub fn changelog(repo: &Path, range: &Range<'_>) -> Result<Vec<Release>, ChangelogError> {
    let to = commits::resolve(repo, "--to", range.to)?;
    let from = range.from.map(|f| commits::resolve(repo, "--from", f)).transpose()?;
    let tags = commits::version_tags(repo)?;
    let walk = Walk { to: &to, from: from.as_deref(), path: range.path };
    let (history, _) = commits::read(repo, &walk, |_| false)?;
    let mut releases = split(history, &tags);
    // A range ending at a release tag has nothing unreleased; HEAD keeps the
    // heading even when empty, as Keep a Changelog does.
    if range.to != "HEAD" && tags.contains_key(&to) && releases.len() > 1 && releases[0].commits.is_empty() {
        releases.remove(0);
    }
    if let Some(path) = range.path {
        let keep = commits::touching(repo, &walk, path)?;
        for release in &mut releases {
            release.commits.retain(|c| keep.contains(&c.id));
        }
        releases.retain(|r| r.version.is_none() || !r.commits.is_empty());
    }
    Ok(releases)
}

/// Splits commits (newest first) into releases at tagged commits.
fn split(history: Vec<Commit>, tags: &HashMap<String, Vec<VersionTag>>) -> Vec<Release> {
    let mut releases = vec![Release { version: None, date: None, commits: Vec::new() }];
    for commit in history {
        if let Some(tag) = tags.get(&commit.id).and_then(|t| t.first()) {
            releases.push(Release { version: Some(tag.version.to_string()), date: Some(tag.date.clone()), commits: Vec::new() });
        }
        if let Some(current) = releases.last_mut() {
            current.commits.push(commit);
        }
    }
    releases
}

/// What the next version is and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextVersion {
    /// The last stable release tag reachable from the commit, if any.
    pub current: Option<VersionTag>,
    /// The pre-release tags since it.
    pub pre_releases: Vec<VersionTag>,
    /// How many commits since it were read.
    pub commits: usize,
    /// What they call for.
    pub bump: Bump,
    /// The next version, or `None` when no commit calls for a release.
    pub next: Option<semver::Version>,
}

impl NextVersion {
    /// The tag the next version would get, spelt like the current one
    /// (with a leading `v` unless the current tag has none).
    pub fn tag(&self) -> Option<String> {
        let v = if self.current.as_ref().is_some_and(|t| !t.name.starts_with('v')) { "" } else { "v" };
        self.next.as_ref().map(|n| format!("{v}{n}"))
    }
}

/// The next version after the last stable release reachable from `to`,
/// reading only the commits since it; a pre-release on `channel` when given.
/// With no stable tag the history starts from 0.0.0.
pub fn next_version(repo: &Path, to: &str, channel: Option<Channel>) -> Result<NextVersion, ChangelogError> {
    let to = commits::resolve(repo, "--to", to)?;
    let tags = commits::version_tags(repo)?;
    let mut current = None;
    let mut pre_releases = Vec::new();
    let (since, _) = commits::read(repo, &Walk { to: &to, from: None, path: None }, |c| {
        let Some(list) = tags.get(&c.id) else { return false };
        match list.iter().find(|t| t.version.pre.is_empty()) {
            Some(stable) => {
                current = Some(stable.clone());
                true
            }
            None => {
                pre_releases.extend(list.iter().cloned());
                false
            }
        }
    })?;
    let base = current.as_ref().map_or_else(|| semver::Version::new(0, 0, 0), |t| t.version.clone());
    let bump = Bump::of_all(&since);
    let stable = bump::next_stable(&base, bump);
    let next = match channel {
        None => stable,
        Some(channel) => {
            let tagged: Vec<semver::Version> = pre_releases.iter().map(|t| t.version.clone()).collect();
            stable.map(|target| bump::next_pre(&target, channel, &tagged))
        }
    };
    Ok(NextVersion { current, pre_releases, commits: since.len(), bump, next })
}

/// A release's notes: the commits after the previous version tag (the
/// previous stable one for a stable `version`) up to and including `commit`, titled `version` and dated by the commit, with the
/// previous tag's name.
pub fn release_notes(repo: &Path, commit: &str, version: &str, path: Option<&Path>) -> Result<(Release, Option<String>), ChangelogError> {
    let commit = commits::resolve(repo, "commit", commit)?;
    let tags = commits::version_tags(repo)?;
    let mut previous = None;
    let walk = Walk { to: &commit, from: None, path };
    // A stable release's notes cover its pre-releases too: they start at the
    // previous stable tag. A pre-release's start at the previous tag of any kind.
    let stable = commits::tag_version(version).is_none_or(|v| v.pre.is_empty());
    let (mut history, _) = commits::read(repo, &walk, |c| {
        let tag = (c.id != commit).then(|| tags.get(&c.id).and_then(|t| t.iter().find(|t| !stable || t.version.pre.is_empty()))).flatten();
        previous = tag.map(|t| t.name.clone());
        previous.is_some()
    })?;
    let date = history.first().map(|c| c.date.chars().take(10).collect());
    if let Some(path) = path {
        let keep = commits::touching(repo, &Walk { to: &commit, from: previous.as_deref(), path: Some(path) }, path)?;
        history.retain(|c| keep.contains(&c.id));
    }
    let title = version.strip_prefix('v').unwrap_or(version).to_owned();
    Ok((Release { version: Some(title), date, commits: history }, previous))
}

/// How many commits of a release each section lists, by section key.
pub fn section_counts(release: &Release) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = Section::ALL.iter().map(|s| (s.key(), 0)).collect();
    for commit in &release.commits {
        *counts.entry(Section::of(commit).key()).or_default() += 1;
    }
    counts
}

/// The `changelog` kind: renders the release's notes from the previous
/// version tag to the release commit and files them as evidence.
///
/// Settings: `project` (only commits touching this folder) and `name` (the
/// evidence file's name, default `release-notes.md`).
pub struct ChangelogAgent;

#[async_trait::async_trait]
impl Agent for ChangelogAgent {
    fn kind(&self) -> &'static str {
        "changelog"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let binding = match task.release() {
            Ok(release) => release.binding.clone(),
            Err(outcome) => return outcome,
        };
        let name = match task.settings.get("name") {
            None => "release-notes.md".to_owned(),
            Some(_) => match task.text_setting("name") {
                Ok(n) if !n.contains(['/', '\\']) => n.to_owned(),
                Ok(n) => return AgentOutcome::missing_input(format!("name '{n}' of [agents.\"{}\"] must be a file name without folders", task.agent)),
                Err(outcome) => return outcome,
            },
        };
        let project = match task.settings.get("project") {
            None => None,
            Some(_) => match task.text_setting("project") {
                Ok(p) => Some(p.to_owned()),
                Err(outcome) => return outcome,
            },
        };
        let task = task.clone();
        match tokio::task::spawn_blocking(move || notes(&task, &binding, &name, project.as_deref())).await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => AgentOutcome::error(format!("rendering the release notes was cancelled: {e}")),
        }
    }
}

fn notes(task: &AgentTask, binding: &evidence::record::ReleaseBinding, name: &str, project: Option<&str>) -> AgentOutcome {
    let (release, previous) = match release_notes(&task.workdir, &binding.commit, &binding.version, project.map(Path::new)) {
        Ok(notes) => notes,
        Err(e @ ChangelogError::Spawn(_)) => return AgentOutcome::error(e.to_string()),
        Err(e) => return AgentOutcome::missing_input(format!("the release notes cannot be read from git history: {e}")),
    };
    let text = format!("# Release notes\n\n{}", render::release_section(&release));
    let path = task.scratch.join(name);
    if let Err(e) = std::fs::create_dir_all(&task.scratch).and_then(|()| std::fs::write(&path, text.as_bytes())) {
        return AgentOutcome::error(format!("cannot write {}: {e}", path.display()));
    }
    let counts = section_counts(&release);
    let since = previous.as_deref().map_or_else(|| "in all history".to_owned(), |t| format!("since {t}"));
    let reason = format!("release notes for {} from {} commit(s) {since} ({} bytes)", binding.version, release.commits.len(), text.len());
    let facts = json!({
        "path": name, "size": text.len(), "version": binding.version, "from": previous, "to": binding.commit,
        "project": project, "commits": release.commits.len(), "sections": counts, "nonConforming": counts.get("other"),
    });
    AgentOutcome { verdict: Verdict::Pass, reason, facts, files: vec![ProducedFile { name: name.to_owned(), path }] }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs git in `dir` with a fixed identity.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=Ann", "-c", "user.email=a@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn stable_notes_cover_the_pre_releases_and_pre_release_notes_do_not() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        for (message, tag) in [("feat: one", Some("v1.2.0")), ("feat: two", Some("v1.3.0-rc.1")), ("fix: three", None)] {
            git(dir.path(), &["commit", "-q", "--allow-empty", "-m", message]);
            if let Some(tag) = tag {
                git(dir.path(), &["tag", tag]);
            }
        }
        let (stable, from) = release_notes(dir.path(), "HEAD", "v1.3.0", None).unwrap();
        assert_eq!((stable.commits.len(), from.as_deref(), stable.version.as_deref()), (2, Some("v1.2.0"), Some("1.3.0")));
        let (pre, from) = release_notes(dir.path(), "HEAD", "v1.3.0-rc.2", None).unwrap();
        assert_eq!((pre.commits.len(), from.as_deref()), (1, Some("v1.3.0-rc.1")));
    }

    #[tokio::test]
    async fn outside_a_release_the_notes_are_missing_input() {
        let dir = tempfile::tempdir().unwrap();
        let task = AgentTask::new("Comms Bard", "changelog", "P7", dir.path(), dir.path(), toml::Table::new());
        assert_eq!(ChangelogAgent.run(&task).await.verdict, Verdict::MissingInput);
    }

    #[tokio::test]
    async fn a_name_with_folders_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let binding = evidence::record::ReleaseBinding { version: "v1.0.0".into(), commit: "0".repeat(40), environment: "prod".into(), id: "r".into() };
        let mut settings = toml::Table::new();
        settings.insert("name".into(), "../notes.md".into());
        let task = AgentTask::new("Comms Bard", "changelog", "P7", dir.path(), dir.path(), settings).with_release(crate::ReleaseContext::new(binding));
        let outcome = ChangelogAgent.run(&task).await;
        assert_eq!(outcome.verdict, Verdict::MissingInput);
        assert!(outcome.reason.contains("without folders"), "{}", outcome.reason);
    }
}
