//! `conductor report`, and the release report every run and promotion
//! leaves in `reports/release-<version>.md`, whatever the outcome.

use std::path::{Path, PathBuf};

use agents::Roster;
use anyhow::{Context, Result};
use evidence::ledger::read_records;
use evidence::approval::ApprovalsMatrix;
use evidence::record::{EvidenceRef, Record};
use evidence::trust::TrustRoot;

use crate::Exit;
use crate::cli::ReportArgs;
use crate::phases::PhasePlan;
use crate::promote::flow::PromotionState;
use crate::report::{Inputs, ReleaseReport};
use crate::workspace::{self, Release, Workspace};

/// The folder of release reports in the repository.
pub const REPORTS: &str = "reports";

pub fn run(args: ReportArgs) -> Result<Exit> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let records = read_records(&release.ledger_path())?;
    let report = build(&ws, &release, &records, locations(&ws, &release))?;
    let version = &release.state.binding.version;
    let (out, text) = if args.html {
        (args.out.unwrap_or_else(|| PathBuf::from(format!("release-{version}.html"))), crate::report::html(&report))
    } else {
        (args.out.unwrap_or_else(|| markdown_path(&ws.repo, version)), crate::report::markdown(&report))
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    workspace::write_atomic(&out, text.as_bytes())?;
    println!("wrote {} ({})", out.display(), report.status.as_str());
    Ok(Exit::Success)
}

fn markdown_path(repo: &Path, version: &str) -> PathBuf {
    repo.join(REPORTS).join(format!("release-{version}.md"))
}

fn locations(ws: &Workspace, release: &Release) -> Vec<(String, String)> {
    let shown = |p: &Path| p.strip_prefix(&ws.repo).unwrap_or(p).display().to_string();
    vec![
        ("ledger".into(), shown(&release.ledger_path())),
        ("evidence files, by digest".into(), shown(release.store().path_of(&evidence::digest::Sha256([0; 32])).parent().unwrap_or(&release.dir))),
        ("a sealed pack".into(), format!("`conductor pack` writes evidence-{}.zip; `conductor verify` checks it offline", release.state.binding.version)),
    ]
}

/// The report of the release from `records`, with the repository's plan,
/// trust root and approvals.
pub(crate) fn build(ws: &Workspace, release: &Release, records: &[Record], locations: Vec<(String, String)>) -> Result<ReleaseReport> {
    let trust = workspace::load_trust(&ws.trust_path(), "the trust root")?;
    let approvals = crate::approvals::matrix(&ws.repo, records, &trust, &release.state.binding)?;
    build_with(ws, release, records, &trust, approvals, locations)
}

/// The same, with the trust root and approvals matrix the caller already has.
pub(crate) fn build_with(ws: &Workspace, release: &Release, records: &[Record], trust: &TrustRoot, approvals: ApprovalsMatrix, locations: Vec<(String, String)>) -> Result<ReleaseReport> {
    let roster = Roster::load(&ws.repo)?;
    let plan = PhasePlan::load(&ws.repo, &roster)?;
    let store = release.store();
    let read = |e: &EvidenceRef| std::fs::read(store.path_of(&e.sha256)).ok();
    Ok(ReleaseReport::build(Inputs { records, release: &release.state.binding, plan: &plan, trust, approvals, promotion: PromotionState::load(release)?, read: &read, locations }))
}

/// Writes `reports/release-<version>.md` and keeps it out of `git status`,
/// so a report never makes the next run's tree dirty. Returns its path.
pub(crate) fn write_markdown(ws: &Workspace, release: &Release) -> Result<PathBuf> {
    let records = read_records(&release.ledger_path())?;
    let report = build(ws, release, &records, locations(ws, release))?;
    let path = markdown_path(&ws.repo, &release.state.binding.version);
    std::fs::create_dir_all(ws.repo.join(REPORTS)).with_context(|| format!("cannot create {}", ws.repo.join(REPORTS).display()))?;
    crate::git::exclude_locally(&ws.repo, "/reports/release-*.md")?;
    workspace::write_atomic(&path, crate::report::markdown(&report).as_bytes())?;
    Ok(path)
}
