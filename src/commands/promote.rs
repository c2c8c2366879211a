//! `conductor promote`: nothing moves until the evidence holds. The pack is
//! verified under the operator's trust root, its gates re-decided, every gate
//! the GA phase requires must have passed, every required approval role
//! approved, and the pack bound to the version, commit and environment being
//! promoted; otherwise exit 1 naming each blocker.

use std::path::PathBuf;

use agents::Roster;
use anyhow::{Result, bail};
use serde_json::json;

use crate::Exit;
use crate::cli::PromoteArgs;
use crate::config::Config;
use crate::phases::PhasePlan;
use crate::promote::{Blocker, Cleared, Plan, Target, preconditions};
use crate::workspace::{self, Workspace};

pub fn run(args: PromoteArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let roster = Roster::load(&ws.repo)?;
    let phases = PhasePlan::load(&ws.repo, &roster)?;
    let config = Config::load(&ws.repo, &roster, &phases)?;
    let binding = &release.state.binding;
    let plan = Plan::new(&config.promotion, args.canary, &default_service(&ws.repo)).map_err(|e| anyhow::anyhow!("{}: {e}", crate::config::FILE))?;
    let target = Target {
        version: args.version.clone().unwrap_or_else(|| binding.version.clone()),
        commit: args.commit.clone().unwrap_or_else(|| binding.commit.clone()),
        environment: args.environment.clone().unwrap_or_else(|| binding.environment.clone()),
    };
    let pack = args.pack.clone().unwrap_or_else(|| PathBuf::from(format!("evidence-{}.zip", binding.version)));
    let trust = workspace::load_trust(&args.trust.clone().unwrap_or_else(|| ws.trust_path()), "--trust")?;
    let outcome = preconditions::check(&pack, &trust, &phases, &plan.ga_phase, &target)?;
    match outcome {
        Err(blockers) => {
            render_blocked(&args, &pack, &target, &blockers)?;
            Ok(Exit::Failed)
        }
        Ok(cleared) => {
            render_plan(&args, &pack, &plan, &cleared)?;
            if args.dry_run {
                return Ok(Exit::Success);
            }
            bail!("the preconditions hold, but moving traffic needs a deploy driver with analysis between steps, which this build does not run; nothing was moved (use --dry-run to check a release)")
        }
    }
}

/// The repository folder's name, made safe to pass to a driver command.
fn default_service(repo: &std::path::Path) -> String {
    let name = repo.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect();
    if safe.is_empty() { "service".into() } else { safe }
}

fn render_blocked(args: &PromoteArgs, pack: &std::path::Path, target: &Target, blockers: &[Blocker]) -> Result<()> {
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

fn render_plan(args: &PromoteArgs, pack: &std::path::Path, plan: &Plan, cleared: &Cleared) -> Result<()> {
    if args.json {
        let out = json!({"verdict": if args.dry_run { "cleared" } else { "refused" }, "dryRun": args.dry_run, "pack": pack.display().to_string(), "cleared": cleared, "plan": plan});
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
    if args.dry_run {
        println!("dry run: no traffic was moved");
    }
    Ok(())
}
