//! Running phases: the conductor publishes agent tasks on the bus, a worker
//! pool runs them concurrently (bounded, each with its timeout), and the
//! Evidence Notary, the ledger's single writer, records every outcome and
//! every gate decision as signed evidence.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agents::{AgentTask, Roster, Verdict};
use anyhow::{Context, Result};
use evidence::digest::Sha256;
use evidence::keys::SecretKey;
use evidence::ledger::Ledger;
use evidence::record::{EvidenceRef, RecordDraft};
use serde_json::{Value, json};

use crate::bus::{Bus, Envelope, Message, OutcomeMessage, Subscription};
use crate::config::Config;
use crate::gates::{Decision, PolicySet};
use crate::history::{self, AGENT_OUTCOME, GATE_DECISION, PHASE_RUN};
use crate::phases::{Phase, PhasePlan};
use crate::workspace::{self, Release};

/// Agents running at once.
const PARALLELISM: usize = 8;

/// Everything a run needs.
pub struct RunContext {
    /// The release being run.
    pub release: Release,
    /// The phases.
    pub plan: PhasePlan,
    /// The roster.
    pub roster: Roster,
    /// The repository's wiring.
    pub config: Config,
    /// The gate policies.
    pub policies: PolicySet,
    /// The notary's key.
    pub key: SecretKey,
    /// The repository.
    pub repo: PathBuf,
}

/// How one phase went.
pub struct PhaseReport {
    /// The phase id.
    pub phase: String,
    /// Why it did not run, when it was refused.
    pub refused: Option<String>,
    /// Agent outcomes: (agent, verdict, reason).
    pub agents: Vec<(String, Verdict, String)>,
    /// Gate decisions.
    pub gates: Vec<(String, Decision)>,
}

impl PhaseReport {
    /// Whether the phase ran and every gate passed.
    pub fn passed(&self) -> bool {
        self.refused.is_none() && self.gates.iter().all(|(_, d)| d.passed)
    }
}

/// Hears about a run as it goes, for progress displays.
pub trait RunObserver {
    /// A phase's agents were handed out; `agents` of them will report.
    fn phase_started(&mut self, phase: &Phase, agents: usize);
    /// An agent's outcome was recorded.
    fn agent_done(&mut self, agent: &str, verdict: Verdict);
    /// The phase was refused or its gates decided.
    fn phase_done(&mut self, report: &PhaseReport);
}

/// Runs `phases` in order over `bus`, refusing any whose prerequisites have not passed.
pub async fn run_phases(ctx: &RunContext, bus: Arc<dyn Bus>, phases: &[&Phase], observer: &mut dyn RunObserver) -> Result<Vec<PhaseReport>> {
    let mut notary = Notary { ledger: Ledger::open(&ctx.release.ledger_path())?, ctx };
    let mut inbox = bus.subscribe();
    let worker = bus.runs_agents_here().then(|| tokio::spawn(worker(Arc::clone(&bus), bus.subscribe(), ctx.repo.clone(), ctx.release.dir.join("scratch"))));
    // The policies do not change during a run, so every phase's gates are
    // decided by one engine, compiled when the first gate is decided (each
    // evaluation sets its own input and starts from clean evaluation state).
    let mut engine = None;
    let mut reports = Vec::new();
    for phase in phases {
        let report = match unmet_prerequisite(notary.ledger.records(), &ctx.plan, phase) {
            Some(reason) => PhaseReport { phase: phase.id.clone(), refused: Some(reason), agents: vec![], gates: vec![] },
            None => run_phase(&mut notary, bus.as_ref(), &mut inbox, &mut engine, phase, observer).await?,
        };
        observer.phase_done(&report);
        reports.push(report);
    }
    if let Some(worker) = worker {
        worker.abort();
    }
    Ok(reports)
}

/// The first required phase whose gates have not all passed, in words.
fn unmet_prerequisite(records: &[evidence::record::Record], plan: &PhasePlan, phase: &Phase) -> Option<String> {
    for required in &phase.requires {
        let Some(req) = plan.phases().iter().find(|p| &p.id == required) else { continue };
        for gate in &req.gates {
            match history::latest_decision(records, &req.id, &gate.id) {
                Some((true, _)) => {}
                Some((false, reasons)) => {
                    return Some(format!("{} requires {}, whose gate {} failed: {}", phase.id, req.id, gate.id, reasons.first().map_or("no reason recorded", String::as_str)));
                }
                None => return Some(format!("{} requires {}, whose gate {} has not been decided; run {} first", phase.id, req.id, gate.id, req.id)),
            }
        }
    }
    None
}

