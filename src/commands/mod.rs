//! One file per verb; each turns parsed arguments into library calls and
//! renders the outcome.

mod access_log;
mod approve;
mod attest;
mod cab;
mod changelog;
mod init;
mod keygen;
mod log;
pub(crate) mod pack;
mod plan;
mod policy;
mod preflight;
mod promote;
mod readiness;
mod repair;
pub(crate) mod report;
mod run;
mod sbom;
mod scan_secrets;
mod status;
mod validate;
mod verify;
mod version;
mod worker;

use anyhow::Result;

use crate::Exit;
use crate::cli::{Cli, Command};

/// Runs the chosen verb.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Init(args) => init::run(args),
        Command::Attest(args) => attest::run(args),
        Command::Log(args) => log::run(args),
        Command::Pack(args) => pack::run(args),
        Command::Report(args) => report::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Repair => repair::run(),
        Command::AccessLog(args) => access_log::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Run(args) => run::run(args),
        Command::Status(args) => status::run(args),
        Command::ScanSecrets(args) => scan_secrets::run(args),
        Command::Sbom(args) => sbom::run(args),
        Command::Worker(args) => worker::run(args),
        Command::Policy { action } => policy::run(action),
        Command::Preflight(args) => preflight::run(args),
        Command::Approve(args) => approve::run(args),
        Command::Cab(args) => cab::run(args),
        Command::Promote(args) => promote::run(args),
        Command::Readiness(args) => readiness::run(args),
        Command::Version(args) => version::run(args),
        Command::Changelog(args) => changelog::run(args),
    }
}
