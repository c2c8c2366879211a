package conductor.gates.all_required_gates_test

import rego.v1

# The all_required_gates gate (P6) as phases/P6.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Release Conductor",
	"CAB Secretary",
	"Evidence Notary",
	"Risk Officer",
]

needs := [
	"release-readiness",
	"approval",
	"ledger-check",
	"risk-register",
]

record_type := {
	"Release Conductor": "release-readiness",
	"CAB Secretary": "approval",
	"Evidence Notary": "ledger-check",
	"Risk Officer": "risk-register",
}

kind := {
	"Release Conductor": "readiness",
	"CAB Secretary": "approval",
	"Evidence Notary": "command",
	"Risk Officer": "file",
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

# The facts a passing entry carries where its gate reads them: a readiness decision of GO.
passing_facts := {"Release Conductor": {"decision": "GO", "score": 100, "blockers": []}}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := [
	{"phase": "P0", "gate": "supply_chain", "passed": true, "reasons": []},
	{"phase": "P0", "gate": "policy_ci", "passed": true, "reasons": []},
	{"phase": "P0", "gate": "hardening", "passed": true, "reasons": []},
	{"phase": "P1", "gate": "slo", "passed": true, "reasons": []},
	{"phase": "P1", "gate": "perf", "passed": true, "reasons": []},
	{"phase": "P1", "gate": "preview_budget", "passed": true, "reasons": []},
	{"phase": "P2", "gate": "migrations", "passed": true, "reasons": []},
	{"phase": "P2", "gate": "tenant_isolation", "passed": true, "reasons": []},
	{"phase": "P3", "gate": "identity", "passed": true, "reasons": []},
	{"phase": "P3", "gate": "authz", "passed": true, "reasons": []},
	{"phase": "P3", "gate": "audit", "passed": true, "reasons": []},
	{"phase": "P4", "gate": "product_slos", "passed": true, "reasons": []},
	{"phase": "P4", "gate": "reindex_parity", "passed": true, "reasons": []},
	{"phase": "P5", "gate": "dr", "passed": true, "reasons": []},
	{"phase": "P5", "gate": "chaos", "passed": true, "reasons": []},
]

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P6",
	"gate": {"id": "all_required_gates", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.all_required_gates.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Release Conductor"]
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Release Conductor: no evidence recorded",
		"no passing release-readiness evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Release Conductor"]
	evidence := array.concat(others, [evidence_for("Release Conductor", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Release Conductor: fail: threshold exceeded: 3 findings",
		"no passing release-readiness evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "CAB Secretary"]
	evidence := array.concat(others, [evidence_for("CAB Secretary", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"CAB Secretary: timed-out: no result within 300s",
		"no passing approval evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

# An earlier gate failed: its first reason is quoted.
test_failed_prior_gate_denies if {
	others := [g | some g in passing_prior; g.gate != "supply_chain"]
	failed := {"phase": "P0", "gate": "supply_chain", "passed": false, "reasons": ["no passing sbom evidence", "Vendor Sentinel: fail: 2 critical"]}
	prior := array.concat(others, [failed])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(passing_evidence, prior)
	denials == {"P0/supply_chain has not passed: no passing sbom evidence"}
}

# An earlier gate with no recorded reasons falls back to 'no decision recorded'.
test_failed_prior_gate_without_reasons_denies if {
	others := [g | some g in passing_prior; g.gate != "chaos"]
	prior := array.concat(others, [{"phase": "P5", "gate": "chaos", "passed": false, "reasons": []}])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(passing_evidence, prior)
	denials == {"P5/chaos has not passed: no decision recorded"}
}

# No earlier decisions at all is a denial, not a pass.
test_no_prior_gates_denies if {
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(passing_evidence, [])
	denials == {"no earlier gate decisions were found"}
}

readiness(verdict, decision, score, blockers) := object.union(evidence_for("Release Conductor", verdict, "readiness", 1), {"facts": {
	"decision": decision,
	"score": score,
	"blockers": blockers,
}})

with_readiness(entry) := array.concat([e | some e in passing_evidence; e.agent != "Release Conductor"], [entry])

# A GO readiness decision adds no denial.
test_go_readiness_allows if {
	evidence := with_readiness(readiness("pass", "GO", 96.5, []))
	count(data.conductor.gates.all_required_gates.deny) == 0 with input as gate_input(evidence, passing_prior)
}

# A NO-GO names its score and each blocking category with its score.
test_no_go_readiness_names_score_and_blockers if {
	entry := readiness("fail", "NO-GO", 89.5, [{"category": "security", "score": 30}, {"category": "rollback", "score": 0}])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(with_readiness(entry), passing_prior)
	"release readiness is NO-GO with score 89.5 of 100; blocked by security (30), rollback (0)" in denials
}

# A CONDITIONAL is not ready either, even with nothing blocking.
test_conditional_readiness_denies if {
	entry := readiness("fail", "CONDITIONAL", 71, [])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(with_readiness(entry), passing_prior)
	"release readiness is CONDITIONAL with score 71 of 100" in denials
}

# A passing verdict does not outweigh a decision that is not GO, and one with no decision denies.
test_passing_verdict_without_go_denies if {
	conditional := readiness("pass", "CONDITIONAL", 75, [])
	denials := data.conductor.gates.all_required_gates.deny with input as gate_input(with_readiness(conditional), passing_prior)
	denials == {"release readiness is CONDITIONAL with score 75 of 100"}
	base := evidence_for("Release Conductor", "pass", "ok", 1)
	silent := object.union(object.remove(base, ["facts"]), {"facts": {}})
	undecided := data.conductor.gates.all_required_gates.deny with input as gate_input(with_readiness(silent), passing_prior)
	undecided == {"Release Conductor: the release-readiness evidence records no decision"}
}
