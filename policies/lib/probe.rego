# Shared rules over the facts the probe kind files: each endpoint's problems (no answer, an
# unexpected status, a body without the expected text) and its slowest sample against the
# latency limit: the gate's `max_probe_latency_ms` (one number for every endpoint, or a table by
# endpoint name) or else the endpoint's own `max_latency_ms`. Every denial names the agent, the
# endpoint, the value and the limit.
package conductor.lib.probe

import rego.v1

import data.conductor.lib.evidence

# The probe entries of the record types in `record_types` that carry endpoint facts.
probe_entries(record_types) := [e |
	some t in record_types
	some e in evidence.of_type(t)
	count(object.get(evidence.facts(e), "endpoints", [])) > 0
]

denials(record_types) := problem_denials(record_types) | latency_denials(record_types)

# The latency limit of an endpoint, null when none is set.
limit(endpoint) := v if {
	v := evidence.setting("max_probe_latency_ms", null)
	is_number(v)
} else := v if {
	v := evidence.setting("max_probe_latency_ms", null)[endpoint.name]
	is_number(v)
} else := object.get(endpoint, "maxLatencyMs", null)

problem_denials(record_types) := {msg |
	some e in probe_entries(record_types)
	some endpoint in e.facts.endpoints
	some p in object.get(endpoint, "problems", [])
	p.code != "slow"
	msg := sprintf("%s: probe %s (%s): %s", [e.agent, endpoint.name, endpoint.url, p.message])
}

latency_denials(record_types) := {msg |
	some e in probe_entries(record_types)
	some endpoint in e.facts.endpoints
	max := limit(endpoint)
	max != null
	latency := object.get(endpoint, "latencyMs", null)
	latency != null
	latency > max
	msg := sprintf("%s: probe %s: latency %v ms is over the limit of %v ms", [e.agent, endpoint.name, round(latency), max])
}
