//! The `sarif` kind: SARIF 2.1.0 static-analysis results (Semgrep, CodeQL,
//! Checkov, clippy-sarif, ...). Fails when any result is at or above
//! `fail_level` (`error` by default; `warning`, `note` or `none` also).

use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// How many findings the facts keep.
const FINDINGS_KEPT: usize = 50;

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
        let parsed = task.choice_setting("fail_level", &LEVELS, "error").and_then(|level| Ok((level, task.parse_reports("reports", "a SARIF 2.1.0 log", results)?)));
        let (fail_level, (reports, logs)) = match parsed {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let findings: Vec<Value> = logs.into_iter().flatten().collect();
        let rank = |level: &str| LEVELS.iter().position(|l| *l == level).unwrap_or(2);
        let blocking = findings.iter().filter(|f| rank(f["level"].as_str().unwrap_or("warning")) >= rank(fail_level) && fail_level != "none").count();
        let count = |level: &str| findings.iter().filter(|f| f["level"] == level).count();
        let (verdict, reason) = if blocking > 0 {
            (Verdict::Fail, format!("{blocking} findings at or above {fail_level} (of {} in all)", findings.len()))
        } else {
            (Verdict::Pass, format!("{} findings, none at or above {fail_level}", findings.len()))
        };
        let facts = json!({
            "failLevel": fail_level,
            "counts": { "error": count("error"), "warning": count("warning"), "note": count("note"), "none": count("none") },
            "findings": findings.iter().take(FINDINGS_KEPT).collect::<Vec<_>>(),
        });
        AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) }
    }
}

/// Every result of every run: rule, effective level, location.
fn results(bytes: &[u8]) -> Result<Vec<Value>, String> {
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
    json!({
        "ruleId": rule_id,
        "level": level,
        "message": result.pointer("/message/text"),
        "uri": location.and_then(|l| l.pointer("/artifactLocation/uri")),
        "line": location.and_then(|l| l.pointer("/region/startLine")),
    })
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

    #[test]
    fn other_versions_are_refused() {
        assert!(results(br#"{"version":"2.0.0","runs":[]}"#).is_err());
    }
}
