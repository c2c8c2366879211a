package conductor.lib.probe_test

import rego.v1

import data.conductor.lib.probe

endpoint(name, latency, problems) := {
	"name": name,
	"url": sprintf("http://127.0.0.1:18080/%s", [name]),
	"maxLatencyMs": 300,
	"latencyMs": latency,
	"problems": problems,
}

entry(endpoints) := {"agent": "Probe Master", "kind": "probe", "recordType": "probe-snapshot", "verdict": "fail", "reason": "as filed", "facts": {"endpoints": endpoints}}

slow := {"code": "slow", "message": "latency 420 ms is over max_latency_ms 300"}

down := {"code": "no-answer", "message": "sample 1: could not connect after 3 attempts"}

test_each_problem_and_a_slow_endpoint_deny_by_name if {
	denials := probe.denials({"probe-snapshot"}) with input as {"evidence": [entry([endpoint("healthz", 420.4, [slow]), endpoint("orders", null, [down])])]}
	denials == {
		"Probe Master: probe healthz: latency 420 ms is over the limit of 300 ms",
		"Probe Master: probe orders (http://127.0.0.1:18080/orders): sample 1: could not connect after 3 attempts",
	}
}

test_the_gate_limit_overrides_the_endpoint_limit if {
	evidence := [entry([endpoint("healthz", 420, [slow]), endpoint("orders", 120, [])])]
	count(probe.denials({"probe-snapshot"})) == 0 with input as {"evidence": evidence, "settings": {"max_probe_latency_ms": 500}}
	probe.denials({"probe-snapshot"}) == {"Probe Master: probe orders: latency 120 ms is over the limit of 100 ms"} with input as {"evidence": evidence, "settings": {"max_probe_latency_ms": {"orders": 100, "healthz": 450}}}
}

test_entries_without_endpoint_facts_are_left_to_the_standard_denials if {
	count(probe.denials({"probe-snapshot"})) == 0 with input as {"evidence": [entry([])]}
}
