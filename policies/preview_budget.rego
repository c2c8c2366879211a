# P1 preview_budget: decides whether the preview environment is up, usable and within budget:
# cost estimate, preview deployment, accessibility run and the mobile/edge suite.
package conductor.gates.preview_budget

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
