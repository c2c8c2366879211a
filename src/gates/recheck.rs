//! Re-deciding every gate of a verified pack from what the pack holds: the
//! decision's stored input and the exact policy bundle it names. A decision
//! that comes out differently, or whose input or policies are missing or
//! altered, is a mismatch.

use std::collections::BTreeMap;
use std::path::Path;

use evidence::digest::Sha256;
use evidence::pack::{LEDGER, Limits, PackReader};
use evidence::record::Record;
use serde_json::Value;

use super::PolicySet;
use crate::history::GATE_DECISION;

/// A gate decision that does not re-evaluate to what was recorded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Mismatch {
    /// The code, `gate-decision-mismatch`.
    pub code: &'static str,
    /// The decision record's sequence number.
    pub sequence: u64,
    /// Its phase.
    pub phase: String,
    /// The gate.
    pub gate: String,
    /// What differs.
    pub message: String,
}

/// The result of re-deciding a pack's gates.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Recheck {
    /// How many decisions were re-evaluated.
    pub decisions: usize,
    /// Those that did not match.
    pub mismatches: Vec<Mismatch>,
}

/// Re-decides every gate decision in the pack at `path` (already verified).
pub fn recheck_pack(path: &Path) -> anyhow::Result<Recheck> {
    let mut pack = PackReader::open(path, Limits::default())?;
    let mut decisions = Vec::new();
    pack.read_lines(LEDGER, evidence::record::MAX_LINE_BYTES, |_, line, _| {
        if let Ok(record) = Record::parse_line(line)
            && record.statement.predicate_type == GATE_DECISION
        {
            decisions.push(record);
        }
    })?;
    let mut engines: BTreeMap<Sha256, (PolicySet, regorus::Engine)> = BTreeMap::new();
    let mut result = Recheck { decisions: decisions.len(), mismatches: Vec::new() };
    for record in &decisions {
        if let Err(message) = recheck(&mut pack, &mut engines, record) {
            let gate = record.statement.predicate.get("gate").and_then(Value::as_str).unwrap_or("").to_owned();
            result.mismatches.push(Mismatch { code: "gate-decision-mismatch", sequence: record.link.sequence, phase: record.link.phase.clone(), gate, message });
        }
    }
    Ok(result)
}

fn recheck(pack: &mut PackReader, engines: &mut BTreeMap<Sha256, (PolicySet, regorus::Engine)>, record: &Record) -> Result<(), String> {
    let p = &record.statement.predicate;
    let field = |name: &str| p.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    let file = |suffix: &str| record.link.evidence.iter().find(|e| e.name.ends_with(suffix)).cloned();
    let (Some(input_ref), Some(bundle_ref)) = (file("-input.json"), file("policies.json")) else {
        return Err("the decision does not reference its input and policy bundle".into());
    };
    let read = |pack: &mut PackReader, r: &evidence::record::EvidenceRef| pack.read(&r.pack_path()).map_err(|e| format!("{} cannot be read: {e}", r.name));
    let input_bytes = read(pack, &input_ref)?;
    if Sha256::of(&input_bytes).to_hex() != field("inputSha256") {
        return Err("the stored input is not the one the decision names".into());
    }
    let (set, engine) = match engines.entry(bundle_ref.sha256) {
        std::collections::btree_map::Entry::Occupied(loaded) => loaded.into_mut(),
        std::collections::btree_map::Entry::Vacant(slot) => {
            let set = PolicySet::from_bundle(&read(pack, &bundle_ref)?).map_err(|e| e.to_string())?;
            let engine = set.engine().map_err(|e| e.to_string())?;
            slot.insert((set, engine))
        }
    };
    if set.digest().to_hex() != field("policySha256") {
        return Err("the packed policies are not those the decision names".into());
    }
    let input: Value = serde_json::from_slice(&input_bytes).map_err(|e| format!("the stored input is not JSON: {e}"))?;
    let again = set.decide(engine, &field("policy"), &input).map_err(|e| e.to_string())?;
    let recorded_passed = p.get("passed").and_then(Value::as_bool);
    let recorded_reasons: Vec<String> = p.get("reasons").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
    if recorded_passed != Some(again.passed) || recorded_reasons != again.reasons {
        return Err(format!(
            "recorded {} with {} reasons, but the packed policy decides {} with {}",
            if recorded_passed == Some(true) { "pass" } else { "fail" },
            recorded_reasons.len(),
            if again.passed { "pass" } else { "fail" },
            again.reasons.len()
        ));
    }
    Ok(())
}
