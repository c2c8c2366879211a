# Shared rules for gates that judge SLO evidence (the slo kind: P1 slo, P4 product_slos,
# P8 ga_flip's error budgets). Each objective in an entry's facts is held to its target:
# the agent's, or the gate's own from `targets` in [gates.<id>] (by objective name), so a
# threshold raised there is what decides. An objective that was inconclusive denies with its
# reason, one that erred denies with its error, and a passing entry that records no objectives
# or an objective without a value (unless its nan rule let zero traffic pass) denies:
# missing data never passes.
package conductor.lib.slo

import rego.v1

import data.conductor.lib.evidence

# Entries of the record types in `types` that ran to a verdict on their facts.
judged_entries(types) := [e |
	some t in types
	some e in evidence.of_type(t)
	e.verdict in {"pass", "fail"}
]

# Every denial for the entries of `types`.
denials(types) := (((value_denials(types) | open_denials(types)) | empty_denials(types)) | valueless_denials(types))

value_denials(types) := {msg |
	some e in judged_entries(types)
	some o in objectives(e)
	o.outcome in {"pass", "fail"}
	is_number(o.value)
	t := target(o)
	not holds(o.comparison, o.value, t)
	msg := sprintf("%s: %s: %s %v%s is %s %v%s (%s)", [e.agent, o.name, o.label, rounded(o.value), unit(o), side(o), t, unit(o), o.window])
}

open_denials(types) := {msg |
	some e in judged_entries(types)
	some o in objectives(e)
	unjudged(o)
	msg := sprintf("%s: %s", [e.agent, o.reason])
}

# An objective whose reason is all there is to say: it could not be judged, it erred, or it
# failed without a value (no data or NaN under a "fail" rule).
unjudged(o) if o.outcome in {"inconclusive", "error"}

unjudged(o) if {
	o.outcome == "fail"
	not is_number(o.value)
}

empty_denials(types) := {msg |
	some e in judged_entries(types)
	e.verdict == "pass"
	count(objectives(e)) == 0
	msg := sprintf("%s: the evidence records no objectives", [e.agent])
}

valueless_denials(types) := {msg |
	some e in judged_entries(types)
	some o in objectives(e)
	o.outcome == "pass"
	not is_number(o.value)
	object.get(o, "nan", "") != "pass-as-zero-traffic"
	msg := sprintf("%s: %s records no value to judge", [e.agent, o.name])
}

objectives(e) := object.get(evidence.facts(e), "objectives", [])

# The gate's target for an objective, else the agent's.
target(o) := t if {
	t := evidence.setting("targets", {})[o.name]
	is_number(t)
} else := o.target

holds(">=", v, t) if v >= t

holds("<=", v, t) if v <= t

side(o) := "below the target" if {
	o.comparison == ">="
} else := "above the limit"

unit(o) := " s" if {
	object.get(o, "unit", "") == "s"
} else := ""

# Six decimals, as the agent's own reasons write them.
rounded(x) := round(x * 1000000) / 1000000
