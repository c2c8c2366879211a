//! The `docs` kind: documentation and runbooks checked against the
//! repository they describe.
//!
//! - Markdown under `paths` (files or folders; `README.md` and `docs` by
//!   default): every local link and image must lead to an existing file in
//!   the repository (relative to the linking file, or to the repository with a
//!   leading `/`), every `#anchor` to a heading with that GitHub anchor, and
//!   every full or collapsed reference link to a definition. URLs with a
//!   scheme are counted, never fetched.
//! - `require` (`README.md` and `CHANGELOG.md` by default): files that must
//!   exist and not be empty.
//! - `changelog` (`CHANGELOG.md` by default, `false` for none): must mention the
//!   version being released, with or without its `v`.
//! - `migration_guide` (a path or glob, unset by default): when a commit since
//!   the previous tag is a breaking conventional commit, a guide must exist and
//!   mention the version.
//! - `alert_rules` (Prometheus rule files, folders of them, or globs): every
//!   alerting rule needs `annotations.runbook_url`; a local one must lead to an
//!   existing file and heading. It starts from the repository, or from the rule
//!   file's folder when it begins with `./` or `../`. A URL with `{{` is an
//!   Alertmanager template and is counted as external.
//! - `runbook_sections`: headings every runbook must have; the runbooks are the
//!   Markdown files under `paths` and those the alerts' runbook URLs lead to.
//!
//! Fails naming each problem as `file:line: what`; missing input when none of
//! the paths and no rule file exists; an error when a rule file is not YAML.

pub(crate) mod breaking;
mod diags;
mod files;
pub(crate) mod links;
pub(crate) mod markdown;
mod settings;
pub(crate) mod version;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use self::breaking::History;
use self::diags::{Code, Problem};
use self::links::{Checker, Origin, display, is_markdown};
use self::settings::Settings;
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

pub(crate) use crate::alerts::rules::alert_rules;

/// How many problems the facts list; `counts` has them all.
const PROBLEMS_KEPT: usize = 100;

/// How many problems the reason names.
const PROBLEMS_NAMED: usize = 20;

/// Checks documentation, changelog, migration guide, and alert runbooks.
pub struct DocsAgent;

#[async_trait::async_trait]
impl Agent for DocsAgent {
    fn kind(&self) -> &'static str {
        "docs"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match check(task).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// Whether a file is a YAML rule file, by its extension.
fn is_yaml(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

async fn check(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let settings = Settings::parse(task)?;
    let root = task.workdir.as_path();
    let bad_glob = |e: files::BadGlob| AgentOutcome::missing_input(format!("{e} (in [agents.\"{}\"])", task.agent));
    let markdown = files::find(root, &settings.paths, is_markdown).map_err(bad_glob)?;
    let rules = files::find(root, &settings.alert_rules, is_yaml).map_err(bad_glob)?;
    if let Some(missing) = rules.missing.first() {
        return Err(AgentOutcome::missing_input(format!("alert_rules entry '{missing}' names no file; fix it under [agents.\"{}\"]", task.agent)));
    }
    if markdown.missing.len() == settings.paths.len() && settings.alert_rules.is_empty() {
        return Err(AgentOutcome::missing_input(format!("none of the paths {} exists; set 'paths' under [agents.\"{}\"]", settings.paths.join(", "), task.agent)));
    }
    let version = task.release.as_ref().map(|r| r.binding.version.clone());
    let history = match &settings.migration_guide {
        Some(_) => {
            let revision = task.release.as_ref().map_or("HEAD", |r| r.binding.commit.as_str());
            let history = breaking::since_previous_tag(root, revision).await;
            Some(history.map_err(|e| AgentOutcome::error(format!("the breaking changes of the release cannot be read: {e}")))?)
        }
        None => None,
    };
    let mut review = Review { root, settings: &settings, version: version.as_deref(), checker: Checker::new(root), alerts: 0, with_runbook: 0, runbooks: 0 };
    review.markdown(&markdown);
    review.required();
    review.changelog();
    if let (Some(pattern), Some(history)) = (&settings.migration_guide, &history) {
        review.migration_guide(pattern, history).map_err(bad_glob)?;
    }
    let runbooks = review.alerts(&rules.files)?;
    review.runbook_sections(markdown.files.iter().chain(&runbooks));
    let files = markdown.files.iter().chain(&rules.files).map(|f| ProducedFile { name: display(f), path: root.join(f) }).collect();
    Ok(review.outcome(&markdown, &rules, history.as_ref(), files))
}

/// One run's checks and what they found.
struct Review<'a> {
    root: &'a Path,
    settings: &'a Settings,
    version: Option<&'a str>,
    checker: Checker<'a>,
    alerts: usize,
    with_runbook: usize,
    runbooks: usize,
}

impl Review<'_> {
    fn problem(&mut self, problem: Problem) {
        self.checker.problems.push(problem);
    }

