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
