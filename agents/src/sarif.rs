//! The `sarif` kind: SARIF 2.1.0 static-analysis results (Semgrep, CodeQL,
//! Checkov, clippy-sarif, ...), counted by level and rule. Fails when any
//! result is at or above `fail_level` (`error` by default; `warning`, `note`
//! or `none` also). Each finding gets a fingerprint (the tool's
//! `partialFingerprints` when it gives one, else a digest of rule, file and
//! message, so moved lines keep theirs); findings whose fingerprint the same
//! agent did not record in the previous release are new, and with
//! `fail_on = "new"` only new findings can fail the check.

use std::collections::{BTreeMap, BTreeSet};

use evidence::digest::Sha256;
use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// How many findings the facts keep.
const FINDINGS_KEPT: usize = 50;

/// How many fingerprints the facts keep for the next release to compare with.
const FINGERPRINTS_KEPT: usize = 20_000;

/// SARIF levels, lowest first.
const LEVELS: [&str; 4] = ["none", "note", "warning", "error"];

/// Reads the SARIF logs named by `reports`.
pub struct SarifAgent;

#[async_trait::async_trait]
impl Agent for SarifAgent {
    fn kind(&self) -> &'static str {
        "sarif"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let parsed = task
            .choice_setting("fail_level", &LEVELS, "error")
            .and_then(|level| Ok((level, task.choice_setting("fail_on", &["all", "new"], "all")?)))
            .and_then(|settings| Ok((settings, task.parse_reports("reports", "a SARIF 2.1.0 log", results)?)));
        let ((fail_level, fail_on), (reports, logs)) = match parsed {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let findings: Vec<Value> = logs.into_iter().flatten().collect();
        let previous = task.release.as_ref().and_then(|r| r.previous.as_ref());
        let known: Option<BTreeSet<&str>> =
            previous.and_then(|p| p.facts.get("fingerprints")).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect());
        let is_new = |f: &Value| known.as_ref().is_none_or(|k| !k.contains(f["fingerprint"].as_str().unwrap_or("")));
        let rank = |level: &str| LEVELS.iter().position(|l| *l == level).unwrap_or(2);
        let blocks = |f: &&Value| fail_level != "none" && rank(f["level"].as_str().unwrap_or("warning")) >= rank(fail_level) && (fail_on == "all" || is_new(f));
        let blocking = findings.iter().filter(blocks).count();
        let new: Vec<&Value> = findings.iter().filter(|f| known.is_some() && is_new(f)).collect();
        let count = |level: &str| findings.iter().filter(|f| f["level"] == level).count();
        let scope = if fail_on == "new" { "new findings" } else { "findings" };
        let (verdict, reason) = if blocking > 0 {
            (Verdict::Fail, format!("{blocking} {scope} at or above {fail_level} (of {} in all, {} new)", findings.len(), new.len()))
        } else {
            (Verdict::Pass, format!("{} findings ({} new), none of the {scope} at or above {fail_level}", findings.len(), new.len()))
        };
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &findings {
            *by_rule.entry(f["ruleId"].as_str().unwrap_or("")).or_default() += 1;
        }
        let facts = json!({
            "failLevel": fail_level,
            "failOn": fail_on,
            "counts": { "error": count("error"), "warning": count("warning"), "note": count("note"), "none": count("none") },
            "byRule": by_rule,
            "findings": findings.iter().take(FINDINGS_KEPT).collect::<Vec<_>>(),
            "previousVersion": previous.map(|p| p.version.clone()),
            "new": known.as_ref().map(|_| new.len()),
            "newFindings": new.iter().take(FINDINGS_KEPT).collect::<Vec<_>>(),
            "fingerprints": findings.iter().filter_map(|f| f["fingerprint"].as_str()).collect::<BTreeSet<_>>().into_iter().take(FINGERPRINTS_KEPT).collect::<Vec<_>>(),
        });
        AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) }
    }
}

/// Every result of every run: rule, effective level, location.
pub(crate) fn results(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let log: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if log.get("version").and_then(Value::as_str) != Some("2.1.0") {
        return Err("\"version\" must be \"2.1.0\"".into());
    }
    let runs = log.get("runs").and_then(Value::as_array).ok_or("no \"runs\" array")?;
    let mut out = Vec::new();
    for run in runs {
        let rules = run.pointer("/tool/driver/rules").and_then(Value::as_array).cloned().unwrap_or_default();
        for result in run.get("results").and_then(Value::as_array).into_iter().flatten() {
            out.push(finding(result, &rules));
        }
    }
    Ok(out)
}

/// A result's level is its own, else its rule's default, else `warning` (SARIF §3.27.10).
fn finding(result: &Value, rules: &[Value]) -> Value {
    let rule_id = result.get("ruleId").and_then(Value::as_str).unwrap_or("");
    let rule_level = rules
        .iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(rule_id))
        .and_then(|r| r.pointer("/defaultConfiguration/level"))
        .and_then(Value::as_str);
    let level = result.get("level").and_then(Value::as_str).or(rule_level).unwrap_or("warning");
    let location = result.pointer("/locations/0/physicalLocation");
    let uri = location.and_then(|l| l.pointer("/artifactLocation/uri"));
    let message = result.pointer("/message/text");
    json!({
        "ruleId": rule_id,
        "level": level,
        "message": message,
        "uri": uri,
        "line": location.and_then(|l| l.pointer("/region/startLine")),
        "fingerprint": fingerprint(result, rule_id, uri, message),
    })
}

