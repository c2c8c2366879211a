//! What can go wrong between a lock file and an SBOM, said so that the
//! message names the file, the place in it and what to do.

use std::fmt;
use std::path::PathBuf;

/// Where in a lock file a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole.
    File,
    /// A line, counted from 1.
    Line(usize),
    /// A field, written as a path such as `packages["node_modules/x"].integrity`.
    Field(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => Ok(()),
            Self::Line(line) => write!(f, ":{line}"),
            Self::Field(field) => write!(f, " at {field}"),
        }
    }
}

/// What is wrong at a [`Location`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The text is not `format` at all; `detail` is the parser's own account.
    Syntax {
        /// TOML, JSON, UTF-8.
        format: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// A field every entry must have is absent.
    Missing {
        /// The field's name.
        field: &'static str,
    },
    /// A field has the wrong type.
    WrongType {
        /// What it should be, such as "a string".
        expected: &'static str,
    },
    /// A hash is not one this format allows or does not decode.
    Hash {
        /// The hash as written.
        value: String,
    },
    /// A dependency names a package the lock file does not list.
    UnknownDependency {
        /// The dependency as written.
        name: String,
    },
    /// The lock file's format version is one this reader does not know.
    UnsupportedVersion {
        /// The version as written.
        found: String,
    },
    /// A line does not have the expected shape.
    Line {
        /// The shape it should have.
        expected: &'static str,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { format, detail } => write!(f, "not valid {format}: {detail}; is the file complete? regenerate it with its package manager"),
            Self::Missing { field } => write!(f, "no '{field}' is given; regenerate the lock file with its package manager"),
            Self::WrongType { expected } => write!(f, "expected {expected}; regenerate the lock file with its package manager"),
            Self::Hash { value } => write!(f, "'{value}' is not a hash this format allows (or does not decode); regenerate the lock file"),
            Self::UnknownDependency { name } => write!(f, "depends on '{name}', which the lock file does not list; regenerate the lock file"),
            Self::UnsupportedVersion { found } => write!(f, "lock file version {found} is not supported; regenerate it with a current package manager"),
            Self::Line { expected } => write!(f, "expected {expected}"),
        }
    }
}

/// One requirement that does not pin a single version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpinned {
    /// The line it starts on, counted from 1.
    pub line: usize,
    /// The requirement as written, without comments or hashes.
    pub requirement: String,
}

/// Why no SBOM could be made.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// The lock file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The document cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file's name is not one of the lock files this reader knows.
    #[error(
        "{} is not a lock file conductor reads; name one of Cargo.lock, package-lock.json, npm-shrinkwrap.json, poetry.lock, requirements.txt, go.sum or go.mod",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The lock file does not parse.
    #[error("{}{at}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in it.
        at: Location,
        /// What is wrong.
        problem: Problem,
    },
    /// Requirements that do not pin one version: an SBOM of them would not
    /// say what gets installed.
    #[error(
        "{}: {} not pinned to one version ({}); pin each as name==version, for example with `pip-compile --generate-hashes`",
        path.display(),
        if requirements.len() == 1 { "1 requirement is".to_owned() } else { format!("{} requirements are", requirements.len()) },
        requirements.iter().map(|u| format!("line {} '{}'", u.line, u.requirement)).collect::<Vec<_>>().join(", ")
    )]
    Unpinned {
        /// The file.
        path: PathBuf,
        /// Every unpinned requirement in it.
        requirements: Vec<Unpinned>,
    },
    /// git could not say what the repository is.
    #[error("cannot describe the repository at {}: `git {args}` failed: {detail}; run from a git repository with at least one commit", root.display())]
    Git {
        /// The repository.
        root: PathBuf,
        /// The git arguments.
        args: &'static str,
        /// git's own message.
        detail: String,
    },
    /// `SOURCE_DATE_EPOCH` is set but is not a time.
    #[error("SOURCE_DATE_EPOCH '{value}' is not a whole number of seconds since 1970; set it to one, such as the commit time, or unset it")]
    SourceDateEpoch {
        /// The value as set.
        value: String,
    },
    /// The CycloneDX writer refused the document.
    #[error("the CycloneDX writer refused the document: {detail}")]
    Document {
        /// The writer's account.
        detail: String,
    },
}

impl SbomError {
    /// An [`SbomError::Invalid`].
    pub(crate) fn invalid(path: &std::path::Path, at: Location, problem: Problem) -> Self {
        Self::Invalid { path: path.to_owned(), at, problem }
    }
}
