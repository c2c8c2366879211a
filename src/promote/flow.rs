//! A promotion from its cleared preconditions to its end: the decision is
//! recorded as a SLSA verification summary, the rollout takes its steps with
//! every action and analysis on the ledger, and the end is written down: GA,
//! a pause awaiting a signed human decision, or a rollback with its incident
//! record. `promotion.json` beside the release's ledger says where it stands, and
//! `ga-flip` records the release's KPIs at 100%.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use evidence::digest::Sha256;
use evidence::keys::SecretKey;
use evidence::ledger::Ledger;
use evidence::record::{EvidenceRef, RecordDraft};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::analysis::Provider;
use super::driver::Driver;
use super::incident::{self, Incident};
use super::plan::{Moving, Plan};
use super::preconditions::Cleared;
use super::rollout::{Abort, Ending, Rollout, roll, roll_back};
use crate::workspace::{self, Release};

/// The predicate type of promotion records.
pub const PROMOTION_PREDICATE: &str = "https://conductor.dev/attestation/promotion/v1";

/// The predicate type of the promotion decision.
pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";

/// The file that says where a promotion stands.
pub const STATE_FILE: &str = "promotion.json";

/// Where a promotion stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionState {
    /// `promoted`, `paused` or `aborted`.
    pub state: String,
    /// The step it is at or ended on, from 1.
    pub step: usize,
    /// That step's weight.
    pub weight: u8,
    /// Why it stands there.
    pub reason: String,
    /// The incident record of an aborted promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

impl PromotionState {
    /// The state of `release`, when a promotion has begun.
    pub fn load(release: &Release) -> Result<Option<Self>> {
        let path = release.dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| format!("{} is damaged; it is rewritten by the next promotion", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn save(&self, release: &Release) -> Result<()> {
        workspace::write_atomic(&release.dir.join(STATE_FILE), &serde_json::to_vec_pretty(self)?)
    }
}

/// How a promotion run ended, for the exit code.
#[derive(Clone, Debug)]
pub enum Finish {
    /// At 100% with the analysis holding.
    Promoted,
    /// Waiting for `--resume --decision`.
    Paused(PromotionState),
    /// Rolled back; the incident record's path.
    Aborted(PromotionState),
}

/// What a promotion works with.
pub struct Promotion<'a> {
    /// The repository.
    pub repo: &'a Path,
    /// The release being promoted.
    pub release: &'a Release,
    /// The notary key, which signs the conductor's own records.
    pub key: &'a SecretKey,
    /// The plan.
    pub plan: &'a Plan,
    /// Its driver and analysis.
    pub moving: &'a Moving<'a>,
}

impl Promotion<'_> {
    /// The placeholders of the driver's commands and the analysis's queries.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let b = &self.release.state.binding;
        vec![("service", self.plan.service.clone()), ("version", b.version.clone()), ("commit", b.commit.clone()), ("environment", b.environment.clone())]
    }

    fn append(&self, ledger: &mut Ledger, record_type: &str, predicate_type: &str, predicate: Value, evidence: Vec<EvidenceRef>, key: &SecretKey) -> Result<u64> {
        let draft = RecordDraft { phase: self.plan.ga_phase.clone(), record_type: record_type.into(), predicate_type: predicate_type.into(), predicate, subjects: vec![], evidence };
        Ok(ledger.append(draft, &self.release.state.binding, workspace::now()?, key)?.link.sequence)
    }
}

/// Records the decision to promote and takes every step of the plan.
pub fn start(cx: &Promotion<'_>, pack: &Path, cleared: &Cleared, driver: &mut dyn Driver, provider: &mut dyn Provider, wait: &mut dyn FnMut(Duration)) -> Result<Finish> {
    let mut ledger = Ledger::open(&cx.release.ledger_path())?;
    let pack_digest = Sha256::of(&std::fs::read(pack).with_context(|| format!("cannot read {}", pack.display()))?);
    cx.append(&mut ledger, "promotion-decision", VSA_PREDICATE, vsa(cx, pack, pack_digest, cleared)?, vec![], cx.key)?;
    go(cx, ledger, 0, driver, provider, wait)
}

/// The SLSA verification summary of the preconditions.
fn vsa(cx: &Promotion<'_>, pack: &Path, digest: Sha256, cleared: &Cleared) -> Result<Value> {
    let b = &cx.release.state.binding;
    Ok(json!({
        "verifier": {"id": "https://conductor.dev/promote", "version": {"conductor": env!("CARGO_PKG_VERSION")}},
        "timeVerified": workspace::now()?.to_string(),
        "resourceUri": format!("git+commit:{}", b.commit),
        "policy": {"uri": format!("conductor:promotion/{}/gates-and-approvals", cx.plan.ga_phase)},
        "inputAttestations": [{"uri": pack.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), "digest": {"sha256": digest.to_string()}}],
        "verificationResult": "PASSED",
        "verifiedLevels": [],
        "slsaVersion": "1.0",
        "conductor": {"gates": cleared.gates, "roles": cleared.roles, "ledgerHead": cleared.ledger_head, "records": cleared.records, "steps": cx.plan.steps, "service": cx.plan.service},
    }))
}

