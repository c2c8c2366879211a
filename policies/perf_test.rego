package conductor.gates.perf_test

import rego.v1

# The perf gate (P1) as phases/P1.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Perf Engineer",
	"Capacity Oracle",
	"Infra Load-Tester",
]

needs := [
	"perf-result",
	"capacity-headroom",
	"load-test",
]

record_type := {
	"Perf Engineer": "perf-result",
	"Capacity Oracle": "capacity-headroom",
	"Infra Load-Tester": "load-test",
}

kind := {
	"Perf Engineer": "perf",
	"Capacity Oracle": "perf",
	"Infra Load-Tester": "perf",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": object.get(passing_facts, agent, {}),
	"sequence": seq,
}

# The facts a passing entry carries where the gate reads them: a capacity headroom figure.
passing_facts := {"Capacity Oracle": {"checks": [], "headroom": {"forecastRps": 3000, "peakRps": 5180.88, "headroom": 0.420953, "minHeadroom": 0.2, "passed": true}}}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := []

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P1",
	"gate": {"id": "perf", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.perf.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Perf Engineer"]
	denials := data.conductor.gates.perf.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Perf Engineer: no evidence recorded",
		"no passing perf-result evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Perf Engineer"]
	evidence := array.concat(others, [evidence_for("Perf Engineer", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.perf.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Perf Engineer: fail: threshold exceeded: 3 findings",
		"no passing perf-result evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Capacity Oracle"]
	evidence := array.concat(others, [evidence_for("Capacity Oracle", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.perf.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Capacity Oracle: timed-out: no result within 300s",
		"no passing capacity-headroom evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.perf.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

# A check as the perf kind files it: p95 187.5 ms against 180 ms in v1.0.0, +4.2%.
p95_check := {
	"scenario": "http", "text": "p95 <= +10%", "metric": "p95", "op": "<=", "relative": true, "limit": 0.1,
	"value": 187.5032, "baseline": 180, "change": 0.041684, "passed": true, "missing": null,
}

rps_check := {
	"scenario": "http", "text": "rps >= -5%", "metric": "rps", "op": ">=", "relative": true, "limit": -0.05,
	"value": 412.73, "baseline": 420, "change": -0.017310, "passed": true, "missing": null,
}

errors_check := {
	"scenario": "http", "text": "error_rate <= 0.01", "metric": "error_rate", "op": "<=", "relative": false, "limit": 0.01,
	"value": 0.0041, "baseline": null, "change": null, "passed": true, "missing": null,
}

perf_facts(checks) := {"checks": checks, "baseline": {"source": "release", "version": "v1.0.0"}, "headroom": null, "inconclusive": false}

with_facts(agent, verdict, facts) := object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})

perf_with(agent, verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, verdict, facts)])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.perf.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

test_results_within_their_criteria_pass if {
	count(deny_with(perf_with("Perf Engineer", "pass", perf_facts([p95_check, rps_check, errors_check])), {})) == 0
}

test_a_regression_names_metric_value_baseline_and_limit if {
	slow := object.union(p95_check, {"value": 220.4, "change": 0.224444, "passed": false})
	deny_with(perf_with("Perf Engineer", "fail", perf_facts([slow, rps_check])), {}) == {"Perf Engineer: http p95 220.4 is +22.4% on the baseline 180 of v1.0.0, over the limit of +10%"}
}

test_the_gate_threshold_decides_in_either_direction if {
	slow := object.union(p95_check, {"value": 220.4, "change": 0.224444, "passed": false})
	count(deny_with(perf_with("Perf Engineer", "fail", perf_facts([slow])), {"max_p95_regression": 0.25})) == 0
	deny_with(perf_with("Perf Engineer", "pass", perf_facts([p95_check])), {"max_p95_regression": 0.02}) == {"Perf Engineer: http p95 187.5 is +4.2% on the baseline 180 of v1.0.0, over the limit of +2%"}
}

test_a_throughput_drop_and_an_error_rate_deny if {
	dropped := object.union(rps_check, {"value": 330, "change": -0.214286, "passed": false})
	erring := object.union(errors_check, {"value": 0.031, "passed": false})
	deny_with(perf_with("Infra Load-Tester", "fail", perf_facts([dropped, erring])), {}) == {
		"Infra Load-Tester: http rps 330 is -21.4% on the baseline 420 of v1.0.0, under the limit of -5%",
		"Infra Load-Tester: http error_rate 0.03 is over the limit of 0.01",
	}
	deny_with(perf_with("Infra Load-Tester", "fail", perf_facts([dropped])), {"max_rps_drop": 0.1}) == {"Infra Load-Tester: http rps 330 is -21.4% on the baseline 420 of v1.0.0, under the limit of -10%"}
	count(deny_with(perf_with("Infra Load-Tester", "fail", perf_facts([erring])), {"max_error_rate": 0.05})) == 0
}

test_no_baseline_is_inconclusive_and_never_passes if {
	open := object.union(p95_check, {"baseline": null, "change": null, "passed": null, "missing": "there is no baseline to compare with"})
	reason := "1 of 2 criteria could not be judged: http p95 <= +10%: there is no baseline to compare with"
	evidence := perf_with("Perf Engineer", "inconclusive", object.union(perf_facts([open, errors_check]), {"inconclusive": true}))
	denials := deny_with([object.union(e, {"reason": reason}) | some e in evidence; e.agent == "Perf Engineer"], {})
	sprintf("Perf Engineer: inconclusive: %s", [reason]) in denials
	"no passing perf-result evidence" in denials
	deny_with(perf_with("Perf Engineer", "fail", perf_facts([open])), {"max_p95_regression": 1}) == {"Perf Engineer: http p95 <= +10% cannot be judged: there is no baseline to compare with"}
}

test_capacity_headroom_under_the_minimum_denies if {
	short := {"forecastRps": 4800, "peakRps": 5180.88, "headroom": 0.073516, "minHeadroom": 0.2, "passed": false}
	facts := object.union(perf_facts([errors_check]), {"headroom": short})
	deny_with(perf_with("Capacity Oracle", "fail", facts), {}) == {"Capacity Oracle: capacity headroom 7.4% (peak 5180.88 rps for a forecast of 4800 rps) is under the minimum of 20%"}
	count(deny_with(perf_with("Capacity Oracle", "fail", facts), {"min_headroom": 0.05})) == 0
	unmeasured := object.union(perf_facts([errors_check]), {"headroom": object.union(short, {"headroom": null, "peakRps": null, "passed": null})})
	deny_with(perf_with("Capacity Oracle", "inconclusive", unmeasured), {"min_headroom": 0}) == {
		"Capacity Oracle: inconclusive: as filed",
		"no passing capacity-headroom evidence",
	}
}

test_capacity_evidence_without_a_forecast_denies if {
	deny_with(perf_with("Capacity Oracle", "pass", perf_facts([errors_check])), {}) == {"Capacity Oracle: no capacity headroom was measured; set forecast_rps for the agent"}
}
