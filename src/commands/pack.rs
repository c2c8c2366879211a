//! `conductor pack`: seal the ledger into a deterministic pack.

use std::path::PathBuf;

use anyhow::Result;
use evidence::ledger::Ledger;
use evidence::pack::{PackSummary, SealInput, write_pack};

use crate::Exit;
use crate::cli::PackArgs;
use crate::workspace::{self, Workspace};

pub fn run(args: PackArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("evidence-{}.zip", release.state.binding.version)));
    let summary = seal(&ws, &release, &out)?;
    println!("sealed {} records ({} files, root {}) into {}", summary.records, summary.files, summary.root, summary.path.display());
    Ok(Exit::Success)
}

/// Seals the release's ledger into a pack at `out`.
pub(crate) fn seal(ws: &Workspace, release: &workspace::Release, out: &std::path::Path) -> Result<PackSummary> {
    // Holding the writer lock keeps the ledger still while it is sealed.
    let ledger = Ledger::open(&release.ledger_path())?;
    let trust = workspace::load_trust(&ws.trust_path(), "the trust root")?;
    let key = release.key()?;
    let public_keys: Vec<_> = trust.keys().map(|k| k.key.clone()).chain([key.public_key().clone()]).collect();
    let approvals = crate::approvals::matrix(&ws.repo, ledger.records(), &trust, &release.state.binding)?;
    let page = index_page(ws, release, ledger.records(), &trust, &approvals)?;
    let input = SealInput {
        records: ledger.records(),
        release: &release.state.binding,
        store: &release.store(),
        public_keys: &public_keys,
        trust_root: trust.digest(),
        seal_key: &key,
        approvals: &approvals,
        index_html: Some(page.as_bytes()),
    };
    Ok(write_pack(out, &input)?)
}

/// The pack's `index.html`: the release report, its evidence where the pack keeps it.
fn index_page(ws: &Workspace, release: &workspace::Release, records: &[evidence::record::Record], trust: &evidence::trust::TrustRoot, approvals: &evidence::approval::ApprovalsMatrix) -> Result<String> {
    let locations = vec![
        ("ledger".to_owned(), evidence::pack::LEDGER.to_owned()),
        ("evidence files, by digest".to_owned(), "evidence/sha256/".to_owned()),
        ("SLO snapshots and charts".to_owned(), "slo/<record type>/".to_owned()),
        ("signed manifest of every file".to_owned(), evidence::pack::MANIFEST.to_owned()),
    ];
    let report = crate::commands::report::build_with(ws, release, records, trust, approvals.clone(), locations)?;
    Ok(crate::report::html(&report))
}
