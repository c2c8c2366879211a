//! `conductor validate`: everything a phase needs, checked without running
//! an agent. One line per problem; exit 1 when there is any.

use agents::Roster;
use anyhow::{Result, bail};

use crate::Exit;
use crate::cli::ValidateArgs;
use crate::config::{self, Config};
use crate::gates::PolicySet;
use crate::phases::{Phase, PhasePlan};
use crate::workspace::Workspace;

pub fn run(args: ValidateArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let roster = Roster::load(&ws.repo)?;
    let plan = PhasePlan::load(&ws.repo, &roster)?;
    let config = Config::load(&ws.repo, &roster, &plan)?;
    let phases: Vec<&Phase> = match &args.phase {
        Some(id) => match plan.phases().iter().find(|p| &p.id == id) {
            Some(phase) => vec![phase],
            None => bail!("--phase {id}: no such phase; `conductor plan` lists them"),
        },
        None => plan.phases().iter().collect(),
    };
    let mut problems = Vec::new();
    problems.extend(release_problems(&ws));
    problems.extend(policy_problems(&ws, &phases));
    for phase in &phases {
        problems.extend(agent_problems(phase, &roster, &config, &ws));
    }
    for problem in &problems {
        println!("{problem}");
    }
    let scope = args.phase.clone().unwrap_or_else(|| "every phase".into());
    if problems.is_empty() {
        println!("{scope}: ready to run");
        return Ok(Exit::Success);
    }
    println!("{scope}: {} problem(s)", problems.len());
    Ok(Exit::Failed)
}

/// A release must be started and its notary key must open.
fn release_problems(ws: &Workspace) -> Vec<String> {
    match ws.current() {
        Err(e) => vec![format!("release: {e:#}")],
        Ok(release) => match release.key() {
            Ok(_) => vec![],
            Err(e) => vec![format!("key: {e:#}")],
        },
    }
}

/// Policies compile, their tests pass, and every gate has one.
fn policy_problems(ws: &Workspace, phases: &[&Phase]) -> Vec<String> {
    let set = match PolicySet::load(&ws.repo) {
        Ok(set) => set,
        Err(e) => return vec![format!("policies: {e}")],
    };
    let mut problems: Vec<String> = match set.run_tests() {
        Ok(results) => results.iter().filter(|r| !r.passed).map(|r| format!("policies: test {} fails", r.name)).collect(),
        Err(e) => vec![format!("policies: {e}")],
    };
    for phase in phases {
        for gate in phase.gates.iter().filter(|g| !set.has_gate(&g.policy)) {
            problems.push(format!("{}/{}: no policy '{}'; add policies/{}.rego", phase.id, gate.id, gate.policy, gate.policy));
        }
    }
    problems
}

/// Every agent's kind is implemented and its inputs are configured and present.
fn agent_problems(phase: &Phase, roster: &Roster, config: &Config, ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    for name in phase.agents() {
        let Some(agent) = roster.agent(name) else { continue };
        let at = format!("{} {name}", phase.id);
        if agents::find_kind(&agent.kind).is_none() {
            problems.push(format!("{at}: agent kind '{}' is not implemented yet", agent.kind));
            continue;
        }
        let settings = config.task_settings(roster, name, &phase.id);
        for input in agent.inputs.iter().filter(|i| !settings.contains_key(i.as_str())) {
            problems.push(format!("{at}: '{input}' is not configured; set it under [agents.\"{name}\"] in {}", config::FILE));
        }
        if let Some(path) = settings.get("path").and_then(toml::Value::as_str).filter(|p| !ws.repo.join(p).is_file()) {
            problems.push(format!("{at}: {path} does not exist"));
        }
    }
    problems
}
