package conductor.gates.chaos_test

import rego.v1

# The chaos gate (P5) as phases/P5.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Chaos Captain",
	"Resilience Wrangler",
]

needs := [
	"chaos-experiment",
	"resilience-drill",
]

record_type := {
	"Chaos Captain": "chaos-experiment",
	"Resilience Wrangler": "resilience-drill",
}

kind := {
	"Chaos Captain": "drill",
	"Resilience Wrangler": "drill",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": {},
	"sequence": seq,
}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := []

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P5",
	"gate": {"id": "chaos", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.chaos.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Chaos Captain"]
	denials := data.conductor.gates.chaos.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Chaos Captain: no evidence recorded",
		"no passing chaos-experiment evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Chaos Captain"]
	evidence := array.concat(others, [evidence_for("Chaos Captain", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.chaos.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Chaos Captain: fail: threshold exceeded: 3 findings",
		"no passing chaos-experiment evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Resilience Wrangler"]
	evidence := array.concat(others, [evidence_for("Resilience Wrangler", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.chaos.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Resilience Wrangler: timed-out: no result within 300s",
		"no passing resilience-drill evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.chaos.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

# Facts as the drill kind files them for a pod-kill experiment whose steady state held.
pod_kill_facts := {
	"drill": "kill one orders pod",
	"exitCode": 0,
	"missing": [],
	"metrics": {"rto_seconds": 35},
	"limits": {"rto_seconds": 60},
	"checks": [{"name": "steady-state", "ok": true, "detail": "p99 180 ms"}],
}

with_facts(agent, verdict, facts) := object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})

experiment(facts, verdict) := array.concat([e | some e in passing_evidence; e.agent != "Chaos Captain"], [with_facts("Chaos Captain", verdict, facts)])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.chaos.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

test_an_experiment_whose_steady_state_held_passes if {
	count(deny_with(experiment(pod_kill_facts, "pass"), {})) == 0
}

test_a_broken_steady_state_names_the_drill_and_check if {
	broken := object.union(pod_kill_facts, {"checks": [{"name": "steady-state", "ok": false, "detail": "p99 2100 ms over 500 ms"}]})
	deny_with(experiment(broken, "fail"), {"max_rto_seconds": 600}) == {"Chaos Captain: drill kill one orders pod: check steady-state did not hold: p99 2100 ms over 500 ms"}
}

test_a_slow_recovery_names_value_and_limit if {
	slow := object.union(pod_kill_facts, {"metrics": {"rto_seconds": 95}})
	deny_with(experiment(slow, "fail"), {}) == {"Chaos Captain: drill kill one orders pod: RTO 95 s exceeds the limit of 60 s"}
	count(deny_with(experiment(slow, "fail"), {"max_rto_seconds": 120})) == 0
}

test_the_gate_limit_needs_a_reported_recovery if {
	silent := object.union(object.remove(pod_kill_facts, ["metrics", "limits"]), {"metrics": {}, "limits": {}})
	deny_with(experiment(silent, "pass"), {"max_rto_seconds": 60}) == {"Chaos Captain: drill kill one orders pod: the drill reported no RTO; the limit is 60 s"}
	count(deny_with(experiment(silent, "pass"), {})) == 0
}

test_a_failed_exit_denies if {
	crashed := object.union(pod_kill_facts, {"exitCode": 137})
	deny_with(experiment(crashed, "fail"), {}) == {"Chaos Captain: drill kill one orders pod exited with status 137"}
}