async fn run_phase(
    notary: &mut Notary<'_>,
    bus: &dyn Bus,
    inbox: &mut Subscription,
    engine: &mut Option<regorus::Engine>,
    phase: &Phase,
    observer: &mut dyn RunObserver,
) -> Result<PhaseReport> {
    let ctx = notary.ctx;
    let run = match history::interrupted_run(notary.ledger.records(), &phase.id) {
        Some(run) => run,
        None => notary.phase_started(phase)?,
    };
    let publish = |message| bus.publish(Envelope { correlation_id: run.clone(), message });
    publish(Message::PhaseStarted { phase: phase.id.clone() }).await?;
    let finished: BTreeSet<String> = history::finished_agents(notary.ledger.records(), &phase.id, &run).into_iter().collect();
    let previous = ctx.release.dir.parent().map(|releases| history::previous_outcomes(releases, notary.ledger.records())).unwrap_or_default();
    let mut pending = BTreeMap::new();
    for name in phase.agents().into_iter().filter(|a| !finished.contains(*a)) {
        let kind = ctx.roster.agent(name).map_or_else(String::new, |a| a.kind.clone());
        let reads_evidence = agents::find_kind(&kind).is_some_and(|k| k.reads_release_evidence());
        let task_id = task_id(&run, &phase.id, name);
        let release = agents::ReleaseContext {
            binding: ctx.release.state.binding.clone(),
            key: Some(ctx.release.state.key.clone()),
            previous: previous.get(name).cloned(),
            ledger: Some(ctx.release.ledger_path()),
            evidence: if reads_evidence { history::release_evidence(notary.ledger.records(), &phase.id) } else { Vec::new() },
        };
        let settings = ctx.config.task_settings(&ctx.roster, name, &phase.id);
        // The timeout the task gets wherever it runs, read from its settings as the agent reads it.
        let timeout = agents::AgentTask::new(name, &kind, &phase.id, &ctx.repo, &ctx.repo, settings.clone()).timeout;
        pending.insert(task_id.clone(), Pending { agent: name.to_owned(), timeout });
        publish(Message::AgentTask { task_id, phase: phase.id.clone(), agent: name.to_owned(), kind, settings, release: Box::new(release) }).await?;
    }
    observer.phase_started(phase, pending.len());
    collect_outcomes(notary, inbox, phase, &run, pending, bus.grace(), observer).await?;
    let agents = history::latest_outcomes(notary.ledger.records(), &phase.id)
        .into_iter()
        .filter(|(name, _)| phase.agents().contains(&name.as_str()))
        .map(|(name, o)| (name, serde_json::from_value(o["verdict"].clone()).unwrap_or(Verdict::Error), o["reason"].as_str().unwrap_or("").to_owned()))
        .collect();
    let mut gates = Vec::new();
    let engine = match engine {
        Some(engine) => engine,
        None => engine.insert(ctx.policies.engine()?),
    };
    for gate in &phase.gates {
        let input = gate_input(ctx, notary.ledger.records(), phase, gate);
        let decision = ctx.policies.decide(engine, &gate.policy, &input)?;
        notary.gate_decided(phase, gate, &run, &decision, &input)?;
        publish(Message::GateDecided { phase: phase.id.clone(), gate: gate.id.clone(), passed: decision.passed, reasons: decision.reasons.clone() }).await?;
        gates.push((gate.id.clone(), decision));
    }
    Ok(PhaseReport { phase: phase.id.clone(), refused: None, agents, gates })
}

/// A task handed out whose outcome has not been recorded.
struct Pending {
    agent: String,
    timeout: Duration,
}

