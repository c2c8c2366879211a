# P8 ga_flip: decides whether the release may flip to GA: every earlier gate passed, the
# promotion and pack are verified, error budgets hold, GA flags are set and KPIs are recorded.
package conductor.gates.ga_flip

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Nothing flips to GA before every earlier gate (P0..P7) passed: each decision in
# input.prior_gates must have passed, and finding no decisions at all is itself a denial.
deny contains msg if {
	some msg in evidence.prior_gate_denials
}

# The release is ready only on a GO: a CONDITIONAL or NO-GO readiness decision denies with
# its score and the categories that block it.
deny contains msg if {
	some msg in evidence.readiness_denials
}

# Further gate-specific checks arrive with the specialised agent kinds.
