package conductor.gates.slo_test

import rego.v1

# The slo gate (P1) as phases/P1.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"SLO Librarian",
	"Probe Master",
	"Dashboardsmith",
	"Log Curator",
]

needs := [
	"slo-snapshot",
	"probe-snapshot",
	"dashboard-snapshot",
	"log-check",
]

record_type := {
	"SLO Librarian": "slo-snapshot",
	"Probe Master": "probe-snapshot",
	"Dashboardsmith": "dashboard-snapshot",
	"Log Curator": "log-check",
}

kind := {
	"SLO Librarian": "slo",
	"Probe Master": "probe",
	"Dashboardsmith": "command",
	"Log Curator": "command",
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
	"gate": {"id": "slo", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.slo.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "SLO Librarian"]
	denials := data.conductor.gates.slo.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"SLO Librarian: no evidence recorded",
		"no passing slo-snapshot evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "SLO Librarian"]
	evidence := array.concat(others, [evidence_for("SLO Librarian", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.slo.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"SLO Librarian: fail: threshold exceeded: 3 findings",
		"no passing slo-snapshot evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Probe Master"]
	evidence := array.concat(others, [evidence_for("Probe Master", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.slo.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Probe Master: timed-out: no result within 300s",
		"no passing probe-snapshot evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.slo.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}
