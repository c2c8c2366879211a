//! `conductor init`: start a release bound to version, commit and environment.

use std::collections::BTreeMap;
use std::fs;

use anyhow::{Context, Result, bail};
use evidence::ledger::Ledger;
use evidence::record::{RELEASE_PREDICATE, RecordDraft, ReleaseBinding};
use evidence::statement::ResourceDescriptor;
use evidence::trust::{self, TrustRoot};
use serde_json::json;

use crate::Exit;
use crate::cli::InitArgs;
use crate::workspace::{self, ReleaseState, Workspace};
use crate::git;
use crate::workspace::random;

pub fn run(args: InitArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let commit = git::resolve_commit(&ws.repo, args.commit.as_deref().unwrap_or("HEAD"))?;
    let binding = ReleaseBinding {
        version: args.version.clone(),
        commit,
        environment: args.environment.clone(),
        id: hex_string(&random::<16>()?),
    };
    binding.validate().map_err(|e| anyhow::anyhow!("--{}: {e}", flag_of(e.field)))?;
    if git::tag_exists(&ws.repo, &binding.version)? {
        bail!("git tag {} already exists, so that version was released; choose the next version", binding.version);
    }
    let dir = ws.release_dir(&binding.version);
    git::exclude_locally(&ws.repo, "/.conductor/")?;
    claim(&dir, &binding.version)?;
    let started = start_release(&ws, &dir, binding, &args.key);
    if started.is_err() {
        // Nothing half written: a release either starts whole or not at all.
        let _ = fs::remove_dir_all(&dir);
    }
    let state = started?;
    let b = &state.binding;
    println!("started release {} ({}) at commit {} in {}", b.version, b.environment, b.commit, dir.display());
    Ok(Exit::Success)
}

/// Creates the release folder, failing if another `init` created it first.
fn claim(dir: &std::path::Path, version: &str) -> Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!("release {version} already exists in {}; choose a new version", dir.display()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
}

fn flag_of(field: &str) -> &str {
    match field {
        "environment" => "env",
        other => other,
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads trust.toml, writing a starter that trusts `key` when there is none.
fn ensure_trust(ws: &Workspace, key: &evidence::keys::SecretKey) -> Result<TrustRoot> {
    let path = ws.trust_path();
    if !path.exists() {
        workspace::write_atomic(&path, trust::starter("notary", key.public_key(), None).as_bytes())?;
        eprintln!("wrote a starter {} trusting key {}", path.display(), key.id());
    }
    workspace::load_trust(&path, "the trust root")
}

/// Loads the notary key, makes sure a trust root exists, and writes the
/// release state and its first record.
fn start_release(ws: &Workspace, dir: &std::path::Path, binding: ReleaseBinding, key_arg: &std::path::Path) -> Result<ReleaseState> {
    let key_path = std::path::absolute(key_arg).with_context(|| format!("cannot resolve {}", key_arg.display()))?;
    let key = workspace::load_secret_key(&key_path)?;
    if key.as_ed25519().is_none() {
        bail!("{} is not an Ed25519 key; the notary seals packs with signed-note checkpoints, which need Ed25519 (run `conductor keygen --algorithm ed25519`)", key_arg.display());
    }
    let trust = ensure_trust(ws, &key)?;
    let state = ReleaseState { binding, key: key_path, key_id: key.id().to_string() };
    write_genesis(ws, dir, &state, &key, &trust)?;
    Ok(state)
}

fn write_genesis(ws: &Workspace, dir: &std::path::Path, state: &ReleaseState, key: &evidence::keys::SecretKey, trust: &TrustRoot) -> Result<()> {
    workspace::write_atomic(&dir.join("release.json"), serde_json::to_string_pretty(state)?.as_bytes())?;
    let release = workspace::Release { dir: dir.to_owned(), state: state.clone() };
    let mut ledger = Ledger::open(&release.ledger_path())?;
    let b = &state.binding;
    let commit = ResourceDescriptor { name: "commit".into(), digest: BTreeMap::from([("gitCommit".into(), b.commit.clone())]), annotations: None };
    let draft = RecordDraft {
        phase: "P0".into(),
        record_type: "release".into(),
        predicate_type: RELEASE_PREDICATE.into(),
        predicate: json!({
            "version": b.version, "commit": b.commit, "environment": b.environment, "releaseId": b.id,
            "notaryKeyId": state.key_id, "trustRoot": { "sha256": trust.digest() },
            "tool": { "name": "conductor", "version": env!("CARGO_PKG_VERSION") },
        }),
        subjects: vec![commit],
        evidence: vec![],
    };
    ledger.append(draft, b, workspace::now()?, key)?;
    ws.set_current(&b.version)
}
