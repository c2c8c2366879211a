//! `conductor status`: per phase and gate, the latest decision and its reasons.

use agents::Roster;
use anyhow::Result;
use evidence::ledger::read_records;
use serde_json::json;

use crate::Exit;
use crate::cli::StatusArgs;
use crate::history;
use crate::phases::PhasePlan;
use crate::workspace::Workspace;

pub fn run(args: StatusArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let plan = PhasePlan::load(&ws.repo, &Roster::load(&ws.repo)?)?;
    let records = read_records(&release.ledger_path())?;
    let mut rows = Vec::new();
    for phase in plan.phases() {
        for gate in &phase.gates {
            let decision = history::latest_decision(&records, &phase.id, &gate.id);
            rows.push((phase, gate, decision));
        }
    }
    if args.json {
        let out: Vec<_> = rows
            .iter()
            .map(|(p, g, d)| json!({ "phase": p.id, "gate": g.id, "state": state(d.as_ref()), "reasons": d.as_ref().map(|d| d.1.clone()).unwrap_or_default() }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Exit::Success);
    }
    let b = &release.state.binding;
    println!("release {} ({}) commit {}", b.version, b.environment, b.commit);
    if let Some(p) = crate::promote::flow::PromotionState::load(&release)? {
        let incident = p.incident.as_deref().map(|i| format!("; incident {i}")).unwrap_or_default();
        println!("  promotion {} at step {} ({}%): {}{incident}", p.state.to_uppercase(), p.step, p.weight, p.reason);
    }
    for (phase, gate, decision) in &rows {
        println!("  {:<4} {:<20} {}", phase.id, gate.id, state(decision.as_ref()));
        for reason in decision.iter().flat_map(|d| &d.1) {
            println!("         - {reason}");
        }
    }
    Ok(Exit::Success)
}

fn state(decision: Option<&(bool, Vec<String>)>) -> &'static str {
    match decision {
        Some((true, _)) => "passed",
        Some((false, _)) => "failed",
        None => "not run",
    }
}
