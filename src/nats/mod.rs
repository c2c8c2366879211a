//! The message bus over NATS JetStream, for agents on other hosts.
//!
//! Subjects and streams (all names are fixed; several conductors and
//! releases share them without crossing, because results go to a subject of
//! the conductor process that asked):
//!
//! | What | Subject | Stream | Retention |
//! |---|---|---|---|
//! | agent tasks | `conductor.tasks.<agent>` | `CONDUCTOR_TASKS` | work queue, file storage, 2 min duplicate window |
//! | results | `conductor.results.<conductor id>` | `CONDUCTOR_RESULTS` | limits, file storage, 24 h |
//! | phase events | `conductor.events.<conductor id>` | none (core NATS) | |
//!
//! `<agent>` is the roster name as a subject token ([`agent_token`]); every
//! agent has one durable pull consumer, `agent-<agent>`, which the workers
//! serving it share, so each task runs on one worker at a time. A task
//! carries its id as `Nats-Msg-Id` (a republished task is dropped by the
//! server) and the subject to answer on as `Conductor-Reply`. A worker acks a
//! task only after its result is stored, and marks it in progress every third
//! of the ack wait while it runs, so a worker that dies or loses its
//! connection has its task redelivered to another once the ack wait passes.

pub mod bus;
mod credentials;
mod wire;
pub mod worker;

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

pub use credentials::Credentials;

/// The stream holding agent tasks until a worker acks them.
pub const TASKS_STREAM: &str = "CONDUCTOR_TASKS";
/// The stream holding workers' results until the conductor that asked reads them.
pub const RESULTS_STREAM: &str = "CONDUCTOR_RESULTS";
/// The header naming the subject a task's result goes to.
pub const REPLY_HEADER: &str = "Conductor-Reply";
/// How many times a task is delivered before JetStream gives up on it; the
/// conductor fails it after its timeout in any case.
pub const MAX_DELIVER: i64 = 5;

/// The subject of an agent's tasks.
pub fn task_subject(agent: &str) -> String {
    format!("conductor.tasks.{}", agent_token(agent))
}

/// The subject a conductor process reads its results from.
pub fn result_subject(conductor: &str) -> String {
    format!("conductor.results.{conductor}")
}

/// The subject a conductor process announces phase events on.
pub fn event_subject(conductor: &str) -> String {
    format!("conductor.events.{conductor}")
}

/// A roster name as one subject token and consumer name: lowercase ASCII
/// letters and digits, every other run of characters one `-`
/// (`QE Generalist` → `qe-generalist`).
pub fn agent_token(name: &str) -> String {
    let mut token = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            token.push(c.to_ascii_lowercase());
        } else if !token.ends_with('-') {
            token.push('-');
        }
    }
    token.trim_matches('-').to_owned()
}

/// Why the NATS bus could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The `--bus` value is not a usable NATS URL.
    #[error("--bus {url}: {problem}")]
    Url {
        /// The value given.
        url: String,
        /// What is wrong and what to write.
        problem: String,
    },
    /// The credentials in the environment are incomplete or unreadable.
    #[error("{variable}: {problem}")]
    Credentials {
        /// The environment variable.
        variable: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to NATS at {url}: {detail}; is nats-server running (with -js) and are the credentials right?")]
    Connect {
        /// The server.
        url: String,
        /// The client's explanation.
        detail: String,
    },
    /// A JetStream operation failed.
    #[error("JetStream {operation} failed: {detail}; is JetStream enabled on the server (nats-server -js)?")]
    JetStream {
        /// What was being done.
        operation: String,
        /// The client's explanation.
        detail: String,
    },
}

/// A checked `nats://HOST:PORT` address (the credentials never travel in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsUrl(String);

