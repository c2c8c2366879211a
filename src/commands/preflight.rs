//! `conductor preflight`: the pre-flight checks, one line each; exit 0 when
//! all pass and 1 otherwise. Settings come from the repository's
//! conductor.toml when it has one: the agent of kind `preflight` (base,
//! remote, skip, commit types) and the secret scanner's allowlist and baseline
//! from the agent of kind `secrets`; flags override them.

use agents::Roster;
use agents::preflight::{self, Options};
use anyhow::{Context, Result};
use serde_json::json;

use crate::Exit;
use crate::cli::PreflightArgs;

pub fn run(args: PreflightArgs) -> Result<Exit> {
    let repo = crate::git::toplevel(&args.repo).with_context(|| format!("--repo {}", args.repo.display()))?;
    let mut options = Options::from_settings(&repo, &configured(&repo)?).map_err(|e| anyhow::anyhow!("conductor.toml: {e}"))?;
    if let Some(base) = args.base {
        options.base = base;
    }
    if let Some(remote) = args.remote {
        options.remote = remote;
    }
    options.fetch &= !args.no_fetch;
    let checks = preflight::run(&options);
    let passed = checks.iter().all(|c| c.passed);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!({ "passed": passed, "checks": checks }))?);
    } else {
        for check in &checks {
            println!("{} {:<21} {}", if check.passed { "pass" } else { "FAIL" }, check.id, check.detail);
        }
        let failed = checks.iter().filter(|c| !c.passed).count();
        println!("{}", if passed { format!("all {} pre-flight checks passed", checks.len()) } else { format!("{failed} of {} pre-flight checks failed", checks.len()) });
    }
    Ok(if passed { Exit::Success } else { Exit::Failed })
}

/// The conductor.toml settings of the first roster agent of kind `preflight`
/// that has any, as that agent runs with them (the secret scanner's allowlist
/// and baseline included).
fn configured(repo: &std::path::Path) -> Result<toml::Table> {
    let path = repo.join(crate::config::FILE);
    if !path.exists() {
        return Ok(toml::Table::new());
    }
    let roster = Roster::load(repo)?;
    let plan = crate::phases::PhasePlan::load(repo, &roster)?;
    let config = crate::config::Config::load(repo, &roster, &plan)?;
    let first = roster.agents().iter().filter(|a| a.kind == "preflight").map(|a| config.task_settings(&roster, &a.name, a.phases.first().map_or("", String::as_str))).find(|s| !s.is_empty());
    Ok(first.unwrap_or_default())
}