/// Records each pending task's first outcome. When no outcome arrives for
/// the longest pending timeout plus `grace`, every task still pending fails
/// with a reason, so a run never waits on a dead worker for ever.
async fn collect_outcomes(
    notary: &mut Notary<'_>,
    inbox: &mut Subscription,
    phase: &Phase,
    run: &str,
    mut pending: BTreeMap<String, Pending>,
    grace: Duration,
    observer: &mut dyn RunObserver,
) -> Result<()> {
    let patience = |pending: &BTreeMap<String, Pending>| pending.values().map(|p| p.timeout).max().unwrap_or_default() + grace;
    let mut deadline = tokio::time::Instant::now() + patience(&pending);
    while !pending.is_empty() {
        let envelope = match tokio::time::timeout_at(deadline, inbox.next()).await {
            Ok(Some(envelope)) => envelope,
            Ok(None) => anyhow::bail!("the bus closed while agents of {} were running", phase.id),
            Err(_) => {
                let waited = patience(&pending).as_secs();
                for (task_id, p) in std::mem::take(&mut pending) {
                    let reason = format!(
                        "no result within {waited} s (its timeout of {} s plus {} s for redelivery): no worker took the task, or every worker that did died; start `conductor worker --agents \"{}\"` where it can run",
                        p.timeout.as_secs(), grace.as_secs(), p.agent);
                    notary.agent_outcome(phase, &p.agent, run, &task_id, OutcomeMessage { verdict: Verdict::Error, reason, facts: Value::Null, files: vec![], worker: None })?;
                    observer.agent_done(&p.agent, Verdict::Error);
                }
                break;
            }
        };
        let (task_id, outcome) = match envelope.message {
            Message::EvidenceProduced { task_id, outcome } => (task_id, outcome),
            Message::AgentFailed { task_id, reason } => (task_id, OutcomeMessage { verdict: Verdict::Error, reason, facts: Value::Null, files: vec![], worker: None }),
            _ => continue,
        };
        // A redelivered or foreign result finds no pending task and is dropped.
        if let Some(p) = pending.remove(&task_id) {
            let verdict = outcome.verdict;
            notary.agent_outcome(phase, &p.agent, run, &task_id, outcome)?;
            observer.agent_done(&p.agent, verdict);
            deadline = tokio::time::Instant::now() + patience(&pending);
        }
    }
    Ok(())
}

/// The same run, phase and agent always give the same id, so a redelivered
/// result is recognised.
fn task_id(run: &str, phase: &str, agent: &str) -> String {
    Sha256::of(format!("{run}\n{phase}\n{agent}").as_bytes()).to_hex()[..24].to_owned()
}

/// What a gate policy sees: the release, the gate, the latest outcome of
/// each of its agents, and the latest decision of every gate of every phase
/// this one requires, directly or not.
fn gate_input(ctx: &RunContext, records: &[evidence::record::Record], phase: &Phase, gate: &crate::phases::Gate) -> Value {
    let latest = history::latest_outcomes(records, &phase.id);
    let evidence: Vec<&Value> = gate.agents.iter().filter_map(|a| latest.get(a)).collect();
    let mut prior = Vec::new();
    for earlier in required_closure(&ctx.plan, phase) {
        for g in &earlier.gates {
            let (passed, reasons) = history::latest_decision(records, &earlier.id, &g.id).unwrap_or((false, vec![]));
            prior.push(json!({ "phase": earlier.id, "gate": g.id, "passed": passed, "reasons": reasons }));
        }
    }
    let b = &ctx.release.state.binding;
    json!({
        "release": { "version": b.version, "commit": b.commit, "environment": b.environment },
        "phase": phase.id,
        "gate": { "id": gate.id, "agents": gate.agents, "needs": gate.needs },
        "settings": ctx.config.gate_settings(&gate.id),
        "evidence": evidence,
        "prior_gates": prior,
    })
}

/// Every phase `phase` requires, directly or through others, in plan order.
fn required_closure<'a>(plan: &'a PhasePlan, phase: &Phase) -> Vec<&'a Phase> {
    let mut wanted: BTreeSet<&str> = phase.requires.iter().map(String::as_str).collect();
    for p in plan.phases().iter().rev() {
        if wanted.contains(p.id.as_str()) {
            wanted.extend(p.requires.iter().map(String::as_str));
        }
    }
    plan.phases().iter().filter(|p| wanted.contains(p.id.as_str())).collect()
}

