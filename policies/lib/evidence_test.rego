package conductor.lib.evidence_test

import rego.v1

# A two-agent gate used throughout; the lib is agnostic to which gate it serves.
gate := {"id": "example", "agents": ["Alpha", "Beta"], "needs": ["alpha-type", "beta-type"]}

entry(agent, record_type, verdict, reason) := {
	"agent": agent,
	"kind": record_type,
	"recordType": record_type,
	"verdict": verdict,
	"reason": reason,
	"facts": {},
	"sequence": 1,
}

alpha_pass := entry("Alpha", "alpha-type", "pass", "ok")

beta_pass := entry("Beta", "beta-type", "pass", "ok")

gate_input(g, evidence, prior) := {
	"release": {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"},
	"phase": "P0",
	"gate": g,
	"evidence": evidence,
	"prior_gates": prior,
}

test_all_pass_has_no_denials if {
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(gate, [alpha_pass, beta_pass], [])
	count(denials) == 0
	count(data.conductor.lib.evidence.missing_agents) == 0 with input as gate_input(gate, [alpha_pass, beta_pass], [])
}

test_missing_agents_lists_agents_without_evidence if {
	missing := data.conductor.lib.evidence.missing_agents with input as gate_input(gate, [alpha_pass], [])
	missing == {"Beta"}
}

test_missing_agent_denial if {
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(gate, [alpha_pass], [])
	denials == {"Beta: no evidence recorded", "no passing beta-type evidence"}
}

# Each non-pass verdict is reported as "<agent>: <verdict>: <reason>".
test_non_pass_verdicts_denied if {
	every verdict in ["fail", "error", "missing-input", "unknown-kind", "timed-out"] {
		evidence := [alpha_pass, entry("Beta", "beta-type", verdict, "why")]
		denials := data.conductor.lib.evidence.standard_denials with input as gate_input(gate, evidence, [])
		denials == {sprintf("Beta: %s: why", [verdict]), "no passing beta-type evidence"}
	}
}

test_failed_verdict_message_exact if {
	evidence := [alpha_pass, entry("Beta", "beta-type", "missing-input", "no `path` configured for Beta")]
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(gate, evidence, [])
	denials == {"Beta: missing-input: no `path` configured for Beta", "no passing beta-type evidence"}
}

# An agent that reported, but under another record type, still leaves the need uncovered.
test_need_without_passing_record_type if {
	evidence := [alpha_pass, entry("Beta", "other-type", "pass", "ok")]
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(gate, evidence, [])
	denials == {"no passing beta-type evidence"}
}

# A need is covered by any passing entry of that type, even if another entry of it failed.
test_need_covered_by_any_passing_entry if {
	g := {"id": "example", "agents": ["Alpha", "Beta"], "needs": ["shared"]}
	evidence := [entry("Alpha", "shared", "pass", "ok"), entry("Beta", "shared", "fail", "bad")]
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(g, evidence, [])
	denials == {"Beta: fail: bad"}
}

test_gate_with_no_agents if {
	g := {"id": "empty", "agents": [], "needs": []}
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(g, [], [])
	denials == {"the gate names no agents, so nothing could pass it"}
}

test_gate_with_no_agents_but_needs if {
	g := {"id": "empty", "agents": [], "needs": ["sbom"]}
	denials := data.conductor.lib.evidence.standard_denials with input as gate_input(g, [], [])
	denials == {"the gate names no agents, so nothing could pass it", "no passing sbom evidence"}
}

test_prior_gates_all_passed if {
	prior := [{"phase": "P0", "gate": "supply_chain", "passed": true, "reasons": []}]
	denials := data.conductor.lib.evidence.prior_gate_denials with input as gate_input(gate, [], prior)
	count(denials) == 0
}

test_prior_gate_failed_quotes_first_reason if {
	prior := [
		{"phase": "P0", "gate": "supply_chain", "passed": false, "reasons": ["first", "second"]},
		{"phase": "P1", "gate": "slo", "passed": false, "reasons": []},
		{"phase": "P2", "gate": "migrations", "passed": true, "reasons": []},
	]
	denials := data.conductor.lib.evidence.prior_gate_denials with input as gate_input(gate, [], prior)
	denials == {"P0/supply_chain has not passed: first", "P1/slo has not passed: no decision recorded"}
}

# A decision without a `passed` field is not a pass.
test_prior_gate_without_passed_field if {
	prior := [{"phase": "P3", "gate": "audit"}]
	denials := data.conductor.lib.evidence.prior_gate_denials with input as gate_input(gate, [], prior)
	denials == {"P3/audit has not passed: no decision recorded"}
}

test_no_prior_gates if {
	denials := data.conductor.lib.evidence.prior_gate_denials with input as gate_input(gate, [], [])
	denials == {"no earlier gate decisions were found"}
}
