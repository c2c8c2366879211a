# P5 dr: decides whether recovery and incident drills ran for real with outcomes and timings
# recorded: the DR drill, the incident game day and the drill timeline.
package conductor.gates.dr

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
