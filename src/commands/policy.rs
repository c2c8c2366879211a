//! `conductor policy test`: the Rego tests of the built-in and the
//! repository's policies.

use anyhow::{Result, bail};

use crate::Exit;
use crate::cli::PolicyAction;
use crate::gates::PolicySet;
use crate::workspace::Workspace;

pub fn run(action: PolicyAction) -> Result<Exit> {
    match action {
        PolicyAction::Test => test(),
    }
}

fn test() -> Result<Exit> {
    let ws = Workspace::discover()?;
    let results = PolicySet::load(&ws.repo)?.run_tests()?;
    if results.is_empty() {
        bail!("no policy tests found; add test_ rules in policies/*_test.rego");
    }
    for r in &results {
        println!("{} {}", if r.passed { "ok  " } else { "FAIL" }, r.name);
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    println!("{} tests, {failed} failed", results.len());
    Ok(if failed == 0 { Exit::Success } else { Exit::Failed })
}
