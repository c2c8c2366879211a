//! `conductor scan-secrets`: exit codes, JSON and SARIF without secrets,
//! conductor.toml settings, and the baseline workflow, on real git repositories.

use std::path::Path;

use crate::fixture::{conductor, git, repo};

/// A GitHub token built at run time, so this file holds no token-shaped literal.
fn token(seed: u8) -> String {
    let body: String = (0..36u8).map(|i| char::from(b'a' + (i.wrapping_mul(7).wrapping_add(seed)) % 26)).collect();
    format!("ghp_{}", body.replacen('a', "7", 3))
}

fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", message]);
}

fn code(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = conductor(dir, args);
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_clean_tree_exits_0_and_a_leak_exits_1() {
    let dir = repo();
    let (status, stdout, _) = code(dir.path(), &["scan-secrets"]);
    assert_eq!(status, 0, "{stdout}");
    assert!(stdout.contains("no secrets found in"), "{stdout}");
    std::fs::write(dir.path().join("deploy.sh"), format!("#!/bin/sh\nexport GITHUB_TOKEN={}\n", token(1))).unwrap();
    let (status, stdout, _) = code(dir.path(), &["scan-secrets"]);
    assert_eq!(status, 1, "{stdout}");
    let first = stdout.lines().next().unwrap();
    assert!(first.starts_with("github-pat  deploy.sh:2:21  "), "{first}");
    assert!(!stdout.contains(&token(1)));
}

#[test]
fn json_output_parses_and_holds_no_secret() {
    let dir = repo();
    std::fs::write(dir.path().join("ci.env"), format!("TOKEN={}\n", token(2))).unwrap();
    let (status, stdout, _) = code(dir.path(), &["scan-secrets", "--json", "."]);
    assert_eq!(status, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["findings"][0]["rule"], "github-pat");
    assert_eq!(report["findings"][0]["path"], "ci.env");
    assert_eq!(report["findings"][0]["fingerprint"].as_str().unwrap().len(), 64);
    assert!(!stdout.contains(&token(2)[8..]), "the secret is in the JSON");
    let (_, sarif, _) = code(dir.path(), &["scan-secrets", "--sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "github-pat");
}

#[test]
fn the_baseline_workflow_accepts_known_findings_only() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("old.env"), format!("TOKEN={}\n", token(3))).unwrap();
    let (status, _, stderr) = code(p, &["scan-secrets", "--write-baseline", "secrets-baseline.json"]);
    assert_eq!(status, 0, "writing a baseline accepts what it lists: {stderr}");
    assert!(stderr.contains("wrote 1 finding(s)"), "{stderr}");
    let (status, stdout, _) = code(p, &["scan-secrets", "--baseline", "secrets-baseline.json"]);
    assert_eq!(status, 0, "{stdout}");
    assert!(stdout.contains("1 baselined"), "{stdout}");
    std::fs::write(p.join("new.env"), format!("TOKEN={}\n", token(4))).unwrap();
    let (status, stdout, _) = code(p, &["scan-secrets", "--baseline", "secrets-baseline.json"]);
    assert_eq!(status, 1, "a new secret is not in the baseline");
    assert!(stdout.contains("new.env:1") && !stdout.contains("old.env"), "{stdout}");
}

#[test]
fn conductor_toml_settings_apply_and_bad_ones_exit_2_naming_file_and_field() {
    let dir = repo();
    let p = dir.path();
    std::fs::create_dir(p.join("fixtures")).unwrap();
    std::fs::write(p.join("fixtures/fake.env"), format!("TOKEN={}\n", token(5))).unwrap();
    std::fs::write(p.join("conductor.toml"), "[agents.\"Secrets Escrow\"]\nallow_paths = [\"fixtures/**\"]\n").unwrap();
    let (status, stdout, _) = code(p, &["scan-secrets"]);
    assert_eq!(status, 0, "{stdout}");
    std::fs::write(p.join("conductor.toml"), "[agents.\"Secrets Escrow\"]\nbaseline = \"accepted.json\"\n").unwrap();
    let (status, _, stderr) = code(p, &["scan-secrets"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("conductor.toml") && stderr.contains("Secrets Escrow") && stderr.contains("accepted.json") && stderr.contains("--write-baseline"), "{stderr}");
    let (status, _, stderr) = code(p, &["scan-secrets", "--write-baseline", "accepted.json"]);
    assert_eq!(status, 0, "writing the configured baseline works while it is missing: {stderr}");
    let (status, stdout, _) = code(p, &["scan-secrets"]);
    assert_eq!(status, 0, "{stdout}");
    std::fs::write(p.join("conductor.toml"), "[agents.\"Secrets Escrow\"]\nmax_file_bytes = -1\n").unwrap();
    let (status, _, stderr) = code(p, &["scan-secrets"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("max_file_bytes"), "{stderr}");
}

#[test]
fn unreadable_baselines_and_misused_flags_exit_2() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("baseline.json"), "not json").unwrap();
    let (status, _, stderr) = code(p, &["scan-secrets", "--baseline", "baseline.json"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("--baseline: baseline baseline.json is not a JSON array"), "{stderr}");
    let (status, _, stderr) = code(p, &["scan-secrets", "--since", "v1.0.0"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("--mode diff"), "{stderr}");
}

#[test]
fn diff_mode_sees_only_what_changed_since_the_tag() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("old.env"), format!("TOKEN={}\n", token(6))).unwrap();
    commit_all(p, "feat: old config");
    let (status, _, stderr) = code(p, &["scan-secrets", "--mode", "diff"]);
    assert_eq!(status, 2, "no tag yet");
    assert!(stderr.contains("--since REF"), "{stderr}");
    git(p, &["tag", "v1.0.0"]);
    std::fs::write(p.join("service.py"), "print('hello')\nprint('more')\n").unwrap();
    commit_all(p, "feat: more");
    let (status, stdout, _) = code(p, &["scan-secrets", "--mode", "diff"]);
    assert_eq!(status, 0, "the old secret predates the tag: {stdout}");
    assert!(stdout.contains("since v1.0.0"), "{stdout}");
    std::fs::write(p.join("new.env"), format!("TOKEN={}\n", token(7))).unwrap();
    commit_all(p, "feat: new config");
    let (status, stdout, _) = code(p, &["scan-secrets", "--mode", "diff"]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("new.env:1") && !stdout.contains("old.env"), "{stdout}");
}

#[test]
fn history_mode_finds_a_removed_secret_with_its_commit() {
    let dir = repo();
    let p = dir.path();
    std::fs::write(p.join("leak.env"), format!("TOKEN={}\n", token(8))).unwrap();
    commit_all(p, "feat: oops");
    std::fs::remove_file(p.join("leak.env")).unwrap();
    commit_all(p, "fix: remove the token");
    assert_eq!(code(p, &["scan-secrets"]).0, 0);
    let (status, stdout, _) = code(p, &["scan-secrets", "--mode", "history", "--json"]);
    assert_eq!(status, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["findings"][0]["path"], "leak.env");
    assert_eq!(report["findings"][0]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(report["commits"], 3);
    let plain = tempfile::tempdir().unwrap();
    let (status, _, stderr) = code(plain.path(), &["scan-secrets", "--mode", "history"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("not inside a git repository"), "{stderr}");
}
