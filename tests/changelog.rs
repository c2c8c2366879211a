//! `conductor changelog` on real repositories: Keep a Changelog sections per
//! release tag, entries with scope, hash and author, the path filter of a
//! monorepo, non-conforming commits listed, and the same bytes every time.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::conductor;

/// A repository whose commits and tags get fixed dates, one day apart.
pub struct Repo {
    pub dir: tempfile::TempDir,
    day: u32,
}

impl Repo {
    pub fn new() -> Self {
        let repo = Self { dir: tempfile::tempdir().unwrap(), day: 0 };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn date(&self) -> String {
        format!("2026-03-{:02}T12:00:00+00:00", self.day.max(1))
    }

    /// Runs git with a fixed identity and the current date.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_as("Ann Author", args)
    }

    pub fn git_as(&self, author: &str, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(self.path())
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_NAME", author)
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Release Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com")
            .env("GIT_AUTHOR_DATE", self.date())
            .env("GIT_COMMITTER_DATE", self.date())
            .output()
            .expect("git runs; install git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A commit changing `file` (appending a line), the next day.
    pub fn commit_in(&mut self, file: &str, author: &str, message: &str) -> &mut Self {
        self.day += 1;
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(message.lines().next().unwrap());
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        self.git(&["add", "-A"]);
        self.git_as(author, &["commit", "-q", "-m", message]);
        self
    }

    pub fn commit(&mut self, message: &str) -> &mut Self {
        self.commit_in("notes.txt", "Ann Author", message)
    }

    /// A lightweight tag on HEAD.
    pub fn tag(&mut self, name: &str) -> &mut Self {
        self.git(&["tag", name]);
        self
    }

    /// An annotated tag on HEAD, dated the day after the last commit.
    pub fn annotated(&mut self, name: &str) -> &mut Self {
        self.day += 1;
        self.git(&["tag", "-a", name, "-m", name]);
        self
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/changelog")
}

/// A history with every section: two releases and unreleased work.
fn history() -> Repo {
    let mut repo = Repo::new();
    repo.commit("feat: first cut of the ledger").commit_in("notes.txt", "Bo Builder", "fix(db): close connections on shutdown").tag("v0.1.0");
    repo.commit("feat(api): page through accounts")
        .commit("perf(db): batch inserts")
        .commit("update the readme")
        .commit("fix(security): escape account names in logs")
        .commit("feat(api)!: accounts are addressed by id\n\nBREAKING CHANGE: the /accounts/{name} routes are gone; use /accounts/{id}")
        .commit("docs: explain paging")
        .commit("Merge branch 'topic'")
        .annotated("v0.2.0");
    repo.commit("fix: keep the cursor on empty pages").commit("wip: half a feature");
    repo
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "conductor failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let path = fixtures().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(actual, want, "{} differs", path.display());
}

#[test]
fn the_whole_history_renders_every_section_by_release() {
    let repo = history();
    golden("full.md", &stdout(&conductor(repo.path(), &["changelog"])));
}

#[test]
fn a_range_from_a_tag_holds_only_what_came_after() {
    let repo = history();
    let text = stdout(&conductor(repo.path(), &["changelog", "--from", "v0.1.0", "--to", "v0.2.0"]));
    golden("from-v0.1.0.md", &text);
    assert!(!text.contains("## [0.1.0]") && !text.contains("first cut"), "{text}");
}

#[test]
fn non_conforming_commits_are_listed_in_their_own_section() {
    let repo = history();
    let text = stdout(&conductor(repo.path(), &["changelog", "--from", "v0.2.0"]));
    let unreleased = text.split("## [Unreleased]").nth(1).unwrap();
    assert!(unreleased.contains("### Other (not Conventional Commits)\n\n- wip: half a feature ("), "{text}");
    assert!(unreleased.contains("### Fixed\n\n- keep the cursor on empty pages ("), "{text}");
}

#[test]
fn the_path_filter_keeps_one_project_of_a_monorepo() {
    let mut repo = Repo::new();
    repo.commit_in("billing/app.py", "Ann Author", "feat(billing): invoices").commit_in("search/app.py", "Ann Author", "feat(search): fuzzy terms").tag("v1.0.0");
    repo.commit_in("search/app.py", "Ann Author", "fix(search): empty queries").tag("v1.0.1");
    repo.commit_in("billing/app.py", "Ann Author", "fix(billing): rounding");
    let text = stdout(&conductor(repo.path(), &["changelog", "--path", "billing"]));
    assert!(text.contains("invoices") && text.contains("rounding"), "{text}");
    assert!(!text.contains("fuzzy") && !text.contains("empty queries"), "{text}");
    assert!(text.contains("## [1.0.0]") && !text.contains("## [1.0.1]"), "a release without billing commits is left out: {text}");
}

#[test]
fn the_same_repository_gives_the_same_bytes() {
    let repo = history();
    let first = conductor(repo.path(), &["changelog"]).stdout;
    let second = conductor(repo.path(), &["changelog"]).stdout;
    assert_eq!(first, second);
    stdout(&conductor(repo.path(), &["changelog", "--output", "CHANGELOG.md"]));
    assert_eq!(std::fs::read(repo.path().join("CHANGELOG.md")).unwrap(), first);
}

#[test]
fn a_missing_from_ref_exits_2_and_names_it() {
    let repo = history();
    let out = conductor(repo.path(), &["changelog", "--from", "v9.9.9"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--from v9.9.9") && stderr.contains("git tag -l"), "{stderr}");
}

#[test]
fn a_folder_without_history_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = conductor(dir.path(), &["changelog"]);
    assert_eq!(out.status.code(), Some(2));
}
