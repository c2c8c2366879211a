//! The `vulnerabilities` kind: known vulnerabilities in dependencies from
//! OSV-Scanner JSON, `cargo audit --json`, `npm audit --json` (v2) or
//! `pip-audit -f json`, counted by severity. Fails when any is at or above
//! `fail_severity` (`high` by default), or when cargo-audit reports a yanked
//! crate in the lock file and `allow_yanked` is not set. A vulnerability whose severity the report does not give counts
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
        let what = "an OSV-Scanner, cargo-audit, npm audit or pip-audit JSON report";
        let allow_yanked = task.settings.get("allow_yanked").and_then(toml::Value::as_bool).unwrap_or(false);
        let parsed = task.choice_setting("fail_severity", &SEVERITIES[..5], "high").and_then(|s| Ok((s, task.parse_reports("reports", what, parse)?)));
        let (threshold, (reports, per_report)) = match parsed {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let (mut found, mut yanked, mut stale_reports) = (Vec::new(), Vec::new(), Vec::new());
        for report in per_report {
            found.extend(report.vulnerabilities);
            yanked.extend(report.yanked);
            stale_reports.extend(report.lockfiles.iter().filter_map(|l| stale(&task.workdir, l)));
        }
        let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s).unwrap_or(5);
        let blocking = found.iter().filter(|v| threshold != "none" && rank(v["severity"].as_str().unwrap_or("unknown")) >= rank(threshold)).count();
        let mut counts: BTreeMap<&str, usize> = SEVERITIES[1..].iter().map(|s| (*s, 0)).collect();
        for v in &found {
            *counts.entry(v["severity"].as_str().unwrap_or("unknown")).or_default() += 1;
        }
        let (verdict, reason) = if let Some(why) = stale_reports.first() {
            (Verdict::Fail, why.clone())
        } else if blocking > 0 {
            (Verdict::Fail, format!("{blocking} of {} vulnerabilities are at or above {threshold} (or unrated)", found.len()))
        } else if !yanked.is_empty() && !allow_yanked {
            let names: Vec<String> = yanked.iter().map(|y| format!("{} {}", text(y, "package"), text(y, "version"))).collect();
            (Verdict::Fail, format!("the lock file pins {} yanked package(s): {}", yanked.len(), names.join(", ")))
        } else {
            (Verdict::Pass, format!("{} vulnerabilities, none at or above {threshold}", found.len()))
        };
        let facts = json!({
            "failSeverity": threshold, "counts": counts, "vulnerabilities": found.iter().take(KEPT).collect::<Vec<_>>(),
            "yanked": yanked.iter().take(KEPT).collect::<Vec<_>>(), "allowYanked": allow_yanked, "staleReports": stale_reports,
        });
        AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) }
    }
}

/// What one report says.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Each vulnerability: id, package, version, severity.
    pub(crate) vulnerabilities: Vec<Value>,
    /// Each yanked package the lock file pins: package, version.
    pub(crate) yanked: Vec<Value>,
    /// The lock files the report says it read, as the scanner saw them.
    pub(crate) lockfiles: Vec<Lockfile>,
}

/// A lock file a report was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lockfile {
    /// Its path on the machine that ran the scanner.
    pub(crate) path: String,
    /// How many packages the scanner counted in it, when it says.
    pub(crate) dependencies: Option<u64>,
    /// (name, version) of each package the report names from it.
    pub(crate) packages: Vec<(String, String)>,
}

/// Reads one report in whichever of the four formats it is.
pub(crate) fn parse(bytes: &[u8]) -> Result<Report, String> {
    let report: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let found = |vulnerabilities| Ok(Report { vulnerabilities, ..Report::default() });
    if let Some(results) = report.get("results").and_then(Value::as_array) {
        let lockfiles = results.iter().filter(|r| r.pointer("/source/type").and_then(Value::as_str) == Some("lockfile")).map(osv_lockfile).collect();
        return Ok(Report { vulnerabilities: results.iter().flat_map(osv_result).collect(), yanked: vec![], lockfiles });
    }
    if let Some(list) = report.pointer("/vulnerabilities/list").and_then(Value::as_array) {
        return Ok(cargo_audit(list, &report));
    }
    if let Some(vulns) = report.get("vulnerabilities").and_then(Value::as_object) {
        return found(vulns.iter().map(|(name, v)| entry(v.get("name").and_then(Value::as_str).unwrap_or(name), "", "", v.get("severity").and_then(Value::as_str))).collect());
    }
    if let Some(deps) = report.get("dependencies").and_then(Value::as_array) {
        let pip = deps.iter().flat_map(|d| {
            let (name, version) = (text(d, "name"), text(d, "version"));
            d.get("vulns").and_then(Value::as_array).into_iter().flatten().map(move |v| entry(name, version, text(v, "id"), None))
        });
        return found(pip.collect());
    }
    Err("expected \"results\" (OSV-Scanner), \"vulnerabilities\" (cargo-audit or npm audit) or \"dependencies\" (pip-audit)".into())
}

