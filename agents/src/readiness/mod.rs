//! Release readiness: a weighted score over seven categories of a release's
//! evidence and a GO / CONDITIONAL / NO-GO decision.
//!
//! - [`data`]: the `release_data.json` schema (`conductor/release-data/v1`).
//! - [`score`]: categories, weights, criteria, thresholds and the decision.
//! - [`report`]: the report for people and as JSON.
//! - [`gather`]: release data built from the release's own evidence.
//!
//! The `readiness` kind (roster agent "Release Conductor", P6 and P8) gathers
//! the data from the latest outcome of every agent of the release in the other
//! phases, scores it, records the data, the scores and the decision as facts
//! and the rendered reports as evidence files, and passes only on GO.
//! `conductor readiness --input release_data.json` scores a file.
//!
//! ```
//! use agents::readiness::{data::ReleaseData, score::{assess, Decision}};
//! let data = ReleaseData::parse(br#"{"schema": "conductor/release-data/v1"}"#, "release_data.json".as_ref()).unwrap();
//! let assessment = assess(&data);
//! assert_eq!(assessment.decision, Decision::NoGo);
//! assert_eq!(assessment.reasons[1], "tests: no data");
//! ```

pub mod data;
pub mod gather;
pub mod report;
pub mod score;

use serde_json::json;

use self::gather::GitBreaking;
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, ReleaseEvidence, Verdict};

/// Scores the release from its own evidence.
pub struct ReadinessAgent;

#[async_trait::async_trait]
impl Agent for ReadinessAgent {
    fn kind(&self) -> &'static str {
        "readiness"
    }

    fn reads_release_evidence(&self) -> bool {
        true
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match assess_release(task).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

async fn assess_release(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let release = task.release()?;
    let mut evidence = release.evidence.clone();
    evidence.extend(own_docs_check(task).await?);
    let has_history = evidence.iter().any(|e| e.kind == "docs" && e.facts.get("breakingChanges").is_some_and(serde_json::Value::is_object));
    let git = if has_history { None } else { git_breaking(task, &release.binding.commit).await };
    let gathered = gather::gather(&evidence, &release.binding.version, git.as_ref());
    let assessment = score::assess(&gathered.data);
    let report_json = report::json(&assessment, &gathered.notes);
    let files = write_reports(task, &gathered.data, &report::human(&assessment, &gathered.notes), &report_json)
        .map_err(|e| AgentOutcome::error(format!("the readiness report cannot be written to {}: {e}", task.scratch.display())))?;
    let verdict = if assessment.decision == score::Decision::Go { Verdict::Pass } else { Verdict::Fail };
    let facts = json!({
        "decision": assessment.decision,
        "score": assessment.score.value(),
        "categories": report_json["categories"].as_array().map(|cs| cs.iter().map(|c| json!({
            "category": c["category"], "weight": c["weight"], "score": c["score"], "hasData": c["has_data"], "blocker": c["blocker"],
        })).collect::<Vec<_>>()),
        "blockers": report_json["blockers"],
        "reasons": assessment.reasons,
        "notes": gathered.notes,
        "releaseData": gathered.data,
    });
    Ok(AgentOutcome { verdict, reason: assessment.reasons.first().cloned().unwrap_or_default(), facts, files })
}

/// Runs the docs checks of `[agents."<name>".docs]` here, for a phase that
/// comes before the docs agents' own; no setting, no check.
async fn own_docs_check(task: &AgentTask) -> Result<Option<ReleaseEvidence>, AgentOutcome> {
    let settings = match task.settings.get("docs") {
        None => return Ok(None),
        Some(toml::Value::Table(t)) => t.clone(),
        Some(_) => return Err(AgentOutcome::missing_input(format!("setting 'docs' of [agents.\"{}\"] must be a table of docs settings", task.agent))),
    };
    let mut sub = AgentTask::new(&task.agent, "docs", &task.phase, &task.workdir, &task.scratch.join("docs"), settings);
    sub.release.clone_from(&task.release);
    let outcome = crate::docs::DocsAgent.run(&sub).await;
    Ok(Some(ReleaseEvidence {
        phase: task.phase.clone(),
        agent: format!("{} (own docs check)", task.agent),
        kind: "docs".into(),
        record_type: "doc-lint".into(),
        verdict: outcome.verdict,
        reason: outcome.reason,
        facts: outcome.facts,
    }))
}

/// Breaking commits since the previous tag, or `None` when git cannot say.
async fn git_breaking(task: &AgentTask, commit: &str) -> Option<GitBreaking> {
    let history = crate::docs::breaking::since_previous_tag(&task.workdir, commit).await.ok()?;
    Some(GitBreaking { since: history.since, count: history.breaking.len() as u64 })
}

fn write_reports(task: &AgentTask, data: &data::ReleaseData, human: &str, json: &serde_json::Value) -> std::io::Result<Vec<ProducedFile>> {
    std::fs::create_dir_all(&task.scratch)?;
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).map(|s| s + "\n").map_err(std::io::Error::other);
    let data = serde_json::to_value(data).map_err(std::io::Error::other)?;
    let mut files = Vec::new();
    for (name, text) in [("release_data.json", pretty(data)?), ("readiness-report.json", pretty(json.clone())?), ("readiness-report.txt", human.to_owned())] {
        let path = task.scratch.join(name);
        std::fs::write(&path, text)?;
        files.push(ProducedFile { name: name.to_owned(), path });
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
