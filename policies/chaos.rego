# P5 chaos: decides whether chaos and dependency-failure drills ran for real with their
# steady-state outcomes and timings recorded.
#
# Thresholds ([gates.chaos] in conductor.toml):
#   max_rto_seconds  the longest recovery either drill may measure after its fault (default
#                    each agent's rto_seconds, else no limit)
# Each drill denies when it did not exit 0, when a check it made (such as steady-state) did
# not hold, and when a figure it is held to is over its limit or was not reported.
package conductor.gates.chaos

import rego.v1

import data.conductor.lib.drills
import data.conductor.lib.evidence

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"chaos-experiment", "resilience-drill"}

overrides := {t: {"rto_seconds": evidence.setting("max_rto_seconds", null)} | some t in judged}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

deny contains msg if {
	some msg in drills.denials(judged, overrides)
}
