//! `conductor repair`: move a torn last record aside.

use anyhow::Result;

use crate::Exit;
use crate::workspace::Workspace;

pub fn run() -> Result<Exit> {
    let release = Workspace::discover()?.current()?;
    match evidence::ledger::repair(&release.ledger_path())? {
        Some(aside) => println!("moved the torn record to {}; the ledger ends at its last whole record", aside.display()),
        None => println!("the ledger is whole; nothing to repair"),
    }
    Ok(Exit::Success)
}
