//! `conductor worker`: runs the agents it serves for any release that asks,
//! from their JetStream consumers, signing each outcome with the worker's key.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agents::{AgentTask, Verdict};
use async_nats::jetstream;
use evidence::keys::SecretKey;
use tokio::sync::{Semaphore, mpsc};

use super::wire::{self, TaskFacts};
use super::{Connection, NatsError, REPLY_HEADER, TASKS_STREAM, agent_token, task_subject};
use crate::bus::{Envelope, Message};

/// How long one pull waits for a task; short, so that the agents of a
/// worker with fewer slots than agents take turns.
const PULL_WAIT: Duration = Duration::from_secs(1);

/// How long a finished task's result keeps being offered while the server is away.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(60);

/// What a worker serves, and how.
pub struct WorkerConfig {
    /// Its name in results, for people.
    pub name: String,
    /// The roster names of the agents it runs.
    pub agents: Vec<String>,
    /// The folder agents run in (relative paths in settings start here).
    pub repo: PathBuf,
    /// Where each task gets a scratch folder of its own.
    pub scratch: PathBuf,
    /// The key it signs outcomes with.
    pub key: SecretKey,
    /// How long a delivery may go without an acknowledgement before the
    /// server gives the task to another worker (set when a consumer is created).
    pub ack_wait: Duration,
    /// Tasks run at once.
    pub parallelism: usize,
}

/// What a worker tells its operator.
#[derive(Debug)]
pub enum WorkerEvent {
    /// It takes the tasks of `agent` from `consumer`.
    Serving {
        /// The roster name.
        agent: String,
        /// The durable consumer.
        consumer: String,
    },
    /// A task began.
    Started {
        /// The roster name.
        agent: String,
        /// The task.
        task_id: String,
        /// Which delivery of the task this is (1 the first).
        delivery: i64,
    },
    /// A task's signed result is stored on the server.
    Finished {
        /// The roster name.
        agent: String,
        /// The task.
        task_id: String,
        /// Its verdict.
        verdict: Verdict,
    },
    /// Something went wrong that the worker rides out.
    Trouble(String),
}

/// Serves `config.agents` until the process ends: one durable consumer per
/// agent, shared with every other worker serving it.
pub async fn serve(connection: Connection, config: WorkerConfig, events: mpsc::UnboundedSender<WorkerEvent>) -> Result<(), NatsError> {
    let config = Arc::new(config);
    let limit = Arc::new(Semaphore::new(config.parallelism.max(1)));
    let mut loops = tokio::task::JoinSet::new();
    for agent in &config.agents {
        let consumer = format!("agent-{}", agent_token(agent));
        connection.consumer(TASKS_STREAM, &consumer, task_subject(agent), config.ack_wait, None).await?;
        let _ = events.send(WorkerEvent::Serving { agent: agent.clone(), consumer: consumer.clone() });
        loops.spawn(pull(connection.clone(), consumer, Arc::clone(&config), Arc::clone(&limit), events.clone()));
    }
    while loops.join_next().await.is_some() {}
    Ok(())
}

