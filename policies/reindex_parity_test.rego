package conductor.gates.reindex_parity_test

import rego.v1

# The reindex_parity gate (P4) as phases/P4.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Searchkeeper",
	"Shadow Reader",
]

needs := [
	"reindex-parity",
	"shadow-read",
]

record_type := {
	"Searchkeeper": "reindex-parity",
	"Shadow Reader": "shadow-read",
}

kind := {
	"Searchkeeper": "command",
	"Shadow Reader": "command",
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
	"phase": "P4",
	"gate": {"id": "reindex_parity", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.reindex_parity.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Searchkeeper"]
	denials := data.conductor.gates.reindex_parity.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Searchkeeper: no evidence recorded",
		"no passing reindex-parity evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Searchkeeper"]
	evidence := array.concat(others, [evidence_for("Searchkeeper", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.reindex_parity.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Searchkeeper: fail: threshold exceeded: 3 findings",
		"no passing reindex-parity evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Shadow Reader"]
	evidence := array.concat(others, [evidence_for("Shadow Reader", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.reindex_parity.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Shadow Reader: timed-out: no result within 300s",
		"no passing shadow-read evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.reindex_parity.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}