impl NatsUrl {
    /// Parses `text`: `nats://HOST:PORT` (or `tls://`), several separated by
    /// commas, without user information.
    pub fn parse(text: &str) -> Result<Self, NatsError> {
        let err = |problem: &str| NatsError::Url { url: redacted(text), problem: problem.to_owned() };
        for server in text.split(',') {
            let Some(rest) = server.strip_prefix("nats://").or_else(|| server.strip_prefix("tls://")) else {
                return Err(err("write nats://HOST:PORT (or tls://HOST:PORT); leave --bus out for the in-process bus"));
            };
            if rest.contains('@') {
                return Err(err("credentials do not belong in the URL, where they would be shown; set CONDUCTOR_NATS_USER and CONDUCTOR_NATS_PASSWORD, or CONDUCTOR_NATS_TOKEN"));
            }
            if rest.is_empty() || rest.contains('/') {
                return Err(err("write nats://HOST:PORT with nothing after the port"));
            }
        }
        Ok(Self(text.to_owned()))
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A connection to NATS with JetStream, its streams in place.
#[derive(Clone)]
pub struct Connection {
    client: async_nats::Client,
    jetstream: jetstream::Context,
}

impl Connection {
    /// Connects with `credentials` and creates the task and result streams
    /// when they do not exist yet.
    pub async fn open(url: &NatsUrl, credentials: &Credentials, name: &str) -> Result<Self, NatsError> {
        let options = credentials.apply(async_nats::ConnectOptions::new().name(name).max_reconnects(None));
        let client = options.connect(url.as_str()).await.map_err(|e| NatsError::Connect { url: url.as_str().to_owned(), detail: e.to_string() })?;
        let jetstream = jetstream::new(client.clone());
        let connection = Self { client, jetstream };
        connection.ensure_streams().await?;
        Ok(connection)
    }

    async fn ensure_streams(&self) -> Result<(), NatsError> {
        let tasks = stream::Config {
            name: TASKS_STREAM.into(),
            subjects: vec!["conductor.tasks.>".into()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        let results = stream::Config {
            name: RESULTS_STREAM.into(),
            subjects: vec!["conductor.results.>".into()],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            max_age: Duration::from_secs(24 * 3600),
            ..Default::default()
        };
        for config in [tasks, results] {
            let name = config.name.clone();
            self.jetstream.get_or_create_stream(config).await.map_err(|e| jetstream_error(format!("creating stream {name}"), e))?;
        }
        Ok(())
    }

    /// The durable pull consumer `name` on `stream` for `filter`, created
    /// with `ack_wait` when it does not exist (an existing one keeps its settings).
    pub async fn consumer(&self, stream: &str, name: &str, filter: String, ack_wait: Duration, inactive: Option<Duration>) -> Result<(), NatsError> {
        let stream = self.jetstream.get_stream(stream).await.map_err(|e| jetstream_error(format!("opening stream {stream}"), e))?;
        let config = consumer::pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: filter,
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait,
            max_deliver: MAX_DELIVER,
            inactive_threshold: inactive.unwrap_or_default(),
            ..Default::default()
        };
        stream.get_or_create_consumer(name, config).await.map_err(|e| jetstream_error(format!("creating consumer {name}"), e))?;
        Ok(())
    }

    /// The next message for consumer `name` of `stream`, waiting up to
    /// `expires`; `None` when there was none. Each call is one pull request
    /// for one message, so a message is never fetched without being handed over.
    pub async fn next(&self, stream: &str, name: &str, expires: Duration) -> Result<Option<jetstream::Message>, NatsError> {
        let subject = format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}");
        let body = serde_json::json!({ "batch": 1, "expires": u64::try_from(expires.as_nanos()).unwrap_or(u64::MAX) });
        // A delivered message arrives under its own subject, not the inbox's,
        // so the request needs an inbox subscription of its own rather than
        // the client's shared request inbox, which routes replies by subject.
        let request = async_nats::Request::new()
            .payload(body.to_string().into())
            .inbox(self.client.new_inbox())
            .timeout(Some(expires + Duration::from_secs(2)));
        let message = self.client.send_request(subject, request).await.map_err(|e| jetstream_error(format!("pulling from {name}"), e))?;
        // Status replies (no messages, request expired) carry no delivery.
        let delivered = message.status.is_none() && message.reply.as_ref().is_some_and(|r| r.as_str().starts_with("$JS.ACK."));
        Ok(delivered.then(|| jetstream::Message { message, context: self.jetstream.clone() }))
    }

    /// Publishes `payload` to `subject` in JetStream and waits for the
    /// server to store it, retrying while the server is away (a restart)
    /// for up to `patience`.
    pub async fn publish(&self, subject: String, headers: async_nats::HeaderMap, payload: Vec<u8>, patience: Duration) -> Result<(), NatsError> {
        let started = tokio::time::Instant::now();
        loop {
            let attempt = async {
                let ack = self.jetstream.publish_with_headers(subject.clone(), headers.clone(), payload.clone().into()).await?;
                ack.await.map(|_| ())
            };
            match tokio::time::timeout(Duration::from_secs(5), attempt).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) if started.elapsed() >= patience => return Err(jetstream_error(format!("publishing to {subject}"), e)),
                Err(_) if started.elapsed() >= patience => return Err(NatsError::JetStream { operation: format!("publishing to {subject}"), detail: "no acknowledgement".into() }),
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// Answers a delivery on its acknowledgement subject: `+ACK` when done,
    /// `+WPI` to keep it (work in progress), `+TERM` to drop it.
    pub async fn acknowledge(&self, reply: &str, body: &'static [u8]) -> Result<(), NatsError> {
        let sent = self.client.publish(reply.to_owned(), body.into()).await;
        let flushed = match sent {
            Ok(()) => self.client.flush().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        flushed.map_err(|detail| NatsError::JetStream { operation: "acknowledging a delivery".into(), detail })
    }

    /// Publishes on core NATS, without storage or acknowledgement.
    pub async fn announce(&self, subject: String, payload: Vec<u8>) {
        // Events are informational; a lost one changes nothing in the run.
        let _ = self.client.publish(subject, payload.into()).await;
    }

    /// The largest message the server accepts.
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }
}

/// `text` with any user information replaced by `***`, for messages.
fn redacted(text: &str) -> String {
    text.split(',')
        .map(|server| match (server.find("://"), server.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &server[..scheme + 3], &server[at..]),
            _ => server.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn jetstream_error(operation: String, error: impl std::fmt::Display) -> NatsError {
    NatsError::JetStream { operation, detail: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_names_become_subject_tokens() {
        assert_eq!(agent_token("QE Generalist"), "qe-generalist");
        assert_eq!(agent_token("DR/Backup  Drill!"), "dr-backup-drill");
        assert_eq!(task_subject("Release Conductor"), "conductor.tasks.release-conductor");
    }

    #[test]
    fn urls_with_credentials_or_other_schemes_are_refused() {
        assert!(NatsUrl::parse("nats://127.0.0.1:4222").is_ok());
        assert!(NatsUrl::parse("nats://a:4222,nats://b:4222").is_ok());
        let with_user = NatsUrl::parse("nats://u:secret@h:4222").unwrap_err().to_string();
        assert!(with_user.contains("CONDUCTOR_NATS_USER"), "{with_user}");
        assert!(!with_user.contains("secret") && with_user.contains("nats://***@h:4222"), "{with_user}");
        assert!(NatsUrl::parse("http://h:4222").is_err());
    }
}
