//! How a scan is configured: from an agent's settings in conductor.toml, or
//! field by field by a caller such as the command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::allow::{Allowlist, Baseline};

/// Files larger than this are skipped unless `max_file_bytes` says otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// What a scan reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The files of a work tree, honouring `.gitignore`.
    #[default]
    Tree,
    /// The lines added since a ref (by default the previous tag).
    Diff,
    /// Every blob in the repository's history, each once.
    History,
}

impl Mode {
    /// Every mode's name, as settings and flags write it.
    pub const NAMES: [&'static str; 3] = ["tree", "diff", "history"];

    /// The mode called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "tree" => Some(Self::Tree),
            "diff" => Some(Self::Diff),
            "history" => Some(Self::History),
            _ => None,
        }
    }

    /// The name as settings write it.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A flag a caller sets to stop a running scan; the scan then returns
/// [`super::ScanError::Cancelled`] and its git processes are killed.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Asks the scan to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the scan was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How a scan runs and what it does not report.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Files (or blobs, or added lines of one file) larger than this are skipped and counted.
    pub max_file_bytes: u64,
    /// Paths and values not reported.
    pub allowlist: Allowlist,
    /// Accepted findings.
    pub baseline: Option<Baseline>,
    /// Worker threads (and, in history mode, `git cat-file` processes).
    pub threads: usize,
    /// Stops the scan from another thread.
    pub cancel: Cancel,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            allowlist: Allowlist::default(),
            baseline: None,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            cancel: Cancel::default(),
        }
    }
}

/// A setting or file that makes the scan configuration unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has the wrong type or value.
    #[error("setting '{key}' must be {expected}")]
    BadSetting {
        /// The setting.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// An `allow_paths` glob does not parse.
    #[error("allow_paths glob '{glob}' is invalid: {source}; globs look like 'fixtures/**' or '**/*.test.env'")]
    BadGlob {
        /// The glob.
        glob: String,
        /// Why.
        source: globset::Error,
    },
    /// An `allow_patterns` regex does not parse.
    #[error("allow_patterns are not valid regexes ({}): {source}", patterns.join(", "))]
    BadPattern {
        /// The patterns.
        patterns: Vec<String>,
        /// Why.
        source: regex::Error,
    },
    /// The configured baseline file is not there.
    #[error("baseline {} does not exist; write one with `conductor scan-secrets --write-baseline {}` or remove the setting", path.display(), path.display())]
    BaselineMissing {
        /// The file.
        path: PathBuf,
    },
    /// The baseline file cannot be read.
    #[error("baseline {} cannot be read: {source}", path.display())]
    BaselineUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The baseline file is not a JSON array of entries.
    #[error("baseline {} is not a JSON array of {{\"fingerprint\": ...}} entries: {source}; rewrite it with --write-baseline", path.display())]
    BaselineInvalid {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A baseline entry's fingerprint is not 64 lowercase hex digits.
    #[error("baseline {} entry {index}: 'fingerprint' must be 64 lowercase hex digits; rewrite the file with --write-baseline", path.display())]
    BaselineFingerprint {
        /// The file.
        path: PathBuf,
        /// The entry, from 0.
        index: usize,
    },
    /// The baseline file cannot be written.
    #[error("baseline {} cannot be written: {source}", path.display())]
    BaselineUnwritable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ScanConfig {
    /// The configuration from an agent's settings: `allow_paths` and
    /// `allow_patterns` (a string or a list of strings), `baseline` (a file
    /// relative to `base`) and `max_file_bytes` (a positive integer).
    /// Unset settings keep their defaults.
    pub fn from_settings(settings: &toml::Table, base: &Path) -> Result<Self, ConfigError> {
        let globs = strings(settings, "allow_paths")?;
        let patterns = strings(settings, "allow_patterns")?;
        let mut config = Self { allowlist: Allowlist::new(&globs, &patterns)?, ..Self::default() };
        if let Some(value) = settings.get("max_file_bytes") {
            let bytes = value.as_integer().and_then(|n| u64::try_from(n).ok()).filter(|n| *n > 0);
            config.max_file_bytes = bytes.ok_or(ConfigError::BadSetting { key: "max_file_bytes", expected: "a positive integer (bytes)" })?;
        }
        if let Some(value) = settings.get("baseline") {
            let path = value.as_str().filter(|p| !p.trim().is_empty()).ok_or(ConfigError::BadSetting { key: "baseline", expected: "a file name" })?;
            config.baseline = Some(Baseline::load(&base.join(path))?);
        }
        Ok(config)
    }
}

/// A setting that is a string or a list of strings; empty when unset.
pub(crate) fn strings(settings: &toml::Table, key: &'static str) -> Result<Vec<String>, ConfigError> {
    let bad = ConfigError::BadSetting { key, expected: "a string or a list of strings" };
    match settings.get(key) {
        None => Ok(Vec::new()),
        Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
        Some(toml::Value::Array(items)) => items.iter().map(|i| i.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>().ok_or(bad),
        Some(_) => Err(bad),
    }
}
