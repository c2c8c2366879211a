# Denials from the approvals matrix the CAB Secretary files (record type `approval`): each
# required role that is not approved, and each decision that was not counted, with the reason
# (not a member, revoked or expired key, an author of the release, another release).
package conductor.lib.approvals

import rego.v1

import data.conductor.lib.evidence

denials contains msg if {
	some e in evidence.of_type("approval")
	m := evidence.facts(e)
	some r in object.get(m, "roles", [])
	r.role in object.get(m, "requiredRoles", [])
	object.get(r, "approved", false) != true
	msg := sprintf("%s: role %s is not approved: %s", [e.agent, r.role, object.get(r, "problem", "its quorum is not met")])
}

denials contains msg if {
	some e in evidence.of_type("approval")
	some r in object.get(evidence.facts(e), "roles", [])
	some v in object.get(r, "votes", [])
	v.refused
	msg := sprintf("%s: role %s: the %s by %s was not counted: %s", [e.agent, r.role, object.get(v, "decision", "decision"), voter(v), v.refused])
}

voter(v) := v.identity if {
	v.identity
} else := v.keyId
