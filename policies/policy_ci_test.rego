package conductor.gates.policy_ci_test

import rego.v1

# The policy_ci gate (P0) as phases/P0.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"CI/CD Engineer",
	"QE Generalist",
	"Policy Gatekeeper",
	"Lint Marshal",
	"Template Keeper",
	"Platform/DevOps",
]

needs := [
	"coverage",
	"junit",
	"policy-test",
	"lint",
	"template-drift",
	"preflight",
]

record_type := {
	"CI/CD Engineer": "coverage",
	"QE Generalist": "junit",
	"Policy Gatekeeper": "policy-test",
	"Lint Marshal": "lint",
	"Template Keeper": "template-drift",
	"Platform/DevOps": "preflight",
}

kind := {
	"CI/CD Engineer": "coverage",
	"QE Generalist": "junit",
	"Policy Gatekeeper": "command",
	"Lint Marshal": "sarif",
	"Template Keeper": "command",
	"Platform/DevOps": "preflight",
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
	"phase": "P0",
	"gate": {"id": "policy_ci", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.policy_ci.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "CI/CD Engineer"]
	denials := data.conductor.gates.policy_ci.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"CI/CD Engineer: no evidence recorded",
		"no passing coverage evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "CI/CD Engineer"]
	evidence := array.concat(others, [evidence_for("CI/CD Engineer", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.policy_ci.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"CI/CD Engineer: fail: threshold exceeded: 3 findings",
		"no passing coverage evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "QE Generalist"]
	evidence := array.concat(others, [evidence_for("QE Generalist", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.policy_ci.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"QE Generalist: timed-out: no result within 300s",
		"no passing junit evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.policy_ci.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}
