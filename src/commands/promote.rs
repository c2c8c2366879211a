//! `conductor promote`: nothing moves until the evidence holds. The pack is
//! verified under the operator's trust root, its gates re-decided, every gate
//! the GA phase requires must have passed, every required approval role
//! approved, and the pack bound to the version, commit and environment being
//! promoted; otherwise exit 1 naming each blocker. Then the canary steps:
//! exit 0 at GA, 3 rolled back, 4 paused for a signed decision.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agents::Roster;
use anyhow::{Result, anyhow, bail};
use serde_json::json;

use crate::Exit;
use crate::cli::PromoteArgs;
use crate::config::Config;
use crate::phases::PhasePlan;
use crate::promote::analysis::{self, Provider};
use crate::promote::driver::CommandDriver;
use crate::promote::flow::{self, Finish, Promotion};
use crate::promote::plan::Moving;
use crate::promote::prometheus::PrometheusProvider;
use crate::promote::{Blocker, Cleared, Plan, Target, preconditions};
use crate::workspace::{self, Workspace};

pub fn run(args: PromoteArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let _span = crate::telemetry::release_span("promote", &release.state.binding).entered();
    let roster = Roster::load(&ws.repo)?;
    let phases = PhasePlan::load(&ws.repo, &roster)?;
    let config = Config::load(&ws.repo, &roster, &phases)?;
    let binding = &release.state.binding;
    let file = crate::config::FILE;
    let plan = Plan::new(&config.promotion, args.canary, &default_service(&ws.repo)).map_err(|e| anyhow!("{file}: {e}"))?;
    let trust = workspace::load_trust(&args.trust.clone().unwrap_or_else(|| ws.trust_path()), "--trust")?;
    if args.resume {
        let moving = config.promotion.moving().map_err(|e| anyhow!("{file}: {e}"))?;
        return resume(&args, &ws, &release, &trust, &plan, &moving);
    }
    if !args.dry_run
        && let Some(state) = flow::PromotionState::load(&release)?
    {
        let why = match state.state.as_str() {
            "paused" => format!("the promotion of {} is paused at step {} ({}%); continue or abort it with `conductor promote --resume --decision continue|abort`", binding.version, state.step, state.weight),
            "aborted" => format!("{} was ABORTED: {}; promote a new release", binding.version, state.reason),
            _ => format!("{} is already promoted: {}", binding.version, state.reason),
        };
        if args.json {
            println!("{}", serde_json::to_string_pretty(&json!({"verdict": "refused", "reason": why, "state": state}))?);
        } else {
            println!("promotion refused: {why}");
        }
        return Ok(Exit::Failed);
    }
    let target = Target {
        version: args.version.clone().unwrap_or_else(|| binding.version.clone()),
        commit: args.commit.clone().unwrap_or_else(|| binding.commit.clone()),
        environment: args.environment.clone().unwrap_or_else(|| binding.environment.clone()),
    };
    let pack = args.pack.clone().unwrap_or_else(|| PathBuf::from(format!("evidence-{}.zip", binding.version)));
    let cleared = match preconditions::check(&pack, &trust, &phases, &plan.ga_phase, &target)? {
        Err(blockers) => {
            render_blocked(&args, &pack, &target, &blockers)?;
            write_report(&ws, &release);
            return Ok(Exit::Failed);
        }
        Ok(cleared) => cleared,
    };
    if args.dry_run {
        let analysis = dry_analysis(&config, &plan)?;
        render_plan(&args, &pack, &plan, &cleared, analysis.as_ref())?;
        return Ok(Exit::Success);
    }
    let moving = config.promotion.moving().map_err(|e| anyhow!("{file}: {e}; nothing was moved"))?;
    if !args.json {
        render_plan(&args, &pack, &plan, &cleared, None)?;
    }
    let key = release.key()?;
    let promotion = Promotion { repo: &ws.repo, release: &release, key: &key, plan: &plan, moving: &moving };
    let (mut driver, mut provider) = (driver(&promotion), PrometheusProvider::new(&moving.analysis.prometheus_url)?);
    let finish = flow::start(&promotion, &pack, &cleared, &mut driver, &mut provider, &mut sleep)?;
    let resealed = reseal(&ws, &release, &pack)?;
    write_report(&ws, &release);
    finished(&args, &ws.repo, &plan, finish, (&pack, &resealed))
}

