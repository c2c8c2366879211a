package conductor.gates.preview_budget_test

import rego.v1

# The preview_budget gate (P1) as phases/P1.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Cost/FinOps",
	"Preview Concierge",
	"Visual/Accessibility QE",
	"Mobile/Edge QE",
]

needs := [
	"cost-estimate",
	"preview-env",
	"accessibility",
	"edge-junit",
]

record_type := {
	"Cost/FinOps": "cost-estimate",
	"Preview Concierge": "preview-env",
	"Visual/Accessibility QE": "accessibility",
	"Mobile/Edge QE": "edge-junit",
}

kind := {
	"Cost/FinOps": "cost",
	"Preview Concierge": "command",
	"Visual/Accessibility QE": "command",
	"Mobile/Edge QE": "junit",
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
	"gate": {"id": "preview_budget", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.preview_budget.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Cost/FinOps"]
	denials := data.conductor.gates.preview_budget.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Cost/FinOps: no evidence recorded",
		"no passing cost-estimate evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Cost/FinOps"]
	evidence := array.concat(others, [evidence_for("Cost/FinOps", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.preview_budget.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Cost/FinOps: fail: threshold exceeded: 3 findings",
		"no passing cost-estimate evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Preview Concierge"]
	evidence := array.concat(others, [evidence_for("Preview Concierge", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.preview_budget.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Preview Concierge: timed-out: no result within 300s",
		"no passing preview-env evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.preview_budget.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

cost_facts := {
	"currency": "EUR",
	"totalMonthlyCost": 204.25,
	"pastTotalMonthlyCost": 180,
	"increase": 0.1347222,
	"maxMonthlyCost": 200,
	"maxIncrease": 0.1,
}

with_cost(verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != "Cost/FinOps"], [object.union(evidence_for("Cost/FinOps", verdict, "as filed", 100), {"facts": facts})])

# Over the budget and over the rise: both named with value and limit.
test_an_estimate_over_its_budget_and_rise_denies_naming_both if {
	denials := data.conductor.gates.preview_budget.deny with input as gate_input(with_cost("fail", cost_facts), passing_prior)
	denials == {
		"Cost/FinOps: 204.25 EUR a month is over the budget of 200",
		"Cost/FinOps: the monthly cost rose 13.5% on the previous 180 EUR, over the limit of 10%",
	}
}

# The gate's own thresholds decide in either direction.
test_the_gate_thresholds_override_the_agent_limits if {
	loose := object.union(gate_input(with_cost("fail", cost_facts), passing_prior), {"settings": {"max_monthly_cost": 250, "max_increase": 0.2}})
	count(data.conductor.gates.preview_budget.deny) == 0 with input as loose
	passing := object.union(cost_facts, {"maxMonthlyCost": 300, "maxIncrease": null})
	tight := object.union(gate_input(with_cost("pass", passing), passing_prior), {"settings": {"max_monthly_cost": 150}})
	data.conductor.gates.preview_budget.deny == {"Cost/FinOps: 204.25 EUR a month is over the budget of 150"} with input as tight
}
