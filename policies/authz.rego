# P3 authz: decides whether access control holds under test and attack: the authorization
# decision table and the penetration-test findings.
package conductor.gates.authz

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
