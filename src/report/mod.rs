//! Reports people read: one model of a release built from its ledger
//! ([`ReleaseReport::build`]), rendered as Markdown (`reports/release-<version>.md`,
//! written on every run and promotion) and as a self-contained HTML page
//! (`index.html` in every pack, `conductor report --html`).

mod html;
mod markdown;

use std::collections::BTreeMap;

use evidence::approval::ApprovalsMatrix;
use evidence::record::{EvidenceRef, Record, ReleaseBinding};
use evidence::trust::TrustRoot;
use serde_json::Value;

pub use html::render as html;
pub use markdown::render as markdown;

use crate::history;
use crate::phases::PhasePlan;
use crate::promote::flow::{PROMOTION_PREDICATE, PromotionState, VSA_PREDICATE};

/// Where a release stands, as the report's headline says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every gate passed, every required role approved, and no promotion has begun.
    Ready,
    /// Every gate passed, but a required approval is missing.
    AwaitingApproval,
    /// A gate's latest decision did not pass.
    Blocked,
    /// Some gates have not been decided yet; none has failed.
    InProgress,
    /// The promotion reached all traffic.
    Promoted,
    /// The promotion waits for a signed decision.
    Paused,
    /// The promotion was rolled back.
    Aborted,
}

impl Status {
    /// The word the report shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::AwaitingApproval => "AWAITING APPROVAL",
            Self::Blocked => "BLOCKED",
            Self::InProgress => "IN PROGRESS",
            Self::Promoted => "PROMOTED",
            Self::Paused => "PAUSED",
            Self::Aborted => "ABORTED",
        }
    }
}

/// A gate and its latest decision.
#[derive(Clone, Debug)]
pub struct GateRow {
    /// The phase id.
    pub phase: String,
    /// The phase's name.
    pub phase_name: String,
    /// The gate id.
    pub gate: String,
    /// `passed`, `failed` or `not run`.
    pub state: &'static str,
    /// The deny reasons.
    pub reasons: Vec<String>,
}

/// One ledger record as the report lists it.
#[derive(Clone, Debug)]
pub struct RecordRow {
    /// Its sequence number.
    pub sequence: u64,
    /// Its phase.
    pub phase: String,
    /// Its record type.
    pub record_type: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// The agent it is about, for agent outcomes.
    pub agent: Option<String>,
    /// The agent's verdict or the gate's decision.
    pub verdict: Option<String>,
    /// The evidence files it names.
    pub evidence: Vec<EvidenceRef>,
    /// Its signature checked against the trust root, in words.
    pub verification: String,
    /// Whether that check held.
    pub verified: bool,
}

/// A promotion step or decision.
#[derive(Clone, Debug)]
pub struct StepRow {
    /// The record's sequence number.
    pub sequence: u64,
    /// `promotion-step`, `promotion-analysis`, `promotion-rollback`, ...
    pub event: String,
    /// The step, from 1, when the record names one.
    pub step: Option<u64>,
    /// Its weight.
    pub weight: Option<u64>,
    /// What it says.
    pub summary: String,
}

/// An SLO chart filed as evidence.
#[derive(Clone, Debug)]
pub struct Chart {
    /// The readable path in a pack, `slo/<record type>/<name>.svg`.
    pub path: String,
    /// The SVG bytes.
    pub svg: Vec<u8>,
}

/// Everything a report shows.
#[derive(Clone, Debug)]
pub struct ReleaseReport {
    /// The release.
    pub release: ReleaseBinding,
    /// Its headline state.
    pub status: Status,
    /// Every gate of the plan.
    pub gates: Vec<GateRow>,
    /// The approvals matrix.
    pub approvals: ApprovalsMatrix,
    /// Where the promotion stands, when one has begun.
    pub promotion: Option<PromotionState>,
    /// The promotion's records.
    pub steps: Vec<StepRow>,
    /// Every record.
    pub records: Vec<RecordRow>,
    /// The SLO charts.
    pub charts: Vec<Chart>,
    /// The release notes, when the Comms Bard filed them.
    pub notes: Option<String>,
    /// Where the evidence is: the ledger and the packs, as paths or names.
    pub locations: Vec<(String, String)>,
}

/// What the report is built from.
pub struct Inputs<'a> {
    /// The ledger's records.
    pub records: &'a [Record],
    /// The release.
    pub release: &'a ReleaseBinding,
    /// The phase plan.
    pub plan: &'a PhasePlan,
    /// The trust root the records' signatures are checked with.
    pub trust: &'a TrustRoot,
    /// The approvals matrix.
    pub approvals: ApprovalsMatrix,
    /// The promotion state, when there is one.
    pub promotion: Option<PromotionState>,
    /// Reads an evidence file's bytes (from the object store or a pack).
    pub read: &'a dyn Fn(&EvidenceRef) -> Option<Vec<u8>>,
    /// Where the evidence is kept.
    pub locations: Vec<(String, String)>,
}

