# P1 perf: decides whether performance baselines hold: latency/throughput results, capacity
# headroom and the infrastructure load test, each compared with its baseline by its agent.
#
# Thresholds ([gates.perf] in conductor.toml) override the limit of each criterion the agents
# hold (their `criteria`, such as "p95 <= +10%"), metric by metric:
#   max_<metric>_regression  the largest rise on the baseline, as a fraction, for criteria such
#                            as "p95 <= +10%" (max_p95_regression = 0.10)
#   max_<metric>_drop        the largest fall on the baseline, as a fraction, for criteria such
#                            as "rps >= -5%" (max_rps_drop = 0.05)
#   max_<metric>, min_<metric>  absolute limits, for criteria such as "error_rate <= 0.01"
#                            (max_error_rate = 0.01)
#   min_headroom             the capacity headroom required, 0..1 (default the agent's)
# A criterion that could not be judged (no baseline, a metric the results lack) denies, an
# inconclusive result denies with its reason, and capacity evidence without a headroom figure
# denies: missing data never passes.
package conductor.gates.perf

import rego.v1

import data.conductor.lib.evidence

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"perf-result", "capacity-headroom", "load-test"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

# Entries whose checks the gate judges: those that ran to a verdict on their facts.
perf_entries := [e |
	some t in judged
	some e in evidence.of_type(t)
	e.verdict in {"pass", "fail"}
]

upper := {"<=", "<"}

gate_limit(c) := v if {
	c.relative
	c.op in upper
	v := evidence.setting(sprintf("max_%s_regression", [c.metric]), null)
	v != null
}

gate_limit(c) := 0 - d if {
	c.relative
	not c.op in upper
	d := evidence.setting(sprintf("max_%s_drop", [c.metric]), null)
	d != null
}

gate_limit(c) := v if {
	not c.relative
	c.op in upper
	v := evidence.setting(sprintf("max_%s", [c.metric]), null)
	v != null
}

gate_limit(c) := v if {
	not c.relative
	not c.op in upper
	v := evidence.setting(sprintf("min_%s", [c.metric]), null)
	v != null
}

limit(c) := v if {
	v := gate_limit(c)
} else := c.limit

quantity(c) := c.change if c.relative

quantity(c) := c.value if not c.relative

holds("<=", q, l) if q <= l

holds("<", q, l) if q < l

holds(">=", q, l) if q >= l

holds(">", q, l) if q > l

deny contains msg if {
	some e in perf_entries
	f := evidence.facts(e)
	some c in object.get(f, "checks", [])
	q := quantity(c)
	is_number(q)
	l := limit(c)
	not holds(c.op, q, l)
	msg := failure(e.agent, f, c, l)
}

failure(agent, f, c, l) := sprintf("%s: %s %s %v is %s on the baseline %v of %s, %s the limit of %s", [
	agent, c.scenario, c.metric, rounded(c.value), signed_percent(c.change), rounded(c.baseline), baseline_name(f), side(c), signed_percent(l),
]) if c.relative

failure(agent, f, c, l) := sprintf("%s: %s %s %v is %s the limit of %v", [agent, c.scenario, c.metric, rounded(c.value), side(c), l]) if not c.relative

side(c) := "over" if {
	c.op in upper
} else := "under"

rounded(x) := round(x * 100) / 100

signed_percent(fraction) := sprintf("+%v%%", [evidence.percent(fraction)]) if {
	fraction >= 0
} else := sprintf("%v%%", [evidence.percent(fraction)])

baseline_name(f) := f.baseline.version if {
	is_string(f.baseline.version)
} else := f.baseline.path if {
	is_string(f.baseline.path)
} else := "no release"

deny contains msg if {
	some e in perf_entries
	some c in object.get(evidence.facts(e), "checks", [])
	is_string(c.missing)
	msg := sprintf("%s: %s %s cannot be judged: %s", [e.agent, c.scenario, c.text, c.missing])
}

deny contains msg if {
	some e in perf_entries
	h := evidence.facts(e).headroom
	is_object(h)
	minimum := evidence.setting("min_headroom", h.minHeadroom)
	is_number(h.headroom)
	h.headroom < minimum
	msg := sprintf("%s: capacity headroom %v%% (peak %v rps for a forecast of %v rps) is under the minimum of %v%%", [e.agent, evidence.percent(h.headroom), h.peakRps, h.forecastRps, evidence.percent(minimum)])
}

deny contains msg if {
	some e in perf_entries
	h := evidence.facts(e).headroom
	is_object(h)
	not is_number(h.headroom)
	msg := sprintf("%s: capacity headroom cannot be measured: the results carry no rps", [e.agent])
}

# Capacity evidence that measured no headroom at all (no forecast_rps was set) proves nothing.
deny contains msg if {
	some e in perf_entries
	e.recordType == "capacity-headroom"
	not is_object(evidence.facts(e).headroom)
	msg := sprintf("%s: no capacity headroom was measured; set forecast_rps for the agent", [e.agent])
}
