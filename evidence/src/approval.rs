//! Change-advisory-board approvals: the signed decision a board member
//! appends to the ledger, and the approvals matrix built from such records
//! under a trust root.
//!
//! An approval is an ordinary ledger record of type `approval`, signed by the
//! approver's own key rather than the notary's. Its predicate names the role,
//! the decision and the reason, the release (version, commit, environment)
//! and the ledger head the approver saw, which is also the record's chain
//! link, so a decision cannot be moved to another release or another point
//! in the ledger.
//!
//! The matrix is a pure function of the ledger's records, the trust root, the
//! release, the emails of the release's commit authors and the roles the
//! release requires. `conductor pack` stores it as `approvals_matrix.json`;
//! `verify` builds it again from the signed records with the verifier's own
//! trust root and reports any difference.
//!
//! ```
//! use evidence::approval::{ApprovalsMatrix, MatrixInput};
//! use evidence::record::ReleaseBinding;
//! use evidence::trust::TrustRoot;
//!
//! let trust = TrustRoot::parse("version = 1\n", "trust.toml").unwrap();
//! let release = ReleaseBinding { version: "v1.0.0".into(), commit: "a".repeat(40), environment: "prod".into(), id: "r1".into() };
//! let matrix = ApprovalsMatrix::build(&MatrixInput { records: &[], trust: &trust, release: &release, authors: &[], required_roles: &["cab".to_owned()] });
//! assert!(!matrix.roles[0].approved);
//! assert_eq!(matrix.roles[0].problem.as_deref(), Some("the trust root defines no role cab; add [roles.cab] with its keys and threshold"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Sha256;
use crate::record::{Record, RecordDraft, ReleaseBinding};
use crate::timestamp::Timestamp;
use crate::trust::TrustRoot;

/// The predicate type of an approval record.
pub const APPROVAL_PREDICATE: &str = "https://conductor.dev/attestation/approval/v1";

/// The record type approvals are filed under.
pub const APPROVAL_RECORD_TYPE: &str = "approval";

/// The phase approvals belong to: the release train.
pub const APPROVAL_PHASE: &str = "P6";

/// The matrix's path inside a pack.
pub const APPROVALS_MATRIX: &str = "approvals_matrix.json";

/// The matrix's schema name.
pub const MATRIX_SCHEMA: &str = "conductor/approvals-matrix/v1";

/// A board member's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The member approves the release.
    Approve,
    /// The member rejects it; one rejection withholds the role's approval.
    Reject,
}

impl Decision {
    /// The decision as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }
}

/// The release an approval is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedRelease {
    /// The version, such as `v1.0.0`.
    pub version: String,
    /// The full commit id.
    pub commit: String,
    /// The target environment.
    pub environment: String,
}

impl From<&ReleaseBinding> for ApprovedRelease {
    fn from(b: &ReleaseBinding) -> Self {
        Self { version: b.version.clone(), commit: b.commit.clone(), environment: b.environment.clone() }
    }
}

/// The ledger head an approver saw: the last record before theirs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerHead {
    /// Records in the ledger when the approver decided.
    pub records: u64,
    /// SHA-256 of the last of them (all zeros for an empty ledger).
    pub sha256: Sha256,
}

/// The predicate of an approval record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Approval {
    /// The trust-root role the approver acts in, such as `cab`.
    pub role: String,
    /// Approve or reject.
    pub decision: Decision,
    /// Why, in the approver's words.
    pub reason: String,
    /// The approver's identity (an email) as the trust root gives it.
    pub approver: String,
    /// The release decided on.
    pub release: ApprovedRelease,
    /// The ledger head the approver saw.
    pub ledger_head: LedgerHead,
}