/// Continues a paused promotion on a signed human decision.
pub fn resume(cx: &Promotion<'_>, decider: &SecretKey, decision: &str, reason: &str, driver: &mut dyn Driver, provider: &mut dyn Provider, wait: &mut dyn FnMut(Duration)) -> Result<Finish> {
    let Some(state) = PromotionState::load(cx.release)?.filter(|s| s.state == "paused") else {
        bail!("the promotion of {} is not paused, so there is nothing to resume; run `conductor promote` to start one", cx.release.state.binding.version);
    };
    let mut ledger = Ledger::open(&cx.release.ledger_path())?;
    let head = ledger.records().last().map(|r| r.line_hash.to_string()).unwrap_or_default();
    let predicate = json!({"event": "promotion-decision", "decision": decision, "reason": reason, "step": state.step, "weight": state.weight, "paused": state.reason, "ledgerHead": head, "keyId": decider.id().to_string()});
    cx.append(&mut ledger, "promotion-human-decision", PROMOTION_PREDICATE, predicate, vec![], decider)?;
    if decision == "continue" {
        return go(cx, ledger, state.step, driver, provider, wait);
    }
    let rollout = rollout(cx, state.step - 1);
    let why = format!("step {} ({}%): aborted by a signed human decision: {reason}", state.step, state.weight);
    let mut recorder = |t: &str, p: Value| cx.append(&mut ledger, t, PROMOTION_PREDICATE, with_event(t, p), vec![], cx.key).map(|_| ());
    let abort = roll_back(&rollout, state.step - 1, state.weight, why, driver, provider, wait, &mut recorder)?;
    aborted(cx, ledger, abort)
}

fn rollout<'c>(cx: &'c Promotion<'_>, from: usize) -> Rollout<'c> {
    Rollout { steps: &cx.plan.steps, from, analysis: cx.moving.analysis, metrics: &cx.moving.metrics, vars: cx.vars() }
}

fn with_event(record_type: &str, mut predicate: Value) -> Value {
    predicate["event"] = record_type.into();
    predicate
}

fn go(cx: &Promotion<'_>, mut ledger: Ledger, from: usize, driver: &mut dyn Driver, provider: &mut dyn Provider, wait: &mut dyn FnMut(Duration)) -> Result<Finish> {
    let rollout = rollout(cx, from);
    let ending = {
        let mut recorder = |t: &str, p: Value| cx.append(&mut ledger, t, PROMOTION_PREDICATE, with_event(t, p), vec![], cx.key).map(|_| ());
        roll(&rollout, driver, provider, wait, &mut recorder)?
    };
    match ending {
        Ending::Promoted { kpis } => {
            let last = cx.plan.steps.len();
            let weight = cx.plan.steps.last().copied().unwrap_or(100);
            let kpis: serde_json::Map<String, Value> = kpis.iter().map(|k| (k.name.clone(), json!(k.value))).collect();
            cx.append(&mut ledger, "ga-flip", PROMOTION_PREDICATE, json!({"event": "ga-flip", "steps": cx.plan.steps, "weight": weight, "kpis": kpis}), vec![], cx.key)?;
            PromotionState { state: "promoted".into(), step: last, weight, reason: format!("every step held; {weight}% of traffic on {}", cx.release.state.binding.version), incident: None }.save(cx.release)?;
            Ok(Finish::Promoted)
        }
        Ending::Paused { step, weight, reason } => {
            let state = PromotionState { state: "paused".into(), step: step + 1, weight, reason, incident: None };
            state.save(cx.release)?;
            Ok(Finish::Paused(state))
        }
        Ending::RolledBack(abort) => aborted(cx, ledger, abort),
    }
}

/// Writes the incident record, files it as evidence, marks the release aborted.
fn aborted(cx: &Promotion<'_>, mut ledger: Ledger, abort: Abort) -> Result<Finish> {
    let b = &cx.release.state.binding;
    let (previous, suspects) = crate::git::commits_since_previous_release(cx.repo, &b.commit, &b.version, 200)?;
    let records: Vec<String> = ledger.records().iter().rev().take_while(|r| r.link.record_type.starts_with("promotion-")).map(|r| format!("#{} {}", r.link.sequence, r.link.record_type)).collect::<Vec<_>>().into_iter().rev().collect();
    let incident = Incident { release: b, service: &cx.plan.service, at: workspace::now()?, abort: &abort, previous: previous.as_deref(), suspects: &suspects, records: &records };
    let path = incident::write(cx.repo, &incident)?;
    let name = path.strip_prefix(cx.repo).map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| path.display().to_string());
    let (sha256, size) = cx.release.store().put_bytes(&std::fs::read(&path)?).with_context(|| format!("cannot store {}", path.display()))?;
    let predicate = json!({"event": "incident", "incident": name, "step": abort.step + 1, "weight": abort.weight, "reason": abort.reason, "recovered": abort.recovered, "suspects": suspects, "previousRelease": previous, "status": "ABORTED"});
    cx.append(&mut ledger, "incident", PROMOTION_PREDICATE, predicate, vec![EvidenceRef { name: name.clone(), sha256, size }], cx.key)?;
    let state = PromotionState { state: "aborted".into(), step: abort.step + 1, weight: abort.weight, reason: abort.reason.clone(), incident: Some(name) };
    state.save(cx.release)?;
    Ok(Finish::Aborted(state))
}

/// The incident path of a state, for messages.
pub fn incident_path(repo: &Path, state: &PromotionState) -> Option<PathBuf> {
    state.incident.as_ref().map(|i| repo.join(i))
}
