//! The phase plan: phases and their gates as data. The built-in files
//! (`phases/*.toml`, embedded) and a repository's own `phases/*.toml` are
//! parsed by the same code; a repository file with a built-in phase's id
//! replaces it. The run order comes from each phase's `requires`, never from code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use agents::Roster;
use serde::Deserialize;

use crate::builtin::BUILTIN_PHASES;

/// One gate of a phase.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// The gate's id, such as `supply_chain`.
    pub id: String,
    /// The policy that decides it: `policies/<policy>.rego`.
    pub policy: String,
    /// The roster agents whose evidence it judges.
    pub agents: Vec<String>,
    /// The record types it needs.
    #[serde(default)]
    pub needs: Vec<String>,
}

/// One phase.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// The phase's id, such as `P1`.
    pub id: String,
    /// Its name, such as `Baselines & previews`.
    pub name: String,
    /// Phases that must have passed first.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Its gates.
    #[serde(default, rename = "gate")]
    pub gates: Vec<Gate>,
}

impl Phase {
    /// The roster agents that run in this phase: those its gates judge, once each.
    pub fn agents(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.gates.iter().flat_map(|g| g.agents.iter()).map(String::as_str).filter(|a| seen.insert(*a)).collect()
    }
}

/// A problem in the phase plan, naming the file, the field and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct PlanError {
    /// The file.
    pub file: String,
    /// The field.
    pub field: String,
    /// What is wrong and what to do.
    pub problem: String,
}

/// The validated phases, in run order.
#[derive(Clone, Debug)]
pub struct PhasePlan {
    phases: Vec<Phase>,
}

impl PhasePlan {
    /// The built-in phases, overridden or extended by `<repo>/phases/*.toml`.
    pub fn load(repo: &Path, roster: &Roster) -> Result<Self, PlanError> {
        let mut by_id: BTreeMap<String, (String, Phase)> = BTreeMap::new();
        for (name, text) in BUILTIN_PHASES {
            let phase = parse(text, &format!("phases/{name} (built in)"))?;
            by_id.insert(phase.id.clone(), (format!("phases/{name} (built in)"), phase));
        }
        for (file, text) in repository_files(repo)? {
            let phase = parse(&text, &file)?;
            by_id.insert(phase.id.clone(), (file, phase));
        }
        for (file, phase) in by_id.values() {
            check_references(file, phase, &by_id, roster)?;
        }
        let phases = run_order(by_id)?;
        Ok(Self { phases })
    }

    /// Every phase, in run order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

}

fn repository_files(repo: &Path) -> Result<Vec<(String, String)>, PlanError> {
    let dir = repo.join("phases");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| PlanError { file: file.clone(), field: "file".into(), problem: e.to_string() })?;
            Ok((file, text))
        })
        .collect()
}

fn parse(text: &str, file: &str) -> Result<Phase, PlanError> {
    let err = |field: &str, problem: String| PlanError { file: file.to_owned(), field: field.to_owned(), problem };
    let phase: Phase = toml::from_str(text).map_err(|e| err("document", e.message().to_owned()))?;
    evidence::record::validate_phase(&phase.id).map_err(|e| err("id", e.to_string()))?;
    let mut gate_ids = BTreeSet::new();
    for (i, gate) in phase.gates.iter().enumerate() {
        if !gate_ids.insert(gate.id.as_str()) {
            return Err(err(&format!("gate[{i}].id"), format!("gate '{}' is listed twice", gate.id)));
        }
        if gate.agents.is_empty() {
            return Err(err(&format!("gate[{i}].agents"), "name the roster agents whose evidence the gate judges".into()));
        }
    }
    Ok(phase)
}

fn check_references(file: &str, phase: &Phase, all: &BTreeMap<String, (String, Phase)>, roster: &Roster) -> Result<(), PlanError> {
    let err = |field: String, problem: String| PlanError { file: file.to_owned(), field, problem };
    for required in &phase.requires {
        if !all.contains_key(required) {
            return Err(err("requires".into(), format!("phase '{required}' does not exist; known phases: {}", all.keys().cloned().collect::<Vec<_>>().join(", "))));
        }
    }
    for (i, gate) in phase.gates.iter().enumerate() {
        for name in &gate.agents {
            let agent = roster.agent(name).ok_or_else(|| err(format!("gate[{i}].agents"), format!("'{name}' is not in the roster; check the spelling against agents/roster.toml")))?;
            if !agent.phases.contains(&phase.id) {
                return Err(err(format!("gate[{i}].agents"), format!("'{name}' does not run in {} (its phases are {}); add {} to its phases in the roster", phase.id, agent.phases.join(", "), phase.id)));
            }
        }
    }
    Ok(())
}

/// Orders phases so each comes after the phases it requires; among phases
/// ready at the same time, by id. A cycle is an error naming its phases.
fn run_order(mut pending: BTreeMap<String, (String, Phase)>) -> Result<Vec<Phase>, PlanError> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().find(|(_, (_, p))| p.requires.iter().all(|r| done.contains(r))).map(|(id, _)| id.clone());
        let Some(id) = ready else {
            let file = pending.values().next().map(|(f, _)| f.clone()).unwrap_or_default();
            let stuck: Vec<_> = pending.keys().cloned().collect();
            return Err(PlanError { file, field: "requires".into(), problem: format!("phases {} require each other in a cycle", stuck.join(", ")) });
        };
        if let Some((_, phase)) = pending.remove(&id) {
            done.insert(id);
            ordered.push(phase);
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests;