fn driver(promotion: &Promotion<'_>) -> CommandDriver {
    CommandDriver::new(promotion.moving.driver, promotion.repo, promotion.vars())
}

/// The real clock's wait between measurements.
fn sleep(duration: Duration) {
    std::thread::sleep(duration);
}

fn resume(args: &PromoteArgs, ws: &Workspace, release: &workspace::Release, trust: &evidence::trust::TrustRoot, plan: &Plan, moving: &Moving<'_>) -> Result<Exit> {
    let (Some(decision), Some(key_path), Some(reason)) = (args.decision, &args.key, &args.reason) else {
        bail!("--resume needs --decision, --key and --reason");
    };
    let decider = workspace::load_secret_key(key_path)?;
    let id = decider.id().to_string();
    let Some(trusted) = trust.key(&id) else {
        bail!("--key {}: key {id} is not in the trust root, so its decision would not verify; add it under [[keys]] first", key_path.display());
    };
    if let Some(why) = trust.revocation(&id) {
        bail!("--key {}: key {id} ({}) is revoked: {why}", key_path.display(), trusted.name);
    }
    let now = workspace::now()?;
    if !trusted.valid_at(now) {
        bail!("--key {}: key {id} ({}) is not valid now", key_path.display(), trusted.name);
    }
    if !trusted.phases.allows(&plan.ga_phase) || !trusted.predicate_types.allows(flow::PROMOTION_PREDICATE) {
        bail!("--key {}: the trust root does not let key {id} ({}) sign {} records of phase {}; add \"{}\" to its phases and predicate_types", key_path.display(), trusted.name, flow::PROMOTION_PREDICATE, plan.ga_phase, plan.ga_phase);
    }
    let key = release.key()?;
    let repo = ws.repo.as_path();
    let promotion = Promotion { repo, release, key: &key, plan, moving };
    let (mut driver, mut provider) = (driver(&promotion), PrometheusProvider::new(&moving.analysis.prometheus_url)?);
    let finish = flow::resume(&promotion, &decider, decision.as_str(), reason, &mut driver, &mut provider, &mut sleep)?;
    let pack = args.pack.clone().unwrap_or_else(|| PathBuf::from(format!("evidence-{}.zip", release.state.binding.version)));
    let resealed = reseal(ws, release, &pack)?;
    write_report(ws, release);
    finished(args, repo, plan, finish, (&pack, &resealed))
}

/// The release report, rewritten after every promotion; a failure to write
/// it is said, and changes nothing about the promotion.
fn write_report(ws: &Workspace, release: &workspace::Release) {
    if let Err(e) = crate::commands::report::write_markdown(ws, release) {
        eprintln!("warning: the release report could not be written: {e:#}");
    }
}

/// The pack promoted from, resealed with the promotion's records beside it
/// as `<name>-promotion.zip`; `conductor verify --extends` proves it extends the first.
fn reseal(ws: &Workspace, release: &workspace::Release, pack: &Path) -> Result<PathBuf> {
    let stem = pack.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "evidence".into());
    let out = pack.with_file_name(format!("{stem}-promotion.zip"));
    crate::commands::pack::seal(ws, release, &out)?;
    Ok(out)
}

