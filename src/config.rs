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
//! [agents."Secrets Escrow".phases.P3]
//! mode = "history"
//!
//! [gates.supply_chain]
//! max_vulnerabilities = { high = 2 }
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
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Settings per roster agent, by name.
    #[serde(default)]
    pub agents: BTreeMap<String, toml::Table>,
    /// Thresholds per gate, by gate id.
    #[serde(default)]
    pub gates: BTreeMap<String, toml::Table>,
    /// How `conductor promote` takes the release to its users.
    #[serde(default)]
    pub promotion: crate::promote::PromotionConfig,
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
        config.check_phase_tables(roster, &path)?;
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

    /// The settings of agent `name` (empty when unconfigured), as written.
    pub fn settings(&self, name: &str) -> toml::Table {
        self.agents.get(name).cloned().unwrap_or_default()
    }

    /// The settings agent `name` runs with in `phase`: its own table with the
    /// table under `phases.<phase>` laid over it (an agent that runs in two
    /// phases, such as a tree scan in P0 and a history scan in P3, is set up
    /// once with what differs per phase). An agent of kind `preflight` also
    /// takes the secret scanner's allowlist and baseline unless it sets its
    /// own, so a secret accepted by one is accepted by both.
    pub fn task_settings(&self, roster: &Roster, name: &str, phase: &str) -> toml::Table {
        let mut settings = self.settings(name);
        let per_phase = settings.remove(PHASES_KEY);
        if let Some(toml::Value::Table(phases)) = per_phase
            && let Some(toml::Value::Table(over)) = phases.get(phase)
        {
            settings.extend(over.clone());
        }
        if roster.agent(name).is_some_and(|a| a.kind == "preflight") {
            let scanner = roster.agents().iter().filter(|a| a.kind == "secrets").map(|a| self.settings(&a.name)).find(|s| !s.is_empty()).unwrap_or_default();
            for key in SHARED_SECRET_SETTINGS {
                if let Some(value) = scanner.get(key) {
                    settings.entry(key).or_insert_with(|| value.clone());
                }
            }
        }
        settings
    }

    /// Checks that every `phases.<id>` table of an agent names a phase the
    /// agent runs in.
    fn check_phase_tables(&self, roster: &Roster, path: &Path) -> Result<()> {
        for (name, table) in &self.agents {
            let Some(per_phase) = table.get(PHASES_KEY) else { continue };
            let Some(phases) = per_phase.as_table() else {
                bail!("{}: agents.\"{name}\".{PHASES_KEY}: must be a table of phase ids, such as [agents.\"{name}\".{PHASES_KEY}.P3]", path.display());
            };
            let runs_in = roster.agent(name).map(|a| a.phases.clone()).unwrap_or_default();
            for (phase, over) in phases {
                if !runs_in.contains(phase) || !over.is_table() {
                    bail!("{}: agents.\"{name}\".{PHASES_KEY}.{phase}: {name} runs in {}; use a table for one of those phases", path.display(), runs_in.join(", "));
                }
            }
        }
        Ok(())
    }
}

/// The key of an agent's per-phase settings.
const PHASES_KEY: &str = "phases";

/// The secret scanner's settings a pre-flight agent shares.
const SHARED_SECRET_SETTINGS: [&str; 4] = ["allow_paths", "allow_patterns", "baseline", "max_file_bytes"];

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_phase_table_lays_over_the_agent_settings_in_that_phase_only() {
        let roster = Roster::builtin().unwrap();
        let config = config("[agents.\"Secrets Escrow\"]\npaths = [\".\"]\n[agents.\"Secrets Escrow\".phases.P3]\nmode = \"history\"\n");
        let p0 = config.task_settings(&roster, "Secrets Escrow", "P0");
        let p3 = config.task_settings(&roster, "Secrets Escrow", "P3");
        assert_eq!((p0.get("mode"), p0.contains_key("phases")), (None, false));
        assert_eq!(p3.get("mode").and_then(toml::Value::as_str), Some("history"));
        assert!(p3.contains_key("paths"), "the agent's own settings stay");
        assert!(config.check_phase_tables(&roster, Path::new("conductor.toml")).is_ok());
        let wrong = config_with_phase("P7");
        let err = wrong.check_phase_tables(&roster, Path::new("conductor.toml")).unwrap_err().to_string();
        assert!(err.contains("agents.\"Secrets Escrow\".phases.P7") && err.contains("runs in P0, P3"), "{err}");
    }

    fn config_with_phase(phase: &str) -> Config {
        config(&format!("[agents.\"Secrets Escrow\".phases.{phase}]\nmode = \"history\"\n"))
    }

    #[test]
    fn the_preflight_takes_the_secret_scanners_allowlist_unless_it_has_its_own() {
        let roster = Roster::builtin().unwrap();
        let config = config(
            "[agents.\"Secrets Escrow\"]\nallow_paths = [\"tests/**\"]\nbaseline = \"b.json\"\n[agents.\"CI/CD Engineer\"]\nbase = \"main\"\nbaseline = \"own.json\"\n",
        );
        let settings = config.task_settings(&roster, "CI/CD Engineer", "P0");
        assert_eq!(settings.get("allow_paths"), Some(&toml::Value::Array(vec!["tests/**".into()])));
        assert_eq!(settings.get("baseline").and_then(toml::Value::as_str), Some("own.json"));
        assert!(!config.task_settings(&roster, "QE Generalist", "P0").contains_key("allow_paths"), "only the pre-flight shares them");
    }
}
