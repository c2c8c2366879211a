//! Every way of changing a sealed pack is caught, each with its own code.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::fixture::{Release, codes, join, lines, rewrite};

const LEDGER: &str = "ledger/ledger.intoto.jsonl";

/// Tampers with a fresh pack and returns the verify exit code and codes.
fn tampered(edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>, extra: &[(&str, &[u8])]) -> (i32, Vec<String>, Value) {
    let release = Release::new();
    let pack = release.pack();
    let bad = release.path().join("bad.zip");
    rewrite(&pack, &bad, edit, extra);
    let (code, report) = release.verify(&bad, &release.trust());
    (code, codes(&report), report)
}

fn assert_caught(result: (i32, Vec<String>, Value), code: &str) -> Value {
    let (exit, codes, report) = result;
    assert_eq!(exit, 1, "tampering must fail verification: {report:#}");
    assert!(codes.iter().any(|c| c == code), "expected {code} among {codes:?}");
    report
}

fn edit_ledger(f: impl Fn(&mut Vec<Vec<u8>>)) -> impl Fn(&str, Vec<u8>) -> Option<Vec<u8>> {
    move |name, bytes| {
        if name != LEDGER {
            return Some(bytes);
        }
        let mut l = lines(&bytes);
        f(&mut l);
        Some(join(&l))
    }
}

/// Rewrites the statement inside a ledger line's envelope, keeping the signature.
fn edit_payload(line: &[u8], f: impl Fn(&mut Value)) -> Vec<u8> {
    let mut env: Value = serde_json::from_slice(line).unwrap();
    let mut statement: Value = serde_json::from_slice(&STANDARD.decode(env["payload"].as_str().unwrap()).unwrap()).unwrap();
    f(&mut statement);
    env["payload"] = STANDARD.encode(serde_json::to_vec(&statement).unwrap()).into();
    serde_json::to_vec(&env).unwrap()
}

#[test]
fn a_clean_pack_verifies() {
    let release = Release::new();
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "verified");
    let phases: Vec<&str> = report["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["P0", "P1", "P3"]);
}

#[test]
fn flipped_byte_in_an_evidence_file() {
    let edit = |name: &str, mut bytes: Vec<u8>| {
        if name.starts_with("evidence/") && bytes.starts_with(b"<testsuite") {
            bytes[3] ^= 1;
        }
        Some(bytes)
    };
    let report = assert_caught(tampered(edit, &[]), "evidence-digest-mismatch");
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "evidence-digest-mismatch").unwrap();
    assert_eq!(finding["record"]["sequence"], 1);
    assert_eq!(finding["record"]["phase"], "P1");
    assert_eq!(finding["record"]["type"], "junit");
}

#[test]
fn flipped_byte_in_a_ledger_line() {
    let edit = edit_ledger(|l| l[1] = edit_payload(&l[1], |s| s["predicate"]["size"] = (s["predicate"]["size"].as_u64().unwrap() ^ 1).into()));
    assert_caught(tampered(edit, &[]), "record-signature-invalid");
}

