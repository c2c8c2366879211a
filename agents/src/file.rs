//! The `file` kind: ingests a named result file (a report another tool
//! wrote) as evidence. It does not judge the content; the gate does.

use serde_json::json;

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// Ingests the file named by the `path` setting.
pub struct FileAgent;

#[async_trait::async_trait]
impl Agent for FileAgent {
    fn kind(&self) -> &'static str {
        "file"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let relative = match task.text_setting("path") {
            Ok(path) => path,
            Err(missing) => return missing,
        };
        let path = task.resolve(relative);
        let meta = match tokio::fs::metadata(&path).await {
            Ok(meta) => meta,
            Err(e) => return AgentOutcome::missing_input(format!("{relative} cannot be read: {e}")),
        };
        if !meta.is_file() {
            return AgentOutcome { verdict: Verdict::Fail, reason: format!("{relative} is not a regular file"), facts: json!({ "path": relative }), files: vec![] };
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| relative.to_owned());
        AgentOutcome {
            verdict: Verdict::Pass,
            reason: format!("ingested {relative} ({} bytes)", meta.len()),
            facts: json!({ "path": relative, "size": meta.len() }),
            files: vec![ProducedFile { name, path }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(dir: &std::path::Path, path: Option<&str>) -> AgentTask {
        let mut settings = toml::Table::new();
        if let Some(p) = path {
            settings.insert("path".into(), p.into());
        }
        AgentTask::new("QE Generalist", "file", "P1", dir, dir, settings)
    }

    #[tokio::test]
    async fn a_missing_setting_or_file_is_missing_input() {
        let dir = tempfile::tempdir().unwrap();
        let unset = FileAgent.run(&task(dir.path(), None)).await;
        assert_eq!(unset.verdict, Verdict::MissingInput);
        assert!(unset.reason.contains("[agents.\"QE Generalist\"]"), "{}", unset.reason);
        let absent = FileAgent.run(&task(dir.path(), Some("reports/junit.xml"))).await;
        assert_eq!(absent.verdict, Verdict::MissingInput);
        assert!(absent.reason.contains("reports/junit.xml"));
    }

    #[tokio::test]
    async fn a_folder_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("reports")).unwrap();
        assert_eq!(FileAgent.run(&task(dir.path(), Some("reports"))).await.verdict, Verdict::Fail);
    }
}
