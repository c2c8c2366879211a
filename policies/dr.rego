# P5 dr: decides whether recovery and incident drills ran for real with outcomes and timings
# recorded: the DR drill, the incident game day and the drill timeline.
#
# Thresholds ([gates.dr] in conductor.toml):
#   max_rto_seconds  the longest recovery the DR drill may measure (default the DR agent's
#                    rto_seconds)
#   max_rpo_seconds  the widest data-loss window the DR drill may measure (default the DR
#                    agent's rpo_seconds)
# A DR drill held to no RTO or no RPO at all denies. Every other limit a drill agent was given
# (its `limits`, such as time_to_mitigate_seconds for the incident drill) is judged as set.
package conductor.gates.dr

import rego.v1

import data.conductor.lib.drills
import data.conductor.lib.evidence

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"dr-drill", "incident-drill"}

overrides := {"dr-drill": {
	"rto_seconds": evidence.setting("max_rto_seconds", null),
	"rpo_seconds": evidence.setting("max_rpo_seconds", null),
}}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

deny contains msg if {
	some msg in drills.denials(judged, overrides)
}

deny contains msg if {
	some msg in drills.unlimited_denials({"dr-drill"}, overrides, "rto_seconds", "max_rto_seconds")
}

deny contains msg if {
	some msg in drills.unlimited_denials({"dr-drill"}, overrides, "rpo_seconds", "max_rpo_seconds")
}
