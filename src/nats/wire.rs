//! What a worker sends back for a task: its signed outcome and the evidence
//! files themselves, inline in base64, so the conductor's notary can store
//! them by digest without a shared disk.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use evidence::digest::Sha256;
use evidence::dsse::Envelope;
use evidence::keys::SecretKey;
use evidence::record::ReleaseBinding;
use evidence::trust::TrustRoot;
use evidence::worker::{WorkerOutcome, attest};
use serde::{Deserialize, Serialize};

use crate::bus::{Message, OutcomeMessage, WorkerSignature};

/// The most evidence-file bytes one result carries (before base64). With
/// base64 and the outcome it stays under NATS's default 1 MiB payload.
pub const MAX_FILE_BYTES: u64 = 512 * 1024;

/// A worker's answer to one task, on `conductor.results.<conductor id>`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskResult {
    /// The run the task belongs to.
    pub correlation_id: String,
    /// The task answered.
    pub task_id: String,
    /// The worker's name, for people.
    pub worker: String,
    /// The outcome, signed by the worker's key.
    pub attestation: Envelope,
    /// The evidence files, in the attestation's subject order.
    pub files: Vec<InlineFile>,
}

/// One evidence file carried in a result.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineFile {
    /// The name it is recorded under.
    pub name: String,
    /// Its bytes in standard base64.
    pub content: String,
}

/// What the worker knows of the task it answers.
pub struct TaskFacts {
    /// The run.
    pub correlation_id: String,
    /// The task.
    pub task_id: String,
    /// The phase.
    pub phase: String,
    /// The roster name.
    pub agent: String,
    /// The kind.
    pub kind: String,
    /// The release.
    pub release: ReleaseBinding,
}

/// Signs `outcome` with the worker's `key` and packs its files. Files over
/// [`MAX_FILE_BYTES`] together, or unreadable, turn the outcome into an error
/// that says so (signed like any other).
pub fn seal(task: &TaskFacts, mut outcome: agents::AgentOutcome, key: &SecretKey, worker: &str) -> Result<TaskResult, evidence::keys::KeyError> {
    // An outcome whose files cannot all travel carries none, so no record
    // ever lists part of an agent's evidence as if it were all of it.
    let files = read_files(&outcome.files).unwrap_or_else(|problem| {
        outcome.verdict = agents::Verdict::Error;
        outcome.reason = format!("{}: {problem}", task.agent);
        Vec::new()
    });
    let digests: Vec<(String, Sha256)> = files.iter().map(|(name, bytes)| (name.clone(), Sha256::of(bytes))).collect();
    let verdict = serde_json::to_value(outcome.verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let statement = WorkerOutcome {
        release: task.release.clone(),
        phase: task.phase.clone(),
        agent: task.agent.clone(),
        kind: task.kind.clone(),
        task_id: task.task_id.clone(),
        run_id: task.correlation_id.clone(),
        verdict,
        reason: outcome.reason,
        facts: outcome.facts,
    };
    let attestation = attest(&statement, &digests, key)?;
    let files = files.into_iter().map(|(name, bytes)| InlineFile { name, content: STANDARD.encode(bytes) }).collect();
    Ok(TaskResult { correlation_id: task.correlation_id.clone(), task_id: task.task_id.clone(), worker: worker.to_owned(), attestation, files })
}

/// The files' bytes, or the first problem reading them within the limit.
fn read_files(files: &[agents::ProducedFile]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut total = 0u64;
    for file in files {
        let bytes = std::fs::read(&file.path).map_err(|e| format!("evidence file {} cannot be read at {}: {e}", file.name, file.path.display()))?;
        total += bytes.len() as u64;
        if total > MAX_FILE_BYTES {
            return Err(format!("its evidence files total more than {} KiB, the most a result carries over NATS; run this agent in-process or make its files smaller", MAX_FILE_BYTES / 1024));
        }
        out.push((file.name.clone(), bytes));
    }
    Ok(out)
}

/// Turns a worker's result into the message the run loop takes: the
/// attestation checked against `trust` at `at`, each file checked against
/// its attested digest and written under `spool`. A result that does not
/// hold becomes a failure of its task that says why.
pub fn open(result: TaskResult, trust: &TrustRoot, at: evidence::timestamp::Timestamp, spool: &Path) -> Message {
    let task_id = result.task_id.clone();
    match open_checked(result, trust, at, spool) {
        Ok(outcome) => Message::EvidenceProduced { task_id, outcome },
        Err(reason) => Message::AgentFailed { task_id, reason },
    }
}

fn open_checked(result: TaskResult, trust: &TrustRoot, at: evidence::timestamp::Timestamp, spool: &Path) -> Result<OutcomeMessage, String> {
    let refused = |why: String| format!("the result from worker {} was refused: {why}", result.worker);
    let attested = evidence::worker::check(&result.attestation, trust, at).map_err(|e| refused(e.to_string()))?;
    if attested.outcome.task_id != result.task_id || attested.outcome.run_id != result.correlation_id {
        return Err(refused(format!("it attests task {} of run {}, not task {}", attested.outcome.task_id, attested.outcome.run_id, result.task_id)));
    }
    if attested.files.len() != result.files.len() {
        return Err(refused(format!("it attests {} evidence files but carries {}", attested.files.len(), result.files.len())));
    }
    let dir = spool.join(&result.task_id);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}; check the release folder's permissions", dir.display()))?;
    let mut files = Vec::new();
    for (i, (file, (name, sha256))) in result.files.iter().zip(&attested.files).enumerate() {
        let bytes = STANDARD.decode(&file.content).map_err(|_| refused(format!("file {} is not base64", file.name)))?;
        if &file.name != name || Sha256::of(&bytes) != *sha256 {
            return Err(refused(format!("file {} is not the {name} ({sha256}) the worker attested", file.name)));
        }
        let path = dir.join(format!("{i}"));
        std::fs::write(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        files.push((name.clone(), path));
    }
    let verdict = serde_json::from_value(serde_json::Value::String(attested.outcome.verdict.clone())).map_err(|_| refused(format!("verdict '{}' is not one this conductor knows", attested.outcome.verdict)))?;
    Ok(OutcomeMessage {
        verdict,
        reason: attested.outcome.reason,
        facts: attested.outcome.facts,
        files,
        worker: Some(WorkerSignature { key_id: attested.key_id, name: attested.key_name, attestation: result.attestation }),
    })
}
