//! `conductor.toml`: the repository's wiring of roster agents to their inputs.
//!
//! ```toml
//! [agents."QE Generalist"]
//! path = "reports/junit.xml"
//!
//! [agents."Template Keeper"]
//! command = "scripts/check-templates.sh"
//! timeout_seconds = 120
//! ```
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
}

impl Config {
    /// Reads `<repo>/conductor.toml`, or the empty configuration when there is none.
    /// Agent names must be roster names, so a typo is an error, not a silent no-op.
    pub fn load(repo: &Path, roster: &Roster) -> Result<Self> {
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
        Ok(config)
    }

    /// The settings of agent `name` (empty when unconfigured).
    pub fn settings(&self, name: &str) -> toml::Table {
        self.agents.get(name).cloned().unwrap_or_default()
    }
}