impl Approval {
    /// The record to append for this approval.
    pub fn draft(&self) -> RecordDraft {
        RecordDraft {
            phase: APPROVAL_PHASE.into(),
            record_type: APPROVAL_RECORD_TYPE.into(),
            predicate_type: APPROVAL_PREDICATE.into(),
            predicate: serde_json::to_value(self).unwrap_or_else(|_| unreachable!("an approval is plain data and always serialises")),
            subjects: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

/// What a matrix is built from.
pub struct MatrixInput<'a> {
    /// The ledger's records, in order.
    pub records: &'a [Record],
    /// The trust root that decides who may approve.
    pub trust: &'a TrustRoot,
    /// The release.
    pub release: &'a ReleaseBinding,
    /// Emails of the authors of the release's commits: they may not approve it.
    pub authors: &'a [String],
    /// Roles the release needs approved, listed even when nobody decided yet.
    pub required_roles: &'a [String],
}

/// One approver's standing in one role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vote {
    /// The approver's key id.
    pub key_id: String,
    /// The key's name in the trust root, when it is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The identity the trust root gives the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Their latest decision, when they made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    /// The record holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Whether the decision counts towards the role's quorum.
    pub counted: bool,
    /// Why it does not count, when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// One role's row group: its members' votes and whether the quorum is met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleMatrix {
    /// The role.
    pub role: String,
    /// Approvals it needs (k of k-of-n); 0 when the trust root lacks the role.
    pub threshold: usize,
    /// Keys in the role (n).
    pub members: usize,
    /// Distinct member keys whose counted decision is approve.
    pub approvals: usize,
    /// Distinct member keys whose counted decision is reject.
    pub rejections: usize,
    /// At least `threshold` approvals.
    pub quorum_met: bool,
    /// Quorum met and no rejection.
    pub approved: bool,
    /// What keeps the role from being approved, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Every member, then every other key that tried to act in the role.
    pub votes: Vec<Vote>,
}

/// The approvals matrix of a release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApprovalsMatrix {
    /// Always [`MATRIX_SCHEMA`].
    pub schema: String,
    /// The release.
    pub release: ApprovedRelease,
    /// The trust root's digest the matrix was built under.
    pub trust_root: Sha256,
    /// The commit authors who may not approve.
    pub release_authors: Vec<String>,
    /// Roles the release requires.
    pub required_roles: Vec<String>,
    /// One entry per required role and per role anyone decided in, by name.
    pub roles: Vec<RoleMatrix>,
}

impl ApprovalsMatrix {
    /// Builds the matrix. Later decisions by the same key in the same role
    /// replace earlier ones, so each key counts once.
    pub fn build(input: &MatrixInput<'_>) -> Self {
        let mut latest: Latest<'_> = BTreeMap::new();
        for record in input.records.iter().filter(|r| r.statement.predicate_type == APPROVAL_PREDICATE) {
            let parsed = serde_json::from_value::<Approval>(record.statement.predicate.clone()).map_err(|e| format!("the approval is malformed: {e}"));
            let role = parsed.as_ref().map_or_else(|_| role_of(&record.statement.predicate), |a| a.role.clone());
            latest.insert((role, record.key_id().to_owned()), (record, parsed));
        }
        let mut roles: BTreeSet<String> = input.required_roles.iter().cloned().collect();
        roles.extend(latest.keys().map(|(role, _)| role.clone()));
        let mut authors: Vec<String> = input.authors.iter().map(|a| a.to_lowercase()).collect();
        authors.sort();
        authors.dedup();
        let matrix_roles = roles.iter().map(|role| role_matrix(role, &latest, input, &authors)).collect();
        Self {
            schema: MATRIX_SCHEMA.into(),
            release: input.release.into(),
            trust_root: input.trust.digest(),
            release_authors: authors,
            required_roles: input.required_roles.to_vec(),
            roles: matrix_roles,
        }
    }

    /// The matrix of a release that requires no roles and whose commit
    /// authors are not known: only the decisions in `records` appear.
    pub fn of(records: &[Record], trust: &TrustRoot, release: &ReleaseBinding) -> Self {
        Self::build(&MatrixInput { records, trust, release, authors: &[], required_roles: &[] })
    }

    /// The matrix as pretty JSON with a final newline, as packs store it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_else(|_| unreachable!("a matrix is plain data and always serialises"));
        bytes.push(b'\n');
        bytes
    }

    /// Whether every required role is approved.
    pub fn approved(&self) -> bool {
        self.required_roles.iter().all(|r| self.roles.iter().any(|m| &m.role == r && m.approved))
    }
}

fn role_of(predicate: &Value) -> String {
    predicate.get("role").and_then(Value::as_str).unwrap_or("?").to_owned()
}

/// Each key's latest decision per role, by (role, key id), parsed or not.
type Latest<'a> = BTreeMap<(String, String), (&'a Record, Result<Approval, String>)>;

