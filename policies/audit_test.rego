package conductor.gates.audit_test

import rego.v1

# The audit gate (P3) as phases/P3.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Auditor",
	"Compliance Officer",
	"PII Scrubber",
	"Secrets Escrow",
]

needs := [
	"audit-trail",
	"compliance-report",
	"pii-scan",
	"secrets-scan",
]

record_type := {
	"Auditor": "audit-trail",
	"Compliance Officer": "compliance-report",
	"PII Scrubber": "pii-scan",
	"Secrets Escrow": "secrets-scan",
}

kind := {
	"Auditor": "command",
	"Compliance Officer": "file",
	"PII Scrubber": "command",
	"Secrets Escrow": "secrets",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": object.get(good_facts, agent, {}),
	"sequence": seq,
}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

good_facts := {
	"Compliance Officer": {"path": "docs/compliance.md", "size": 2048},
	"Secrets Escrow": {"mode": "history", "total": 0, "findings": [], "commits": 40},
}

passing_prior := [
	{"phase": "P0", "gate": "supply_chain", "passed": true, "reasons": []},
	{"phase": "P0", "gate": "hardening", "passed": true, "reasons": []},
]

deny_with(evidence, prior, settings) := denials if {
	denials := data.conductor.gates.audit.deny with input as object.union(gate_input(evidence, prior), {"settings": settings})
}

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P3",
	"gate": {"id": "audit", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.audit.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Auditor"]
	denials := data.conductor.gates.audit.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Auditor: no evidence recorded",
		"no passing audit-trail evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Auditor"]
	evidence := array.concat(others, [evidence_for("Auditor", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.audit.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Auditor: fail: threshold exceeded: 3 findings",
		"no passing audit-trail evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Compliance Officer"]
	evidence := array.concat(others, [evidence_for("Compliance Officer", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.audit.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Compliance Officer: timed-out: no result within 300s",
		"no passing compliance-report evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.audit.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

test_a_failed_p0_gate_denies_with_its_reason if {
	prior := [{"phase": "P0", "gate": "supply_chain", "passed": true, "reasons": []}, {"phase": "P0", "gate": "hardening", "passed": false, "reasons": ["Secrets Escrow: 1 secrets found"]}]
	deny_with(passing_evidence, prior, {}) == {"the audit needs the hardening gate passed first: Secrets Escrow: 1 secrets found"}
	count(deny_with(passing_evidence, prior, {"required_gates": ["supply_chain"]})) == 0
}

test_an_undecided_gate_denies if {
	deny_with(passing_evidence, [], {"required_gates": ["supply_chain"]}) == {"the audit needs the supply_chain gate passed first: it was never decided"}
}

test_a_thin_compliance_report_denies if {
	deny_with(passing_evidence, passing_prior, {"min_compliance_bytes": 4096}) == {"Compliance Officer: the compliance report docs/compliance.md has 2048 bytes, fewer than 4096"}
}

with_secrets(verdict, facts) := array.concat(
	[e | some e in passing_evidence; e.agent != "Secrets Escrow"],
	[object.union(evidence_for("Secrets Escrow", verdict, "scanned", 99), {"facts": facts})],
)

# A secret anywhere in history denies, naming rule, place and commit; a threshold accepts it.
test_a_secret_in_history_denies_naming_its_commit if {
	facts := {"mode": "history", "total": 1, "findings": [{"rule": "stripe-secret-key", "file": "config/old.env", "line": 1, "commit": "89abcdef0123456789abcdef0123456789abcdef", "fingerprint": "ef"}]}
	deny_with(with_secrets("fail", facts), passing_prior, {}) == {"Secrets Escrow: 1 secrets in git history: stripe-secret-key at config/old.env:1 in 89abcdef0123; rotate them (deleting the file does not remove them from history), or baseline accepted ones"}
	count(deny_with(with_secrets("fail", facts), passing_prior, {"max_history_secrets": 1})) == 0
}

# A scan of the work tree alone is not an audit of the history.
test_a_tree_scan_is_not_enough if {
	deny_with(with_secrets("pass", {"mode": "tree", "total": 0, "findings": []}), passing_prior, {}) == {"Secrets Escrow: the audit needs a scan of the git history, but this scan covered the work tree; set mode = \"history\" under [agents.\"Secrets Escrow\".phases.P3]"}
}
