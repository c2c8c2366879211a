//! `conductor run`: phases through agents and gates, in plan order.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use agents::Roster;
use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::Exit;
use crate::bus::{Bus, LocalBus};
use crate::nats::bus::NatsBus;
use crate::nats::{Connection, Credentials, NatsUrl};
use crate::cli::RunArgs;
use crate::config::Config;
use crate::gates::PolicySet;
use crate::phases::{Phase, PhasePlan};
use crate::run::{PhaseReport, RunContext, RunObserver, run_phases};
use crate::workspace::Workspace;

pub fn run(args: RunArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let roster = Roster::load(&ws.repo)?;
    let plan = PhasePlan::load(&ws.repo, &roster)?;
    let config = Config::load(&ws.repo, &roster, &plan)?;
    let policies = PolicySet::load(&ws.repo)?;
    let key = release.key()?;
    let selected = select(&plan, &args)?;
    let ctx = RunContext { release, plan: plan.clone(), roster, config, policies, key, repo: ws.repo.clone() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut progress = Progress::new(&plan, args.json);
    let bus: Arc<dyn Bus> = match &args.bus {
        None => Arc::new(LocalBus::default()),
        Some(url) => runtime.block_on(nats_bus(url, &ws, &ctx, args.task_grace))?,
    };
    let span = crate::telemetry::release_span("run", &ctx.release.state.binding);
    let reports = {
        let _entered = span.enter();
        let mut traced = crate::telemetry::Traced::new(&mut progress);
        runtime.block_on(run_phases(&ctx, bus, &selected, &mut traced))?
    };
    drop(span);
    // The report is written whatever the gates said; a blocked release needs it most.
    match crate::commands::report::write_markdown(&ws, &ctx.release) {
        Ok(path) if !args.json => println!("report: {}", path.strip_prefix(&ws.repo).unwrap_or(&path).display()),
        Ok(_) => {}
        Err(e) => eprintln!("warning: the release report could not be written: {e:#}"),
    }
    if args.json {
        let out: Vec<Value> = reports.iter().map(report_json).collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(if reports.iter().all(PhaseReport::passed) { Exit::Success } else { Exit::Failed })
}

/// The bus to `conductor worker`s on NATS; their signed results are checked
/// against the repository's trust.toml, which must list their keys.
async fn nats_bus(url: &str, ws: &Workspace, ctx: &RunContext, grace: u64) -> Result<Arc<dyn Bus>> {
    let url = NatsUrl::parse(url)?;
    let credentials = Credentials::from_env()?;
    let trust = crate::workspace::load_trust(&ws.trust_path(), "--bus needs trust.toml listing the workers' keys with their `kinds`")?;
    let id = crate::workspace::random::<8>()?.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let connection = Connection::open(&url, &credentials, &format!("conductor run {}", ctx.release.state.binding.version)).await?;
    let spool = ctx.release.dir.join("scratch").join("received");
    Ok(Arc::new(NatsBus::start(connection, id, trust, spool, Duration::from_secs(grace)).await?))
}

fn select<'a>(plan: &'a PhasePlan, args: &RunArgs) -> Result<Vec<&'a Phase>> {
    let position = |id: &str| plan.phases().iter().position(|p| p.id == id);
    let phases = plan.phases();
    Ok(match (&args.phase, &args.through) {
        (Some(id), _) => match position(id) {
            Some(i) => vec![&phases[i]],
            None => bail!("--phase {id}: no such phase; `conductor plan` lists them"),
        },
        (None, Some(id)) => match position(id) {
            Some(i) => phases[..=i].iter().collect(),
            None => bail!("--through {id}: no such phase; `conductor plan` lists them"),
        },
        (None, None) => phases.iter().collect(),
    })
}

/// Progress on a terminal (a bar per phase: agents done, elapsed), plain
/// lines otherwise, nothing but the final JSON with `--json`.
struct Progress<'a> {
    plan: &'a PhasePlan,
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
}

impl<'a> Progress<'a> {
    fn new(plan: &'a PhasePlan, json: bool) -> Self {
        Self { plan, quiet: json, bar: None }
    }
}

impl RunObserver for Progress<'_> {
    fn phase_started(&mut self, phase: &Phase, agents: usize) {
        if self.quiet || !std::io::stdout().is_terminal() {
            return;
        }
        let bar = indicatif::ProgressBar::new(agents as u64);
        let style = indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} agents, {elapsed} — {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(format!("{} {}", phase.id, phase.name));
        self.bar = Some(bar);
    }

    fn agent_done(&mut self, agent: &str, _verdict: agents::Verdict) {
        if let Some(bar) = &self.bar {
            bar.set_message(agent.to_owned());
            bar.inc(1);
        }
    }

    fn phase_done(&mut self, report: &PhaseReport) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if !self.quiet {
            print_phase(self.plan, report);
        }
    }
}

fn print_phase(plan: &PhasePlan, report: &PhaseReport) {
    let name = plan.phases().iter().find(|p| p.id == report.phase).map_or("", |p| p.name.as_str());
    println!("{} {name}", report.phase);
    if let Some(reason) = &report.refused {
        println!("  refused: {reason}");
        return;
    }
    for (agent, verdict, reason) in &report.agents {
        println!("  {agent:<26} {:<14} {reason}", serde_json::to_value(verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default());
    }
    for (gate, decision) in &report.gates {
        let verdict = if decision.passed { "PASS" } else { "FAIL" };
        println!("  gate {gate:<21} {verdict}");
        for reason in &decision.reasons {
            println!("    - {reason}");
        }
    }
}

fn report_json(report: &PhaseReport) -> Value {
    json!({
        "phase": report.phase,
        "passed": report.passed(),
        "refused": report.refused,
        "agents": report.agents.iter().map(|(a, v, r)| json!({ "agent": a, "verdict": v, "reason": r })).collect::<Vec<_>>(),
        "gates": report.gates.iter().map(|(g, d)| json!({ "gate": g, "passed": d.passed, "reasons": d.reasons, "policySha256": d.policy_sha256, "inputSha256": d.input_sha256 })).collect::<Vec<_>>(),
    })
}