fn role_matrix(role: &str, latest: &Latest<'_>, input: &MatrixInput<'_>, authors: &[String]) -> RoleMatrix {
    let defined = input.trust.role(role);
    let members: Vec<String> = defined.map(|r| r.keys.iter().map(|k| k.as_str().to_owned()).collect()).unwrap_or_default();
    let mut votes: Vec<Vote> = members.iter().map(|key| absent(input.trust, key)).collect();
    for ((r, key), (record, parsed)) in latest.iter().filter(|((r, _), _)| r == role) {
        let mut vote = judge(record, parsed, input, authors);
        if defined.is_some() && !members.contains(key) && vote.refused.is_none() {
            vote.refused = Some(format!("key {key} is not a member of role {r} in the trust root"));
            vote.counted = false;
        }
        match votes.iter_mut().find(|v| &v.key_id == key) {
            Some(slot) => *slot = vote,
            None => votes.push(vote),
        }
    }
    let tally = |d: Decision| votes.iter().filter(|v| v.counted && v.decision == Some(d)).count();
    let (approvals, rejections) = (tally(Decision::Approve), tally(Decision::Reject));
    let threshold = defined.map_or(0, |r| r.threshold);
    let quorum_met = defined.is_some() && approvals >= threshold;
    let problem = match defined {
        None => Some(format!("the trust root defines no role {role}; add [roles.{role}] with its keys and threshold")),
        Some(_) if rejections > 0 => Some(format!("{rejections} of {} members rejected the release", members.len())),
        Some(_) if !quorum_met => Some(format!("{approvals} of {threshold} required approvals")),
        Some(_) => None,
    };
    RoleMatrix { role: role.to_owned(), threshold, members: members.len(), approvals, rejections, quorum_met, approved: quorum_met && rejections == 0, problem, votes }
}

/// A member who has not decided.
fn absent(trust: &TrustRoot, key: &str) -> Vote {
    let trusted = trust.key(key);
    Vote {
        key_id: key.to_owned(),
        name: trusted.map(|k| k.name.clone()),
        identity: trusted.and_then(|k| k.identity.clone()),
        decision: None,
        reason: None,
        decided_at: None,
        sequence: None,
        counted: false,
        refused: None,
    }
}

/// One decision, with the first reason it does not count, if any.
fn judge(record: &Record, parsed: &Result<Approval, String>, input: &MatrixInput<'_>, authors: &[String]) -> Vote {
    let key = record.key_id();
    let mut vote = absent(input.trust, key);
    vote.sequence = Some(record.link.sequence);
    vote.decided_at = Some(record.link.recorded_at);
    if let Ok(approval) = parsed {
        vote.decision = Some(approval.decision);
        vote.reason = Some(approval.reason.clone());
    }
    vote.refused = refusal(record, parsed, input, authors).err();
    vote.counted = vote.refused.is_none();
    vote
}

fn refusal(record: &Record, parsed: &Result<Approval, String>, input: &MatrixInput<'_>, authors: &[String]) -> Result<(), String> {
    let approval = parsed.as_ref().map_err(Clone::clone)?;
    let key_id = record.key_id();
    let trust = input.trust;
    let key = trust.key(key_id).ok_or_else(|| format!("key {key_id} is not in the trust root"))?;
    if let Some(reason) = trust.revocation(key_id) {
        return Err(format!("key {key_id} ({}) is revoked: {reason}", key.name));
    }
    let at = record.link.recorded_at;
    if !key.valid_at(at) {
        return Err(format!("key {key_id} ({}) was not valid at {at}", key.name));
    }
    let signed = record.signature().is_some_and(|sig| key.key.verify(&record.pae(), &sig).is_ok());
    if !signed {
        return Err(format!("the signature by key {key_id} ({}) does not verify", key.name));
    }
    if approval.release != ApprovedRelease::from(input.release) || record.link.release != *input.release {
        return Err(format!("the decision is for {} at commit {} in {}, not this release", approval.release.version, approval.release.commit, approval.release.environment));
    }
    let head = LedgerHead { records: record.link.sequence, sha256: record.link.previous };
    if approval.ledger_head != head {
        return Err(format!("the decision names ledger head {} of {} records, but it was appended after {} of {}", approval.ledger_head.sha256, approval.ledger_head.records, head.sha256, head.records));
    }
    let identity = key.identity.as_deref().ok_or_else(|| format!("the trust root gives key {key_id} ({}) no identity, so separation of duties cannot be checked; add identity = \"<email>\"", key.name))?;
    if !identity.eq_ignore_ascii_case(&approval.approver) {
        return Err(format!("the decision names approver {}, but the trust root gives key {key_id} identity {identity}", approval.approver));
    }
    if authors.iter().any(|a| a.eq_ignore_ascii_case(identity)) {
        return Err(format!("{identity} authored commits of this release and may not approve it (separation of duties)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
