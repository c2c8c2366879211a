//! What must hold before the first percent of traffic moves: the pack
//! verifies under the operator's trust root with the same code as
//! `conductor verify`, its gate decisions re-decide the same, every gate of
//! every phase the GA phase requires passed, every required approval role
//! approved, and the pack is bound to the release being promoted.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use evidence::approval::{APPROVALS_MATRIX, ApprovalsMatrix};
use evidence::pack::{LEDGER, Limits, PackReader};
use evidence::record::{Record, ReleaseBinding};
use evidence::trust::TrustRoot;
use evidence::verify::{Options, Outcome, verify};

use crate::gates::recheck_pack;
use crate::history;
use crate::phases::PhasePlan;

/// The release an operator is promoting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its version, such as `v1.2.0`.
    pub version: String,
    /// The commit being deployed.
    pub commit: String,
    /// The environment it goes to.
    pub environment: String,
}

/// One reason the promotion may not start, with a stable code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Blocker {
    /// `pack-unverified`, `gate-decision-mismatch`, `gate-not-passed`,
    /// `gate-not-run`, `approvals-missing`, `role-not-approved` or `binding-mismatch`.
    pub code: &'static str,
    /// What is wrong, naming the gate, role or field.
    pub message: String,
}

fn blocker(code: &'static str, message: String) -> Blocker {
    Blocker { code, message }
}

/// What was found to hold, for the plan and the evidence of the decision.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cleared {
    /// The pack's release.
    pub release: ReleaseBinding,
    /// The pack's ledger head and record count.
    pub ledger_head: String,
    /// Records in the pack.
    pub records: u64,
    /// The gates found passed, as `P3/audit`.
    pub gates: Vec<String>,
    /// The approved required roles.
    pub roles: Vec<String>,
}

/// Checks every precondition; `Ok(Err(blockers))` lists all that failed.
/// `Err` is an unusable input (no pack, not a zip).
pub fn check(pack: &Path, trust: &TrustRoot, plan: &PhasePlan, ga_phase: &str, target: &Target) -> Result<Result<Cleared, Vec<Blocker>>> {
    let verified = match verify(pack, trust, &Options::default()).with_context(|| format!("cannot read the pack {}", pack.display()))? {
        Outcome::Verified(v) => v,
        Outcome::Failed(report, _) => {
            let found = report.findings.iter().map(|f| blocker("pack-unverified", format!("{}: {}", f.code.as_str(), f.message))).collect();
            return Ok(Err(found));
        }
    };
    let mut blockers = Vec::new();
    for m in recheck_pack(pack)?.mismatches {
        blockers.push(blocker("gate-decision-mismatch", format!("{}/{} (record {}): {}", m.phase, m.gate, m.sequence, m.message)));
    }
    let manifest = verified.manifest();
    blockers.extend(binding(&manifest.release, target));
    let (records, matrix) = contents(pack)?;
    let (gates, gate_blockers) = gates(&records, plan, ga_phase)?;
    blockers.extend(gate_blockers);
    let (roles, role_blockers) = roles(&matrix);
    blockers.extend(role_blockers);
    if !blockers.is_empty() {
        return Ok(Err(blockers));
    }
    Ok(Ok(Cleared { release: manifest.release.clone(), ledger_head: manifest.ledger.head.to_string(), records: manifest.ledger.records, gates, roles }))
}

fn binding(pack: &ReleaseBinding, target: &Target) -> Vec<Blocker> {
    [("version", &pack.version, &target.version), ("commit", &pack.commit, &target.commit), ("environment", &pack.environment, &target.environment)]
        .into_iter()
        .filter(|(_, p, t)| p != t)
        .map(|(field, p, t)| blocker("binding-mismatch", format!("the pack is bound to {field} {p}, but {t} is being promoted; promote the release the pack is for, or pack this one")))
        .collect()
}

/// The verified pack's records and its approvals matrix, read in one opening.
fn contents(pack: &Path) -> Result<(Vec<Record>, ApprovalsMatrix)> {
    let mut reader = PackReader::open(pack, Limits::default())?;
    let mut records = Vec::new();
    // The pack has verified, so every line parses; a line that does not is left out and its
    // gates then count as not run.
    reader.read_lines(LEDGER, evidence::record::MAX_LINE_BYTES, |_, line, _| records.extend(Record::parse_line(line).ok()))?;
    // Verification rebuilt this matrix from the signed approvals and found it equal.
    let bytes = reader.read(APPROVALS_MATRIX)?;
    let matrix = serde_json::from_slice(&bytes).with_context(|| format!("{}: {APPROVALS_MATRIX} is not an approvals matrix", pack.display()))?;
    Ok((records, matrix))
}

/// The phases `ga_phase` requires, directly or through others, in plan order.
pub fn required_phases<'p>(plan: &'p PhasePlan, ga_phase: &str) -> Result<Vec<&'p crate::phases::Phase>> {
    let find = |id: &str| plan.phases().iter().find(|p| p.id == id);
    let ga = find(ga_phase).with_context(|| format!("the GA phase {ga_phase} is not in the phase plan; set [promotion] ga_phase to one of `conductor plan`"))?;
    let mut wanted = BTreeSet::new();
    let mut queue: Vec<&str> = ga.requires.iter().map(String::as_str).collect();
    while let Some(id) = queue.pop() {
        if wanted.insert(id.to_owned())
            && let Some(p) = find(id)
        {
            queue.extend(p.requires.iter().map(String::as_str));
        }
    }
    Ok(plan.phases().iter().filter(|p| wanted.contains(&p.id)).collect())
}

fn gates(records: &[Record], plan: &PhasePlan, ga_phase: &str) -> Result<(Vec<String>, Vec<Blocker>)> {
    let mut passed = Vec::new();
    let mut blockers = Vec::new();
    for phase in required_phases(plan, ga_phase)? {
        for gate in &phase.gates {
            let name = format!("{}/{}", phase.id, gate.id);
            match history::latest_decision(records, &phase.id, &gate.id) {
                Some((true, _)) => passed.push(name),
                Some((false, reasons)) => blockers.push(blocker("gate-not-passed", format!("{name} did not pass: {}", reasons.first().map_or("no reason recorded", String::as_str)))),
                None => blockers.push(blocker("gate-not-run", format!("{name} has no decision in the pack; run `conductor run --phase {}` and pack again", phase.id))),
            }
        }
    }
    Ok((passed, blockers))
}

fn roles(matrix: &ApprovalsMatrix) -> (Vec<String>, Vec<Blocker>) {
    if matrix.required_roles.is_empty() {
        let why = "no approval role is required for this release, so nobody signed it off; list the required roles for the CAB Secretary in conductor.toml and have them approve";
        return (Vec::new(), vec![blocker("approvals-missing", why.into())]);
    }
    let mut approved = Vec::new();
    let mut blockers = Vec::new();
    for role in &matrix.required_roles {
        match matrix.roles.iter().find(|m| &m.role == role) {
            Some(m) if m.approved => approved.push(role.clone()),
            Some(m) => {
                let why = m.problem.clone().unwrap_or_else(|| format!("{} of {} approvals", m.approvals, m.threshold));
                blockers.push(blocker("role-not-approved", format!("role {role}: {why}")));
            }
            None => blockers.push(blocker("role-not-approved", format!("role {role} is required but the trust root does not define it"))),
        }
    }
    (approved, blockers)
}
