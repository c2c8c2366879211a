//! The conductor's side of the NATS bus: agent tasks go to JetStream, the
//! workers' results come back on this process's own results subject, are
//! checked against the trust root and handed to the run loop like the
//! in-process bus's messages.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use evidence::trust::TrustRoot;

use super::wire::{self, TaskResult};
use super::{Connection, NatsError, REPLY_HEADER, RESULTS_STREAM, event_subject, result_subject, task_subject};
use crate::bus::{Bus, BusError, Envelope, LocalBus, Message, Subscription};

/// How long a publish keeps retrying while the server is away.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(60);

/// A results consumer nobody reads is removed by the server after this long,
/// so a conductor that died leaves nothing behind for good.
const RESULTS_INACTIVE: Duration = Duration::from_secs(3600);

/// The bus to workers on other hosts.
pub struct NatsBus {
    connection: Connection,
    id: String,
    local: Arc<LocalBus>,
    grace: Duration,
    forwarder: tokio::task::JoinHandle<()>,
}

impl NatsBus {
    /// A bus for the conductor process `id` (unique per process, a subject
    /// token): its results consumer is created before any task is sent, so
    /// no result is missed. Workers' attestations are checked against
    /// `trust`; their files are written under `spool` for the notary.
    pub async fn start(connection: Connection, id: String, trust: TrustRoot, spool: PathBuf, grace: Duration) -> Result<Self, NatsError> {
        let consumer = format!("results-{id}");
        connection.consumer(RESULTS_STREAM, &consumer, result_subject(&id), Duration::from_secs(30), Some(RESULTS_INACTIVE)).await?;
        let local = Arc::new(LocalBus::default());
        let forwarder = tokio::spawn(forward(connection.clone(), consumer, Arc::clone(&local), trust, spool));
        Ok(Self { connection, id, local, grace, forwarder })
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

#[async_trait::async_trait]
impl Bus for NatsBus {
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError> {
        let payload = serde_json::to_vec(&envelope).map_err(|e| BusError(e.to_string()))?;
        match &envelope.message {
            Message::AgentTask { task_id, agent, .. } => {
                let mut headers = async_nats::HeaderMap::new();
                // The server drops a task published twice (a retry after a lost acknowledgement).
                headers.insert("Nats-Msg-Id", task_id.as_str());
                headers.insert(REPLY_HEADER, result_subject(&self.id).as_str());
                self.connection.publish(task_subject(agent), headers, payload, PUBLISH_PATIENCE).await.map_err(|e| BusError(e.to_string()))
            }
            _ => {
                self.connection.announce(event_subject(&self.id), payload).await;
                Ok(())
            }
        }
    }

    fn subscribe(&self) -> Subscription {
        self.local.subscribe()
    }

    fn runs_agents_here(&self) -> bool {
        false
    }

    fn grace(&self) -> Duration {
        self.grace
    }
}

/// Reads this process's results, for as long as the bus lives, through
/// server restarts and lost connections.
async fn forward(connection: Connection, consumer: String, local: Arc<LocalBus>, trust: TrustRoot, spool: PathBuf) {
    loop {
        let message = match connection.next(RESULTS_STREAM, &consumer, Duration::from_secs(1)).await {
            Ok(Some(message)) => message,
            Ok(None) => continue,
            Err(_) => {
                // The server is away; the client reconnects by itself.
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
        };
        // A payload that is no result names no task it could answer; that
        // task fails after its timeout instead.
        if let Ok(result) = serde_json::from_slice::<TaskResult>(&message.message.payload) {
            let correlation_id = result.correlation_id.clone();
            let message = match crate::workspace::now() {
                Ok(at) => wire::open(result, &trust, at, &spool),
                Err(e) => Message::AgentFailed { task_id: result.task_id, reason: format!("the clock could not be read to check the result: {e}") },
            };
            let _ = local.publish(Envelope { correlation_id, message }).await;
        }
        // Acked once handed over; should the ack be lost, the redelivered
        // copy finds its task no longer pending and is dropped.
        let _ = message.ack().await;
    }
}
