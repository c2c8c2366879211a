//! The `sign` kind: a detached signature over each release artifact, made
//! with `signing_key` (the release's notary key when not set): Ed25519, or
//! ECDSA P-256 with a cosign key. Each signature is written as
//! `<artifact>.sig` holding base64 text exactly as
//! `cosign sign-blob --output-signature` writes it: the DER ECDSA signature
//! over the artifact's SHA-256, or the raw 64-byte Ed25519 signature over the
//! artifact. The outcome's files are the artifacts themselves, their
//! signatures and the signer's public key (`<key id>.pub`), so a pack can be
//! checked offline by `conductor verify` and by hand with
//! `cosign verify-blob --key` or `openssl pkeyutl -verify -rawin`.

use base64::Engine as _;
use evidence::digest::{HashingWriter, Sha256};
use evidence::keys::SecretKey;
use serde_json::{Value, json};

use crate::artifacts::{self, Artifact};
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict, signing_key};

/// Signs the files `artifacts` matches.
pub struct SignAgent;

#[async_trait::async_trait]
impl Agent for SignAgent {
    fn kind(&self) -> &'static str {
        "sign"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        // Reading artifacts and opening the key block.
        let task = task.clone();
        tokio::task::spawn_blocking(move || sign(&task).unwrap_or_else(|outcome| outcome))
            .await
            .unwrap_or_else(|e| AgentOutcome::error(format!("the signing stopped: {e}")))
    }
}

fn sign(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let globs = artifacts::globs(task)?;
    let found = artifacts::matching(task, &globs)?;
    let key = signing_key::open(&signing_key::path(task, Some("signing_key"))?)?;
    std::fs::create_dir_all(&task.scratch).map_err(|e| AgentOutcome::error(format!("cannot create {}: {e}", task.scratch.display())))?;
    let public_name = format!("{}.pub", key.id());
    let public_path = task.scratch.join(&public_name);
    std::fs::write(&public_path, key.public_key().to_pem()).map_err(|e| AgentOutcome::error(format!("cannot write {}: {e}", public_path.display())))?;
    let mut signatures = Vec::new();
    let mut files = Vec::new();
    for artifact in &found {
        let (signed, signature_file) = sign_one(task, &key, artifact)?;
        files.push(ProducedFile { name: artifact.name.clone(), path: artifact.path.clone() });
        files.push(signature_file);
        signatures.push(signed);
    }
    files.push(ProducedFile { name: public_name.clone(), path: public_path });
    let algorithm = key.public_key().algorithm();
    Ok(AgentOutcome {
        verdict: Verdict::Pass,
        reason: format!("signed {} artifact(s) with {algorithm} key {}", found.len(), key.id()),
        facts: json!({ "signatures": signatures, "publicKey": public_name, "keyId": key.id(), "algorithm": algorithm }),
        files,
    })
}

/// Signs one artifact and writes its `.sig`. The signature is checked once
/// more over the file while it is hashed, so the recorded digest is the one
/// the signature covers even if the file changed during signing.
fn sign_one(task: &AgentTask, key: &SecretKey, artifact: &Artifact) -> Result<(Value, ProducedFile), AgentOutcome> {
    let unreadable = |e: &dyn std::fmt::Display| AgentOutcome::error(format!("cannot sign {}: {e}", artifact.name));
    let mut file = std::fs::File::open(&artifact.path).map_err(|e| unreadable(&e))?;
    let signature = key.sign_reader(&mut std::io::BufReader::new(&mut file)).map_err(|e| unreadable(&e))?;
    let (sha256, size) = check(key, &signature, &artifact.path).map_err(|e| unreadable(&e))?;
    let sig_name = format!("{}.sig", artifact.name);
    let sig_path = task.scratch.join("signatures").join(&sig_name);
    let written = sig_path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| {
        std::fs::write(&sig_path, base64::engine::general_purpose::STANDARD.encode(&signature))
    });
    written.map_err(|e| AgentOutcome::error(format!("cannot write {}: {e}", sig_path.display())))?;
    let signed = json!({
        "artifact": artifact.name, "sha256": sha256, "size": size, "signature": sig_name,
        "keyId": key.id(), "algorithm": key.public_key().algorithm(),
    });
    Ok((signed, ProducedFile { name: sig_name, path: sig_path }))
}

