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
	"facts": object.get(passing_facts, agent, {}),
	"sequence": seq,
}

# The facts a passing entry carries where its gate reads them: one objective met.
passing_facts := {"SLO Librarian": slo_facts([met])}

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
	# A fail without facts: nothing for the gate's own rules to judge.
	failed := object.union({k: v | some k, v in evidence_for("SLO Librarian", "fail", "threshold exceeded: 3 findings", 100); k != "facts"}, {"facts": {}})
	evidence := array.concat(others, [failed])
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

# An objective as the slo kind files it (see agents/src/slo/evaluate.rs).
met := {"name": "checkout-availability", "kind": "availability", "label": "availability", "unit": "", "target": 0.999, "comparison": ">=", "value": 0.9995, "valueText": null, "outcome": "pass", "reason": "checkout-availability: 0.9995 >= target 0.999 over 30d", "query": "1 - (sum(rate(http_requests_total{code=~\"5..\"}[30d])) / sum(rate(http_requests_total[30d])))", "window": "30d", "noData": "inconclusive", "nan": "inconclusive"}

slo_facts(objectives) := {"source": {"kind": "recorded", "folder": "slo/recorded"}, "evaluationTime": "2026-11-30T12:00:00Z", "objectives": objectives}

missed := object.union(met, {"value": 0.9931, "outcome": "fail", "reason": "checkout-availability: 0.9931 < target 0.999 over 30d"})

slo_with(agent, verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})])

slo_deny(evidence, settings) := denials if {
	denials := data.conductor.gates.slo.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

test_a_missed_objective_denies_naming_value_and_target if {
	slo_deny(slo_with("SLO Librarian", "fail", slo_facts([met, missed])), {}) == {"SLO Librarian: checkout-availability: availability 0.9931 is below the target 0.999 (30d)"}
}

test_the_gate_target_decides_in_either_direction if {
	count(slo_deny(slo_with("SLO Librarian", "fail", slo_facts([missed])), {"targets": {"checkout-availability": 0.99}})) == 0
	slo_deny(slo_with("SLO Librarian", "pass", slo_facts([met])), {"targets": {"checkout-availability": 0.9999}}) == {"SLO Librarian: checkout-availability: availability 0.9995 is below the target 0.9999 (30d)"}
}

test_latency_and_burn_rates_name_their_limits if {
	slow := object.union(met, {"name": "checkout-latency-p99", "kind": "latency", "label": "p99 latency", "unit": "s", "target": 0.3, "comparison": "<=", "value": 0.4123456789, "outcome": "fail", "window": "1h"})
	burning := object.union(met, {"name": "checkout-burn", "kind": "burn_rate", "label": "burn rate", "target": 14.4, "comparison": "<=", "value": 20.5, "outcome": "fail", "window": "1h, 5m"})
	slo_deny(slo_with("SLO Librarian", "fail", slo_facts([slow, burning])), {}) == {
		"SLO Librarian: checkout-latency-p99: p99 latency 0.412346 s is above the limit 0.3 s (1h)",
		"SLO Librarian: checkout-burn: burn rate 20.5 is above the limit 14.4 (1h, 5m)",
	}
}

test_an_inconclusive_objective_denies_with_its_reason if {
	reason := "checkout-latency-p99: no data for the query histogram_quantile(0.99, sum by (le) (rate(x_bucket[1h]))) at 2026-11-30T12:00:00Z (no_data = inconclusive)"
	open := object.union(met, {"name": "checkout-latency-p99", "value": null, "outcome": "inconclusive", "reason": reason})
	denials := slo_deny(slo_with("SLO Librarian", "pass", slo_facts([met, open])), {})
	denials == {sprintf("SLO Librarian: %s", [reason])}
	inconclusive := slo_deny(slo_with("SLO Librarian", "inconclusive", slo_facts([open])), {})
	sprintf("SLO Librarian: inconclusive: as filed", []) in inconclusive
}

test_a_no_data_fail_denies_with_its_reason_whatever_the_target if {
	reason := "checkout-availability: no data for the query q at 2026-11-30T12:00:00Z (no_data = fail)"
	empty := object.union(met, {"value": null, "outcome": "fail", "reason": reason})
	slo_deny(slo_with("SLO Librarian", "fail", slo_facts([empty])), {"targets": {"checkout-availability": 0.5}}) == {sprintf("SLO Librarian: %s", [reason])}
}

test_a_pass_without_objectives_or_values_denies if {
	slo_deny(slo_with("SLO Librarian", "pass", slo_facts([])), {}) == {"SLO Librarian: the evidence records no objectives"}
	valueless := object.union(met, {"value": null, "valueText": "NaN"})
	slo_deny(slo_with("SLO Librarian", "pass", slo_facts([valueless])), {}) == {"SLO Librarian: checkout-availability records no value to judge"}
	zero := object.union(valueless, {"nan": "pass-as-zero-traffic", "reason": "checkout-availability: no traffic over 30d"})
	count(slo_deny(slo_with("SLO Librarian", "pass", slo_facts([zero])), {})) == 0
}