fn finished(args: &PromoteArgs, repo: &Path, plan: &Plan, finish: Finish, (promoted_from, resealed): (&Path, &Path)) -> Result<Exit> {
    let (verdict, state, exit) = match &finish {
        Finish::Promoted => ("promoted", None, Exit::Success),
        Finish::Paused(s) => ("paused", Some(s), Exit::Paused),
        Finish::Aborted(s) => ("aborted", Some(s), Exit::RolledBack),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!({"verdict": verdict, "plan": plan, "state": state, "pack": resealed.display().to_string()}))?);
        return Ok(exit);
    }

    match &finish {
        Finish::Promoted => println!("promoted: {} takes {}% of traffic", plan.service, plan.steps.last().copied().unwrap_or(100)),
        Finish::Paused(s) => println!("paused: {}\ncontinue or abort with `conductor promote --resume --decision continue|abort --key KEY --reason TEXT`", s.reason),
        Finish::Aborted(s) => {
            let incident = flow::incident_path(repo, s).map(|p| p.display().to_string()).unwrap_or_default();
            println!("ABORTED: {}\nrolled back; incident record {incident}", s.reason);
        }
    }
    println!("the promotion's records are sealed into {}; `conductor verify {} --trust trust.toml --extends {}` proves it extends the pack promoted from", resealed.display(), resealed.display(), promoted_from.display());
    Ok(exit)
}

/// One analysis run at the current traffic, when analysis is configured.
fn dry_analysis(config: &Config, plan: &Plan) -> Result<Option<analysis::Run>> {
    let Some(a) = &config.promotion.analysis else { return Ok(None) };
    let moving = config.promotion.moving().map_err(|e| anyhow!("{}: {e}", crate::config::FILE))?;
    let mut provider = PrometheusProvider::new(&a.prometheus_url)?;
    let vars = vec![("service", plan.service.clone()), ("weight", "0".to_owned())];
    let once = analysis::AnalysisConfig { count: 1, initial_delay_seconds: 0, ..a.clone() };
    Ok(Some(analysis::run(&once, &moving.metrics, &vars, &mut provider as &mut dyn Provider, &mut |_| {})))
}

/// The repository folder's name, made safe to pass to a driver command.
fn default_service(repo: &Path) -> String {
    let name = repo.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect();
    if safe.is_empty() { "service".into() } else { safe }
}

fn render_blocked(args: &PromoteArgs, pack: &Path, target: &Target, blockers: &[Blocker]) -> Result<()> {
    if args.json {
        let out = json!({"verdict": "blocked", "pack": pack.display().to_string(), "version": target.version, "commit": target.commit, "environment": target.environment, "blockers": blockers});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("promotion of {} ({}) blocked: {} reasons; no traffic was moved", target.version, target.environment, blockers.len());
    for b in blockers {
        println!("  [{}] {}", b.code, b.message);
    }
    Ok(())
}

fn render_plan(args: &PromoteArgs, pack: &Path, plan: &Plan, cleared: &Cleared, analysis: Option<&analysis::Run>) -> Result<()> {
    if args.json {
        let out = json!({"verdict": "cleared", "dryRun": args.dry_run, "pack": pack.display().to_string(), "cleared": cleared, "plan": plan, "analysis": analysis});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let r = &cleared.release;
    println!("pack {} verified: release {} ({}) at commit {}, {} records", pack.display(), r.version, r.environment, r.commit, cleared.records);
    println!("  {} gates passed (every gate of the phases {} requires)", cleared.gates.len(), plan.ga_phase);
    println!("  approved by the required roles: {}", cleared.roles.join(", "));
    println!("plan for {}:", plan.service);
    for (i, weight) in plan.steps.iter().enumerate() {
        println!("  step {}: {weight}% of traffic", i + 1);
    }
    if let Some(run) = analysis {
        println!("analysis now: {:?}: {}", run.phase, run.reason);
        for m in run.measurements.iter().flat_map(|m| &m.metrics) {
            println!("  {}", m.message);
        }
    }
    if args.dry_run {
        println!("dry run: no traffic was moved");
    }
    Ok(())
}