/// Hashes the file while verifying `signature` over it.
fn check(key: &SecretKey, signature: &[u8], path: &std::path::Path) -> Result<(Sha256, u64), String> {
    let verifier = key.public_key().stream_verifier(signature).map_err(|e| e.to_string())?;
    let mut sink = HashingWriter::new(verifier);
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    std::io::copy(&mut file, &mut sink).map_err(|e| e.to_string())?;
    let (sha256, size, verifier) = sink.into_parts();
    verifier.finish().map_err(|_| "the file changed while it was being signed; sign it again".to_owned())?;
    Ok((sha256, size))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use evidence::keys::{Algorithm, PublicKey};
    use evidence::record::ReleaseBinding;

    use super::*;
    use crate::ReleaseContext;

    fn release() -> ReleaseContext {
        let binding = ReleaseBinding { version: "v1.0.0".into(), commit: "a".repeat(40), environment: "prod".into(), id: "b".repeat(32) };
        ReleaseContext { key: Some(PathBuf::from("keys/notary.key")), ..ReleaseContext::new(binding) }
    }

    fn workdir(key: &SecretKey) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist")).unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("dist/a.tar.gz"), vec![7u8; 300_000]).unwrap();
        std::fs::write(dir.path().join("dist/b.tar.gz"), b"small").unwrap();
        std::fs::write(dir.path().join("keys/notary.key"), key.to_pem(None).unwrap()).unwrap();
        dir
    }

    fn task(dir: &Path, settings: &str) -> AgentTask {
        AgentTask::new("Artifactory Steward", "sign", "P0", dir, &dir.join("scratch"), toml::from_str(settings).unwrap()).with_release(release())
    }

    fn file<'a>(outcome: &'a AgentOutcome, name: &str) -> &'a ProducedFile {
        outcome.files.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no {name} among {:?}", outcome.files))
    }

    /// Checks every listed signature the way an auditor would: the public key
    /// from the outcome's `.pub`, the signature from its `.sig`.
    fn assert_signatures_verify(outcome: &AgentOutcome) {
        let public = PublicKey::from_pem(&std::fs::read_to_string(&file(outcome, outcome.facts["publicKey"].as_str().unwrap()).path).unwrap()).unwrap();
        for entry in outcome.facts["signatures"].as_array().unwrap() {
            let artifact = std::fs::read(&file(outcome, entry["artifact"].as_str().unwrap()).path).unwrap();
            let text = std::fs::read_to_string(&file(outcome, entry["signature"].as_str().unwrap()).path).unwrap();
            let signature = base64::engine::general_purpose::STANDARD.decode(&text).unwrap();
            public.verify(&artifact, &signature).unwrap();
            assert_eq!(entry["sha256"], Sha256::of(&artifact).to_hex());
            assert_eq!(entry["keyId"], public.id().as_str());
        }
    }

    #[tokio::test]
    async fn each_artifact_gets_a_signature_by_the_release_key() {
        let key = SecretKey::ed25519_from_seed(&[4; 32]).unwrap();
        let dir = workdir(&key);
        let outcome = SignAgent.run(&task(dir.path(), "artifacts = \"dist/*.tar.gz\"")).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        let names: Vec<&str> = outcome.files.iter().map(|f| f.name.as_str()).collect();
        let public = format!("{}.pub", key.id());
        assert_eq!(names, ["dist/a.tar.gz", "dist/a.tar.gz.sig", "dist/b.tar.gz", "dist/b.tar.gz.sig", public.as_str()]);
        assert_eq!(outcome.facts["signatures"][0]["algorithm"], "ed25519");
        assert_eq!(outcome.facts["signatures"][0]["size"], 300_000);
        assert_signatures_verify(&outcome);
        // Ed25519 is deterministic: the streamed signature is the in-memory one.
        let text = std::fs::read_to_string(&file(&outcome, "dist/b.tar.gz.sig").path).unwrap();
        assert_eq!(text, base64::engine::general_purpose::STANDARD.encode(key.sign(b"small").unwrap()));
    }

    #[tokio::test]
    async fn a_configured_cosign_key_signs_with_ecdsa() {
        let notary = SecretKey::ed25519_from_seed(&[4; 32]).unwrap();
        let dir = workdir(&notary);
        let cosign = SecretKey::generate_ecdsa_p256().unwrap();
        std::fs::write(dir.path().join("keys/cosign.key"), cosign.to_pem(None).unwrap()).unwrap();
        let outcome = SignAgent.run(&task(dir.path(), "artifacts = [\"dist/b.tar.gz\"]\nsigning_key = \"keys/cosign.key\"")).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!(outcome.facts["keyId"], cosign.id().as_str());
        assert_eq!(outcome.facts["algorithm"], serde_json::to_value(Algorithm::EcdsaP256).unwrap());
        assert_signatures_verify(&outcome);
    }

    #[tokio::test]
    async fn no_artifacts_or_no_key_is_a_missing_input() {
        let key = SecretKey::ed25519_from_seed(&[4; 32]).unwrap();
        let dir = workdir(&key);
        let none = SignAgent.run(&task(dir.path(), "artifacts = \"dist/*.whl\"")).await;
        assert_eq!(none.verdict, Verdict::MissingInput);
        assert!(none.reason.contains("dist/*.whl"), "{}", none.reason);
        let absent = SignAgent.run(&task(dir.path(), "artifacts = \"dist/*\"\nsigning_key = \"keys/missing.key\"")).await;
        assert_eq!(absent.verdict, Verdict::MissingInput);
        assert!(absent.reason.contains("missing.key"), "{}", absent.reason);
        let unset = SignAgent.run(&task(dir.path(), "signing_key = \"keys/notary.key\"")).await;
        assert_eq!(unset.verdict, Verdict::MissingInput);
        assert!(unset.reason.contains("artifacts"), "{}", unset.reason);
    }
}
