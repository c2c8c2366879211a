//! What the ledger says about runs: the latest outcome per agent and per
//! gate, and which phase run was interrupted. Later records supersede
//! earlier ones; nothing is ever rewritten.

use std::collections::BTreeMap;

use evidence::record::Record;
use serde_json::Value;

/// The predicate type of a phase run's first record.
pub const PHASE_RUN: &str = "https://conductor.dev/attestation/phase-run/v1";
/// The predicate type of an agent's outcome.
pub const AGENT_OUTCOME: &str = "https://conductor.dev/attestation/agent-outcome/v1";
/// The predicate type of a gate decision.
pub const GATE_DECISION: &str = "https://conductor.dev/attestation/gate-decision/v1";

fn of_type<'a>(records: &'a [Record], predicate_type: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
    records.iter().filter(move |r| r.statement.predicate_type == predicate_type)
}

fn text<'a>(record: &'a Record, field: &str) -> &'a str {
    record.statement.predicate.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The run id of `phase`'s last run when it was interrupted before its gates
/// were decided, so a new run can pick it up without redoing finished agents.
pub fn interrupted_run(records: &[Record], phase: &str) -> Option<String> {
    let last = of_type(records, PHASE_RUN).filter(|r| r.link.phase == phase).last()?;
    let run = text(last, "runId");
    let decided = of_type(records, GATE_DECISION).any(|r| r.link.phase == phase && text(r, "runId") == run);
    (!decided).then(|| run.to_owned())
}

/// The agents with an outcome recorded in run `run` of `phase`.
pub fn finished_agents(records: &[Record], phase: &str, run: &str) -> Vec<String> {
    of_type(records, AGENT_OUTCOME).filter(|r| r.link.phase == phase && text(r, "runId") == run).map(|r| text(r, "agent").to_owned()).collect()
}

/// The latest outcome of each agent in `phase`, as the gate input shows it.
pub fn latest_outcomes(records: &[Record], phase: &str) -> BTreeMap<String, Value> {
    let mut latest = BTreeMap::new();
    for r in of_type(records, AGENT_OUTCOME).filter(|r| r.link.phase == phase) {
        let p = &r.statement.predicate;
        let entry = serde_json::json!({
            "agent": p.get("agent"), "kind": p.get("kind"), "recordType": r.link.record_type,
            "verdict": p.get("verdict"), "reason": p.get("reason"), "facts": p.get("facts"), "sequence": r.link.sequence,
        });
        latest.insert(text(r, "agent").to_owned(), entry);
    }
    latest
}

/// The latest outcome of every agent of this release in each phase other
/// than `except_phase`, in ledger order, for kinds that judge the release
/// from its own evidence. An outcome whose verdict cannot be read is left out.
pub fn release_evidence(records: &[Record], except_phase: &str) -> Vec<agents::ReleaseEvidence> {
    let mut latest: BTreeMap<(&str, &str), (u64, agents::ReleaseEvidence)> = BTreeMap::new();
    for r in of_type(records, AGENT_OUTCOME).filter(|r| r.link.phase != except_phase) {
        let p = &r.statement.predicate;
        let Ok(verdict) = serde_json::from_value(p.get("verdict").cloned().unwrap_or(Value::Null)) else { continue };
        let evidence = agents::ReleaseEvidence {
            phase: r.link.phase.clone(),
            agent: text(r, "agent").to_owned(),
            kind: text(r, "kind").to_owned(),
            record_type: r.link.record_type.clone(),
            verdict,
            reason: text(r, "reason").to_owned(),
            facts: p.get("facts").cloned().unwrap_or(Value::Null),
        };
        latest.insert((r.link.phase.as_str(), text(r, "agent")), (r.link.sequence, evidence));
    }
    let mut evidence: Vec<(u64, agents::ReleaseEvidence)> = latest.into_values().collect();
    evidence.sort_by_key(|(sequence, _)| *sequence);
    evidence.into_iter().map(|(_, e)| e).collect()
}

/// The latest decision of a gate: (passed, reasons), if it was ever decided.
pub fn latest_decision(records: &[Record], phase: &str, gate: &str) -> Option<(bool, Vec<String>)> {
    let r = of_type(records, GATE_DECISION).filter(|r| r.link.phase == phase && text(r, "gate") == gate).last()?;
    let passed = r.statement.predicate.get("passed").and_then(Value::as_bool).unwrap_or(false);
    let reasons = r.statement.predicate.get("reasons").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
    Some((passed, reasons))
}

/// The latest outcome of every agent in the repository's previous release:
/// of the other releases under `releases`, the one recorded most recently
/// before `current` began. Unreadable releases are passed over, since an
/// earlier release only adds comparisons and never decides on its own.
pub fn previous_outcomes(releases: &std::path::Path, current: &[Record]) -> BTreeMap<String, agents::PreviousOutcome> {
    previous_release(releases, current).map(|records| outcomes_of(&records)).unwrap_or_default()
}

fn previous_release(releases: &std::path::Path, current: &[Record]) -> Option<Vec<Record>> {
    let current_id = current.first().map(|r| r.link.release.id.clone());
    let started = current.first().map(|r| r.link.recorded_at);
    let mut best: Option<(evidence::timestamp::Timestamp, Vec<Record>)> = None;
    for entry in std::fs::read_dir(releases).ok()?.filter_map(Result::ok) {
        let Ok(records) = evidence::ledger::read_records(&entry.path().join("ledger.intoto.jsonl")) else { continue };
        let Some(last) = records.last() else { continue };
        let when = last.link.recorded_at;
        if Some(last.link.release.id.clone()) == current_id || started.is_some_and(|s| when > s) {
            continue;
        }
        if best.as_ref().is_none_or(|(t, _)| when > *t) {
            best = Some((when, records));
        }
    }
    best.map(|(_, records)| records)
}

fn outcomes_of(records: &[Record]) -> BTreeMap<String, agents::PreviousOutcome> {
    let mut outcomes = BTreeMap::new();
    for r in of_type(records, AGENT_OUTCOME) {
        let version = r.link.release.version.clone();
        let p = &r.statement.predicate;
        let Ok(verdict) = serde_json::from_value(p.get("verdict").cloned().unwrap_or(Value::Null)) else { continue };
        let facts = p.get("facts").cloned().unwrap_or(Value::Null);
        outcomes.insert(text(r, "agent").to_owned(), agents::PreviousOutcome { version, verdict, facts });
    }
    outcomes
}
