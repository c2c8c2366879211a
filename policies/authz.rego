# P3 authz: decides whether access control holds under test and attack: the authorization
# decision table and the penetration-test findings.
package conductor.gates.authz

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Each authorization test of the released repository that failed, by name and file.
deny contains msg if {
	some e in evidence.of_type("authz-test")
	some t in object.get(evidence.facts(e), "results", [])
	t.passed != true
	msg := sprintf("%s: authorization test %s (%s) failed", [e.agent, t.name, t.file])
}
