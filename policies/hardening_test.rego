package conductor.gates.hardening_test

import rego.v1

# The hardening gate (P0) as phases/P0.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"InfraSec",
	"AppSec",
	"Secrets Escrow",
]

needs := [
	"iac-scan",
	"sast",
	"secrets-scan",
]

record_type := {
	"InfraSec": "iac-scan",
	"AppSec": "sast",
	"Secrets Escrow": "secrets-scan",
}

kind := {
	"InfraSec": "sarif",
	"AppSec": "sarif",
	"Secrets Escrow": "secrets",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

# Facts as each kind files them for a release in good order.
good_facts := {
	"InfraSec": {"counts": {"error": 0, "warning": 2}, "findings": [{"ruleId": "CKV_DOCKER_2", "level": "warning", "uri": "Dockerfile", "line": 1}]},
	"AppSec": {"counts": {"error": 0, "warning": 1}, "findings": [{"ruleId": "python.flask.debug", "level": "warning", "uri": "app.py", "line": 30}], "new": 0, "newFindings": [], "previousVersion": "v0.9.0"},
	"Secrets Escrow": {"total": 0, "findings": []},
}

evidence_for(agent, verdict, reason, seq) := with_facts(agent, verdict, reason, seq, good_facts[agent])

with_facts(agent, verdict, reason, seq, facts) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": facts,
	"sequence": seq,
}

replaced(agent, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, "pass", "ok", 99, facts)])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.hardening.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := []

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P0",
	"gate": {"id": "hardening", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.hardening.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "InfraSec"]
	denials := data.conductor.gates.hardening.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"InfraSec: no evidence recorded",
		"no passing iac-scan evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "InfraSec"]
	evidence := array.concat(others, [with_facts("InfraSec", "fail", "threshold exceeded: 3 findings", 100, {})])
	denials := data.conductor.gates.hardening.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"InfraSec: fail: threshold exceeded: 3 findings",
		"no passing iac-scan evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "AppSec"]
	evidence := array.concat(others, [evidence_for("AppSec", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.hardening.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"AppSec: timed-out: no result within 300s",
		"no passing sast evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.hardening.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

test_sast_error_denies_naming_the_rule_and_place if {
	facts := {"counts": {"error": 1}, "findings": [{"ruleId": "python.lang.security.eval", "level": "error", "uri": "app.py", "line": 12}]}
	deny_with(replaced("AppSec", facts), {}) == {"AppSec: 1 sast findings at error exceed the limit of 0: python.lang.security.eval at app.py:12"}
	count(deny_with(replaced("AppSec", facts), {"max_sast_errors": 1})) == 0
}

test_iac_warning_limit_from_settings if {
	deny_with(passing_evidence, {"max_iac_warnings": 1}) == {"InfraSec: 2 iac-scan findings at warning exceed the limit of 1: CKV_DOCKER_2 at Dockerfile:1"}
}

test_new_findings_limit if {
	facts := object.union(good_facts.AppSec, {"new": 1, "newFindings": [{"ruleId": "python.flask.debug", "uri": "app.py", "line": 30}]})
	count(deny_with(replaced("AppSec", facts), {})) == 0
	deny_with(replaced("AppSec", facts), {"max_new_sast_findings": 0}) == {"AppSec: 1 findings are new since v0.9.0, more than 0: python.flask.debug at app.py:30"}
}

test_a_secret_denies_naming_rule_and_place if {
	facts := {"total": 1, "findings": [{"rule": "aws-access-key-id", "file": "config/settings.py", "line": 4, "fingerprint": "ab12"}]}
	deny_with(replaced("Secrets Escrow", facts), {}) == {"Secrets Escrow: 1 secrets found: aws-access-key-id at config/settings.py:4; remove and rotate them, or allowlist or baseline false positives"}
}

failed(agent, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, "fail", "the agent's own limit", 99, facts)])

# The scanners' own fails are left to this gate's thresholds.
test_failing_scanners_are_judged_by_the_gate if {
	secret := {"total": 1, "findings": [{"rule": "generic-secret", "file": "tests/data.py", "line": 2, "fingerprint": "cd34"}]}
	deny_with(failed("Secrets Escrow", secret), {}) == {"Secrets Escrow: 1 secrets found: generic-secret at tests/data.py:2; remove and rotate them, or allowlist or baseline false positives"}
	count(deny_with(failed("Secrets Escrow", secret), {"max_secrets": 1})) == 0
	sast := {"failLevel": "error", "counts": {"error": 1, "warning": 0}, "findings": [{"ruleId": "eval", "level": "error", "uri": "app.py", "line": 7}]}
	deny_with(failed("AppSec", sast), {}) == {"AppSec: 1 sast findings at error exceed the limit of 0: eval at app.py:7"}
	count(deny_with(failed("AppSec", sast), {"max_sast_errors": 1})) == 0
}
