//! The docs kind end to end, on temporary repositories.

use std::path::Path;

use super::*;
use crate::ReleaseContext;
use evidence::record::ReleaseBinding;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn task(dir: &Path, settings: &str, version: Option<&str>) -> AgentTask {
    let settings: toml::Table = toml::from_str(settings).unwrap();
    let task = AgentTask::new("Docs Librarian", "docs", "P7", dir, dir, settings);
    match version {
        Some(version) => task.with_release(ReleaseContext::new(ReleaseBinding { version: version.into(), commit: "HEAD".into(), environment: "prod".into(), id: "r1".into() })),
        None => task,
    }
}

const README: &str = "# Orders\n\nSee [the guide](docs/guide.md#install), [the changelog](CHANGELOG.md) and <https://example.com>.\n\n![diagram](docs/diagram.svg)\n";
const GUIDE: &str = "# Guide\n\n## Install\n\nBack to [the top](#guide) or [the readme](../README.md#orders).\n";
const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-11-18\n### Added\n- Health endpoint.\n";

fn documented(dir: &Path) {
    write(dir, &[("README.md", README), ("docs/guide.md", GUIDE), ("docs/diagram.svg", "<svg/>"), ("CHANGELOG.md", CHANGELOG)]);
}

#[tokio::test]
async fn documented_repository_passes_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    let outcome = DocsAgent.run(&task(dir.path(), "", Some("v1.0.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["filesChecked"], 2);
    assert_eq!(outcome.facts["links"], json!({ "local": 5, "external": 1 }));
    assert_eq!(outcome.facts["counts"]["broken-link"], 0);
    assert_eq!(outcome.facts["version"], "v1.0.0");
    assert!(outcome.facts["breakingChanges"].is_null());
    let names: Vec<_> = outcome.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["README.md", "docs/guide.md"]);
}

#[tokio::test]
async fn each_problem_is_named_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    write(dir.path(), &[("docs/broken.md", "# Broken\n\n[gone](missing.md)\n\n[anchor](guide.md#uninstall)\n\n```\n[in code](nowhere.md)\n```\n")]);
    std::fs::remove_file(dir.path().join("CHANGELOG.md")).unwrap();
    let outcome = DocsAgent.run(&task(dir.path(), "", Some("v1.0.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    let problems: Vec<_> = outcome.facts["problems"].as_array().unwrap().iter().map(|p| (p["file"].as_str().unwrap(), p["line"].as_u64(), p["code"].as_str().unwrap())).collect();
    assert_eq!(
        problems,
        [
            ("README.md", Some(3), "broken-link"),
            ("docs/broken.md", Some(3), "broken-link"),
            ("docs/broken.md", Some(5), "missing-anchor"),
            ("CHANGELOG.md", None, "missing-file"),
        ]
    );
    assert!(outcome.reason.contains("docs/broken.md:5: link to guide.md#uninstall: docs/guide.md has no heading with the anchor 'uninstall'"), "{}", outcome.reason);
    assert!(outcome.reason.contains("CHANGELOG.md: required file is missing"), "{}", outcome.reason);
    assert_eq!(outcome.facts["counts"]["broken-link"], 2);
}

#[tokio::test]
async fn the_changelog_must_mention_the_version_being_released() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    let outcome = DocsAgent.run(&task(dir.path(), "", Some("v1.1.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(outcome.facts["counts"]["version-not-documented"], 1);
    assert!(outcome.reason.contains("CHANGELOG.md: the changelog does not mention 1.1.0"), "{}", outcome.reason);
    let outcome = DocsAgent.run(&task(dir.path(), "", None)).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "without a release there is no version to look for: {}", outcome.reason);
}

#[tokio::test]
async fn required_files_must_not_be_empty_and_configured_paths_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    write(dir.path(), &[("SECURITY.md", " \n")]);
    let outcome = DocsAgent.run(&task(dir.path(), "paths = ['README.md', 'guides']\nrequire = ['SECURITY.md']\nchangelog = false", Some("v9.9.9"))).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(outcome.facts["counts"]["empty-file"], 1);
    assert_eq!(outcome.facts["counts"]["missing-file"], 1);
    assert_eq!(outcome.facts["pathsMissing"], json!(["guides"]));
}

#[tokio::test]
async fn nothing_to_check_is_missing_input() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = DocsAgent.run(&task(dir.path(), "", None)).await;
    assert_eq!(outcome.verdict, Verdict::MissingInput);
    assert!(outcome.reason.contains("none of the paths README.md, docs exists"), "{}", outcome.reason);
    let outcome = DocsAgent.run(&task(dir.path(), "alert_rules = 'alerts/rules.yml'", None)).await;
    assert_eq!(outcome.verdict, Verdict::MissingInput);
    assert!(outcome.reason.contains("'alerts/rules.yml' names no file"), "{}", outcome.reason);
}

const RUNBOOK: &str = "# Orders runbook\n\n## OrdersHighErrorRate\n\n### Symptoms\nErrors.\n\n### Mitigation\nRoll back.\n";

fn alerting(dir: &Path, runbook_url: &str) {
    let rules = format!(
        "groups:\n  - name: orders\n    rules:\n      - alert: OrdersHighErrorRate\n        expr: rate(errors[5m]) > 0.01\n        annotations:\n          runbook_url: {runbook_url}\n      - alert: OrdersDown\n        expr: up == 0\n        annotations:\n          summary: down\n"
    );
    write(dir, &[("docs/runbook.md", RUNBOOK), ("alerts/rules.yml", &rules)]);
}

const RUNBOOK_SETTINGS: &str = "paths = []\nrequire = []\nchangelog = false\nalert_rules = ['alerts']\nrunbook_sections = ['Symptoms', 'Mitigation', 'Escalation']";

#[tokio::test]
async fn alerts_need_runbooks_that_exist_with_their_sections() {
    let dir = tempfile::tempdir().unwrap();
    alerting(dir.path(), "docs/runbook.md#ordershigherrorrate");
    let outcome = DocsAgent.run(&task(dir.path(), RUNBOOK_SETTINGS, None)).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    let problems: Vec<_> = outcome.facts["problems"].as_array().unwrap().iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(outcome.reason.contains("alerts/rules.yml:8: alert OrdersDown has no annotations.runbook_url"), "{}", outcome.reason);
    assert!(outcome.reason.contains("docs/runbook.md: runbook has no 'Escalation' heading"), "{}", outcome.reason);
    assert_eq!(outcome.facts["alerts"], json!({ "ruleFiles": 1, "alerts": 2, "withRunbook": 1 }));
    assert_eq!(outcome.facts["runbooksChecked"], 1);
    assert_eq!(outcome.facts["links"]["local"], 1);
}

#[tokio::test]
async fn runbook_urls_must_lead_to_a_heading() {
    let dir = tempfile::tempdir().unwrap();
    alerting(dir.path(), "../docs/runbook.md#orders-high-error-rate");
    let outcome = DocsAgent.run(&task(dir.path(), "paths = []\nrequire = []\nchangelog = false\nalert_rules = 'alerts/*.yml'", None)).await;
    assert_eq!(outcome.facts["counts"]["missing-anchor"], 1, "{}", outcome.reason);
    assert!(outcome.reason.contains("alerts/rules.yml:4: runbook_url of alert OrdersHighErrorRate to ../docs/runbook.md#orders-high-error-rate"), "{}", outcome.reason);
    alerting(dir.path(), "https://runbooks.example.com/orders");
    let outcome = DocsAgent.run(&task(dir.path(), "paths = []\nrequire = []\nchangelog = false\nalert_rules = 'alerts/*.yml'", None)).await;
    assert_eq!((outcome.facts["links"]["external"].as_u64(), outcome.facts["counts"]["missing-anchor"].as_u64()), (Some(1), Some(0)));
}

#[tokio::test]
async fn a_rule_file_that_is_not_yaml_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("alerts/rules.yml", "groups:\n  - name: a\n   rules: [\n")]);
    let outcome = DocsAgent.run(&task(dir.path(), RUNBOOK_SETTINGS, None)).await;
    assert_eq!(outcome.verdict, Verdict::Error);
    assert!(outcome.reason.starts_with("alerts/rules.yml is not YAML: "), "{}", outcome.reason);
}

