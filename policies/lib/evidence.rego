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

# Gate agents with no evidence entry.
missing_agents contains agent if {
	some agent in gate_agents
	not agent in reporting_agents
}

# The denials every gate starts from, for a gate that judges no record type by its facts.
standard_denials := denials_judging(set())

# The same denials for a gate whose own rules judge the facts of the record types in `judged`
# against its thresholds: a `fail` verdict of such a type that carries facts is left to those
# rules, so a threshold raised in conductor.toml is what decides. Every other verdict (error,
# missing-input, unknown-kind, timed-out, or a fail without facts) still denies.
denials_judging(judged) := (((missing_agent_denials | verdict_denials(judged)) | needs_denials(judged)) | no_agent_denials)

missing_agent_denials contains msg if {
	some agent in missing_agents
	msg := sprintf("%s: no evidence recorded", [agent])
}

verdict_denials(judged) := {msg |
	some e in entries
	verdict := object.get(e, "verdict", "unknown")
	verdict != "pass"
	not left_to_gate(e, judged)
	msg := sprintf("%s: %s: %s", [object.get(e, "agent", "unknown agent"), verdict, object.get(e, "reason", "")])
}

needs_denials(judged) := {msg |
	some need in gate_needs
	not need in counted_types(judged)
	msg := sprintf("no passing %s evidence", [need])
}

no_agent_denials contains "the gate names no agents, so nothing could pass it" if {
	count(gate_agents) == 0
}

# An entry whose verdict the gate's own fact rules stand in for.
left_to_gate(e, judged) if {
	e.verdict == "fail"
	e.recordType in judged
	f := e.facts
	is_object(f)
	count(f) > 0
}

# Record types with at least one entry that passed, or that failed and is left to the gate.
counted_types(judged) := {e.recordType |
	some e in entries
	counts_for_needs(e, judged)
}

counts_for_needs(e, _) if e.verdict == "pass"

counts_for_needs(e, judged) if left_to_gate(e, judged)

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

# 0 (none allowed) for a rank at or above `threshold`, -1 (no limit) below it.
at_or_above(rank, threshold) := 0 if {
	rank >= threshold
} else := -1

# SARIF levels by rank, as the sarif kind ranks them.
level_rank := {"none": 0, "note": 1, "warning": 2, "error": 3}

# Limits per level for SARIF findings of `sarif_entries`: the gate's own setting when given
# (not null), else what the strictest agent fail_level implies: none allowed at and above it,
# any number below it (fail_level "none" allows any number at every level).
level_limits(sarif_entries, errors, warnings) := {
	"error": given_or(errors, at_or_above(3, sarif_fail_rank(sarif_entries))),
	"warning": given_or(warnings, at_or_above(2, sarif_fail_rank(sarif_entries))),
}

sarif_fail_rank(sarif_entries) := rank if {
	ranks := [object.get(level_rank, object.get(facts(e), "failLevel", "error"), 0) | some e in sarif_entries]
	count(ranks) > 0
	rank := sarif_rank(min(ranks))
} else := 3

# fail_level "none" (rank 0) fails on nothing.
sarif_rank(r) := 99 if {
	r <= 0
} else := r

given_or(value, fallback) := fallback if {
	value == null
} else := value
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
