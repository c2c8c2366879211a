//! `conductor.toml`: the repository's wiring of roster agents to their inputs.
//!
//! ```toml
//! [agents."QE Generalist"]
//! path = "reports/junit.xml"
//!
//! [agents."Template Keeper"]
//! command = "scripts/check-templates.sh"
//! timeout_seconds = 120
//!
//! [gates.supply_chain]
//! max_high_vulnerabilities = 2
//! ```
//!
//! A `[gates.<id>]` table reaches the gate's policy as `input.settings`, so
//! thresholds are changed here rather than by editing policies.
//!
//! Without the file every agent runs unconfigured, records its missing
//! input, and its gate fails: a bare repository never passes.

use std::collections::BTreeMap;
use std::path::Path;

use agents::Roster;
use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The file's name at the top of the repository.
pub const FILE: &str = "conductor.toml";

/// The parsed configuration.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Config {
    /// Settings per roster agent, by name.
    #[serde(default)]
    pub agents: BTreeMap<String, toml::Table>,
    /// Thresholds per gate, by gate id.
    #[serde(default)]
    pub gates: BTreeMap<String, toml::Table>,
}

impl Config {
    /// Reads `<repo>/conductor.toml`, or the empty configuration when there is none.
    /// Agent names must be roster names and gate ids gate ids of the plan, so a
    /// typo is an error, not a silent no-op.
    pub fn load(repo: &Path, roster: &Roster, plan: &crate::phases::PhasePlan) -> Result<Self> {
        let path = repo.join(FILE);
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let config: Config = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?;
        for name in config.agents.keys() {
            if roster.agent(name).is_none() {
                bail!("{}: agents.\"{name}\": not a roster agent; check the spelling against `conductor plan`", path.display());
            }
        }
        config.check_gates(plan)?;
        Ok(config)
    }

    /// Checks that every `[gates.<id>]` names a gate of the plan.
    fn check_gates(&self, plan: &crate::phases::PhasePlan) -> Result<()> {
        for id in self.gates.keys() {
            if !plan.phases().iter().any(|p| p.gates.iter().any(|g| &g.id == id)) {
                bail!("{FILE}: gates.{id}: not a gate of the phase plan; check the spelling against `conductor plan`");
            }
        }
        Ok(())
    }

    /// The thresholds of gate `id` as the policy sees them (empty when unset).
    pub fn gate_settings(&self, id: &str) -> serde_json::Value {
        self.gates.get(id).and_then(|t| serde_json::to_value(t).ok()).unwrap_or_else(|| serde_json::json!({}))
    }

    /// The settings of agent `name` (empty when unconfigured).
    pub fn settings(&self, name: &str) -> toml::Table {
        self.agents.get(name).cloned().unwrap_or_default()
    }
}
