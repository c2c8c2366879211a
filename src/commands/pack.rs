//! `conductor pack`: seal the ledger into a deterministic pack.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use evidence::ledger::Ledger;
use evidence::pack::{SealInput, write_pack};
use evidence::trust::TrustRoot;

use crate::Exit;
use crate::cli::PackArgs;
use crate::workspace::Workspace;

pub fn run(args: PackArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    // Holding the writer lock keeps the ledger still while it is sealed.
    let ledger = Ledger::open(&release.ledger_path())?;
    let trust_path = ws.trust_path();
    let text = fs::read_to_string(&trust_path).with_context(|| format!("cannot read {}", trust_path.display()))?;
    let trust = TrustRoot::parse(&text, &trust_path.display().to_string())?;
    let key = release.key()?;
    let public_keys: Vec<_> = trust.keys().map(|k| k.key.clone()).chain([key.public_key().clone()]).collect();
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("evidence-{}.zip", release.state.binding.version)));
    let input = SealInput {
        records: ledger.records(),
        release: &release.state.binding,
        store: &release.store(),
        public_keys: &public_keys,
        trust_root: trust.digest(),
        seal_key: &key,
    };
    let summary = write_pack(&out, &input)?;
    println!("sealed {} records ({} files, root {}) into {}", summary.records, summary.files, summary.root, summary.path.display());
    Ok(Exit::Success)
}
