//! The docs kind's slice of `conductor.toml`.

use crate::{AgentOutcome, AgentTask};

/// Markdown files and folders checked when `paths` is not set.
const DEFAULT_PATHS: [&str; 2] = ["README.md", "docs"];

/// Files required when `require` is not set.
const DEFAULT_REQUIRED: [&str; 2] = ["README.md", "CHANGELOG.md"];

/// The changelog when `changelog` is not set.
const DEFAULT_CHANGELOG: &str = "CHANGELOG.md";

/// The validated settings of one docs agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Markdown files and folders whose links are checked.
    pub(crate) paths: Vec<String>,
    /// Whether `paths` was set, so that a missing one is a problem rather than
    /// a default that does not apply to this repository.
    pub(crate) paths_configured: bool,
    /// Files that must exist and not be empty.
    pub(crate) require: Vec<String>,
    /// The changelog that must mention the version, unless `changelog = false`.
    pub(crate) changelog: Option<String>,
    /// A path or glob for the migration guide a breaking release needs.
    pub(crate) migration_guide: Option<String>,
    /// Prometheus rule files, folders of them, or globs.
    pub(crate) alert_rules: Vec<String>,
    /// Headings every runbook must have.
    pub(crate) runbook_sections: Vec<String>,
}

impl Settings {
    /// Reads the settings, or a missing-input outcome naming the bad one.
    pub(crate) fn parse(task: &AgentTask) -> Result<Self, AgentOutcome> {
        let paths = list(task, "paths")?;
        Ok(Self {
            paths_configured: paths.is_some(),
            paths: paths.unwrap_or_else(|| owned(&DEFAULT_PATHS)),
            require: list(task, "require")?.unwrap_or_else(|| owned(&DEFAULT_REQUIRED)),
            changelog: changelog(task)?,
            migration_guide: text(task, "migration_guide")?,
            alert_rules: list(task, "alert_rules")?.unwrap_or_default(),
            runbook_sections: list(task, "runbook_sections")?.unwrap_or_default(),
        })
    }
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|&i| i.to_owned()).collect()
}

fn bad(task: &AgentTask, key: &str, what: &str) -> AgentOutcome {
    AgentOutcome::missing_input(format!("setting '{key}' of [agents.\"{}\"] must be {what}", task.agent))
}

/// A setting that is a string or a list of strings; `None` when absent.
fn list(task: &AgentTask, key: &str) -> Result<Option<Vec<String>>, AgentOutcome> {
    let what = "a non-empty string or a list of them";
    match task.settings.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(vec![s.clone()])),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().filter(|s| !s.trim().is_empty()).map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| bad(task, key, what)),
        Some(_) => Err(bad(task, key, what)),
    }
}

/// A setting that is one non-empty string; `None` when absent.
fn text(task: &AgentTask, key: &str) -> Result<Option<String>, AgentOutcome> {
    match task.settings.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(bad(task, key, "a path or a glob")),
    }
}

/// `changelog`: a path, or `false` for none.
fn changelog(task: &AgentTask) -> Result<Option<String>, AgentOutcome> {
    match task.settings.get("changelog") {
        None => Ok(Some(DEFAULT_CHANGELOG.to_owned())),
        Some(toml::Value::Boolean(false)) => Ok(None),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(bad(task, "changelog", "a path, or false for none")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn parse(text: &str) -> Result<Settings, AgentOutcome> {
        let settings: toml::Table = toml::from_str(text).unwrap();
        Settings::parse(&AgentTask::new("Docs Librarian", "docs", "P7", "/repo".as_ref(), "/tmp".as_ref(), settings))
    }

    #[test]
    fn defaults_check_the_readme_docs_and_changelog() {
        let s = parse("").unwrap();
        assert_eq!((s.paths, s.paths_configured), (owned(&DEFAULT_PATHS), false));
        assert_eq!(s.require, owned(&DEFAULT_REQUIRED));
        assert_eq!(s.changelog.as_deref(), Some("CHANGELOG.md"));
        assert_eq!((s.migration_guide, s.alert_rules.len(), s.runbook_sections.len()), (None, 0, 0));
    }

    #[test]
    fn strings_lists_and_opt_outs_are_read() {
        let s = parse("paths = 'docs/runbook.md'\nrequire = []\nchangelog = false\nmigration_guide = 'docs/migrations/*.md'\nalert_rules = ['alerts']\nruntime = 1\nrunbook_sections = ['Symptoms', 'Mitigation']").unwrap();
        assert_eq!((s.paths, s.paths_configured), (vec!["docs/runbook.md".to_owned()], true));
        assert!(s.require.is_empty());
        assert_eq!(s.changelog, None);
        assert_eq!(s.migration_guide.as_deref(), Some("docs/migrations/*.md"));
        assert_eq!(s.runbook_sections, ["Symptoms", "Mitigation"]);
    }

    #[test]
    fn wrong_types_are_missing_input_naming_the_setting() {
        for text in ["paths = 3", "require = [1]", "changelog = true", "alert_rules = ['']", "migration_guide = ['a.md']"] {
            let outcome = parse(text).unwrap_err();
            assert_eq!(outcome.verdict, Verdict::MissingInput, "{text}");
            assert!(outcome.reason.contains("setting '"), "{}", outcome.reason);
        }
    }
}
