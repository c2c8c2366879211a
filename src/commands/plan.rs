//! `conductor plan`: the phases in run order, their gates and the agents
//! that feed each gate, with the agents whose kind is not implemented yet.

use agents::Roster;
use anyhow::Result;
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::PlanArgs;
use crate::phases::{Phase, PhasePlan};
use crate::workspace::Workspace;

pub fn run(args: PlanArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let roster = Roster::load(&ws.repo)?;
    let plan = PhasePlan::load(&ws.repo, &roster)?;
    if args.json {
        let phases: Vec<Value> = plan.phases().iter().map(|p| phase_json(p, &roster)).collect();
        println!("{}", serde_json::to_string_pretty(&phases)?);
        return Ok(Exit::Success);
    }
    for phase in plan.phases() {
        let requires = if phase.requires.is_empty() { "nothing".to_owned() } else { phase.requires.join(", ") };
        println!("{} {} (requires {requires}; {} agents)", phase.id, phase.name, phase.agents().len());
        for gate in &phase.gates {
            let agents: Vec<String> = gate.agents.iter().map(|a| describe(a, &roster)).collect();
            println!("  gate {:<18} {}", gate.id, agents.join(", "));
        }
    }
    Ok(Exit::Success)
}

fn describe(name: &str, roster: &Roster) -> String {
    match roster.agent(name) {
        Some(agent) if agents::find_kind(&agent.kind).is_some() => format!("{name} [{}]", agent.kind),
        Some(agent) => format!("{name} [{}, not implemented yet]", agent.kind),
        None => format!("{name} [not in the roster]"),
    }
}

fn phase_json(phase: &Phase, roster: &Roster) -> Value {
    let gates: Vec<Value> = phase
        .gates
        .iter()
        .map(|g| {
            let agents: Vec<Value> = g
                .agents
                .iter()
                .map(|a| {
                    let kind = roster.agent(a).map(|r| r.kind.clone());
                    let implemented = kind.as_deref().is_some_and(|k| agents::find_kind(k).is_some());
                    json!({ "name": a, "kind": kind, "implemented": implemented })
                })
                .collect();
            json!({ "id": g.id, "policy": g.policy, "needs": g.needs, "agents": agents })
        })
        .collect();
    json!({ "id": phase.id, "name": phase.name, "requires": phase.requires, "gates": gates })
}
