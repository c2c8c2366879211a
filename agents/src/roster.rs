//! The roster: the named agents, each mapped to a kind, its phases, the
//! record type of its evidence and the settings it reads. The built-in roster
//! is `agents/roster.toml`, embedded and parsed like a user's own.

use std::collections::BTreeSet;

use serde::Deserialize;

/// The built-in roster file.
pub const BUILTIN: &str = include_str!("../roster.toml");

/// One roster entry.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RosterAgent {
    /// The agent's name, such as `SLO Librarian`.
    pub name: String,
    /// The agent kind that implements it.
    pub kind: String,
    /// The phases it runs in.
    pub phases: Vec<String>,
    /// The record type its evidence is filed under.
    pub record_type: String,
    /// The settings it must be given in conductor.toml; optional ones, which
    /// have defaults, are not listed.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// What it produces, in a sentence.
    pub summary: String,
}

/// A validated roster.
#[derive(Clone, Debug)]
pub struct Roster {
    agents: Vec<RosterAgent>,
}

/// A problem in a roster file, naming the place and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {field}: {problem}")]
pub struct RosterError {
    /// The file.
    pub source_name: String,
    /// The offending field.
    pub field: String,
    /// What is wrong and what to do.
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    agent: Vec<RosterAgent>,
}

impl Roster {
    /// The built-in roster.
    pub fn builtin() -> Result<Self, RosterError> {
        Self::parse(BUILTIN, "agents/roster.toml (built in)")
    }

    /// The repository's own `agents/roster.toml` when it has one, which
    /// replaces the built-in roster whole; otherwise the built-in one.
    pub fn load(repo: &std::path::Path) -> Result<Self, RosterError> {
        let path = repo.join("agents").join("roster.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::builtin(),
            Err(e) => Err(RosterError { source_name: path.display().to_string(), field: "file".into(), problem: e.to_string() }),
        }
    }

    /// Parses and validates roster text.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, RosterError> {
        let err = |field: String, problem: String| RosterError { source_name: source_name.to_owned(), field, problem };
        let raw: RawRoster = toml::from_str(text).map_err(|e| err("document".into(), e.to_string()))?;
        let mut names = BTreeSet::new();
        for (i, agent) in raw.agent.iter().enumerate() {
            let at = |f: &str| format!("agent[{i}].{f}");
            if !names.insert(agent.name.as_str()) {
                return Err(err(at("name"), format!("'{}' is listed twice; keep one entry", agent.name)));
            }
            evidence::record::validate_record_type(&agent.record_type).map_err(|e| err(at("record_type"), e.to_string()))?;
            if agent.phases.is_empty() {
                return Err(err(at("phases"), "name at least one phase the agent runs in".into()));
            }
            for phase in &agent.phases {
                evidence::record::validate_phase(phase).map_err(|e| err(at("phases"), e.to_string()))?;
            }
        }
        Ok(Self { agents: raw.agent })
    }

    /// Every agent, in file order.
    pub fn agents(&self) -> &[RosterAgent] {
        &self.agents
    }

    /// The agent called `name`.
    pub fn agent(&self, name: &str) -> Option<&RosterAgent> {
        self.agents.iter().find(|a| a.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_roster_has_sixty_distinct_agents() {
        let roster = Roster::builtin().unwrap();
        assert_eq!(roster.agents().len(), 60);
        assert!(roster.agent("Evidence Notary").is_some());
    }

    #[test]
    fn mistakes_name_the_field() {
        let entry = "[[agent]]\nname = \"A\"\nkind = \"file\"\nphases = [\"P1\"]\nrecord_type = \"junit\"\nsummary = \"s\"\n";
        let twice = format!("{entry}{entry}");
        assert_eq!(Roster::parse(&twice, "r").unwrap_err().field, "agent[1].name");
        let bad_type = entry.replace("junit", "JUnit Report");
        assert_eq!(Roster::parse(&bad_type, "r").unwrap_err().field, "agent[0].record_type");
        let no_phase = entry.replace("[\"P1\"]", "[]");
        assert_eq!(Roster::parse(&no_phase, "r").unwrap_err().field, "agent[0].phases");
    }
}
