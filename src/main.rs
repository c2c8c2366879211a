//! `conductor`: the command-line front of the evidence-first release conductor.
//! It parses arguments, calls the libraries, renders outcomes and returns an
//! exit code: 0 success, 1 a check or verification failed, 2 bad usage or
//! unusable input, 3 promotion rolled back.

mod access_log;
mod approvals;
mod builtin;
mod bus;
mod cli;
mod commands;
mod config;
mod gates;
mod git;
mod history;
mod nats;
mod passphrase;
mod phases;
mod promote;
mod report;
mod run;
mod telemetry;
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
    /// A promotion was rolled back (or aborted) and the release marked ABORTED.
    RolledBack = 3,
    /// A promotion is paused on an inconclusive analysis, awaiting a signed decision.
    Paused = 4,
}

fn main() -> ExitCode {
    restore_sigpipe();
    let args = cli::Cli::parse();
    let telemetry = telemetry::Telemetry::init(args.log_format);
    let outcome = commands::run(args);
    // The last spans and metrics are exported here, once no runtime is running.
    telemetry.shutdown();
    match outcome {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(Exit::Usage as u8)
        }
    }
}

/// Lets `conductor log | head` end quietly, as command-line tools do, instead
/// of failing on a closed pipe: Rust ignores SIGPIPE by default.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called once at start-up before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
