# P1 slo: decides whether SLO and observability baselines are recorded: SLO and synthetic-probe
# snapshots, dashboard snapshots and the structured-log check.
package conductor.gates.slo

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
