//! What the scan may find without reporting: paths by glob, values by
//! regex, lines carrying an inline marker, and a baseline of accepted
//! findings by fingerprint.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::RegexSet;
use serde::{Deserialize, Serialize};

use super::config::ConfigError;
use super::report::Finding;

/// Comments that allow the secret on their own line. `gitleaks:allow` is
/// honoured too, so a repository moving from gitleaks keeps its exceptions.
pub const INLINE_MARKERS: [&str; 2] = ["conductor:allow-secret", "gitleaks:allow"];

/// Paths and values never reported.
#[derive(Clone, Debug)]
pub struct Allowlist {
    globs: Vec<String>,
    paths: GlobSet,
    patterns: RegexSet,
}

impl Default for Allowlist {
    fn default() -> Self {
        Self { globs: Vec::new(), paths: GlobSet::empty(), patterns: RegexSet::empty() }
    }
}

impl Allowlist {
    /// Path globs (matched against paths relative to the scanned folder,
    /// `/`-separated; `**` crosses folders) and regexes (matched against
    /// the secret and against its whole line).
    pub fn new(globs: &[String], patterns: &[String]) -> Result<Self, ConfigError> {
        let mut set = GlobSetBuilder::new();
        for glob in globs {
            let parsed = Glob::new(glob).map_err(|source| ConfigError::BadGlob { glob: glob.clone(), source })?;
            set.add(parsed);
        }
        let paths = set.build().map_err(|source| ConfigError::BadGlob { glob: globs.join(", "), source })?;
        let patterns = RegexSet::new(patterns).map_err(|source| ConfigError::BadPattern { patterns: patterns.to_vec(), source })?;
        Ok(Self { globs: globs.to_vec(), paths, patterns })
    }

    /// Whether a file at `path` (relative, `/`-separated) is skipped whole.
    pub fn path_allowed(&self, path: &str) -> bool {
        !self.globs.is_empty() && self.paths.is_match(path)
    }

    /// Whether a match is allowed by one of the patterns.
    pub(crate) fn value_allowed(&self, secret: &[u8], line: &[u8]) -> bool {
        !self.patterns.is_empty() && (self.patterns.is_match(secret) || self.patterns.is_match(line))
    }

    /// The path globs as configured.
    pub fn globs(&self) -> &[String] {
        &self.globs
    }

    /// The value patterns as configured.
    pub fn patterns(&self) -> &[String] {
        self.patterns.patterns()
    }
}

/// Accepted findings, by fingerprint: known secrets that are being rotated
/// or were judged harmless, so that only new ones fail a release.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

/// One entry of a baseline file. Only the fingerprint is matched; rule,
/// path and line are there for the people who review the file.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
}

impl Baseline {
    /// Reads a baseline file: a JSON array of objects, each with a
    /// `fingerprint` (64 lowercase hex digits).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ConfigError::BaselineMissing { path: path.to_owned() },
            _ => ConfigError::BaselineUnreadable { path: path.to_owned(), source },
        })?;
        let entries: Vec<Entry> = serde_json::from_slice(&bytes).map_err(|source| ConfigError::BaselineInvalid { path: path.to_owned(), source })?;
        let mut fingerprints = BTreeSet::new();
        for (index, entry) in entries.into_iter().enumerate() {
            if entry.fingerprint.len() != 64 || !entry.fingerprint.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return Err(ConfigError::BaselineFingerprint { path: path.to_owned(), index });
            }
            fingerprints.insert(entry.fingerprint);
        }
        Ok(Self { fingerprints })
    }

    /// The baseline accepting exactly `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        Self { fingerprints: findings.iter().map(|f| f.fingerprint.clone()).collect() }
    }

    /// Whether the finding with `fingerprint` is accepted.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// How many findings it accepts.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether it accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// The baseline file text for `findings`, one entry per fingerprint in
    /// fingerprint order, so rewriting it for the same findings gives the
    /// same bytes.
    pub fn render(findings: &[Finding]) -> String {
        let mut entries: Vec<Entry> = findings
            .iter()
            .map(|f| Entry { fingerprint: f.fingerprint.clone(), rule: Some(f.rule.to_owned()), path: Some(f.path.clone()), line: Some(f.line), commit: f.commit.clone() })
            .collect();
        entries.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        // Serialising plain strings and integers cannot fail.
        let mut text = serde_json::to_string_pretty(&entries).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes the baseline file for `findings` to `path`.
    pub fn write(findings: &[Finding], path: &Path) -> Result<(), ConfigError> {
        std::fs::write(path, Self::render(findings)).map_err(|source| ConfigError::BaselineUnwritable { path: PathBuf::from(path), source })
    }
}