#[tokio::test]
async fn a_breaking_release_needs_a_migration_guide_that_mentions_it() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    breaking::tests::repo(dir.path(), &[("feat: first", Some("v0.9.0")), ("feat(api)!: orders are paged", None)]);
    let settings = "migration_guide = 'docs/migrations/*.md'";
    let outcome = DocsAgent.run(&task(dir.path(), settings, Some("v1.0.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(outcome.facts["counts"]["missing-migration-guide"], 1);
    assert!(outcome.reason.contains("1 breaking change(s) since v0.9.0"), "{}", outcome.reason);
    assert_eq!(outcome.facts["breakingChanges"]["breaking"][0]["subject"], "feat(api)!: orders are paged");

    write(dir.path(), &[("docs/migrations/paging.md", "# Migrating to paged orders\n")]);
    let outcome = DocsAgent.run(&task(dir.path(), settings, Some("v1.0.0"))).await;
    assert_eq!(outcome.facts["counts"]["version-not-documented"], 1, "{}", outcome.reason);

    write(dir.path(), &[("docs/migrations/paging.md", "# Migrating to 1.0.0\n")]);
    let outcome = DocsAgent.run(&task(dir.path(), settings, Some("v1.0.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
}

#[tokio::test]
async fn a_release_without_breaking_changes_needs_no_guide() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    breaking::tests::repo(dir.path(), &[("feat!: first", Some("v0.9.0")), ("fix: small", None)]);
    let outcome = DocsAgent.run(&task(dir.path(), "migration_guide = 'docs/MIGRATING.md'", Some("v1.0.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["breakingChanges"], json!({ "since": "v0.9.0", "commits": 1, "breaking": [] }));
}

#[tokio::test]
async fn migration_checks_outside_git_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    documented(dir.path());
    let outcome = DocsAgent.run(&task(dir.path(), "migration_guide = 'docs/MIGRATING.md'", Some("v1.0.0"))).await;
    assert_eq!(outcome.verdict, Verdict::Error);
    assert!(outcome.reason.contains("breaking changes of the release cannot be read"), "{}", outcome.reason);
}
