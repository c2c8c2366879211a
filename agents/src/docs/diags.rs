//! The problems the docs kind reports, each under a stable code.

use std::fmt;

use serde::Serialize;

/// What kind of problem a [`Problem`] is. The kebab-case names are stable:
/// gate policies and readers match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Code {
    /// A link, image or runbook URL names a local file that does not exist
    /// (or lies outside the repository, or is empty).
    BrokenLink,
    /// A link names a heading that the target Markdown file does not have.
    MissingAnchor,
    /// A full or collapsed reference link (`[text][label]`) whose label has no definition.
    UndefinedReference,
    /// A required file or a configured path does not exist.
    MissingFile,
    /// A required file exists but holds nothing but whitespace.
    EmptyFile,
    /// The changelog or migration guide does not mention the version being released.
    VersionNotDocumented,
    /// The release has breaking changes and no migration guide exists.
    MissingMigrationGuide,
    /// A Prometheus alerting rule has no `annotations.runbook_url`.
    AlertWithoutRunbook,
    /// A runbook lacks a heading that `runbook_sections` requires.
    RunbookMissingSection,
}

impl Code {
    /// Every code, in the order the facts list their counts.
    pub(crate) const ALL: [Code; 9] = [
        Code::BrokenLink,
        Code::MissingAnchor,
        Code::UndefinedReference,
        Code::MissingFile,
        Code::EmptyFile,
        Code::VersionNotDocumented,
        Code::MissingMigrationGuide,
        Code::AlertWithoutRunbook,
        Code::RunbookMissingSection,
    ];

    /// The stable kebab-case name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Code::BrokenLink => "broken-link",
            Code::MissingAnchor => "missing-anchor",
            Code::UndefinedReference => "undefined-reference",
            Code::MissingFile => "missing-file",
            Code::EmptyFile => "empty-file",
            Code::VersionNotDocumented => "version-not-documented",
            Code::MissingMigrationGuide => "missing-migration-guide",
            Code::AlertWithoutRunbook => "alert-without-runbook",
            Code::RunbookMissingSection => "runbook-missing-section",
        }
    }
}

/// One problem, at a file and, where it has one, a line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    /// The file, relative to the repository, with `/` separators.
    pub(crate) file: String,
    /// The line, or `None` when the problem is about the whole file.
    pub(crate) line: Option<usize>,
    /// What kind of problem it is.
    pub(crate) code: Code,
    /// What is wrong, for people.
    pub(crate) message: String,
}

impl Problem {
    /// A problem at a line of a file.
    pub(crate) fn at(file: &str, line: usize, code: Code, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line: Some(line), code, message: message.into() }
    }

    /// A problem with a whole file.
    pub(crate) fn file(file: &str, code: Code, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line: None, code, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_names() {
        for code in Code::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn problems_read_file_colon_line() {
        assert_eq!(Problem::at("README.md", 3, Code::BrokenLink, "link to x.md: no such file").to_string(), "README.md:3: link to x.md: no such file");
        assert_eq!(Problem::file("CHANGELOG.md", Code::MissingFile, "required file is missing").to_string(), "CHANGELOG.md: required file is missing");
    }
}