/// `cargo audit --json`: advisories rated from their CVSS v3 vector, and the
/// yanked crates among its warnings.
fn cargo_audit(list: &[Value], report: &Value) -> Report {
    let vulnerabilities = list
        .iter()
        .map(|v| {
            let advisory = &v["advisory"];
            let rated = advisory.get("cvss").and_then(Value::as_str).and_then(cvss_vector_band);
            let package = if text(&v["package"], "name").is_empty() { text(advisory, "package") } else { text(&v["package"], "name") };
            entry(package, text(&v["package"], "version"), text(advisory, "id"), rated)
        })
        .collect();
    let yanked = report
        .pointer("/warnings/yanked")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|w| json!({ "package": text(&w["package"], "name"), "version": text(&w["package"], "version") }))
        .collect();
    let dependencies = report.pointer("/lockfile/dependency-count").and_then(Value::as_u64);
    let lockfiles = vec![Lockfile { path: "Cargo.lock".into(), dependencies, packages: vec![] }];
    Report { vulnerabilities, yanked, lockfiles }
}

/// The lock file of one OSV-Scanner result and the packages it names from it.
fn osv_lockfile(result: &Value) -> Lockfile {
    let packages = result
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| (text(&p["package"], "name").to_owned(), text(&p["package"], "version").to_owned()))
        .collect();
    Lockfile { path: text(&result["source"], "path").to_owned(), dependencies: None, packages }
}

/// Why a report was not made from the repository's lock file as it is, if
/// it was not: a package it names at a version the lock file does not hold,
/// or another package count. A lock file not found in the repository (a
/// report from another checkout layout) is not judged.
fn stale(workdir: &std::path::Path, lock: &Lockfile) -> Option<String> {
    let path = std::path::Path::new(&lock.path);
    // The scanner's path may be absolute on its machine: try ever shorter suffixes.
    let parts: Vec<_> = path.components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect();
    let (relative, text) = (0..parts.len()).find_map(|i| {
        let candidate: std::path::PathBuf = parts[i..].iter().collect();
        std::fs::read_to_string(workdir.join(&candidate)).ok().map(|t| (candidate, t))
    })?;
    let shown = relative.display();
    if let Some(expected) = lock.dependencies {
        let counted = text.lines().filter(|l| l.trim() == "[[package]]").count() as u64;
        if counted != expected {
            return Some(format!("the report counted {expected} packages in {shown}, which now has {counted}; re-run the scanner on this lock file"));
        }
    }
    let missing = lock.packages.iter().find(|(name, version)| !text.contains(name.as_str()) || !text.contains(version.as_str()))?;
    Some(format!("the report names {} {} but {shown} does not lock it; re-run the scanner on this lock file", missing.0, missing.1))
}

