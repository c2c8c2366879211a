# Shared rules over the gate input: which of the gate's agents filed no evidence, and the
# denials every gate starts from (missing evidence, non-passing verdicts, needs with no passing
# record, a gate naming no agents). The per-gate policies add their own checks on top.
package conductor.lib.evidence

import rego.v1

# The gate's agents and needs, read defensively so a malformed input denies rather than errors.
gate_agents := object.get(input, ["gate", "agents"], [])

gate_needs := object.get(input, ["gate", "needs"], [])

entries := object.get(input, "evidence", [])

# Agents that filed any evidence entry (whatever its verdict).
reporting_agents contains e.agent if {
	some e in entries
}

# Record types with at least one passing evidence entry.
passing_types contains e.recordType if {
	some e in entries
	e.verdict == "pass"
}

# Gate agents with no evidence entry.
missing_agents contains agent if {
	some agent in gate_agents
	not agent in reporting_agents
}

standard_denials contains msg if {
	some agent in missing_agents
	msg := sprintf("%s: no evidence recorded", [agent])
}

standard_denials contains msg if {
	some e in entries
	verdict := object.get(e, "verdict", "unknown")
	verdict != "pass"
	msg := sprintf("%s: %s: %s", [object.get(e, "agent", "unknown agent"), verdict, object.get(e, "reason", "")])
}

standard_denials contains msg if {
	some need in gate_needs
	not need in passing_types
	msg := sprintf("no passing %s evidence", [need])
}

standard_denials contains "the gate names no agents, so nothing could pass it" if {
	count(gate_agents) == 0
}

# Earlier gate decisions that did not pass, for the gates that sit on top of earlier phases
# (P6 all_required_gates, P8 ga_flip). A decision counts as passed only when `passed` is true.
prior_gates := object.get(input, "prior_gates", [])

prior_gate_denials contains msg if {
	some g in prior_gates
	object.get(g, "passed", false) != true
	msg := sprintf("%s/%s has not passed: %s", [
		object.get(g, "phase", "?"),
		object.get(g, "gate", "?"),
		first_reason(object.get(g, "reasons", [])),
	])
}

prior_gate_denials contains "no earlier gate decisions were found" if {
	count(prior_gates) == 0
}

first_reason(reasons) := reasons[0] if {
	count(reasons) > 0
} else := "no decision recorded"

# A threshold of this gate from `[gates.<id>]` in conductor.toml, or `fallback` when unset.
setting(name, fallback) := object.get(input, ["settings", name], fallback)

# The evidence entries of one record type, whatever their verdict.
of_type(record_type) := [e | some e in entries; e.recordType == record_type]

# The facts of an entry, an empty object when it has none.
facts(e) := f if {
	f := e.facts
	is_object(f)
} else := {}

# A limit of -1 means no limit; any other limit is exceeded by a larger count.
exceeds(n, limit) if {
	limit >= 0
	n > limit
}

# The first few items of a list of names, joined for a message.
names(items) := concat(", ", array.slice(items, 0, 5)) if {
	count(items) <= 5
} else := sprintf("%s and %d more", [concat(", ", array.slice(items, 0, 5)), count(items) - 5])

# A fraction as a percentage with one decimal, for messages (sprintf has no %.1f here).
percent(fraction) := round(fraction * 1000) / 10

# The readiness decision of the release-readiness evidence (the readiness kind, P6 and P8):
# anything but GO denies, naming the decision, the score and the blocking categories, and a
# passing entry that carries no decision denies too.
readiness_denials contains msg if {
	some e in of_type("release-readiness")
	f := facts(e)
	decision := object.get(f, "decision", "")
	decision != ""
	decision != "GO"
	msg := sprintf("release readiness is %s with score %v of 100%s", [decision, object.get(f, "score", "?"), readiness_blockers(f)])
}

readiness_denials contains msg if {
	some e in of_type("release-readiness")
	e.verdict == "pass"
	object.get(facts(e), "decision", "") == ""
	msg := sprintf("%s: the release-readiness evidence records no decision", [object.get(e, "agent", "unknown agent")])
}

readiness_blockers(f) := sprintf("; blocked by %s", [names(blocked)]) if {
	blocked := [sprintf("%s (%v)", [b.category, b.score]) | some b in object.get(f, "blockers", [])]
	count(blocked) > 0
} else := ""
