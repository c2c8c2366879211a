//! Golden outputs: every folder under `tests/golden/` is a scenario. A pack is
//! built with fixed keys and times (so every byte is reproducible), tampered
//! as `scenario.json` says, and verified by the binary; the human and JSON
//! renderings must match `verify.txt` and `verify.json`. Set
//! `CONDUCTOR_UPDATE_GOLDEN=1` to rewrite the expected files after a deliberate change.

use std::path::Path;
use std::process::Command;

use evidence::keys::SecretKey;
use evidence::ledger::Ledger;
use evidence::record::{EVIDENCE_FILE_PREDICATE, EvidenceRef, RecordDraft, ReleaseBinding};
use evidence::store::ObjectStore;
use evidence::timestamp::Timestamp;
use serde_json::Value;

use crate::fixture::{join, lines, rewrite};

const RECORDS: [(&str, &str, &str, &str); 4] = [
    ("P0", "lockfile", "requirements.txt", "pytest==8.3.3\n"),
    ("P1", "junit", "junit.xml", "<testsuite tests=\"4\" failures=\"0\"/>\n"),
    ("P3", "sarif", "scan.sarif", "{\"version\":\"2.1.0\",\"runs\":[]}\n"),
    ("P7", "runbook", "runbook.md", "# Runbook\n"),
];

fn release() -> ReleaseBinding {
    ReleaseBinding {
        version: "v3.1.0".into(),
        commit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
        environment: "prod".into(),
        id: "c0ffee00c0ffee00c0ffee00c0ffee00".into(),
    }
}

/// Builds the scenario's pack and trust root in `dir`.
fn build(dir: &Path) {
    let key = SecretKey::ed25519_from_seed(&[42; 32]).unwrap();
    let store = ObjectStore::new(dir.join("objects"));
    let mut ledger = Ledger::open(&dir.join("ledger.intoto.jsonl")).unwrap();
    for (i, (phase, record_type, name, content)) in RECORDS.iter().enumerate() {
        let (sha256, size) = store.put(content.as_bytes()).unwrap();
        let draft = RecordDraft {
            phase: (*phase).into(),
            record_type: (*record_type).into(),
            predicate_type: EVIDENCE_FILE_PREDICATE.into(),
            predicate: serde_json::json!({ "name": name, "sha256": sha256, "size": size }),
            subjects: vec![],
            evidence: vec![EvidenceRef { name: (*name).into(), sha256, size }],
        };
        let at = Timestamp::from_unix(1_795_000_000 + 60 * i as i64).unwrap();
        ledger.append(draft, &release(), at, &key).unwrap();
    }
    let trust_text = evidence::trust::starter("notary", key.public_key(), Some("release-bot@example.com"));
    std::fs::write(dir.join("trust.toml"), &trust_text).unwrap();
    let trust = evidence::trust::TrustRoot::parse(&trust_text, "trust.toml").unwrap();
    let input = evidence::pack::SealInput {
        records: ledger.records(),
        release: &release(),
        store: &store,
        public_keys: &[key.public_key().clone()],
        trust_root: trust.digest(),
        seal_key: &key,
        approvals: &evidence::approval::ApprovalsMatrix::of(ledger.records(), &trust, &release()),
        index_html: None,
    };
    evidence::pack::write_pack(&dir.join("sealed.zip"), &input).unwrap();
}

/// Applies the scenario's tampering, writing `pack.zip` (and maybe a new trust.toml).
fn tamper(dir: &Path, scenario: &Value) {
    let sealed = dir.join("sealed.zip");
    let out = dir.join("pack.zip");
    let line = |key: &str| scenario[key].as_u64().unwrap() as usize;
    match scenario["tamper"].as_str().unwrap() {
        "none" => std::fs::copy(&sealed, &out).map(drop).unwrap(),
        "delete-line" => rewrite(&sealed, &out, on_ledger(move |l| drop(l.remove(line("line")))), &[]),
        "swap-lines" => {
            let (a, b) = (line("line"), line("with"));
            rewrite(&sealed, &out, on_ledger(move |l| l.swap(a, b)), &[])
        }
        "flip-evidence" => {
            let marker = scenario["starts_with"].as_str().unwrap().to_owned();
            rewrite(&sealed, &out, move |name, mut bytes| {
                if name.starts_with("evidence/") && bytes.starts_with(marker.as_bytes()) {
                    let last = bytes.len() - 2;
                    bytes[last] ^= 1;
                }
                Some(bytes)
            }, &[])
        }
        "add-file" => rewrite(&sealed, &out, |_, b| Some(b), &[(scenario["path"].as_str().unwrap(), b"planted\n")]),
        "revoke-key" => {
            std::fs::copy(&sealed, &out).unwrap();
            let trust = std::fs::read_to_string(dir.join("trust.toml")).unwrap();
            let id = trust.lines().find(|l| l.starts_with("id = ")).unwrap().to_owned();
            std::fs::write(dir.join("trust.toml"), format!("{trust}\n[[revoked]]\n{id}\nreason = \"key left on a shared laptop\"\n")).unwrap();
        }
        other => panic!("unknown tamper '{other}' in scenario.json"),
    }
}

fn on_ledger(edit: impl Fn(&mut Vec<Vec<u8>>)) -> impl Fn(&str, Vec<u8>) -> Option<Vec<u8>> {
    move |name, bytes| {
        if name != "ledger/ledger.intoto.jsonl" {
            return Some(bytes);
        }
        let mut l = lines(&bytes);
        edit(&mut l);
        Some(join(&l))
    }
}

fn render(dir: &Path, json: bool) -> (i32, String) {
    let mut args = vec!["verify", "pack.zip", "--trust", "trust.toml"];
    if json {
        args.push("--json");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir).args(&args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
}

pub(crate) fn compare(expected_path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("CONDUCTOR_UPDATE_GOLDEN").is_some() {
        std::fs::write(expected_path, actual).unwrap();
        return None;
    }
    match std::fs::read_to_string(expected_path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!("{} differs:\n--- expected\n{expected}\n--- actual\n{actual}", expected_path.display())),
        Err(_) => Some(format!("{} is missing; run with CONDUCTOR_UPDATE_GOLDEN=1 to create it", expected_path.display())),
    }
}

#[test]
fn rendered_verification_matches_the_golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut scenarios: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    scenarios.sort();
    assert!(!scenarios.is_empty(), "no scenarios under {}", root.display());
    let mut problems = Vec::new();
    for folder in &scenarios {
        let scenario: Value = serde_json::from_str(&std::fs::read_to_string(folder.join("scenario.json")).unwrap()).unwrap();
        let work = tempfile::tempdir().unwrap();
        build(work.path());
        tamper(work.path(), &scenario);
        let (text_code, text) = render(work.path(), false);
        let (json_code, json) = render(work.path(), true);
        let expected_code = scenario["exit"].as_i64().unwrap() as i32;
        if text_code != expected_code || json_code != expected_code {
            problems.push(format!("{}: exit {text_code}/{json_code}, expected {expected_code}", folder.display()));
        }
        problems.extend(compare(&folder.join("verify.txt"), &text));
        problems.extend(compare(&folder.join("verify.json"), &json));
        if scenario["tamper"] == "none" {
            let sums = zip_entry(&work.path().join("pack.zip"), "SHA256SUMS");
            problems.extend(compare(&folder.join("SHA256SUMS"), &sums));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn zip_entry(pack: &Path, name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(pack).unwrap()).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}
