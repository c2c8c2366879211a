package conductor.gates.authz_test

import rego.v1

# The authz gate (P3) as phases/P3.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"AuthZ Author",
	"Red Team Sprinter",
]

needs := [
	"authz-test",
	"pentest-findings",
]

record_type := {
	"AuthZ Author": "authz-test",
	"Red Team Sprinter": "pentest-findings",
}

kind := {
	"AuthZ Author": "authz",
	"Red Team Sprinter": "file",
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
	"phase": "P3",
	"gate": {"id": "authz", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.authz.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "AuthZ Author"]
	denials := data.conductor.gates.authz.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"AuthZ Author: no evidence recorded",
		"no passing authz-test evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "AuthZ Author"]
	evidence := array.concat(others, [evidence_for("AuthZ Author", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.authz.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"AuthZ Author: fail: threshold exceeded: 3 findings",
		"no passing authz-test evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Red Team Sprinter"]
	evidence := array.concat(others, [evidence_for("Red Team Sprinter", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.authz.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Red Team Sprinter: timed-out: no result within 300s",
		"no passing pentest-findings evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.authz.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

# A failed authorization test is named with its file, beside the agent's own failing verdict.
test_each_failed_authorization_test_is_named if {
	failing := object.union(evidence_for("AuthZ Author", "fail", "1 of 2 authorization tests failed: data.orders.authz_test.test_no_cross_tenant_read", 1), {"facts": {"tests": 2, "failed": 1, "results": [
		{"name": "data.orders.authz_test.test_admin_may_write", "file": "authz/orders_test.rego", "passed": true},
		{"name": "data.orders.authz_test.test_no_cross_tenant_read", "file": "authz/orders_test.rego", "passed": false},
	]}})
	others := [e | some e in passing_evidence; e.agent != "AuthZ Author"]
	denials := data.conductor.gates.authz.deny with input as gate_input(array.concat(others, [failing]), passing_prior)
	denials == {
		"AuthZ Author: fail: 1 of 2 authorization tests failed: data.orders.authz_test.test_no_cross_tenant_read",
		"AuthZ Author: authorization test data.orders.authz_test.test_no_cross_tenant_read (authz/orders_test.rego) failed",
		"no passing authz-test evidence",
	}
}