/// The worker pool: runs each agent task it sees, at most `PARALLELISM` at once.
async fn worker(bus: Arc<dyn Bus>, mut tasks: Subscription, repo: PathBuf, scratch: PathBuf) {
    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLELISM));
    while let Some(envelope) = tasks.next().await {
        let Message::AgentTask { task_id, phase, agent, kind, settings, release } = envelope.message else { continue };
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else { return };
        let (bus, repo, scratch) = (Arc::clone(&bus), repo.clone(), scratch.join(&task_id));
        let correlation_id = envelope.correlation_id;
        tokio::spawn(async move {
            let task = AgentTask::new(&agent, &kind, &phase, &repo, &scratch, settings).with_release(*release);
            let outcome = agents::run_task(task).await;
            let message = Message::EvidenceProduced { task_id, outcome: outcome.into() };
            let _ = bus.publish(Envelope { correlation_id, message }).await;
            drop(permit);
        });
    }
}

/// The Evidence Notary: the only code that appends to the ledger.
struct Notary<'a> {
    ledger: Ledger,
    ctx: &'a RunContext,
}

impl Notary<'_> {
    fn append(&mut self, draft: RecordDraft) -> Result<()> {
        self.ledger.append(draft, &self.ctx.release.state.binding, workspace::now()?, &self.ctx.key)?;
        Ok(())
    }

    fn phase_started(&mut self, phase: &Phase) -> Result<String> {
        let run = hex(&workspace::random::<12>()?);
        self.append(RecordDraft {
            phase: phase.id.clone(),
            record_type: "phase-started".into(),
            predicate_type: PHASE_RUN.into(),
            predicate: json!({ "runId": run, "name": phase.name, "agents": phase.agents() }),
            subjects: vec![],
            evidence: vec![],
        })?;
        Ok(run)
    }

    fn agent_outcome(&mut self, phase: &Phase, agent: &str, run: &str, task_id: &str, mut outcome: OutcomeMessage) -> Result<()> {
        let store = self.ctx.release.store();
        let mut evidence = Vec::new();
        for (name, path) in &outcome.files {
            let stored = std::fs::File::open(path).and_then(|f| store.put(std::io::BufReader::new(f)));
            match stored {
                Ok((sha256, size)) => evidence.push(EvidenceRef { name: name.clone(), sha256, size }),
                Err(e) => {
                    outcome.verdict = Verdict::Error;
                    outcome.reason = format!("{name} could not be stored: {e}");
                }
            }
        }
        let roster = self.ctx.roster.agent(agent);
        let mut predicate = json!({
            "agent": agent, "kind": roster.map(|a| a.kind.clone()), "verdict": outcome.verdict,
            "reason": outcome.reason, "facts": outcome.facts, "runId": run, "taskId": task_id,
        });
        // The worker's signature stays only while the record says exactly
        // what it signed; an outcome changed here (a file that could not be
        // stored) is the notary's word alone.
        let all_stored = evidence.len() == outcome.files.len();
        if let Some(worker) = outcome.worker.filter(|_| all_stored) {
            predicate["worker"] = json!({ "name": worker.name, "keyId": worker.key_id, "attestation": worker.attestation });
        }
        self.append(RecordDraft {
            phase: phase.id.clone(),
            record_type: roster.map_or_else(|| "agent-outcome".into(), |a| a.record_type.clone()),
            predicate_type: AGENT_OUTCOME.into(),
            predicate,
            subjects: vec![],
            evidence,
        })
    }

    fn gate_decided(&mut self, phase: &Phase, gate: &crate::phases::Gate, run: &str, decision: &Decision, input: &Value) -> Result<()> {
        let store = self.ctx.release.store();
        let input_bytes = serde_json::to_vec(input)?;
        let (sha256, size) = store.put_bytes(&input_bytes).context("cannot store the gate input")?;
        let bundle = self.ctx.policies.bundle();
        let (bundle_sha256, bundle_size) = store.put_bytes(&bundle).context("cannot store the policy bundle")?;
        self.append(RecordDraft {
            phase: phase.id.clone(),
            record_type: "gate-decision".into(),
            predicate_type: GATE_DECISION.into(),
            predicate: json!({
                "gate": gate.id, "policy": gate.policy, "passed": decision.passed, "reasons": decision.reasons,
                "policySha256": decision.policy_sha256, "inputSha256": decision.input_sha256, "runId": run,
            }),
            subjects: vec![],
            evidence: vec![
                EvidenceRef { name: format!("{}-input.json", gate.id), sha256, size },
                EvidenceRef { name: "policies.json".into(), sha256: bundle_sha256, size: bundle_size },
            ],
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
