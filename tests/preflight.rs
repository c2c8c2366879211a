//! `conductor preflight` on real repositories: a line per check, exit 0 when
//! all seven pass, 1 when any fails, 2 when the repository cannot be read.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fixture::{conductor, git};

/// A clone of a bare `origin` on branch `release`, one conventional commit ahead of main.
fn clone() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    git(root.path(), &["init", "-q", "--bare", "-b", "main", origin.to_str().unwrap()]);
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["remote", "add", "origin", origin.to_str().unwrap()]);
    std::fs::write(work.join(".gitignore"), ".env*\n*.key\n*.pem\nid_rsa*\nid_ed25519*\ncredentials.json\n").unwrap();
    std::fs::write(work.join("service.py"), "print('hello')\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "feat: first"]);
    git(&work, &["tag", "v1.0.0"]);
    git(&work, &["push", "-q", "-u", "origin", "main"]);
    git(&work, &["checkout", "-q", "-b", "release"]);
    std::fs::write(work.join("service.py"), "print('hello, world')\n").unwrap();
    git(&work, &["commit", "-qam", "fix: greet everyone"]);
    (root, work)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_tidy_branch_passes_with_a_line_per_check() {
    let (_root, work) = clone();
    let out = conductor(&work, &["preflight", "--repo", ".", "--base", "main"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().filter(|l| l.starts_with("pass ")).count(), 7, "{text}");
    assert!(text.ends_with("all 7 pre-flight checks passed\n"), "{text}");
}

#[test]
fn a_problem_fails_with_exit_1_and_json_names_the_check() {
    let (_root, work) = clone();
    std::fs::write(work.join("notes.txt"), "draft").unwrap();
    let out = conductor(&work, &["preflight", "--base", "main", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], false);
    let failed: Vec<&str> = report["checks"].as_array().unwrap().iter().filter(|c| c["passed"] == false).map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(failed, ["clean-tree"]);
}

#[test]
fn a_detached_head_is_told_how_to_go_on() {
    let (_root, work) = clone();
    git(&work, &["checkout", "-q", "--detach"]);
    let out = conductor(&work, &["preflight", "--no-fetch"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("FAIL remote-sync") && text.contains("HEAD is detached") && text.contains("git switch"), "{text}");
}

#[test]
fn outside_a_repository_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = conductor(dir.path(), &["preflight", "--repo", Path::new(".").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a git repository"));
}
