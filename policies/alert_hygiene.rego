# P7 alert_hygiene: decides whether the alerting rules are sound: every rule file parses, every
# alert has an expression, a known severity, a summary and a runbook link, and a sane `for`; no
# two alerts share a name and labels; every listed SLO has a burn-rate alert; promtool accepts
# the files when it is installed. Each problem is named with its file, line, alert and code.
#
# Thresholds ([gates.alert_hygiene] in conductor.toml):
#   ignore_codes   problem codes accepted for this release, e.g. ["alert-no-for"] (default none)
package conductor.gates.alert_hygiene

import rego.v1

import data.conductor.lib.evidence

# The alert-hygiene problems are judged below, less the codes accepted here.
judged := {"alert-hygiene"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

ignored := {c | some c in evidence.setting("ignore_codes", [])}

deny contains msg if {
	some e in evidence.of_type("alert-hygiene")
	some p in object.get(evidence.facts(e), "problems", [])
	not p.code in ignored
	msg := sprintf("%s: %s:%v: %s: %s", [e.agent, p.file, object.get(p, "line", 0), p.code, p.message])
}
