# Shared rules over the facts the drill kind files (DR, chaos, resilience and incident drills):
# the drill's exit status, the files it had to produce, the checks it made, and each figure it
# was held to (RTO, RPO, any metric in the agent's `limits`) against the agent's limit or the
# gate's override. Every denial names the agent, the drill, the measured value and the limit.
package conductor.lib.drills

import rego.v1

import data.conductor.lib.evidence

# The drill entries of the record types in `record_types` that carry facts.
drill_entries(record_types) := [e |
	some t in record_types
	some e in evidence.of_type(t)
	count(evidence.facts(e)) > 0
]

# Every denial for the drills of `record_types`; `overrides` maps a record type to the gate's
# limits by metric name (null: the agent's own limit stands).
denials(record_types, overrides) := ((exit_denials(record_types) | produced_denials(record_types)) | check_denials(record_types)) | limit_denials(record_types, overrides)

name(f) := object.get(f, "drill", concat(" ", object.get(f, "command", ["?"])))

exit_denials(record_types) := {msg |
	some e in drill_entries(record_types)
	f := evidence.facts(e)
	code := object.get(f, "exitCode", null)
	code != 0
	msg := sprintf("%s: drill %s %s", [e.agent, name(f), status_text(code)])
}

status_text(code) := "was killed by a signal" if {
	code == null
} else := sprintf("exited with status %v", [code])

produced_denials(record_types) := {msg |
	some e in drill_entries(record_types)
	f := evidence.facts(e)
	some path in object.get(f, "missing", [])
	msg := sprintf("%s: drill %s did not produce %s", [e.agent, name(f), path])
}

check_denials(record_types) := {msg |
	some e in drill_entries(record_types)
	f := evidence.facts(e)
	some c in object.get(f, "checks", [])
	c.ok != true
	msg := sprintf("%s: drill %s: check %s did not hold%s", [e.agent, name(f), c.name, detail(c)])
}

detail(c) := sprintf(": %s", [c.detail]) if {
	is_string(c.detail)
} else := ""

# The limits an entry is held to: the agent's, with the gate's non-null overrides laid over them.
limits(e, overrides) := object.union(object.get(evidence.facts(e), "limits", {}), {k: v |
	some k, v in object.get(overrides, e.recordType, {})
	v != null
})

limit_denials(record_types, overrides) := {msg |
	some e in drill_entries(record_types)
	f := evidence.facts(e)
	some metric, limit in limits(e, overrides)
	msg := limit_denial(e.agent, f, metric, limit)
}

limit_denial(agent, f, metric, limit) := sprintf("%s: drill %s: the drill reported no %s; the limit is %v%s", [agent, name(f), label(metric), limit, unit(metric)]) if {
	not is_number(object.get(object.get(f, "metrics", {}), metric, null))
}

limit_denial(agent, f, metric, limit) := sprintf("%s: drill %s: %s %v%s exceeds the limit of %v%s", [agent, name(f), label(metric), value, unit(metric), limit, unit(metric)]) if {
	value := f.metrics[metric]
	is_number(value)
	value > limit
}

label(metric) := "RTO" if {
	metric == "rto_seconds"
} else := "RPO" if {
	metric == "rpo_seconds"
} else := metric

unit(metric) := " s" if {
	endswith(metric, "_seconds")
} else := ""

# A drill of `record_types` held to no limit on `metric`, neither by its agent nor by the gate:
# a recovery drill with nothing to hold it to proves nothing.
unlimited_denials(record_types, overrides, metric, setting) := {msg |
	some e in drill_entries(record_types)
	not limits(e, overrides)[metric]
	msg := sprintf("%s: drill %s is held to no %s; set %s for the agent or %s for the gate", [e.agent, name(evidence.facts(e)), label(metric), metric, setting])
}
