use super::*;
use crate::keys::SecretKey;

fn key(seed: u8) -> SecretKey {
    SecretKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

fn release() -> ReleaseBinding {
    ReleaseBinding { version: "v1.0.0".into(), commit: "c".repeat(40), environment: "prod".into(), id: "r1".into() }
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix(1_780_000_000 + seconds).unwrap()
}

/// Alice, Bob and Carol in role cab (2 of 3); Dave trusted but outside it;
/// Erin's key revoked; Frank's expired.
fn trust() -> TrustRoot {
    let mut text = String::from("version = 1\n");
    let people = [(1, "alice", ""), (2, "bob", ""), (3, "carol", ""), (4, "dave", ""), (5, "erin", ""), (6, "frank", "valid_until = 2026-01-01T00:00:00Z\n")];
    for (seed, name, extra) in people {
        let k = key(seed);
        text.push_str(&format!(
            "[[keys]]\nid = \"{}\"\nname = \"{name}\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = [\"P6\"]\nidentity = \"{name}@example.com\"\n{extra}\n",
            k.id(),
            k.public_key().to_pem()
        ));
    }
    text.push_str(&format!("[[revoked]]\nid = \"{}\"\nreason = \"laptop lost\"\n\n", key(5).id()));
    let cab: Vec<String> = [1, 2, 3, 5, 6].iter().map(|s| format!("\"{}\"", key(*s).id())).collect();
    text.push_str(&format!("[roles.cab]\nthreshold = 2\nkeys = [{}]\n", cab.join(", ")));
    TrustRoot::parse(&text, "trust.toml").unwrap()
}

/// A ledger of approvals, each by (seed, name, decision), appended in order.
fn ledger(decisions: &[(u8, &str, Decision)]) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    for (i, (seed, name, decision)) in decisions.iter().enumerate() {
        let previous = records.last().map_or(Sha256([0; 32]), |r| r.line_hash);
        let approval = Approval {
            role: "cab".into(),
            decision: *decision,
            reason: format!("{name} read the evidence"),
            approver: format!("{name}@example.com"),
            release: (&release()).into(),
            ledger_head: LedgerHead { records: i as u64, sha256: previous },
        };
        records.push(Record::seal(approval.draft(), i as u64, previous, &release(), at(i as i64), &key(*seed)).unwrap());
    }
    records
}

fn cab(records: &[Record], authors: &[&str]) -> RoleMatrix {
    let authors: Vec<String> = authors.iter().map(|a| (*a).to_owned()).collect();
    let trust = trust();
    let matrix = ApprovalsMatrix::build(&MatrixInput { records, trust: &trust, release: &release(), authors: &authors, required_roles: &["cab".into()] });
    matrix.roles.into_iter().find(|r| r.role == "cab").unwrap()
}

fn refusal_of(role: &RoleMatrix, seed: u8) -> Option<&str> {
    role.votes.iter().find(|v| v.key_id == key(seed).id().as_str()).and_then(|v| v.refused.as_deref())
}

#[test]
fn two_distinct_members_meet_the_quorum_and_one_key_counts_once() {
    let once = cab(&ledger(&[(1, "alice", Decision::Approve), (1, "alice", Decision::Approve)]), &[]);
    assert_eq!((once.approvals, once.quorum_met, once.problem.as_deref()), (1, false, Some("1 of 2 required approvals")));
    let two = cab(&ledger(&[(1, "alice", Decision::Approve), (2, "bob", Decision::Approve)]), &[]);
    assert_eq!((two.approvals, two.members, two.quorum_met, two.approved), (2, 5, true, true));
}

#[test]
fn a_later_decision_replaces_the_same_keys_earlier_one_and_a_rejection_withholds_approval() {
    let changed = cab(&ledger(&[(1, "alice", Decision::Approve), (2, "bob", Decision::Approve), (2, "bob", Decision::Reject), (3, "carol", Decision::Approve)]), &[]);
    assert_eq!((changed.approvals, changed.rejections, changed.quorum_met, changed.approved), (2, 1, true, false));
    assert_eq!(changed.problem.as_deref(), Some("1 of 5 members rejected the release"));
}

#[test]
fn outsiders_revoked_and_expired_keys_and_authors_are_refused_with_the_reason() {
    let role = cab(
        &ledger(&[(4, "dave", Decision::Approve), (5, "erin", Decision::Approve), (6, "frank", Decision::Approve), (3, "carol", Decision::Approve)]),
        &["Carol@Example.com"],
    );
    assert_eq!(role.approvals, 0);
    assert!(refusal_of(&role, 4).unwrap().contains("is not a member of role cab"));
    assert!(refusal_of(&role, 5).unwrap().contains("is revoked: laptop lost"));
    assert!(refusal_of(&role, 6).unwrap().contains("was not valid at"));
    assert_eq!(refusal_of(&role, 3), Some("carol@example.com authored commits of this release and may not approve it (separation of duties)"));
}

#[test]
fn a_decision_for_another_release_or_ledger_head_does_not_count() {
    let mut records = ledger(&[(1, "alice", Decision::Approve)]);
    let mut other = Approval::deserialize(&records[0].statement.predicate).unwrap();
    other.release.commit = "d".repeat(40);
    records.push(Record::seal(other.draft(), 1, records[0].line_hash, &release(), at(1), &key(2)).unwrap());
    let mut stale = Approval::deserialize(&records[0].statement.predicate).unwrap();
    stale.approver = "carol@example.com".into();
    records.push(Record::seal(stale.draft(), 2, records[1].line_hash, &release(), at(2), &key(3)).unwrap());
    let role = cab(&records, &[]);
    assert!(refusal_of(&role, 2).unwrap().contains("not this release"), "{role:?}");
    assert!(refusal_of(&role, 3).unwrap().contains("names ledger head"), "{role:?}");
    assert_eq!(role.approvals, 1);
}

#[test]
fn the_matrix_is_deterministic_and_round_trips() {
    let records = ledger(&[(2, "bob", Decision::Approve), (1, "alice", Decision::Reject)]);
    let trust = trust();
    let input = MatrixInput { records: &records, trust: &trust, release: &release(), authors: &[], required_roles: &["cab".into()] };
    let (a, b) = (ApprovalsMatrix::build(&input), ApprovalsMatrix::build(&input));
    assert_eq!(a.to_json(), b.to_json());
    let back: ApprovalsMatrix = serde_json::from_slice(&a.to_json()).unwrap();
    assert_eq!(back, a);
    assert!(!a.approved());
}
