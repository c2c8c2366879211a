//! The `release_data.json` schema, version 1 (`conductor/release-data/v1`):
//! what a readiness assessment is computed from. Every category and every
//! field is optional, so that absence is represented rather than defaulted:
//! a missing category scores 0 with the reason "no data" and a missing field
//! fails the criteria that need it. Unknown fields are errors, so a typo is
//! never silently ignored. docs/readiness.md describes every field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The schema identifier the `schema` field must carry.
pub const SCHEMA: &str = "conductor/release-data/v1";

/// The version of the schema a file is written against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemaVersion {
    /// `conductor/release-data/v1`.
    #[default]
    #[serde(rename = "conductor/release-data/v1")]
    V1,
}

/// A fraction from 0 to 1 inclusive, such as a line coverage rate.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(into = "f64")]
pub struct Fraction(f64);

impl Fraction {
    /// The value, from 0 to 1.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Fraction {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("{value} is not a fraction from 0 to 1 (write 83% as 0.83)"))
        }
    }
}

impl From<Fraction> for f64 {
    fn from(f: Fraction) -> Self {
        f.0
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Fraction;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number from 0 to 1")
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Fraction, E> {
                Fraction::try_from(v).map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Fraction, E> {
                // Counts this small convert to f64 exactly; larger ones fail the range check anyway.
                self.visit_f64(v as f64)
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
        }

        deserializer.deserialize_f64(Visitor)
    }
}

/// One release's readiness data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseData {
    /// The schema version; required.
    pub schema: SchemaVersion,
    /// The version being released, shown in the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Test results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Tests>,
    /// Static analysis of code quality (linters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_quality: Option<CodeQuality>,
    /// The release's documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<Documentation>,
    /// Secrets, vulnerabilities and security static analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    /// Changes that break compatibility, and how they are explained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaking_changes: Option<BreakingChanges>,
    /// Lock files and the packages they pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Dependencies>,
    /// How the release is undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
}

/// Test results over every test report of the release.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tests {
    /// Test cases run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Test cases that passed on their first attempt (shown, not scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<u64>,
    /// Test cases that failed or errored on every attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<u64>,
    /// Test cases that failed and then passed on a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaky: Option<u64>,
    /// Lines covered over lines measured, from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_coverage: Option<Fraction>,
}

/// Linter findings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeQuality {
    /// Findings at error level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint_errors: Option<u64>,
    /// Findings at warning level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint_warnings: Option<u64>,
}

/// Documentation checks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Documentation {
    /// A README exists and is not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readme: Option<bool>,
    /// The changelog mentions the version being released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_mentions_version: Option<bool>,
    /// Local links, images and heading anchors that do not resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_links: Option<u64>,
}

/// Security findings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Plaintext credentials found (neither allowlisted nor baselined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<u64>,
    /// Known vulnerabilities rated critical, or not rated at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical_vulnerabilities: Option<u64>,
    /// Known vulnerabilities rated high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_vulnerabilities: Option<u64>,
    /// Security static-analysis (SAST, IaC) findings at error level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sast_errors: Option<u64>,
}

/// Breaking changes since the previous release.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakingChanges {
    /// Breaking changes (for example `feat!:` commits or `BREAKING CHANGE:` footers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The changelog has an entry for the release that describes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documented: Option<bool>,
    /// A migration guide exists and mentions the version being released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_guide: Option<bool>,
}

/// Lock files and pins.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependencies {
    /// Every manifest matches its lock file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockfiles_consistent: Option<bool>,
    /// Pinned package versions that their registry has yanked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yanked: Option<u64>,
    /// Requirements not pinned to one version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpinned: Option<u64>,
}

/// The rollback plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    /// A rollback procedure is written down (a runbook section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<bool>,
    /// The procedure was exercised (a passing recovery drill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tested: Option<bool>,
}

/// Why release data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file cannot be read.
    #[error("{} cannot be read: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not release data: bad JSON, a wrong type, an unknown field.
    #[error("{}: at {}: {error}; see docs/readiness.md for the {SCHEMA} schema", path.display(), shown(json_path))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in the document, such as `tests.line_coverage`; `.` for the top level.
        json_path: String,
        /// What the JSON parser said.
        error: serde_json::Error,
    },
}

fn shown(json_path: &str) -> &str {
    if json_path == "." { "the top level" } else { json_path }
}

impl ReleaseData {
    /// Reads and parses a release data file.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|error| DataError::Read { path: path.to_owned(), error })?;
        Self::parse(&bytes, path)
    }

    /// Parses release data; `path` only names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, DataError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let data: Self = serde_path_to_error::deserialize(&mut de).map_err(|e| DataError::Invalid {
            path: path.to_owned(),
            json_path: e.path().to_string(),
            error: e.into_inner(),
        })?;
        de.end().map_err(|error| DataError::Invalid { path: path.to_owned(), json_path: ".".into(), error })?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ReleaseData, DataError> {
        ReleaseData::parse(text.as_bytes(), Path::new("release_data.json"))
    }

    #[test]
    fn an_ill_typed_field_names_the_file_and_its_path() {
        let e = parse(r#"{"schema":"conductor/release-data/v1","tests":{"line_coverage":"83%"}}"#).unwrap_err().to_string();
        assert!(e.starts_with("release_data.json: at tests.line_coverage: invalid type: string"), "{e}");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let e = parse(r#"{"schema":"conductor/release-data/v1","security":{"secret":0}}"#).unwrap_err().to_string();
        assert!(e.contains("at security.secret") && e.contains("unknown field `secret`"), "{e}");
    }

    #[test]
    fn the_schema_is_required_and_checked() {
        let missing = parse("{}").unwrap_err().to_string();
        assert!(missing.contains("the top level") && missing.contains("missing field `schema`"), "{missing}");
        let wrong = parse(r#"{"schema":"conductor/release-data/v2"}"#).unwrap_err().to_string();
        assert!(wrong.contains("at schema: unknown variant"), "{wrong}");
    }

    #[test]
    fn a_coverage_above_one_is_refused() {
        let e = parse(r#"{"schema":"conductor/release-data/v1","tests":{"line_coverage":83}}"#).unwrap_err().to_string();
        assert!(e.contains("write 83% as 0.83"), "{e}");
    }

    #[test]
    fn absent_and_null_fields_are_no_data() {
        let data = parse(r#"{"schema":"conductor/release-data/v1","tests":{"total":3,"failed":null}}"#).unwrap();
        let tests = data.tests.unwrap();
        assert_eq!((tests.total, tests.failed, tests.flaky), (Some(3), None, None));
        assert!(data.rollback.is_none());
    }
}
