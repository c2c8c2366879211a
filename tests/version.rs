//! `conductor version`: the bump rules over real histories, pre-release
//! numbering, every manifest kind edited with its formatting kept (golden
//! folders under `fixtures/version/<scenario>/{before,after}`), and a
//! malformed manifest refused with exit 2 before anything is written.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::changelog::Repo;
use crate::fixture::conductor;

fn json(repo: &Repo, extra: &[&str]) -> Value {
    let mut args = vec!["version", "--dry-run", "--json"];
    args.extend_from_slice(extra);
    let out = conductor(repo.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Builds a history from steps: `tag:NAME` tags HEAD, anything else is a commit message.
fn history(steps: &[&str]) -> Repo {
    let mut repo = Repo::new();
    for step in steps {
        match step.strip_prefix("tag:") {
            Some(name) => repo.tag(name),
            None => repo.commit(step),
        };
    }
    repo
}

#[test]
fn bump_rules_over_real_histories() {
    let cases: [(&[&str], &[&str], Option<&str>); 14] = [
        (&["feat: a", "tag:v1.2.0", "fix: b"], &[], Some("1.2.1")),
        (&["feat: a", "tag:v1.2.0", "perf: b"], &[], Some("1.2.1")),
        (&["feat: a", "tag:v1.2.0", "fix: b", "feat(api): c", "fix: d"], &[], Some("1.3.0")),
        (&["feat: a", "tag:v1.2.0", "feat!: b"], &[], Some("2.0.0")),
        (&["feat: a", "tag:v1.2.0", "refactor: b\n\nBREAKING CHANGE: config moved"], &[], Some("2.0.0")),
        (&["feat: a", "tag:v0.3.0", "feat!: b"], &[], Some("0.4.0")),
        (&["feat: a", "tag:v0.3.0", "feat: b"], &[], Some("0.4.0")),
        (&["feat: a", "tag:v0.3.0", "fix: b"], &[], Some("0.3.1")),
        (&["feat: a", "fix: b"], &[], Some("0.1.0")),
        (&["feat: a", "tag:v1.2.0", "docs: b", "update readme"], &[], None),
        (&["feat: a", "tag:v1.2.0", "feat: b"], &["--pre", "rc"], Some("1.3.0-rc.1")),
        (&["feat: a", "tag:v1.2.0", "feat: b", "tag:v1.3.0-rc.1", "fix: c"], &["--pre", "rc"], Some("1.3.0-rc.2")),
        (&["feat: a", "tag:v1.2.0", "feat: b", "tag:v1.3.0-rc.1", "fix: c"], &["--pre", "beta"], Some("1.3.0-beta.1")),
        (&["feat: a", "tag:v1.2.0", "feat: b", "tag:v1.3.0-rc.1", "fix: c"], &[], Some("1.3.0")),
    ];
    let mut wrong = Vec::new();
    for (steps, flags, want) in cases {
        let got = json(&history(steps), flags);
        if got["next"].as_str() != want {
            wrong.push(format!("{steps:?} {flags:?}: want {want:?}, got {}", got["next"]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_report_names_the_base_the_bump_and_the_tag() {
    let repo = history(&["feat: a", "tag:1.2.0", "feat: b", "tag:1.3.0-rc.1", "fix: c"]);
    let got = json(&repo, &["--pre", "rc"]);
    assert_eq!((got["current"].as_str(), got["currentTag"].as_str(), got["bump"].as_str()), (Some("1.2.0"), Some("1.2.0"), Some("minor")));
    assert_eq!((got["commits"].as_u64(), got["tag"].as_str()), (Some(2), Some("1.3.0-rc.2")), "a tag without v gets a tag without v: {got}");
    assert_eq!(got["preReleases"], serde_json::json!(["1.3.0-rc.1"]));
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/version")
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path).into_iter().map(|p| Path::new(path.file_name().unwrap()).join(p)));
        } else {
            out.push(PathBuf::from(path.file_name().unwrap()));
        }
    }
    out.sort();
    out
}

/// A repository holding `before/`, released as v0.4.1, with one feature since.
fn manifest_repo(before: &Path) -> Repo {
    let mut repo = Repo::new();
    for file in files(before) {
        let target = repo.path().join(&file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(before.join(&file), target).unwrap();
    }
    repo.commit("chore: start").tag("v0.4.1").commit("feat: more");
    repo
}

#[test]
fn every_manifest_kind_is_updated_with_its_formatting_kept() {
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(fixtures()).unwrap().map(|e| e.unwrap().path()).collect();
    scenarios.sort();
    assert!(scenarios.len() >= 4, "the version fixtures are missing");
    for scenario in scenarios {
        let repo = manifest_repo(&scenario.join("before"));
        let out = conductor(repo.path(), &["version"]);
        assert!(out.status.success(), "{}: {}", scenario.display(), String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0.5.0\n");
        let after = scenario.join("after");
        for file in files(&scenario.join("before")) {
            let got = std::fs::read_to_string(repo.path().join(&file)).unwrap();
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(after.join(&file).parent().unwrap()).unwrap();
                std::fs::write(after.join(&file), &got).unwrap();
            }
            let want = std::fs::read_to_string(after.join(&file)).unwrap_or_else(|e| panic!("{}: {e}", after.join(&file).display()));
            assert_eq!(got, want, "{} differs from the golden file", after.join(&file).display());
        }
    }
}

#[test]
fn dry_run_prints_the_version_and_changes_nothing() {
    let repo = manifest_repo(&fixtures().join("python/before"));
    let before = std::fs::read(repo.path().join("pyproject.toml")).unwrap();
    let out = conductor(repo.path(), &["version", "--dry-run"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0.5.0\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("would set pyproject.toml [project] version: 0.4.1 -> 0.5.0"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(repo.path().join("pyproject.toml")).unwrap(), before);
}

#[test]
fn a_malformed_manifest_exits_2_naming_the_file_and_field_and_writes_nothing() {
    let cases = [
        ("pyproject.toml", "[project]\nname = \"app\"\nversion = 3\n", "pyproject.toml: [project] version: must be a string"),
        ("pyproject.toml", "[project\nname = \"app\"\n", "pyproject.toml: line 1: not valid TOML"),
        ("setup.py", "from setuptools import setup\nsetup(name=\"app\")\n", "setup.py: version=: no literal version="),
        ("VERSION", "\n", "VERSION: content: empty"),
        ("setup.cfg", "[metadata]\nversion = soon\n", "setup.cfg: [metadata] version: 'soon' is not a version"),
    ];
    for (name, text, message) in cases {
        let mut repo = Repo::new();
        std::fs::write(repo.path().join("package.json"), "{\n  \"name\": \"app\",\n  \"version\": \"0.4.1\"\n}\n").unwrap();
        std::fs::write(repo.path().join("Cargo.toml"), "[package]\nname = \"app\"\nversion = \"0.4.1\"\n").unwrap();
        std::fs::write(repo.path().join(name), text).unwrap();
        repo.commit("chore: start").tag("v0.4.1").commit("fix: more");
        let out = conductor(repo.path(), &["version"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert!(std::fs::read_to_string(repo.path().join("package.json")).unwrap().contains("0.4.1"), "package.json was written");
        assert!(std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap().contains("0.4.1"), "Cargo.toml was written");
        assert_eq!(std::fs::read_to_string(repo.path().join(name)).unwrap(), text);
    }
}
