//! The approvals matrix: the pack's `approvals_matrix.json` must be what the
//! signed approval records say under the verifier's trust root, for the
//! release authors and required roles the pack names.

use crate::approval::{APPROVALS_MATRIX, ApprovalsMatrix, MatrixInput, RoleMatrix};
use crate::manifest::Manifest;
use crate::pack::PackReader;
use crate::record::Record;
use crate::trust::TrustRoot;

use super::report::{Code, Report};

/// Rebuilds the matrix from `approvals` (the pack's approval records) and
/// compares it with the packed one, role by role.
pub(super) fn check(pack: &mut PackReader, manifest: &Manifest, trust: &TrustRoot, approvals: &[Record], report: &mut Report) {
    if !pack.contains(APPROVALS_MATRIX) {
        report.fail_file(Code::ApprovalsMatrixMissing, APPROVALS_MATRIX, format!("the pack has no {APPROVALS_MATRIX}; seal it again with `conductor pack`"));
        return;
    }
    let packed = match pack.read(APPROVALS_MATRIX).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<ApprovalsMatrix>(&b).map_err(|e| e.to_string())) {
        Ok(matrix) => matrix,
        Err(e) => return report.fail_file(Code::ApprovalsMatrixMalformed, APPROVALS_MATRIX, format!("{APPROVALS_MATRIX} cannot be read: {e}")),
    };
    let rebuilt = ApprovalsMatrix::build(&MatrixInput {
        records: approvals,
        trust,
        release: &manifest.release,
        authors: &packed.release_authors,
        required_roles: &packed.required_roles,
    });
    if packed.release != rebuilt.release {
        report.fail_file(Code::ApprovalsMatrixMismatch, APPROVALS_MATRIX, format!("{APPROVALS_MATRIX} is for {} at {}, not this pack's release", packed.release.version, packed.release.commit));
    }
    for role in &rebuilt.roles {
        match packed.roles.iter().find(|r| r.role == role.role) {
            None => report.fail_file(Code::ApprovalsMatrixMismatch, APPROVALS_MATRIX, format!("{APPROVALS_MATRIX} leaves out role {}, in which the ledger records decisions", role.role)),
            Some(claimed) if claimed != role => report.fail_file(Code::ApprovalsMatrixMismatch, APPROVALS_MATRIX, difference(claimed, role)),
            Some(_) => {}
        }
    }
    for claimed in packed.roles.iter().filter(|c| !rebuilt.roles.iter().any(|r| r.role == c.role)) {
        report.fail_file(Code::ApprovalsMatrixMismatch, APPROVALS_MATRIX, format!("{APPROVALS_MATRIX} lists role {}, which no approval record or required role names", claimed.role));
    }
}

/// The first way the packed row of a role differs from the rebuilt one.
fn difference(claimed: &RoleMatrix, rebuilt: &RoleMatrix) -> String {
    let role = &rebuilt.role;
    let summary = |m: &RoleMatrix| format!("{} approvals, {} rejections of {} needed (threshold {} of {})", m.approvals, m.rejections, m.threshold, m.threshold, m.members);
    for vote in &rebuilt.votes {
        let packed = claimed.votes.iter().find(|v| v.key_id == vote.key_id);
        if packed != Some(vote) {
            let why = vote.refused.as_deref().map_or_else(|| "it counts".to_owned(), |r| format!("it does not count: {r}"));
            let said = packed.map_or_else(|| "leaves it out".to_owned(), |p| if p.counted { "counts it".to_owned() } else { "does not count it".to_owned() });
            return format!("role {role}: the pack's matrix {said}, but under this trust root the decision by key {} {why}", vote.key_id);
        }
    }
    format!("role {role}: the pack's matrix says {}, the signed approvals give {}", summary(claimed), summary(rebuilt))
}
