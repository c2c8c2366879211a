package conductor.lib.approvals_test

import rego.v1

matrix(roles) := {"requiredRoles": ["cab"], "roles": roles}

gate_input(facts) := {"evidence": [{"agent": "CAB Secretary", "recordType": "approval", "verdict": "fail", "facts": facts}]}

approved := {"role": "cab", "approved": true, "votes": [{"keyId": "k1", "identity": "alice@example.com", "decision": "approve", "counted": true}]}

test_an_approved_role_denies_nothing if {
	count(data.conductor.lib.approvals.denials) == 0 with input as gate_input(matrix([approved]))
}

test_an_unapproved_role_and_each_refused_decision_are_named if {
	refused := {"keyId": "k3", "identity": "carol@example.com", "decision": "approve", "counted": false, "refused": "carol@example.com authored commits of this release and may not approve it (separation of duties)"}
	cab := {"role": "cab", "approved": false, "problem": "1 of 2 required approvals", "votes": [approved.votes[0], refused]}
	data.conductor.lib.approvals.denials == {
		"CAB Secretary: role cab is not approved: 1 of 2 required approvals",
		"CAB Secretary: role cab: the approve by carol@example.com was not counted: carol@example.com authored commits of this release and may not approve it (separation of duties)",
	} with input as gate_input(matrix([cab]))
}

test_a_role_not_required_does_not_deny_unless_a_decision_was_refused if {
	extra := {"role": "security", "approved": false, "problem": "0 of 1 required approvals", "votes": []}
	count(data.conductor.lib.approvals.denials) == 0 with input as gate_input(matrix([approved, extra]))
}
