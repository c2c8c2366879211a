//! `conductor cab`: the approvals matrix for the board, from the current
//! release's ledger or from a pack's `approvals_matrix.json`; as a table, as
//! Markdown for the minutes, or as JSON. Exit 0 when every required role is
//! approved, 1 otherwise.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use evidence::approval::{APPROVALS_MATRIX, ApprovalsMatrix, RoleMatrix, Vote};
use evidence::ledger::read_records;
use evidence::pack::PackReader;

use crate::Exit;
use crate::cli::CabArgs;
use crate::workspace::{self, Workspace};

pub fn run(args: CabArgs) -> Result<Exit> {
    let (matrix, source) = match &args.pack {
        Some(pack) => (from_pack(pack)?, format!("{} (run `conductor verify` to check it against the signed approvals)", pack.display())),
        None => from_ledger(&args)?,
    };
    if args.json {
        print!("{}", String::from_utf8_lossy(&matrix.to_json()));
    } else if args.md {
        print!("{}", markdown(&matrix));
    } else {
        print!("{}", text(&matrix, &source));
    }
    Ok(if matrix.approved() { Exit::Success } else { Exit::Failed })
}

fn from_pack(path: &Path) -> Result<ApprovalsMatrix> {
    let mut pack = PackReader::open(path, evidence::pack::Limits::default()).with_context(|| format!("cannot open the pack {}", path.display()))?;
    let bytes = pack.read(APPROVALS_MATRIX).with_context(|| format!("{}: no readable {APPROVALS_MATRIX}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: {APPROVALS_MATRIX} is not an approvals matrix", path.display()))
}

fn from_ledger(args: &CabArgs) -> Result<(ApprovalsMatrix, String)> {
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let trust = workspace::load_trust(&args.trust.clone().unwrap_or_else(|| ws.trust_path()), "--trust")?;
    let records = read_records(&release.ledger_path())?;
    let matrix = crate::approvals::matrix(&ws.repo, &records, &trust, &release.state.binding)?;
    Ok((matrix, format!("the ledger of {}", release.state.binding.version)))
}

fn summary(role: &RoleMatrix) -> String {
    let state = if role.approved { "approved".to_owned() } else { format!("not approved: {}", role.problem.as_deref().unwrap_or("quorum not met")) };
    format!("{} of {} approvals, {} rejections, {} members; {state}", role.approvals, role.threshold, role.rejections, role.members)
}

fn who(vote: &Vote) -> String {
    vote.identity.clone().or_else(|| vote.name.clone()).unwrap_or_else(|| "(unknown key)".into())
}

fn decision(vote: &Vote) -> String {
    match (vote.decision, &vote.refused) {
        (None, _) => "-".into(),
        (Some(d), None) => d.as_str().into(),
        (Some(d), Some(_)) => format!("{} (not counted)", d.as_str()),
    }
}

fn text(matrix: &ApprovalsMatrix, source: &str) -> String {
    let r = &matrix.release;
    let mut out = format!("approvals of {} ({}) at commit {}, from {source}\n", r.version, r.environment, r.commit.get(..12).unwrap_or(&r.commit));
    for role in &matrix.roles {
        let required = if matrix.required_roles.contains(&role.role) { "required" } else { "not required" };
        let _ = writeln!(out, "\nrole {} ({required}): {}", role.role, summary(role));
        let _ = writeln!(out, "  {:<28} {:<12} {:<22} {:<20} reason", "approver", "key", "decision", "time");
        for vote in &role.votes {
            let time = vote.decided_at.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
            let _ = writeln!(out, "  {:<28} {:<12} {:<22} {:<20} {}", who(vote), vote.key_id.get(..12).unwrap_or(&vote.key_id), decision(vote), time, vote.reason.as_deref().unwrap_or(""));
            if let Some(refused) = &vote.refused {
                let _ = writeln!(out, "  {:<28} not counted: {refused}", "");
            }
        }
    }
    let _ = writeln!(out, "\n{}", if matrix.approved() { "every required role approved the release" } else { "the release is not approved" });
    out
}

/// Pipes and line breaks would break a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(matrix: &ApprovalsMatrix) -> String {
    let r = &matrix.release;
    let mut out = format!("# Approvals of {} ({})\n\nCommit `{}`.\n", r.version, r.environment, r.commit);
    for role in &matrix.roles {
        let _ = writeln!(out, "\n## Role `{}`\n\n{}\n", role.role, cell(&summary(role)));
        out.push_str("| Approver | Key | Decision | Time | Reason | Counted |\n|---|---|---|---|---|---|\n");
        for vote in &role.votes {
            let counted = match (&vote.decision, &vote.refused) {
                (None, _) => "-".to_owned(),
                (Some(_), None) => "yes".to_owned(),
                (Some(_), Some(why)) => format!("no: {why}"),
            };
            let time = vote.decided_at.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
            let _ = writeln!(out, "| {} | `{}` | {} | {} | {} | {} |", cell(&who(vote)), vote.key_id.get(..12).unwrap_or(&vote.key_id), vote.decision.map_or("-", |d| d.as_str()), time, cell(vote.reason.as_deref().unwrap_or("")), cell(&counted));
        }
    }
    let _ = writeln!(out, "\n**{}**", if matrix.approved() { "Every required role approved the release." } else { "The release is not approved." });
    out
}
