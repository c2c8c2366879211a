# P1 slo: decides whether SLO and observability baselines are recorded: SLO and synthetic-probe
# snapshots, dashboard snapshots and the structured-log check.
package conductor.gates.slo

import rego.v1

import data.conductor.lib.evidence
import data.conductor.lib.probe

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"probe-snapshot"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

deny contains msg if {
	some msg in probe.denials({"probe-snapshot"})
}
