//! `conductor approve`: a board member's signed decision on the current
//! release, appended to its ledger. The decision is checked exactly as the
//! approvals matrix will count it (role membership, revocation, validity,
//! identity, separation of duties); one that would not count is refused with
//! its reason and nothing is written.

use anyhow::{Context, Result};
use evidence::approval::{APPROVAL_PREDICATE, Approval, ApprovedRelease, Decision, LedgerHead};
use evidence::digest::Sha256;
use evidence::ledger::Ledger;
use evidence::record::Record;

use crate::Exit;
use crate::cli::{ApproveArgs, DecisionArg};
use crate::workspace::{self, Workspace};

pub fn run(args: ApproveArgs) -> Result<Exit> {
    if args.reason.trim().is_empty() {
        anyhow::bail!("--reason: give the board a reason for the decision");
    }
    let ws = Workspace::discover()?;
    let release = ws.current()?;
    let trust_path = args.trust.clone().unwrap_or_else(|| ws.trust_path());
    let trust = workspace::load_trust(&trust_path, "--trust")?;
    let key = workspace::load_secret_key(&args.key).with_context(|| "--key")?;
    // The writer lock is held from here until the record is appended, so the
    // ledger head the approver signs is the one the record follows.
    let mut ledger = Ledger::open(&release.ledger_path())?;
    let binding = release.state.binding.clone();
    let identity = trust.key(key.id().as_str()).and_then(|k| k.identity.clone()).unwrap_or_default();
    let (records, head) = match ledger.records().last() {
        Some(last) => (ledger.records().len() as u64, last.line_hash),
        None => (0, Sha256([0; 32])),
    };
    let approval = Approval {
        role: args.role.clone(),
        decision: match args.decision {
            DecisionArg::Approve => Decision::Approve,
            DecisionArg::Reject => Decision::Reject,
        },
        reason: args.reason.trim().to_owned(),
        approver: identity,
        release: ApprovedRelease::from(&binding),
        ledger_head: LedgerHead { records, sha256: head },
    };
    let at = workspace::now()?;
    // Count the decision as the matrix would before writing it.
    let candidate = Record::seal(approval.draft(), records, head, &binding, at, &key)?;
    // Only approval records count in the matrix, so only they are copied.
    let mut with_candidate: Vec<Record> = ledger.records().iter().filter(|r| r.statement.predicate_type == APPROVAL_PREDICATE).cloned().collect();
    with_candidate.push(candidate);
    let matrix = crate::approvals::matrix(&ws.repo, &with_candidate, &trust, &binding)?;
    let role = matrix.roles.iter().find(|r| r.role == args.role);
    let vote = role.and_then(|r| r.votes.iter().find(|v| v.key_id == key.id().as_str()));
    if let Some(refused) = vote.and_then(|v| v.refused.as_deref()).or(role.and_then(|r| (r.threshold == 0).then_some(r.problem.as_deref()).flatten())) {
        eprintln!("refused: {refused}");
        return Ok(Exit::Failed);
    }
    let record = ledger.append(approval.draft(), &binding, at, &key)?;
    let sequence = record.link.sequence;
    let role = role.map(|r| format!("; {} now has {} of {} approvals{}", r.role, r.approvals, r.threshold, if r.rejections > 0 { format!(" and {} rejections", r.rejections) } else { String::new() }));
    println!("recorded #{sequence} P6 approval: {} {} {} as {}{}", approval.approver, approval.decision.as_str(), binding.version, args.role, role.unwrap_or_default());
    Ok(Exit::Success)
}