#[test]
fn flipped_byte_in_a_signature() {
    let edit = edit_ledger(|l| {
        let mut env: Value = serde_json::from_slice(&l[2]).unwrap();
        let mut sig = STANDARD.decode(env["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        sig[10] ^= 0x40;
        env["signatures"][0]["sig"] = STANDARD.encode(sig).into();
        l[2] = serde_json::to_vec(&env).unwrap();
    });
    let report = assert_caught(tampered(edit, &[]), "record-signature-invalid");
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "record-signature-invalid").unwrap();
    assert_eq!(finding["record"]["sequence"], 2);
}

#[test]
fn flipped_byte_in_the_manifest() {
    let edit = |name: &str, bytes: Vec<u8>| {
        if name != "manifest.intoto.json" {
            return Some(bytes);
        }
        Some(edit_payload(&bytes, |s| s["predicate"]["release"]["environment"] = "staging".into()))
    };
    assert_caught(tampered(edit, &[]), "manifest-signature-invalid");
}

#[test]
fn deleted_record() {
    assert_caught(tampered(edit_ledger(|l| drop(l.remove(2))), &[]), "record-missing");
}

#[test]
fn reordered_records() {
    assert_caught(tampered(edit_ledger(|l| l.swap(1, 2)), &[]), "record-out-of-order");
}

#[test]
fn duplicated_record() {
    assert_caught(tampered(edit_ledger(|l| { let copy = l[1].clone(); l.insert(2, copy) }), &[]), "record-duplicated");
}

#[test]
fn injected_record() {
    let release = Release::new();
    let pack = release.pack();
    let key = release.key();
    let bad = release.path().join("bad.zip");
    rewrite(&pack, &bad, edit_ledger(|l| {
        let before = evidence::record::Record::parse_line(&l[1]).unwrap();
        let draft = evidence::record::RecordDraft {
            phase: "P3".into(),
            record_type: "approval".into(),
            predicate_type: "https://example.com/forged/v1".into(),
            predicate: serde_json::json!({"approved": true}),
            subjects: vec![],
            evidence: vec![],
        };
        let forged = evidence::record::Record::seal(draft, 2, before.line_hash, &before.link.release, before.link.recorded_at, &key).unwrap();
        l.insert(2, forged.line);
    }), &[]);
    let (code, report) = release.verify(&bad, &release.trust());
    assert_eq!(code, 1);
    let codes = codes(&report);
    assert!(codes.contains(&"record-injected".to_owned()), "{codes:?}");
    assert!(codes.contains(&"chain-broken".to_owned()), "{codes:?}");
}

#[test]
fn record_from_another_release() {
    let other = Release::with_version("v2.0.0");
    let other_ledger = std::fs::read(other.path().join(".conductor/releases/v2.0.0/ledger.intoto.jsonl")).unwrap();
    let foreign = lines(&other_ledger)[1].clone();
    let report = assert_caught(tampered(edit_ledger(move |l| l[1] = foreign.clone()), &[]), "record-from-another-release");
    assert!(report["findings"].to_string().contains("v2.0.0"));
}

#[test]
fn added_file() {
    assert_caught(tampered(|_, b| Some(b), &[("evidence/extra.txt", b"planted")]), "file-unlisted");
}

#[test]
fn removed_file() {
    let edit = |name: &str, bytes: Vec<u8>| (!name.starts_with("keys/")).then_some(bytes);
    assert_caught(tampered(edit, &[]), "file-missing");
}

#[test]
fn removed_evidence_names_the_record() {
    let edit = |name: &str, bytes: Vec<u8>| (!(name.starts_with("evidence/") && bytes.starts_with(b"{\"bomFormat"))).then_some(bytes);
    assert_caught(tampered(edit, &[]), "evidence-missing");
}

#[test]
fn edited_sha256sums() {
    let edit = |name: &str, mut bytes: Vec<u8>| {
        if name == "SHA256SUMS" {
            bytes[0] = if bytes[0] == b'0' { b'1' } else { b'0' };
        }
        Some(bytes)
    };
    assert_caught(tampered(edit, &[]), "sha256sums-mismatch");
}

#[test]
fn tampered_checkpoint() {
    let edit = |name: &str, bytes: Vec<u8>| {
        if name != "ledger/checkpoint" {
            return Some(bytes);
        }
        let text = String::from_utf8(bytes).unwrap();
        Some(text.replacen("\n4\n", "\n5\n", 1).into_bytes())
    };
    assert_caught(tampered(edit, &[]), "checkpoint-signature-invalid");
}

#[test]
fn tampered_inclusion_proof() {
    let edit = |name: &str, bytes: Vec<u8>| {
        if name != "ledger/inclusion-proofs.jsonl" {
            return Some(bytes);
        }
        let mut l = lines(&bytes);
        let mut proof: Value = serde_json::from_slice(&l[0]).unwrap();
        proof["hashes"][0] = "00".repeat(32).into();
        l[0] = serde_json::to_vec(&proof).unwrap();
        Some(join(&l))
    };
    assert_caught(tampered(edit, &[]), "inclusion-proof-invalid");
}

#[test]
fn raw_byte_flip_in_the_archive() {
    let release = Release::new();
    let pack = release.pack();
    let mut bytes = std::fs::read(&pack).unwrap();
    // The first entry's data begins after its 30-byte local header and name.
    let name_len = u16::from_le_bytes([bytes[26], bytes[27]]) as usize;
    bytes[30 + name_len + 2] ^= 0xff;
    let bad = release.path().join("bad.zip");
    std::fs::write(&bad, bytes).unwrap();
    let (code, report) = release.verify(&bad, &release.trust());
    assert_eq!(code, 1);
    assert!(codes(&report).contains(&"pack-entry-corrupt".to_owned()), "{report:#}");
}

mod trust_root {
    use super::*;

    fn verify_with(edit: impl Fn(String) -> String) -> (i32, Vec<String>) {
        let release = Release::new();
        let pack = release.pack();
        let text = std::fs::read_to_string(release.trust()).unwrap();
        let trust = release.path().join("edited-trust.toml");
        std::fs::write(&trust, edit(text)).unwrap();
        let (code, report) = release.verify(&pack, &trust);
        (code, codes(&report))
    }

    fn assert_code((exit, codes): (i32, Vec<String>), code: &str) {
        assert_eq!(exit, 1);
        assert!(codes.iter().any(|c| c == code), "expected {code} among {codes:?}");
    }

    #[test]
    fn key_missing_from_the_trust_root() {
        let other = evidence::keys::SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        assert_code(verify_with(|_| evidence::trust::starter("stranger", other.public_key(), None)), "record-key-unknown");
    }

    #[test]
    fn revoked_key() {
        assert_code(
            verify_with(|t| {
                let id = t.lines().find(|l| l.starts_with("id = ")).unwrap().to_owned();
                format!("{t}\n[[revoked]]\n{id}\nreason = \"laptop lost\"\n")
            }),
            "key-revoked",
        );
    }

    #[test]
    fn key_used_outside_its_validity_window() {
        assert_code(verify_with(|t| t.replace("seal = true", "seal = true\nvalid_until = 2001-01-01T00:00:00Z")), "key-outside-validity");
    }

    #[test]
    fn key_used_outside_its_phases() {
        assert_code(verify_with(|t| t.replace("phases = [\"*\"]", "phases = [\"P0\", \"P1\"]")), "key-phase-not-allowed");
    }

    #[test]
    fn key_used_outside_its_predicate_types() {
        let only_release = "predicate_types = [\"https://conductor.dev/attestation/release/v1\"]";
        assert_code(verify_with(|t| t.replace("predicate_types = [\"*\"]", only_release)), "key-type-not-allowed");
    }

    #[test]
    fn key_not_allowed_to_seal() {
        assert_code(verify_with(|t| t.replace("seal = true", "seal = false")), "manifest-key-untrusted");
    }
}

#[test]
fn a_resigned_manifest_that_drops_the_proofs_is_refused() {
    let release = Release::new();
    let pack = release.pack();
    let key = release.key();
    let bad = release.path().join("bad.zip");
    rewrite(&pack, &bad, |name, bytes| match name {
        "ledger/inclusion-proofs.jsonl" => None,
        "manifest.intoto.json" => {
            let env: Value = serde_json::from_slice(&bytes).unwrap();
            let mut statement: Value = serde_json::from_slice(&STANDARD.decode(env["payload"].as_str().unwrap()).unwrap()).unwrap();
            statement["subject"].as_array_mut().unwrap().retain(|s| s["name"] != "ledger/inclusion-proofs.jsonl");
            let payload = serde_json::to_vec(&statement).unwrap();
            Some(evidence::dsse::Envelope::sign(evidence::dsse::INTOTO_PAYLOAD_TYPE, &payload, &key).unwrap().to_json().into_bytes())
        }
        _ => Some(bytes),
    }, &[]);
    let (code, report) = release.verify(&bad, &release.trust());
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["code"] == "file-missing" && f["file"] == "ledger/inclusion-proofs.jsonl"), "{report:#}");
}

#[test]
fn a_proof_given_twice_for_one_record_is_refused() {
    let edit = |name: &str, bytes: Vec<u8>| {
        if name != "ledger/inclusion-proofs.jsonl" {
            return Some(bytes);
        }
        let mut l = lines(&bytes);
        l[1] = l[0].clone();
        Some(join(&l))
    };
    assert_caught(tampered(edit, &[]), "inclusion-proof-invalid");
}