    fn read(&self, path: &str) -> Option<String> {
        let path = links::join_inside(Path::new(""), path)?;
        std::fs::read(self.root.join(path)).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Links in every Markdown file, and configured paths that are not there.
    fn markdown(&mut self, found: &files::Found) {
        for file in &found.files {
            self.checker.check_file(file);
        }
        if self.settings.paths_configured {
            for missing in &found.missing {
                self.problem(Problem::file(missing, Code::MissingFile, "configured in 'paths' but does not exist"));
            }
        }
    }

    fn required(&mut self) {
        for path in &self.settings.require {
            match self.read(path) {
                None => self.problem(Problem::file(path, Code::MissingFile, "required file is missing")),
                Some(text) if text.trim().is_empty() => self.problem(Problem::file(path, Code::EmptyFile, "required file is empty")),
                Some(_) => {}
            }
        }
    }

    fn changelog(&mut self) {
        let (Some(path), Some(version)) = (&self.settings.changelog, self.version) else { return };
        match self.read(path) {
            // A required changelog that is missing is reported once, by `required`.
            None if self.settings.require.contains(path) => {}
            None => self.problem(Problem::file(path, Code::MissingFile, format!("the changelog is missing; it must describe {version}"))),
            Some(text) if version::mention(&text, version).is_none() => {
                self.problem(Problem::file(path, Code::VersionNotDocumented, format!("the changelog does not mention {}, the version being released", version::bare(version))));
            }
            Some(_) => {}
        }
    }

    fn migration_guide(&mut self, pattern: &str, history: &History) -> Result<(), files::BadGlob> {
        if history.breaking.is_empty() {
            return Ok(());
        }
        let since = history.since.as_deref().map_or_else(|| "the first commit".to_owned(), str::to_owned);
        let subjects: Vec<String> = history.breaking.iter().take(3).map(|c| format!("{} {}", &c.commit[..c.commit.len().min(7)], c.subject)).collect();
        let changes = format!("{} breaking change(s) since {since} ({})", history.breaking.len(), subjects.join("; "));
        let guides = files::find(self.root, &[pattern.to_owned()], |_| true)?.files;
        if guides.is_empty() {
            self.problem(Problem::file(pattern, Code::MissingMigrationGuide, format!("{changes}, but no migration guide exists")));
        } else if let Some(version) = self.version {
            let mentioned = guides.iter().any(|g| self.read(&display(g)).is_some_and(|text| version::mention(&text, version).is_some()));
            if !mentioned {
                let message = format!("no migration guide mentions {}, and the release has {changes}", version::bare(version));
                self.problem(Problem::file(&display(&guides[0]), Code::VersionNotDocumented, message));
            }
        }
        Ok(())
    }

    /// Every alert's runbook URL; returns the local Markdown runbooks they lead to.
    fn alerts(&mut self, files: &[PathBuf]) -> Result<BTreeSet<PathBuf>, AgentOutcome> {
        let mut runbooks = BTreeSet::new();
        for file in files {
            let shown = display(file);
            let bytes = std::fs::read(self.root.join(file)).map_err(|e| AgentOutcome::error(format!("{shown} cannot be read: {e}")))?;
            let rules = alert_rules(&bytes).map_err(|e| AgentOutcome::error(format!("{shown} is {e}")))?;
            self.alerts += rules.len();
            for rule in rules {
                let Some(url) = rule.runbook_url else {
                    self.problem(Problem::at(&shown, rule.line, Code::AlertWithoutRunbook, format!("alert {} has no annotations.runbook_url", rule.name)));
                    continue;
                };
                self.with_runbook += 1;
                if url.contains("{{") {
                    self.checker.external += 1;
                    continue;
                }
                let from_file = url.starts_with("./") || url.starts_with("../");
                let base = if from_file { file.parent().unwrap_or(Path::new("")) } else { Path::new("") };
                let what = format!("runbook_url of alert {}", rule.name);
                let target = self.checker.check(&Origin { file, line: rule.line, base, what: &what }, &url);
                runbooks.extend(target.filter(|t| is_markdown(t)));
            }
        }
        Ok(runbooks)
    }

    fn runbook_sections<'p>(&mut self, runbooks: impl Iterator<Item = &'p PathBuf>) {
        if self.settings.runbook_sections.is_empty() {
            return;
        }
        let runbooks: BTreeSet<&PathBuf> = runbooks.collect();
        self.runbooks = runbooks.len();
        for runbook in runbooks {
            let missing: Vec<&String> = match self.checker.document(runbook) {
                Some(doc) => self.settings.runbook_sections.iter().filter(|s| !doc.has_heading(s)).collect(),
                None => continue,
            };
            for section in missing {
                self.problem(Problem::file(&display(runbook), Code::RunbookMissingSection, format!("runbook has no '{section}' heading")));
            }
        }
    }

