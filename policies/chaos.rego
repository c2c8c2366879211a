# P5 chaos: decides whether chaos and dependency-failure drills ran for real with their
# steady-state outcomes and timings recorded.
package conductor.gates.chaos

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
