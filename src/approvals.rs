//! The release's approvals matrix as the conductor builds it for `approve`,
//! `cab` and `pack`: the roles the CAB Secretary's settings in conductor.toml
//! require, the commit authors from git, the decisions from the ledger.

use std::path::Path;

use agents::Roster;
use anyhow::{Result, anyhow};
use evidence::approval::{ApprovalsMatrix, MatrixInput};
use evidence::record::{Record, ReleaseBinding};
use evidence::trust::TrustRoot;

use crate::config::{self, Config};
use crate::phases::PhasePlan;

/// The roles the release must have approved: `roles` of the first roster
/// agent of kind `approval` that conductor.toml configures, else `cab`.
pub fn required_roles(repo: &Path) -> Result<Vec<String>> {
    let roster = Roster::load(repo)?;
    let plan = PhasePlan::load(repo, &roster)?;
    let config = Config::load(repo, &roster, &plan)?;
    let agent = roster.agents().iter().filter(|a| a.kind == "approval").find(|a| !config.settings(&a.name).is_empty());
    let settings = agent.map(|a| config.settings(&a.name)).unwrap_or_default();
    agents::approval::required_roles(&settings).map_err(|e| anyhow!("{}: agents.\"{}\": {e}", config::FILE, agent.map_or("CAB Secretary", |a| a.name.as_str())))
}

/// The matrix of `release` from `records` under `trust`.
pub fn matrix(repo: &Path, records: &[Record], trust: &TrustRoot, release: &ReleaseBinding) -> Result<ApprovalsMatrix> {
    let roles = required_roles(repo)?;
    let authors = agents::approval::release_authors(repo, &release.commit).map_err(|e| anyhow!("cannot list the release's commit authors: {e}"))?;
    Ok(ApprovalsMatrix::build(&MatrixInput { records, trust, release, authors: &authors, required_roles: &roles }))
}