    fn outcome(self, markdown: &files::Found, rules: &files::Found, history: Option<&History>, files: Vec<ProducedFile>) -> AgentOutcome {
        let problems = &self.checker.problems;
        let counts: serde_json::Map<String, Value> = Code::ALL.iter().map(|c| (c.as_str().to_owned(), problems.iter().filter(|p| p.code == *c).count().into())).collect();
        let facts = json!({
            "version": self.version,
            "filesChecked": markdown.files.len(),
            "pathsMissing": markdown.missing,
            "links": { "local": self.checker.local, "external": self.checker.external },
            "alerts": { "ruleFiles": rules.files.len(), "alerts": self.alerts, "withRunbook": self.with_runbook },
            "runbooksChecked": self.runbooks,
            "breakingChanges": history,
            "problems": problems.iter().take(PROBLEMS_KEPT).collect::<Vec<_>>(),
            "counts": counts,
            "required": self.settings.require,
            "changelog": self.settings.changelog,
            "migrationGuide": self.settings.migration_guide,
            "runbookSections": self.settings.runbook_sections,
        });
        let (local, external, files_checked) = (self.checker.local, self.checker.external, markdown.files.len());
        let (verdict, reason) = if problems.is_empty() {
            let alerts = if rules.files.is_empty() { String::new() } else { format!(", {} alerts with runbooks", self.with_runbook) };
            (Verdict::Pass, format!("{files_checked} Markdown files, {local} local and {external} external links{alerts}: no problems"))
        } else {
            let named: Vec<String> = problems.iter().take(PROBLEMS_NAMED).map(ToString::to_string).collect();
            let more = problems.len().saturating_sub(PROBLEMS_NAMED);
            let more = if more > 0 { format!("; and {more} more") } else { String::new() };
            (Verdict::Fail, format!("{} documentation problems: {}{more}", problems.len(), named.join("; ")))
        };
        AgentOutcome { verdict, reason, facts, files }
    }
}

#[cfg(test)]
mod tests;
