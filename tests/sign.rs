//! Artifact signatures from the `sign` kind: openssl verifies them by hand,
//! and `conductor verify` re-checks them inside a pack, catching a changed
//! artifact, a changed signature and an untrusted signer.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::crosscheck::tool;
use crate::fixture::{Release, codes, ok, rewrite};
use crate::provenance::{ARTIFACT, artifact_release, outcome};

const STEWARD: &str = "Artifactory Steward";

/// The steward's stored artifact, signature and public key, by their roles.
struct Signed {
    artifact: std::path::PathBuf,
    signature: Vec<u8>,
    public_key: std::path::PathBuf,
}

fn signed(release: &Release) -> Signed {
    let (predicate, files) = outcome(release, STEWARD);
    let entry = &predicate["facts"]["signatures"][0];
    let file = |name: &Value| files.iter().find(|(n, _)| n == name.as_str().unwrap()).unwrap_or_else(|| panic!("no {name} in {files:?}")).1.clone();
    let text = std::fs::read_to_string(file(&entry["signature"])).unwrap();
    Signed { artifact: file(&entry["artifact"]), signature: STANDARD.decode(text).unwrap(), public_key: file(&predicate["facts"]["publicKey"]) }
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(tool("openssl", "install it with `apt-get install openssl`")).current_dir(dir).args(args).output().unwrap()
}

#[test]
fn openssl_verifies_an_ed25519_artifact_signature() {
    let release = artifact_release(|_| {}, "");
    let s = signed(&release);
    let dir = release.path();
    std::fs::write(dir.join("sig.raw"), &s.signature).unwrap();
    let verify = |artifact: &Path| {
        openssl(dir, &["pkeyutl", "-verify", "-pubin", "-inkey", s.public_key.to_str().unwrap(), "-rawin", "-in", artifact.to_str().unwrap(), "-sigfile", "sig.raw"])
    };
    let good = verify(&s.artifact);
    assert!(good.status.success(), "openssl refused: {}", String::from_utf8_lossy(&good.stderr));
    let mut changed = std::fs::read(&s.artifact).unwrap();
    changed[1000] ^= 1;
    std::fs::write(dir.join("changed.tar.gz"), changed).unwrap();
    assert!(!verify(&dir.join("changed.tar.gz")).status.success(), "openssl accepted a changed artifact");
}

#[test]
fn openssl_verifies_a_cosign_ecdsa_artifact_signature_and_verify_needs_the_key_trusted() {
    let keygen = |p: &Path| drop(ok(p, &["keygen", "--out", "keys/cosign", "--algorithm", "ecdsa-p256"]));
    // The cosign key is encrypted; the agent opens it with CONDUCTOR_KEY_PASSPHRASE.
    let release = artifact_release(keygen, "signing_key = \"keys/cosign.key\"");
    let s = signed(&release);
    let dir = release.path();
    std::fs::write(dir.join("sig.der"), &s.signature).unwrap();
    let out = openssl(dir, &["dgst", "-sha256", "-verify", s.public_key.to_str().unwrap(), "-signature", "sig.der", s.artifact.to_str().unwrap()]);
    assert!(out.status.success(), "openssl refused: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&s.public_key).unwrap(), std::fs::read_to_string(dir.join("keys/cosign.pub")).unwrap());

    let pack = release.pack();
    let (code, report) = release.verify(&pack, &release.trust());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report), ["artifact-signature-untrusted-key"]);
    let pem = std::fs::read_to_string(dir.join("keys/cosign.pub")).unwrap();
    let id = evidence::keys::PublicKey::from_pem(&pem).unwrap().id().to_string();
    let mut trust = std::fs::read_to_string(release.trust()).unwrap();
    trust.push_str(&format!("\n[[keys]]\nid = \"{id}\"\nname = \"build signer\"\npublic_key = \"\"\"\n{pem}\"\"\"\n"));
    std::fs::write(dir.join("trust-with-signer.toml"), trust).unwrap();
    let (code, report) = release.verify(&pack, &dir.join("trust-with-signer.toml"));
    assert_eq!(code, 0, "{report:#}");
}

/// Verifies a copy of the release's pack with each entry passed through `edit`.
fn tampered(release: &Release, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Value {
    let bad = release.path().join("bad.zip");
    rewrite(&release.pack(), &bad, edit, &[]);
    let (code, report) = release.verify(&bad, &release.trust());
    assert_eq!(code, 1, "tampering must fail verification: {report:#}");
    report
}

/// The `artifact-signature-invalid` finding, which must name the steward's record.
fn invalid_signature_finding(report: &Value) -> &Value {
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "artifact-signature-invalid");
    let finding = finding.unwrap_or_else(|| panic!("expected artifact-signature-invalid among {:?}", codes(report)));
    assert_eq!(finding["record"]["phase"], "P0");
    assert_eq!(finding["record"]["type"], "signature");
    assert!(finding["message"].as_str().unwrap().contains(ARTIFACT), "{finding:#}");
    finding
}

#[test]
fn a_changed_byte_in_a_packed_artifact_fails_its_signature() {
    let release = artifact_release(|_| {}, "");
    let original = std::fs::read(release.path().join(ARTIFACT)).unwrap();
    let report = tampered(&release, |name, mut bytes| {
        if name.starts_with("evidence/") && bytes == original {
            bytes[70_000] ^= 0x10;
        }
        Some(bytes)
    });
    invalid_signature_finding(&report);
}

#[test]
fn a_changed_packed_signature_fails() {
    let release = artifact_release(|_| {}, "");
    let s = signed(&release);
    let text = STANDARD.encode(&s.signature).into_bytes();
    let report = tampered(&release, |_, bytes| {
        if bytes != text {
            return Some(bytes);
        }
        let mut signature = s.signature.clone();
        signature[5] ^= 1;
        Some(STANDARD.encode(signature).into_bytes())
    });
    invalid_signature_finding(&report);
}
