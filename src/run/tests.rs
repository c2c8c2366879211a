use std::sync::Arc;

use super::*;
use crate::bus::{BusError, LocalBus};

/// A bus that delivers every agent result twice, as an at-least-once
/// transport may after a redelivery.
#[derive(Default)]
struct Redelivering(LocalBus);

#[async_trait::async_trait]
impl Bus for Redelivering {
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError> {
        if matches!(envelope.message, Message::EvidenceProduced { .. }) {
            self.0.publish(envelope.clone()).await?;
        }
        self.0.publish(envelope).await
    }

    fn subscribe(&self) -> Subscription {
        self.0.subscribe()
    }
}

struct Quiet;

impl RunObserver for Quiet {
    fn phase_started(&mut self, _: &Phase, _: usize) {}
    fn agent_done(&mut self, _: &str, _: Verdict) {}
    fn phase_done(&mut self, _: &PhaseReport) {}
}

/// A release in a temporary folder whose P3 runs two command agents.
fn context(dir: &std::path::Path) -> RunContext {
    let key = SecretKey::ed25519_from_seed(&[8; 32]).unwrap();
    let binding = evidence::record::ReleaseBinding {
        version: "v1.0.0".into(),
        commit: "a".repeat(40),
        environment: "prod".into(),
        id: "0".repeat(32),
    };
    let release_dir = dir.join(".conductor/releases/v1.0.0");
    std::fs::create_dir_all(&release_dir).unwrap();
    let state = workspace::ReleaseState { binding, key: dir.join("unused.key"), key_id: key.id().to_string() };
    std::fs::create_dir_all(dir.join("phases")).unwrap();
    let phase = "id = \"P3\"\nname = \"Security\"\n[[gate]]\nid = \"identity\"\npolicy = \"identity\"\nagents = [\"Identity/SSO\", \"Blue Team Sentinel\"]\nneeds = [\"identity-check\", \"detection-test\"]\n";
    std::fs::write(dir.join("phases/P3.toml"), phase).unwrap();
    let roster = Roster::builtin().unwrap();
    let mut config = Config::default();
    for agent in ["Identity/SSO", "Blue Team Sentinel"] {
        let mut settings = toml::Table::new();
        settings.insert("command".into(), "true".into());
        config.agents.insert(agent.into(), settings);
    }
    RunContext {
        release: Release { dir: release_dir, state },
        plan: PhasePlan::load(dir, &roster).unwrap(),
        roster,
        config,
        policies: PolicySet::load(dir).unwrap(),
        key,
        repo: dir.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_result_is_recorded_once() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let phase = ctx.plan.phases().iter().find(|p| p.id == "P3").unwrap().clone();
    let reports = run_phases(&ctx, Arc::new(Redelivering::default()), &[&phase], &mut Quiet).await.unwrap();
    assert!(reports[0].passed(), "{:?}", reports[0].gates);
    let records = evidence::ledger::read_records(&ctx.release.ledger_path()).unwrap();
    let outcomes = records.iter().filter(|r| r.statement.predicate_type == AGENT_OUTCOME).count();
    assert_eq!(outcomes, 2, "each agent's result is recorded exactly once");
}