impl ReleaseReport {
    /// The report of a release from its records. It depends on nothing but
    /// its inputs, so a pack holding it stays deterministic.
    pub fn build(inputs: Inputs<'_>) -> Self {
        let gates = gates(inputs.records, inputs.plan);
        let status = status(&gates, inputs.promotion.as_ref(), inputs.approvals.approved());
        Self {
            release: inputs.release.clone(),
            status,
            gates,
            approvals: inputs.approvals,
            promotion: inputs.promotion,
            steps: steps(inputs.records),
            records: inputs.records.iter().map(|r| record_row(r, inputs.trust)).collect(),
            charts: charts(inputs.records, inputs.read),
            notes: notes(inputs.records, inputs.read),
            locations: inputs.locations,
        }
    }
}

fn gates(records: &[Record], plan: &PhasePlan) -> Vec<GateRow> {
    let mut rows = Vec::new();
    for phase in plan.phases() {
        for gate in &phase.gates {
            let decision = history::latest_decision(records, &phase.id, &gate.id);
            let state = match &decision {
                Some((true, _)) => "passed",
                Some((false, _)) => "failed",
                None => "not run",
            };
            rows.push(GateRow { phase: phase.id.clone(), phase_name: phase.name.clone(), gate: gate.id.clone(), state, reasons: decision.map(|d| d.1).unwrap_or_default() });
        }
    }
    rows
}

fn status(gates: &[GateRow], promotion: Option<&PromotionState>, approved: bool) -> Status {
    match promotion.map(|p| p.state.as_str()) {
        Some("promoted") => return Status::Promoted,
        Some("paused") => return Status::Paused,
        Some("aborted") => return Status::Aborted,
        _ => {}
    }
    if gates.iter().any(|g| g.state == "failed") {
        Status::Blocked
    } else if gates.iter().all(|g| g.state == "passed") {
        if approved { Status::Ready } else { Status::AwaitingApproval }
    } else {
        Status::InProgress
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn record_row(r: &Record, trust: &TrustRoot) -> RecordRow {
    let p = &r.statement.predicate;
    let verdict = text(p, "verdict").or_else(|| p.get("passed").and_then(Value::as_bool).map(|b| if b { "passed".into() } else { "failed".into() }));
    let (verified, verification) = match (trust.key(r.key_id()), r.signature()) {
        (Some(key), Some(sig)) if key.key.verify(&r.pae(), &sig).is_ok() => (true, format!("signature verified: {}", key.name)),
        (Some(key), _) => (false, format!("signature by {} does not verify", key.name)),
        (None, _) => (false, format!("signed by key {}, which the trust root does not list", short(r.key_id()))),
    };
    RecordRow {
        sequence: r.link.sequence,
        phase: r.link.phase.clone(),
        record_type: r.link.record_type.clone(),
        recorded_at: r.link.recorded_at.to_string(),
        agent: text(p, "agent").or_else(|| text(p, "gate").map(|g| format!("gate {g}"))),
        verdict,
        evidence: r.link.evidence.clone(),
        verification,
        verified,
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn steps(records: &[Record]) -> Vec<StepRow> {
    records
        .iter()
        .filter(|r| r.statement.predicate_type == PROMOTION_PREDICATE || r.statement.predicate_type == VSA_PREDICATE)
        .map(|r| {
            let p = &r.statement.predicate;
            let summary = match r.link.record_type.as_str() {
                "promotion-decision" => format!("preconditions verified: {}", text(p, "verificationResult").unwrap_or_default()),
                "promotion-step" => format!("set weight: {}", p.pointer("/action/command").and_then(Value::as_str).unwrap_or("")),
                "promotion-human-decision" => format!("{} by key {}: {}", text(p, "decision").unwrap_or_default(), short(&text(p, "keyId").unwrap_or_default()), text(p, "reason").unwrap_or_default()),
                "ga-flip" => format!("GA at {}%", p.get("weight").and_then(Value::as_u64).unwrap_or(100)),
                "incident" => format!("incident {}", text(p, "incident").unwrap_or_default()),
                _ => text(p, "reason").unwrap_or_default(),
            };
            let phase = text(p, "phase").map(|ph| format!("{ph}: ")).unwrap_or_default();
            StepRow { sequence: r.link.sequence, event: r.link.record_type.clone(), step: p.get("step").and_then(Value::as_u64), weight: p.get("weight").and_then(Value::as_u64), summary: format!("{phase}{summary}") }
        })
        .collect()
}

fn charts(records: &[Record], read: &dyn Fn(&EvidenceRef) -> Option<Vec<u8>>) -> Vec<Chart> {
    let copies: BTreeMap<String, EvidenceRef> = evidence::pack::readable_copies(records.iter().flat_map(|r| r.link.evidence.iter().map(|e| (r.link.record_type.as_str(), e))));
    copies.into_iter().filter(|(path, _)| path.ends_with(".svg")).filter_map(|(path, e)| Some(Chart { path, svg: read(&e)? })).collect()
}

fn notes(records: &[Record], read: &dyn Fn(&EvidenceRef) -> Option<Vec<u8>>) -> Option<String> {
    let filed = records.iter().rev().filter(|r| r.statement.predicate.get("kind").and_then(Value::as_str) == Some("changelog")).find_map(|r| r.link.evidence.iter().find(|e| e.name.ends_with(".md")))?;
    read(filed).map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[cfg(test)]
mod tests;