/// The tool's own stable fingerprint when it gives one (SARIF §3.27.17),
/// else SHA-256 over rule, file and message, which survives moved lines.
fn fingerprint(result: &Value, rule_id: &str, uri: Option<&Value>, message: Option<&Value>) -> String {
    let given = ["fingerprints", "partialFingerprints"]
        .iter()
        .filter_map(|k| result.get(*k).and_then(Value::as_object))
        .flat_map(|m| m.iter())
        .find_map(|(name, v)| v.as_str().map(|v| format!("{name}:{v}")));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    given.map_or_else(|| Sha256::of(format!("{rule_id}\n{}\n{}", text(uri), text(message)).as_bytes()).to_hex(), |g| Sha256::of(g.as_bytes()).to_hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r1","defaultConfiguration":{"level":"error"}}]}},
        "results":[{"ruleId":"r1","message":{"text":"bad"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},"region":{"startLine":3}}}]},
                   {"ruleId":"r2","level":"note","message":{"text":"meh"}}]}]}"#;

    fn task(dir: &std::path::Path, fail_level: Option<&str>) -> AgentTask {
        std::fs::write(dir.join("scan.sarif"), LOG).unwrap();
        let mut settings = toml::Table::new();
        settings.insert("reports".into(), "scan.sarif".into());
        if let Some(level) = fail_level {
            settings.insert("fail_level".into(), level.into());
        }
        AgentTask::new("AppSec", "sarif", "P0", dir, dir, settings)
    }

    #[tokio::test]
    async fn levels_come_from_the_result_or_its_rule() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = SarifAgent.run(&task(dir.path(), None)).await;
        assert_eq!(outcome.verdict, Verdict::Fail, "the rule's default level is error");
        assert_eq!(outcome.facts["counts"]["error"], 1);
        assert_eq!(outcome.facts["findings"][0]["uri"], "a.py");
        assert_eq!(outcome.facts["findings"][0]["line"], 3);
    }

    #[tokio::test]
    async fn fail_level_none_passes_and_a_bad_level_is_missing_input() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SarifAgent.run(&task(dir.path(), Some("none"))).await.verdict, Verdict::Pass);
        assert_eq!(SarifAgent.run(&task(dir.path(), Some("fatal"))).await.verdict, Verdict::MissingInput);
    }

    #[tokio::test]
    async fn findings_the_previous_release_did_not_have_are_new() {
        let dir = tempfile::tempdir().unwrap();
        let first = SarifAgent.run(&task(dir.path(), Some("error"))).await;
        assert_eq!(first.facts["new"], Value::Null, "without a previous release nothing is compared");
        let r1 = first.facts["findings"].as_array().unwrap().iter().find(|f| f["ruleId"] == "r1").unwrap();
        let known = vec![r1["fingerprint"].clone()];
        assert_eq!(first.facts["fingerprints"].as_array().unwrap().len(), 2);
        let binding = evidence::record::ReleaseBinding { version: "v1.1.0".into(), commit: "0".repeat(40), environment: "prod".into(), id: "r".into() };
        let previous = crate::PreviousOutcome { version: "v1.0.0".into(), verdict: Verdict::Pass, facts: json!({ "fingerprints": known }) };
        let mut t = task(dir.path(), Some("error")).with_release(crate::ReleaseContext { previous: Some(previous), ..crate::ReleaseContext::new(binding) });
        let outcome = SarifAgent.run(&t).await;
        assert_eq!(outcome.facts["new"], 1);
        assert_eq!(outcome.facts["previousVersion"], "v1.0.0");
        t.settings.insert("fail_on".into(), "new".into());
        let new_only = SarifAgent.run(&t).await;
        assert_eq!(new_only.facts["newFindings"][0]["ruleId"], "r2", "the error-level r1 finding is known");
        assert_eq!(new_only.verdict, Verdict::Pass, "{}", new_only.reason);
    }

    #[test]
    fn fingerprints_prefer_the_tools_own_and_ignore_the_line() {
        let moved = |line: u32| json!({"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},"region":{"startLine":line}}}]});
        assert_eq!(finding(&moved(3), &[])["fingerprint"], finding(&moved(9), &[])["fingerprint"]);
        let mut own = moved(3);
        own["partialFingerprints"] = json!({"primaryLocationLineHash": "abc:1"});
        assert_ne!(finding(&own, &[])["fingerprint"], finding(&moved(3), &[])["fingerprint"]);
    }

    #[test]
    fn other_versions_are_refused() {
        assert!(results(br#"{"version":"2.0.0","runs":[]}"#).is_err());
    }
}
