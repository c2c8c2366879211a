use std::path::Path;

use super::*;
use crate::git::tests::sh;

const GITIGNORE: &str = ".env*\n*.key\n*.pem\nid_rsa*\nid_ed25519*\ncredentials.json\n";

/// A bare `origin` with `main`, and a clone on branch `release` one
/// conventional commit ahead of it, tagged v0.1.0 at main.
fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    sh(root.path(), &["init", "-q", "--bare", "-b", "main", origin.to_str().unwrap()]);
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    sh(&work, &["init", "-q", "-b", "main"]);
    sh(&work, &["remote", "add", "origin", origin.to_str().unwrap()]);
    std::fs::write(work.join(".gitignore"), GITIGNORE).unwrap();
    std::fs::write(work.join("app.py"), "print('hello')\n").unwrap();
    sh(&work, &["add", "."]);
    sh(&work, &["commit", "-qm", "feat: first version"]);
    sh(&work, &["tag", "v0.1.0"]);
    sh(&work, &["push", "-q", "origin", "main"]);
    sh(&work, &["checkout", "-q", "-b", "release"]);
    std::fs::write(work.join("app.py"), "print('hello, world')\n").unwrap();
    sh(&work, &["commit", "-qam", "fix(app): greet the world"]);
    (root, work)
}

fn checks(work: &Path) -> Vec<Check> {
    run(&Options::new(work))
}

fn failed(checks: &[Check]) -> Vec<(&'static str, &str)> {
    checks.iter().filter(|c| !c.passed).map(|c| (c.id, c.detail.as_str())).collect()
}

#[test]
fn a_tidy_release_branch_passes_all_seven() {
    let (_root, work) = setup();
    let all = checks(&work);
    assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), CHECKS);
    assert_eq!(failed(&all), vec![]);
}

#[test]
fn each_planted_problem_fails_its_own_check() {
    let (root, work) = setup();
    // Someone else moves main on the remote, touching the same line.
    let other = root.path().join("other");
    sh(root.path(), &["clone", "-q", root.path().join("origin.git").to_str().unwrap(), other.to_str().unwrap()]);
    std::fs::write(other.join("app.py"), "print('hi')\n").unwrap();
    sh(&other, &["commit", "-qam", "fix: shorter greeting"]);
    sh(&other, &["push", "-q", "origin", "main"]);
    // Here: a non-conventional commit, a secret, a weakened .gitignore, a dirty file.
    std::fs::write(work.join("settings.py"), "AWS_ACCESS_KEY_ID = 'AKIAZ3MSJV4WWNKWW5FG'\n").unwrap();
    std::fs::write(work.join(".gitignore"), "*.pem\n").unwrap();
    sh(&work, &["add", "."]);
    sh(&work, &["commit", "-qm", "Update settings"]);
    std::fs::write(work.join("app.py"), "print('draft')\n").unwrap();
    let all = checks(&work);
    let ids: Vec<&str> = failed(&all).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["remote-sync", "merge", "clean-tree", "secrets", "gitignore", "conventional-commits"], "{all:#?}");
    let detail = |id: &str| all.iter().find(|c| c.id == id).unwrap().detail.clone();
    assert!(detail("remote-sync").contains("release is 1 commit(s) behind origin/main"), "{}", detail("remote-sync"));
    assert!(detail("merge").contains("conflicts in app.py"), "{}", detail("merge"));
    assert!(detail("secrets").contains("settings.py:1"), "{}", detail("secrets"));
    assert!(!detail("secrets").contains("AKIAZ3MSJV4WWNKWW5FG"), "the secret itself is never shown");
    assert!(detail("gitignore").contains(".env"), "{}", detail("gitignore"));
    assert!(detail("conventional-commits").contains("\"Update settings\""), "{}", detail("conventional-commits"));
}

#[test]
fn a_detached_head_gets_a_way_forward() {
    let (_root, work) = setup();
    sh(&work, &["checkout", "-q", "--detach"]);
    let sync = checks(&work).into_iter().find(|c| c.id == "remote-sync").unwrap();
    assert!(!sync.passed);
    assert!(sync.detail.contains("HEAD is detached") && sync.detail.contains("git switch"), "{}", sync.detail);
}

#[test]
fn a_missing_remote_and_skipped_checks_fail_with_reasons() {
    let (_root, work) = setup();
    sh(&work, &["remote", "remove", "origin"]);
    let mut options = Options::new(&work);
    options.fetch = false;
    options.skip = vec!["lockfiles".into()];
    let all = run(&options);
    let f = failed(&all);
    assert!(f.iter().any(|(id, d)| *id == "remote-sync" && d.contains("there is no origin/main")), "{f:?}");
    assert!(f.iter().any(|(id, d)| *id == "lockfiles" && d.contains("skipped")), "{f:?}");
}

#[test]
fn settings_are_checked() {
    let mut settings = toml::Table::new();
    settings.insert("skip".into(), toml::Value::Array(vec!["remote".into()]));
    assert!(Options::from_settings(Path::new("."), &settings).unwrap_err().contains("'remote', which is not one of"));
}

#[tokio::test]
async fn the_agent_files_every_check_as_facts() {
    let (_root, work) = setup();
    let mut settings = toml::Table::new();
    settings.insert("fetch".into(), false.into());
    let task = AgentTask::new("CI/CD Engineer", "preflight", "P0", &work, &work, settings);
    let outcome = PreflightAgent.run(&task).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["checks"].as_array().unwrap().len(), 7);
    std::fs::write(work.join("new.txt"), "x").unwrap();
    let dirty = PreflightAgent.run(&task).await;
    assert_eq!(dirty.verdict, Verdict::Fail);
    assert!(dirty.reason.contains("clean-tree: 1 path(s) have local changes: new.txt"), "{}", dirty.reason);
}
