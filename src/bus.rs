//! The message bus between the conductor, the agents and the Evidence Notary.
//!
//! Messages are typed and serialisable, carry the run's correlation id, and
//! name agent work by an idempotent task id, so a transport that delivers at
//! least once (NATS JetStream, [`crate::nats::bus::NatsBus`]) sits behind the
//! same [`Bus`] trait as the in-process one here.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// What travels on the bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Message {
    /// A phase began.
    PhaseStarted {
        /// The phase id.
        phase: String,
    },
    /// Work for an agent.
    AgentTask {
        /// Idempotent id: the same run, phase and agent always give the same id.
        task_id: String,
        /// The phase.
        phase: String,
        /// The roster name.
        agent: String,
        /// The kind that runs it.
        kind: String,
        /// Its settings from conductor.toml.
        settings: toml::Table,
        /// The release it checks.
        release: Box<agents::ReleaseContext>,
    },
    /// An agent finished with an outcome (any verdict).
    EvidenceProduced {
        /// The task it answers.
        task_id: String,
        /// The outcome.
        outcome: OutcomeMessage,
    },
    /// An agent could not report an outcome at all.
    AgentFailed {
        /// The task.
        task_id: String,
        /// Why.
        reason: String,
    },
    /// A gate was decided.
    GateDecided {
        /// The phase.
        phase: String,
        /// The gate.
        gate: String,
        /// Whether it passed.
        passed: bool,
        /// The deny reasons.
        reasons: Vec<String>,
    },
}

/// An agent outcome in transportable form: files travel as paths the
/// notary can read (shared disk here, uploaded objects on other transports).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeMessage {
    /// The verdict.
    pub verdict: agents::Verdict,
    /// Why.
    pub reason: String,
    /// Facts for the gate.
    pub facts: serde_json::Value,
    /// (name, path) of each evidence file.
    pub files: Vec<(String, std::path::PathBuf)>,
    /// The signature of the worker on another host that produced it; none
    /// for agents run in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerSignature>,
}

/// A worker's signed statement of an outcome, checked against the trust
/// root when it arrived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerSignature {
    /// The worker key's id.
    pub key_id: String,
    /// The trust root's name for the key.
    pub name: String,
    /// The DSSE envelope of its worker-outcome statement.
    pub attestation: evidence::dsse::Envelope,
}

impl From<agents::AgentOutcome> for OutcomeMessage {
    fn from(o: agents::AgentOutcome) -> Self {
        Self { verdict: o.verdict, reason: o.reason, facts: o.facts, files: o.files.into_iter().map(|f| (f.name, f.path)).collect(), worker: None }
    }
}

/// A message with the id of the run it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The run's correlation id.
    pub correlation_id: String,
    /// The message.
    pub message: Message,
}

/// Why the bus could not carry a message.
#[derive(Debug, thiserror::Error)]
#[error("the bus is closed: {0}")]
pub struct BusError(pub String);

/// A transport for [`Envelope`]s: every subscriber sees every message
/// published after it subscribed.
#[async_trait::async_trait]
pub trait Bus: Send + Sync {
    /// Sends to every subscriber.
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError>;
    /// A new subscription.
    fn subscribe(&self) -> Subscription;
    /// Whether agent tasks run in this process, so the run starts its own
    /// worker pool; a bus to workers on other hosts says no.
    fn runs_agents_here(&self) -> bool {
        true
    }
    /// How long past a task's timeout the run waits for its result before
    /// failing it: the in-process pool enforces timeouts itself, remote
    /// workers may die and have their task redelivered.
    fn grace(&self) -> Duration {
        Duration::from_secs(30)
    }
}

/// A stream of envelopes.
pub struct Subscription {
    pub(crate) receiver: mpsc::UnboundedReceiver<Envelope>,
}

impl Subscription {
    /// The next envelope, or `None` when the bus is gone.
    pub async fn next(&mut self) -> Option<Envelope> {
        self.receiver.recv().await
    }
}

/// The in-process bus: unbounded, lossless, in order per subscriber.
#[derive(Default)]
pub struct LocalBus {
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Envelope>>>,
}

#[async_trait::async_trait]
impl Bus for LocalBus {
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError> {
        let mut subscribers = self.subscribers.lock().map_err(|e| BusError(e.to_string()))?;
        // Subscribers that went away are dropped; the rest each get a copy.
        subscribers.retain(|s| s.send(envelope.clone()).is_ok());
        Ok(())
    }

    fn subscribe(&self) -> Subscription {
        let (sender, receiver) = mpsc::unbounded_channel();
        if let Ok(mut subscribers) = self.subscribers.lock() {
            subscribers.push(sender);
        }
        Subscription { receiver }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_sees_every_message_in_order() {
        let bus = LocalBus::default();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        for phase in ["P0", "P1"] {
            let env = Envelope { correlation_id: "run".into(), message: Message::PhaseStarted { phase: phase.into() } };
            bus.publish(env).await.unwrap();
        }
        for sub in [&mut a, &mut b] {
            let first = sub.next().await.unwrap();
            assert_eq!(first.message, Message::PhaseStarted { phase: "P0".into() });
            assert_eq!(sub.next().await.unwrap().message, Message::PhaseStarted { phase: "P1".into() });
        }
    }

    #[test]
    fn messages_round_trip_through_json() {
        let env = Envelope {
            correlation_id: "c".into(),
            message: Message::GateDecided { phase: "P0".into(), gate: "g".into(), passed: false, reasons: vec!["r".into()] },
        };
        let text = serde_json::to_string(&env).unwrap();
        assert!(text.contains("\"type\":\"gate-decided\""));
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), env);
    }
}
