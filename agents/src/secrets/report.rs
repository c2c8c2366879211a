//! What a scan found, as data, as JSON and as SARIF 2.1.0. Nothing here
//! holds a secret: a finding names its rule, place and fingerprint only.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::allow::Baseline;
use super::config::Mode;
use super::rules::{RULES, Severity};

/// The `partialFingerprints` key SARIF results carry the fingerprint under.
pub const SARIF_FINGERPRINT_KEY: &str = "conductorSecret/v1";

/// One secret found and not allowlisted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id, such as `aws-access-key-id`.
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// The file, relative to the scanned folder (or the repository), `/`-separated.
    pub path: String,
    /// 1-based line of the secret's first character.
    pub line: u64,
    /// 1-based column of the secret's first character, in Unicode scalar values.
    pub column: u64,
    /// Hex SHA-256 of rule id, path and secret (see [`super::fingerprint`]).
    pub fingerprint: String,
    /// In history mode, the first commit (in topological order) whose tree
    /// holds this version of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Files (or blobs) the scan did not read, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// Holding a NUL byte in their first 8 KiB.
    pub binary: u64,
    /// Larger than `max_file_bytes`.
    pub too_large: u64,
    /// Matching an `allow_paths` glob.
    pub allowlisted_path: u64,
    /// Not readable (permissions, a file removed during the walk).
    pub unreadable: u64,
}

/// The outcome of a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    /// What was scanned.
    pub mode: Mode,
    /// In diff mode, the ref the diff starts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Findings neither allowlisted nor in the baseline, by path, line, column, rule.
    pub findings: Vec<Finding>,
    /// Matches silenced by a placeholder, an allowlist pattern or an inline comment.
    pub allowlisted: u64,
    /// Findings accepted by the baseline.
    pub baselined: u64,
    /// Files (tree, diff) or blobs (history) read.
    pub files_scanned: u64,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// In history mode, the commits walked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// What was not read.
    pub skipped: Skipped,
}

impl ScanReport {
    /// Moves findings the baseline accepts out of `findings` into the count.
    pub fn apply_baseline(&mut self, baseline: &Baseline) {
        let before = self.findings.len();
        self.findings.retain(|f| !baseline.contains(&f.fingerprint));
        self.baselined += (before - self.findings.len()) as u64;
    }

    /// Findings per rule id.
    pub fn counts_by_rule(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.rule).or_default() += 1;
        }
        counts
    }

    /// Puts findings in a stable order: path, line, column, rule.
    pub(crate) fn sort(&mut self) {
        self.findings.sort_by(|a, b| (&a.path, a.line, a.column, a.rule).cmp(&(&b.path, b.line, b.column, b.rule)));
    }

    /// The report as a SARIF 2.1.0 log: every rule in the driver, one
    /// result per finding with its location and, under
    /// `partialFingerprints`, its fingerprint. Columns count Unicode scalar
    /// values, as the run's `columnKind` says.
    pub fn to_sarif(&self) -> Value {
        let rules: Vec<Value> = RULES
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.id,
                    "shortDescription": { "text": r.description },
                    "defaultConfiguration": { "level": r.severity.sarif_level() },
                    "properties": { "severity": r.severity.as_str(), "tags": ["security", "secret"] },
                })
            })
            .collect();
        let results: Vec<Value> = self.findings.iter().map(sarif_result).collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": { "name": "conductor-secrets", "rules": rules } },
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "mode": self.mode,
                    "allowlisted": self.allowlisted,
                    "baselined": self.baselined,
                    "filesScanned": self.files_scanned,
                    "bytesScanned": self.bytes_scanned,
                },
            }],
        })
    }
}

fn sarif_result(f: &Finding) -> Value {
    let index = RULES.iter().position(|r| r.id == f.rule);
    let description = index.map_or("secret", |i| RULES[i].description);
    let mut result = json!({
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": f.severity.sarif_level(),
        "message": { "text": format!("{description} (the value is withheld)") },
        "locations": [{ "physicalLocation": {
            "artifactLocation": { "uri": f.path },
            "region": { "startLine": f.line, "startColumn": f.column },
        }}],
        "partialFingerprints": { SARIF_FINGERPRINT_KEY: f.fingerprint },
    });
    if let Some(commit) = &f.commit {
        result["properties"] = json!({ "commit": commit });
    }
    result
}
