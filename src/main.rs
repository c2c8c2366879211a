//! `conductor`: the command-line front of the evidence-first release conductor.
//! It parses arguments, calls the libraries, renders outcomes and returns an
//! exit code: 0 success, 1 a check or verification failed, 2 bad usage or
//! unusable input, 3 promotion rolled back.

mod cli;
mod commands;
mod git;
mod passphrase;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes CI can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything held.
    Success = 0,
    /// A check, gate or verification failed.
    Failed = 1,
    /// Bad usage or unusable input.
    Usage = 2,
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(Exit::Usage as u8)
        }
    }
}
