# P6 all_required_gates: decides whether the release train may depart: every earlier required
# gate passed on this release, the ledger is intact, risks are registered and the CAB quorum is met.
package conductor.gates.all_required_gates

import rego.v1

import data.conductor.lib.approvals
import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# The train waits for every earlier required gate: each decision in input.prior_gates must have
# passed, and finding no decisions at all is itself a denial.
deny contains msg if {
	some msg in evidence.prior_gate_denials
}

# The CAB's quorum: each required role unapproved, and each decision not counted, with why.
deny contains msg if {
	some msg in approvals.denials
}

# The release is ready only on a GO: a CONDITIONAL or NO-GO readiness decision denies with
# its score and the categories that block it.
deny contains msg if {
	some msg in evidence.readiness_denials
}

