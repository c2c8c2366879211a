//! Worker attestations: an agent outcome recorded from a worker on another
//! host carries the worker's signed statement (`predicate.worker.attestation`).
//! It must verify with a key the trust root allows for the agent's kind and
//! phase, and say exactly what the record says.

use serde_json::Value;

use super::{Code, RecordRef, Report};
use crate::dsse::Envelope;
use crate::record::Record;
use crate::worker::{AttestationError, check as check_attestation};
use crate::trust::TrustRoot;

/// Checks the worker attestation `record` carries, if it carries one.
pub(super) fn check(trust: &TrustRoot, record: &Record, rr: &RecordRef, report: &mut Report) {
    if record.statement.predicate_type != super::AGENT_OUTCOME_PREDICATE {
        return;
    }
    let Some(attestation) = record.statement.predicate.pointer("/worker/attestation") else { return };
    let envelope = match envelope(attestation) {
        Ok(envelope) => envelope,
        Err(detail) => {
            return report.fail_record(Code::WorkerAttestationMalformed, rr, format!("record {}'s worker attestation is not a DSSE envelope: {detail}", rr.sequence));
        }
    };
    match check_attestation(&envelope, trust, record.link.recorded_at) {
        Ok(attested) => {
            if let Err(why) = attested.matches(record) {
                report.fail_record(Code::WorkerAttestationMismatch, rr, format!("record {} does not say what worker key {} ({}) signed: {why}", rr.sequence, attested.key_id, attested.key_name));
            }
        }
        Err(e) => report.fail_record(code(&e), rr, format!("record {}: {e}", rr.sequence)),
    }
}

fn code(error: &AttestationError) -> Code {
    match error {
        AttestationError::Malformed { .. } => Code::WorkerAttestationMalformed,
        AttestationError::KeyUnknown { .. } | AttestationError::KeyRevoked { .. } | AttestationError::KeyOutsideValidity { .. } => Code::WorkerKeyUntrusted,
        AttestationError::SignatureInvalid { .. } => Code::WorkerSignatureInvalid,
        AttestationError::KindNotAllowed { .. } | AttestationError::PhaseNotAllowed { .. } => Code::WorkerKindNotAllowed,
    }
}

fn envelope(value: &Value) -> Result<Envelope, String> {
    let envelope: Envelope = serde::Deserialize::deserialize(value).map_err(|e| e.to_string())?;
    if envelope.signatures.is_empty() {
        return Err("it has no signatures".into());
    }
    Ok(envelope)
}
