# P8 ga_flip: decides whether the release may flip to GA: every earlier gate passed, the
# promotion and pack are verified, error budgets hold, GA flags are set and KPIs are recorded.
#
# Thresholds ([gates.ga_flip] in conductor.toml):
#   allow_expired_flags  flags past their removal date do not deny (default the Feature Flag
#                        Butler's allow_expired, else false)
# An invalid flag, a required flag that is not ENABLED and a required flag that no file
# defines deny whatever the thresholds.
package conductor.gates.ga_flip

import rego.v1

import data.conductor.lib.evidence
import data.conductor.lib.slo

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"flag-state"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
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

# Each invalid flag, named with its file and what is wrong with it.
deny contains msg if {
	some e in evidence.of_type("flag-state")
	some f in object.get(evidence.facts(e), "invalid", [])
	msg := sprintf("%s: flag %s in %s is invalid: %s", [e.agent, f.name, f.file, concat("; ", f.problems)])
}

# Each flag past its removal date, unless expired flags are allowed.
deny contains msg if {
	some e in evidence.of_type("flag-state")
	facts := evidence.facts(e)
	evidence.setting("allow_expired_flags", object.get(facts, "allowExpired", false)) != true
	some f in object.get(facts, "expired", [])
	msg := sprintf("%s: flag %s in %s was due for removal on %s (as of %s); remove it or set allow_expired_flags", [e.agent, f.name, f.file, f.expires, object.get(facts, "asOf", "?")])
}

# Each flag the release requires to be on that is missing or not ENABLED.
deny contains msg if {
	some e in evidence.of_type("flag-state")
	some name in object.get(evidence.facts(e), "notEnabled", [])
	msg := sprintf("%s: flag %s must be ENABLED for the GA flip", [e.agent, name])
}

# Each flag the release relies on (a kill switch) that no flag file defines.
deny contains msg if {
	some e in evidence.of_type("flag-state")
	some name in object.get(evidence.facts(e), "absent", [])
	msg := sprintf("%s: flag %s must be defined in a flag file; the release relies on it", [e.agent, name])
}

# Each error-budget objective that burns past its limit, or could not be judged, named. An
# error-budget fail is not left to this gate, so no target here lets it through.
deny contains msg if {
	some msg in slo.denials({"error-budget"})
}

# Further gate-specific checks arrive with the specialised agent kinds.
