# P7 alert_hygiene: decides whether the alerting rules are sound: every rule parses and has
# severity, summary, runbook link and a sane `for`, with no duplicates.
package conductor.gates.alert_hygiene

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