/// Takes one task at a time from `consumer` whenever a slot is free. The
/// loop only waits for a free slot before pulling and takes the slot once it
/// has a task, so idle agents never hold slots; a task that loses the race
/// for the last slot waits for it, kept in progress meanwhile.
async fn pull(connection: Connection, consumer: String, config: Arc<WorkerConfig>, limit: Arc<Semaphore>, events: mpsc::UnboundedSender<WorkerEvent>) {
    loop {
        let Ok(free) = limit.acquire().await else { return };
        drop(free);
        match connection.next(TASKS_STREAM, &consumer, PULL_WAIT).await {
            Ok(Some(message)) => {
                let (connection, config, events, limit) = (connection.clone(), Arc::clone(&config), events.clone(), Arc::clone(&limit));
                tokio::spawn(async move { handle(&connection, message, &config, &events, &limit).await });
            }
            Ok(None) => {}
            Err(e) => {
                let _ = events.send(WorkerEvent::Trouble(e.to_string()));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs one delivered task, keeps it while it runs, stores the signed
/// result, then acks. A worker that dies before the ack has its task redelivered.
async fn handle(connection: &Connection, message: jetstream::Message, config: &WorkerConfig, events: &mpsc::UnboundedSender<WorkerEvent>, limit: &Semaphore) {
    let Some(ack) = message.message.reply.as_ref().map(|r| r.as_str().to_owned()) else { return };
    let delivery = message.info().map_or(1, |i| i.delivered);
    let reply = message.message.headers.as_ref().and_then(|h| h.get(REPLY_HEADER)).map(|v| v.as_str().to_owned());
    let envelope = serde_json::from_slice::<Envelope>(&message.message.payload).ok();
    let (Some(reply), Some(Envelope { correlation_id, message: Message::AgentTask { task_id, phase, agent, kind, settings, release } })) = (reply, envelope) else {
        let _ = events.send(WorkerEvent::Trouble(format!("a message on {} is not an agent task with a {REPLY_HEADER} header; it was dropped", message.message.subject)));
        let _ = connection.acknowledge(&ack, b"+TERM").await;
        return;
    };
    let keep = tokio::spawn(keep_in_progress(connection.clone(), ack.clone(), config.ack_wait / 3));
    // The semaphore is never closed, so the slot is always had in the end.
    let _slot = limit.acquire().await.ok();
    let _ = events.send(WorkerEvent::Started { agent: agent.clone(), task_id: task_id.clone(), delivery });
    let scratch = config.scratch.join(&task_id);
    let facts = TaskFacts { correlation_id, task_id: task_id.clone(), phase: phase.clone(), agent: agent.clone(), kind: kind.clone(), release: release.binding.clone() };
    let task = AgentTask::new(&agent, &kind, &phase, &config.repo, &scratch, settings).with_release(*release);
    let outcome = agents::run_task(task).await;
    let verdict = outcome.verdict;
    let stored = store_result(connection, &facts, outcome, config, &reply).await;
    keep.abort();
    let _ = std::fs::remove_dir_all(&scratch);
    match stored {
        Ok(()) => {
            if let Err(e) = connection.acknowledge(&ack, b"+ACK").await {
                let _ = events.send(WorkerEvent::Trouble(format!("{agent}: the result is stored but the ack was lost ({e}); the task will be delivered again and its second result dropped")));
            }
            let _ = events.send(WorkerEvent::Finished { agent, task_id, verdict });
        }
        // Not acked: the server delivers the task again after the ack wait.
        Err(why) => {
            let _ = events.send(WorkerEvent::Trouble(format!("{agent}: {why}; the task will be delivered again")));
        }
    }
}

/// Signs the outcome and stores it on the conductor's results subject.
async fn store_result(connection: &Connection, facts: &TaskFacts, outcome: agents::AgentOutcome, config: &WorkerConfig, reply: &str) -> Result<(), String> {
    let mut result = wire::seal(facts, outcome, &config.key, &config.name).map_err(|e| format!("the outcome could not be signed: {e}"))?;
    let mut payload = serde_json::to_vec(&result).map_err(|e| e.to_string())?;
    let max = connection.max_payload();
    if payload.len() > max {
        let reason = format!("the result is {} bytes, over the server's max_payload of {max}; run this agent in-process or raise max_payload", payload.len());
        result = wire::seal(facts, agents::AgentOutcome::error(reason), &config.key, &config.name).map_err(|e| format!("the outcome could not be signed: {e}"))?;
        payload = serde_json::to_vec(&result).map_err(|e| e.to_string())?;
    }
    connection.publish(reply.to_owned(), async_nats::HeaderMap::new(), payload, PUBLISH_PATIENCE).await.map_err(|e| format!("the result could not be stored: {e}"))
}

/// Tells the server, every `every`, that the task is still being worked on.
async fn keep_in_progress(connection: Connection, ack: String, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.tick().await;
    loop {
        tick.tick().await;
        // A lost progress message only risks an early redelivery, whose result is dropped.
        let _ = connection.acknowledge(&ack, b"+WPI").await;
    }
}
