//! Keep a Changelog markdown: a section per release, newest first, and in
//! each the commits grouped as Breaking changes, Added, Changed, Fixed,
//! Security and Other (not Conventional Commits). The output depends only
//! on the history: dates come from tags and commits, never from the clock.

use std::fmt::Write as _;

use super::commits::Commit;

/// One release's worth of commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The version it is titled with (without a leading `v`), or `None` for
    /// the commits not released yet.
    pub version: Option<String>,
    /// Its date, `YYYY-MM-DD`, when it has one.
    pub date: Option<String>,
    /// Its commits, newest first.
    pub commits: Vec<Commit>,
}

/// The sections a commit can be listed in, in the order they are rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// A breaking change of any type.
    Breaking,
    /// `feat`.
    Added,
    /// `perf`, `refactor` and the other known types.
    Changed,
    /// `fix`.
    Fixed,
    /// The `security` type or scope.
    Security,
    /// Messages that are not Conventional Commits, or have an unknown type.
    Other,
}

impl Section {
    /// Every section, in rendering order.
    pub const ALL: [Section; 6] = [Self::Breaking, Self::Added, Self::Changed, Self::Fixed, Self::Security, Self::Other];

    /// The section a commit belongs to.
    pub fn of(commit: &Commit) -> Self {
        let Some(c) = commit.conventional.as_ref().filter(|c| c.known()) else { return Self::Other };
        if c.breaking {
            Self::Breaking
        } else if c.kind == "security" || c.scope.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("security")) {
            Self::Security
        } else {
            match c.kind.as_str() {
                "feat" => Self::Added,
                "fix" => Self::Fixed,
                _ => Self::Changed,
            }
        }
    }

    /// The heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Breaking => "Breaking changes",
            Self::Added => "Added",
            Self::Changed => "Changed",
            Self::Fixed => "Fixed",
            Self::Security => "Security",
            Self::Other => "Other (not Conventional Commits)",
        }
    }

    /// The key facts use.
    pub fn key(self) -> &'static str {
        match self {
            Self::Breaking => "breaking",
            Self::Added => "added",
            Self::Changed => "changed",
            Self::Fixed => "fixed",
            Self::Security => "security",
            Self::Other => "other",
        }
    }
}

/// The top of a changelog file.
pub const HEADER: &str = "# Changelog\n\nAll notable changes to this project are documented in this file. The format is based on\n[Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and this project adheres to\n[Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n";

/// A whole changelog: the header, then each release.
pub fn document(releases: &[Release]) -> String {
    let mut out = String::from(HEADER);
    for release in releases {
        out.push('\n');
        out.push_str(&release_section(release));
    }
    out
}

/// One release: its heading and its sections, empty sections left out.
pub fn release_section(release: &Release) -> String {
    let mut out = String::new();
    let title = release.version.as_deref().unwrap_or("Unreleased");
    match &release.date {
        Some(date) => writeln!(out, "## [{title}] - {date}"),
        None => writeln!(out, "## [{title}]"),
    }
    .ok();
    for section in Section::ALL {
        let mut entries = release.commits.iter().filter(|c| Section::of(c) == section).peekable();
        if entries.peek().is_none() {
            continue;
        }
        write!(out, "\n### {}\n\n", section.title()).ok();
        for commit in entries {
            out.push_str(&entry(commit));
        }
    }
    out
}

/// A commit's line: `- **scope:** description (abc1234, Author)`, the type
/// shown where the section does not imply it, and a breaking note below.
fn entry(commit: &Commit) -> String {
    let section = Section::of(commit);
    let Some(c) = commit.conventional.as_ref().filter(|_| section != Section::Other) else {
        return format!("- {} ({}, {})\n", escape(&commit.subject), commit.short(), escape(&commit.author));
    };
    let kind = match section {
        Section::Changed | Section::Breaking | Section::Security => format!("{}: ", c.kind),
        _ => String::new(),
    };
    let scope = c.scope.as_deref().map_or_else(String::new, |s| format!("**{}:** ", escape(s)));
    let mut line = format!("- {kind}{scope}{} ({}, {})\n", escape(&c.description), commit.short(), escape(&commit.author));
    if let Some(note) = &c.breaking_note {
        for (i, text) in note.lines().enumerate() {
            let _ = writeln!(line, "  {}{}", if i == 0 { "BREAKING CHANGE: " } else { "" }, escape(text));
        }
    }
    line
}

/// Text with the characters that would start Markdown markup escaped, so a
/// message cannot inject HTML or links into the notes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '<' | '>' | '[' | ']' | '*' | '_' | '`' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::commits::Conventional;

    fn commit(id: &str, message: &str) -> Commit {
        Commit { id: id.repeat(40 / id.len()), author: "Ann".into(), date: "2026-01-01T00:00:00+00:00".into(), subject: message.lines().next().unwrap().into(), conventional: Conventional::parse(message) }
    }

    #[test]
    fn commits_land_in_their_sections() {
        let cases = [
            ("feat: x", Section::Added),
            ("fix(db): x", Section::Fixed),
            ("perf: x", Section::Changed),
            ("chore: x", Section::Changed),
            ("security: x", Section::Security),
            ("fix(security): x", Section::Security),
            ("feat!: x", Section::Breaking),
            ("refactor: x\n\nBREAKING CHANGE: y", Section::Breaking),
            ("wip: x", Section::Other),
            ("just words", Section::Other),
        ];
        for (message, section) in cases {
            assert_eq!(Section::of(&commit("a", message)), section, "{message}");
        }
    }

    #[test]
    fn a_release_renders_entries_with_scope_hash_and_author() {
        let release = Release {
            version: Some("1.1.0".into()),
            date: Some("2026-02-03".into()),
            commits: vec![commit("a", "feat(api): add <b>bold</b> paging"), commit("b", "refactor(core)!: split\n\nBREAKING CHANGE: config moved"), commit("c", "tidy up")],
        };
        let text = release_section(&release);
        assert_eq!(
            text,
            "## [1.1.0] - 2026-02-03\n\n### Breaking changes\n\n- refactor: **core:** split (bbbbbbb, Ann)\n  BREAKING CHANGE: config moved\n\n### Added\n\n- **api:** add \\<b\\>bold\\</b\\> paging (aaaaaaa, Ann)\n\n### Other (not Conventional Commits)\n\n- tidy up (ccccccc, Ann)\n"
        );
    }
}
