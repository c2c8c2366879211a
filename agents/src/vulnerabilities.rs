//! The `vulnerabilities` kind: known vulnerabilities in dependencies from
//! OSV-Scanner JSON, `npm audit --json` (v2) or `pip-audit -f json`, counted
//! by severity. Fails when any is at or above `fail_severity` (`high` by
//! default). A vulnerability whose severity the report does not give counts
//! as `unknown`, which fails at every threshold but `none`: an unrated
//! vulnerability never passes silently.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// Severities, lowest first; `unknown` sorts above all so it always blocks.
const SEVERITIES: [&str; 6] = ["none", "low", "medium", "high", "critical", "unknown"];

/// How many vulnerabilities the facts list.
const KEPT: usize = 50;

/// Reads the vulnerability reports named by `reports`.
pub struct VulnerabilitiesAgent;

#[async_trait::async_trait]
impl Agent for VulnerabilitiesAgent {
    fn kind(&self) -> &'static str {
        "vulnerabilities"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        // `unknown` is a severity a report can leave, not a threshold one can set.
        let what = "an OSV-Scanner, npm audit or pip-audit JSON report";
        let parsed = task.choice_setting("fail_severity", &SEVERITIES[..5], "high").and_then(|s| Ok((s, task.parse_reports("reports", what, parse)?)));
        let (threshold, (reports, per_report)) = match parsed {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let found: Vec<Value> = per_report.into_iter().flatten().collect();
        let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s).unwrap_or(5);
        let blocking = found.iter().filter(|v| threshold != "none" && rank(v["severity"].as_str().unwrap_or("unknown")) >= rank(threshold)).count();
        let mut counts: BTreeMap<&str, usize> = SEVERITIES[1..].iter().map(|s| (*s, 0)).collect();
        for v in &found {
            *counts.entry(v["severity"].as_str().unwrap_or("unknown")).or_default() += 1;
        }
        let (verdict, reason) = if blocking > 0 {
            (Verdict::Fail, format!("{blocking} of {} vulnerabilities are at or above {threshold} (or unrated)", found.len()))
        } else {
            (Verdict::Pass, format!("{} vulnerabilities, none at or above {threshold}", found.len()))
        };
        let facts = json!({ "failSeverity": threshold, "counts": counts, "vulnerabilities": found.iter().take(KEPT).collect::<Vec<_>>() });
        AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) }
    }
}

/// Every vulnerability in one report: id, package, version, severity.
fn parse(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let report: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if let Some(results) = report.get("results").and_then(Value::as_array) {
        return Ok(results.iter().flat_map(osv_result).collect());
    }
    if let Some(vulns) = report.get("vulnerabilities").and_then(Value::as_object) {
        return Ok(vulns.iter().map(|(name, v)| entry(v.get("name").and_then(Value::as_str).unwrap_or(name), "", "", v.get("severity").and_then(Value::as_str))).collect());
    }
    if let Some(deps) = report.get("dependencies").and_then(Value::as_array) {
        let pip = deps.iter().flat_map(|d| {
            let (name, version) = (text(d, "name"), text(d, "version"));
            d.get("vulns").and_then(Value::as_array).into_iter().flatten().map(move |v| entry(name, version, text(v, "id"), None))
        });
        return Ok(pip.collect());
    }
    Err("expected \"results\" (OSV-Scanner), \"vulnerabilities\" (npm audit) or \"dependencies\" (pip-audit)".into())
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn entry(package: &str, version: &str, id: &str, severity: Option<&str>) -> Value {
    // npm and GitHub advisories call the middle band "moderate", and npm has "info".
    let severity = severity
        .map(str::to_ascii_lowercase)
        .map(|s| match s.as_str() {
            "moderate" => "medium".to_owned(),
            "info" => "none".to_owned(),
            _ => s,
        })
        .filter(|s| SEVERITIES.contains(&s.as_str()))
        .unwrap_or_else(|| "unknown".into());
    json!({ "package": package, "version": version, "id": id, "severity": severity })
}

/// One OSV-Scanner result: each package's vulnerabilities, rated by the
/// group's CVSS `max_severity` when given, else the database's own rating.
fn osv_result(result: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for pkg in result.get("packages").and_then(Value::as_array).into_iter().flatten() {
        let (name, version) = (text(&pkg["package"], "name"), text(&pkg["package"], "version"));
        let groups = pkg.get("groups").and_then(Value::as_array).cloned().unwrap_or_default();
        for vuln in pkg.get("vulnerabilities").and_then(Value::as_array).into_iter().flatten() {
            let id = text(vuln, "id");
            let score = groups
                .iter()
                .find(|g| g.get("ids").and_then(Value::as_array).is_some_and(|ids| ids.iter().any(|i| i == id)))
                .and_then(|g| g.get("max_severity").and_then(Value::as_str))
                .and_then(|s| s.parse::<f64>().ok());
            let rated = score.map(cvss_band).or_else(|| vuln.pointer("/database_specific/severity").and_then(Value::as_str));
            out.push(entry(name, version, id, rated));
        }
    }
    out
}

/// The CVSS v3 qualitative bands.
fn cvss_band(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_osv_scanner_npm_and_pip_audit() {
        let osv = br#"{"results":[{"packages":[{"package":{"name":"requests","version":"2.19.0","ecosystem":"PyPI"},
            "vulnerabilities":[{"id":"GHSA-x84v"},{"id":"PYSEC-1","database_specific":{"severity":"MODERATE"}}],
            "groups":[{"ids":["GHSA-x84v"],"max_severity":"7.5"}]}]}]}"#;
        let v = parse(osv).unwrap();
        assert_eq!((v[0]["severity"].as_str(), v[1]["severity"].as_str()), (Some("high"), Some("medium")));
        let npm = br#"{"auditReportVersion":2,"vulnerabilities":{"lodash":{"name":"lodash","severity":"critical"},"minimist":{"name":"minimist","severity":"moderate"}}}"#;
        let v = parse(npm).unwrap();
        assert_eq!((v[0]["severity"].as_str(), v[1]["severity"].as_str()), (Some("critical"), Some("medium")));
        let pip = br#"{"dependencies":[{"name":"jinja2","version":"2.10","vulns":[{"id":"PYSEC-2019-217"}]}]}"#;
        assert_eq!(parse(pip).unwrap()[0]["severity"], "unknown");
        assert!(parse(br#"{"hello":1}"#).is_err());
    }

    #[tokio::test]
    async fn unrated_vulnerabilities_block_and_clean_reports_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pip.json"), r#"{"dependencies":[{"name":"a","version":"1","vulns":[{"id":"X"}]}]}"#).unwrap();
        std::fs::write(dir.path().join("clean.json"), r#"{"results":[]}"#).unwrap();
        let task = |report: &str, level: &str| {
            let mut settings = toml::Table::new();
            settings.insert("reports".into(), report.into());
            settings.insert("fail_severity".into(), level.into());
            AgentTask::new("Vendor Sentinel", "vulnerabilities", "P0", dir.path(), dir.path(), settings)
        };
        assert_eq!(VulnerabilitiesAgent.run(&task("pip.json", "critical")).await.verdict, Verdict::Fail);
        assert_eq!(VulnerabilitiesAgent.run(&task("pip.json", "none")).await.verdict, Verdict::Pass);
        assert_eq!(VulnerabilitiesAgent.run(&task("clean.json", "low")).await.verdict, Verdict::Pass);
    }
}
