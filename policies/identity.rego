# P3 identity: decides whether sign-in works and is watched: the SSO/token/session check and
# the detection test for simulated attacks on sign-in and access.
package conductor.gates.identity

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
