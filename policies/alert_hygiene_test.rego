package conductor.gates.alert_hygiene_test

import rego.v1

# The alert_hygiene gate (P7) as phases/P7.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Alert Arborist",
]

needs := [
	"alert-hygiene",
]

record_type := {
	"Alert Arborist": "alert-hygiene",
}

kind := {
	"Alert Arborist": "alerts",
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
	"phase": "P7",
	"gate": {"id": "alert_hygiene", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.alert_hygiene.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Alert Arborist"]
	denials := data.conductor.gates.alert_hygiene.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Alert Arborist: no evidence recorded",
		"no passing alert-hygiene evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Alert Arborist"]
	evidence := array.concat(others, [evidence_for("Alert Arborist", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.alert_hygiene.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Alert Arborist: fail: threshold exceeded: 3 findings",
		"no passing alert-hygiene evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.alert_hygiene.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

problem := {"file": "alerts/rules.yml", "line": 12, "alert": "OrdersDown", "code": "alert-no-runbook", "message": "alert OrdersDown has no annotations.runbook_url"}

failing := [object.union(evidence_for("Alert Arborist", "fail", "1 alert hygiene problems", 1), {"facts": {"alerts": 3, "problems": [problem]}})]

deny_with(settings) := denials if {
	denials := data.conductor.gates.alert_hygiene.deny with input as object.union(gate_input(failing, passing_prior), {"settings": settings})
}

# Each problem is named with its place and code; a code accepted in conductor.toml passes.
test_each_problem_is_named_and_an_accepted_code_passes if {
	deny_with({}) == {"Alert Arborist: alerts/rules.yml:12: alert-no-runbook: alert OrdersDown has no annotations.runbook_url"}
	count(deny_with({"ignore_codes": ["alert-no-runbook"]})) == 0
	count(deny_with({"ignore_codes": ["alert-no-for"]})) == 1
}
