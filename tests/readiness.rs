//! `conductor readiness`: the rendered reports of every scenario folder under
//! `tests/fixtures/readiness/` (a `release_data.json`, the expected `exit`
//! code, and `report.txt` and `report.json`, or `stderr.txt` for unusable
//! input), and the readiness evidence a run through P6 records.
//! `CONDUCTOR_UPDATE_GOLDEN=1` rewrites the expected files.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::golden::compare;

fn readiness(dir: &Path, json: bool) -> (i32, String, String) {
    let mut args = vec!["readiness", "--input", "release_data.json"];
    if json {
        args.push("--json");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir).args(&args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn rendered_reports_match_the_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/readiness");
    let mut scenarios: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    scenarios.sort();
    assert!(scenarios.len() >= 5, "too few scenarios under {}", root.display());
    let mut problems = Vec::new();
    for folder in &scenarios {
        let expected: i32 = std::fs::read_to_string(folder.join("exit")).unwrap().trim().parse().unwrap();
        let (text_code, text, text_err) = readiness(folder, false);
        let (json_code, json, _) = readiness(folder, true);
        if text_code != expected || json_code != expected {
            problems.push(format!("{}: exit {text_code}/{json_code}, expected {expected}", folder.display()));
        }
        if expected == 2 {
            assert!(text.is_empty() && json.is_empty(), "{}: unusable input printed a report", folder.display());
            problems.extend(compare(&folder.join("stderr.txt"), &text_err));
        } else {
            problems.extend(compare(&folder.join("report.txt"), &text));
            problems.extend(compare(&folder.join("report.json"), &json));
            let report: Value = serde_json::from_str(&json).unwrap();
            let decision = report["decision"].as_str().unwrap();
            assert_eq!(decision == "GO", expected == 0, "{}: {decision} with exit {expected}", folder.display());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn an_ill_typed_field_is_named_with_its_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("release_data.json"), r#"{"schema":"conductor/release-data/v1","rollback":{"plan":"yes"}}"#).unwrap();
    let (code, out, err) = readiness(dir.path(), true);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("release_data.json: at rollback.plan: invalid type: string \"yes\", expected a boolean"), "{err}");
}
