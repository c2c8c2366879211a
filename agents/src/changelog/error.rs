//! Why history could not be read or a version could not be written.

use std::path::PathBuf;

/// A failure of the changelog and version library, naming the ref, the file
/// or the field, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    /// `git` could not be started.
    #[error("git could not be started ({0}); install git")]
    Spawn(#[source] std::io::Error),
    /// A `git` command failed.
    #[error("`git {args}` failed: {stderr}")]
    Git {
        /// The arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
    /// A ref given on the command line or in settings names no commit.
    #[error("{flag} {reference}: no such tag, branch or commit in this repository; list the tags with `git tag -l`")]
    MissingRef {
        /// Where it was given, such as `--from`.
        flag: &'static str,
        /// The ref.
        reference: String,
    },
    /// A manifest could not be read.
    #[error("{}: cannot be read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A manifest is there but its version cannot be found or parsed.
    #[error("{}: {field}: {problem}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The field, such as `[package] version`.
        field: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A manifest could not be written.
    #[error("{}: cannot be written: {source}; no file was changed before this one", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ChangelogError {
    pub(crate) fn manifest(path: &std::path::Path, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Manifest { path: path.to_owned(), field: field.into(), problem: problem.into() }
    }
}
