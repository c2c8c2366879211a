//! `conductor worker`: serves roster agents over NATS JetStream until stopped,
//! one line on standard error per thing that happens.

use std::collections::BTreeSet;
use std::time::Duration;

use agents::Roster;
use anyhow::{Context, Result, bail};

use crate::Exit;
use crate::cli::WorkerArgs;
use crate::nats::worker::{WorkerConfig, WorkerEvent, serve};
use crate::nats::{Connection, Credentials, NatsUrl};
use crate::workspace;

pub fn run(args: WorkerArgs) -> Result<Exit> {
    let url = NatsUrl::parse(&args.bus)?;
    let credentials = Credentials::from_env()?;
    let repo = args.repo.canonicalize().with_context(|| format!("--repo {}: no such folder", args.repo.display()))?;
    let roster = Roster::load(&repo)?;
    let agents = resolve(&roster, &args.agents)?;
    let key = workspace::load_secret_key(&args.key)?;
    if args.ack_wait == 0 {
        bail!("--ack-wait 0: give at least 1 second");
    }
    let name = args.name.unwrap_or_else(host_name);
    eprintln!("worker {name} signs with key {}; serving {} agents", key.id(), agents.len());
    let config = WorkerConfig {
        name: name.clone(),
        agents,
        repo,
        scratch: std::env::temp_dir().join(format!("conductor-worker-{}", std::process::id())),
        key,
        ack_wait: Duration::from_secs(args.ack_wait),
        parallelism: args.parallelism,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let connection = Connection::open(&url, &credentials, &format!("conductor worker {name}")).await?;
        let (send, mut events) = tokio::sync::mpsc::unbounded_channel();
        let serving = tokio::spawn(serve(connection, config, send));
        while let Some(event) = events.recv().await {
            eprintln!("{}", describe(&event));
        }
        serving.await.context("the worker stopped unexpectedly")??;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Exit::Success)
}

/// The roster agents `wanted` names, directly or by kind.
fn resolve(roster: &Roster, wanted: &[String]) -> Result<Vec<String>> {
    let mut agents = BTreeSet::new();
    for entry in wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        if let Some(agent) = roster.agent(entry) {
            agents.insert(agent.name.clone());
            continue;
        }
        let of_kind: Vec<String> = roster.agents().iter().filter(|a| a.kind == entry).map(|a| a.name.clone()).collect();
        if of_kind.is_empty() {
            bail!("--agents {entry}: no roster agent or agent kind of that name; `conductor plan` lists the agents and their kinds");
        }
        agents.extend(of_kind);
    }
    if agents.is_empty() {
        bail!("--agents: name at least one roster agent or agent kind");
    }
    Ok(agents.into_iter().collect())
}

fn describe(event: &WorkerEvent) -> String {
    match event {
        WorkerEvent::Serving { agent, consumer } => format!("serving {agent} (consumer {consumer})"),
        WorkerEvent::Started { agent, task_id, delivery } if *delivery > 1 => format!("started {agent} task {task_id} (delivery {delivery})"),
        WorkerEvent::Started { agent, task_id, .. } => format!("started {agent} task {task_id}"),
        WorkerEvent::Finished { agent, task_id, verdict } => {
            let verdict = serde_json::to_value(verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            format!("finished {agent} task {task_id}: {verdict}")
        }
        WorkerEvent::Trouble(why) => format!("warning: {why}"),
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "worker".into())
}