/// The band of a CVSS v3 vector's base score, if the vector parses.
fn cvss_vector_band(vector: &str) -> Option<&'static str> {
    let parsed: cvss::v3::Vector = vector.parse().ok()?;
    Some(cvss_band(parsed.base_score().value()))
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
            let vector = vuln.get("severity").and_then(Value::as_array).into_iter().flatten().find_map(|s| s.get("score").and_then(Value::as_str).and_then(cvss_vector_band));
            let rated = score.map(cvss_band).or(vector).or_else(|| vuln.pointer("/database_specific/severity").and_then(Value::as_str));
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
        let v = parse(osv).unwrap().vulnerabilities;
        assert_eq!((v[0]["severity"].as_str(), v[1]["severity"].as_str()), (Some("high"), Some("medium")));
        let npm = br#"{"auditReportVersion":2,"vulnerabilities":{"lodash":{"name":"lodash","severity":"critical"},"minimist":{"name":"minimist","severity":"moderate"}}}"#;
        let v = parse(npm).unwrap().vulnerabilities;
        assert_eq!((v[0]["severity"].as_str(), v[1]["severity"].as_str()), (Some("critical"), Some("medium")));
        let pip = br#"{"dependencies":[{"name":"jinja2","version":"2.10","vulns":[{"id":"PYSEC-2019-217"}]}]}"#;
        assert_eq!(parse(pip).unwrap().vulnerabilities[0]["severity"], "unknown");
        assert!(parse(br#"{"hello":1}"#).is_err());
    }

    /// The shape `cargo audit --json` writes (rustsec 0.30): a CVSS v3 vector
    /// per advisory, and yanked crates under warnings.
    const CARGO_AUDIT: &str = r#"{"database":{"advisory-count":900},"lockfile":{"dependency-count":120},
        "vulnerabilities":{"found":true,"count":2,"list":[
          {"advisory":{"id":"RUSTSEC-2023-0071","package":"rsa","title":"Marvin Attack","cvss":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"},"package":{"name":"rsa","version":"0.9.6"}},
          {"advisory":{"id":"RUSTSEC-2024-0001","package":"demo","cvss":null},"package":{"name":"demo","version":"1.0.0"}}]},
        "warnings":{"yanked":[{"kind":"yanked","package":{"name":"futures-util","version":"0.3.29"}}]}}"#;

    #[test]
    fn reads_cargo_audit_with_cvss_vectors_and_yanked_crates() {
        let report = parse(CARGO_AUDIT.as_bytes()).unwrap();
        let v = &report.vulnerabilities;
        assert_eq!((v[0]["id"].as_str(), v[0]["severity"].as_str()), (Some("RUSTSEC-2023-0071"), Some("medium")), "5.9 is medium");
        assert_eq!(v[1]["severity"], "unknown", "an advisory without a vector is unrated");
        assert_eq!(report.yanked, vec![json!({"package": "futures-util", "version": "0.3.29"})]);
    }

    #[test]
    fn a_report_made_from_another_lock_file_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        std::fs::write(dir.path().join("web/package-lock.json"), r#"{"packages":{"node_modules/ms":{"version":"2.1.3"}}}"#).unwrap();
        std::fs::write(dir.path().join("Cargo.lock"), "version = 4\n[[package]]\nname = \"a\"\n[[package]]\nname = \"b\"\n").unwrap();
        let osv = |version: &str| Lockfile { path: "/builds/app/web/package-lock.json".into(), dependencies: None, packages: vec![("ms".into(), version.into())] };
        assert_eq!(stale(dir.path(), &osv("2.1.3")), None, "found by its path suffix and in step");
        assert!(stale(dir.path(), &osv("2.0.0")).unwrap().contains("names ms 2.0.0 but web/package-lock.json does not lock it"));
        let audit = |n| Lockfile { path: "Cargo.lock".into(), dependencies: Some(n), packages: vec![] };
        assert_eq!(stale(dir.path(), &audit(2)), None);
        assert!(stale(dir.path(), &audit(3)).unwrap().contains("counted 3 packages in Cargo.lock, which now has 2"));
        let elsewhere = Lockfile { path: "/other/go.sum".into(), dependencies: None, packages: vec![("x".into(), "1".into())] };
        assert_eq!(stale(dir.path(), &elsewhere), None, "a lock file the repository does not have is not judged");
    }

    #[tokio::test]
    async fn a_yanked_crate_fails_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let audit = r#"{"vulnerabilities":{"found":false,"count":0,"list":[]},"warnings":{"yanked":[{"kind":"yanked","package":{"name":"futures-util","version":"0.3.29"}}]}}"#;
        std::fs::write(dir.path().join("audit.json"), audit).unwrap();
        let task = |allow: bool| {
            let mut settings = toml::Table::new();
            settings.insert("reports".into(), "audit.json".into());
            settings.insert("allow_yanked".into(), allow.into());
            AgentTask::new("Vendor Sentinel", "vulnerabilities", "P0", dir.path(), dir.path(), settings)
        };
        let outcome = VulnerabilitiesAgent.run(&task(false)).await;
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert!(outcome.reason.contains("futures-util 0.3.29"), "{}", outcome.reason);
        assert_eq!(VulnerabilitiesAgent.run(&task(true)).await.verdict, Verdict::Pass);
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
