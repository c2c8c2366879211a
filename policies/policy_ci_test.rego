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
	"junit",
	"policy-test",
	"lint",
	"template-drift",
	"preflight",
	"environment-check",
]

record_type := {
	"CI/CD Engineer": "preflight",
	"QE Generalist": "junit",
	"Policy Gatekeeper": "policy-test",
	"Lint Marshal": "lint",
	"Template Keeper": "template-drift",
	"Platform/DevOps": "environment-check",
}

kind := {
	"CI/CD Engineer": "preflight",
	"QE Generalist": "junit",
	"Policy Gatekeeper": "command",
	"Lint Marshal": "sarif",
	"Template Keeper": "command",
	"Platform/DevOps": "command",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

checks := [{"id": id, "passed": true, "detail": "ok"} | some id in ["remote-sync", "merge", "clean-tree", "secrets", "gitignore", "conventional-commits", "lockfiles"]]

# Facts as each kind files them for a release in good order.
good_facts := {
	"CI/CD Engineer": {"checks": checks},
	"QE Generalist": {"tests": 120, "failing": [], "flaky": 1, "flakyTests": ["tests.test_api.test_login"], "coverage": {"lineRate": 0.86}},
	"Policy Gatekeeper": {"exitCode": 0},
	"Lint Marshal": {"counts": {"error": 0, "warning": 3, "note": 1}, "findings": [{"ruleId": "E501", "level": "warning", "uri": "app.py", "line": 7}]},
	"Template Keeper": {"exitCode": 0},
	"Platform/DevOps": {"exitCode": 0},
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
	denials := data.conductor.gates.policy_ci.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
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
		"no passing preflight evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Policy Gatekeeper"]
	evidence := array.concat(others, [evidence_for("Policy Gatekeeper", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.policy_ci.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Policy Gatekeeper: fail: threshold exceeded: 3 findings",
		"no passing policy-test evidence",
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

qe := good_facts["QE Generalist"]

test_low_coverage_denies_with_the_figures if {
	facts := object.union(qe, {"coverage": {"lineRate": 0.7251}})
	deny_with(replaced("QE Generalist", facts), {}) == {"QE Generalist: line coverage 72.5% is below the gate's minimum of 80%"}
	count(deny_with(replaced("QE Generalist", facts), {"min_line_rate": 0.7})) == 0
}

test_missing_coverage_denies if {
	facts := object.remove(qe, ["coverage"])
	deny_with(replaced("QE Generalist", facts), {}) == {"QE Generalist: the test evidence carries no coverage figures; set coverage and min_line_rate for the agent"}
}

test_failing_tests_are_named if {
	facts := object.union(qe, {"failing": ["tests.test_api.test_refund"]})
	deny_with(replaced("QE Generalist", facts), {}) == {"QE Generalist: failing tests: tests.test_api.test_refund"}
}

test_flaky_tests_limit_from_settings if {
	deny_with(passing_evidence, {"max_flaky_tests": 0}) == {"QE Generalist: 1 flaky tests exceed the limit of 0: tests.test_api.test_login"}
}

test_too_few_tests_deny if {
	deny_with(passing_evidence, {"min_tests": 500}) == {"QE Generalist: the reports hold 120 tests, fewer than 500"}
}

test_lint_errors_deny_naming_the_finding if {
	facts := {"counts": {"error": 1}, "findings": [{"ruleId": "F821", "level": "error", "uri": "app.py", "line": 12}]}
	deny_with(replaced("Lint Marshal", facts), {}) == {"Lint Marshal: 1 lint findings at error exceed the limit of 0: F821 at app.py:12"}
	deny_with(passing_evidence, {"max_lint_warnings": 2}) == {"Lint Marshal: 3 lint findings at warning exceed the limit of 2: E501 at app.py:7"}
}

test_failed_preflight_check_is_named if {
	facts := {"checks": array.concat(checks, [{"id": "clean-tree", "passed": false, "detail": "2 files have local changes: app.py, README.md"}])}
	deny_with(replaced("CI/CD Engineer", facts), {}) == {"CI/CD Engineer: pre-flight clean-tree failed: 2 files have local changes: app.py, README.md"}
}

failed(agent, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, "fail", "the agent's own limit", 99, facts)])

# The lint agent's own fail is left to this gate's thresholds.
test_a_failing_lint_agent_is_judged_by_the_gate if {
	facts := {"failLevel": "error", "counts": {"error": 1}, "findings": [{"ruleId": "clippy::unwrap_used", "level": "error", "uri": "src/main.rs", "line": 3}]}
	deny_with(failed("Lint Marshal", facts), {}) == {"Lint Marshal: 1 lint findings at error exceed the limit of 0: clippy::unwrap_used at src/main.rs:3"}
	count(deny_with(failed("Lint Marshal", facts), {"max_lint_errors": 1})) == 0
}

# Without a gate threshold, the agent's fail_level and its own limits are the defaults.
test_agent_limits_are_the_defaults if {
	warnings := {"failLevel": "warning", "counts": {"error": 0, "warning": 1}, "findings": [{"ruleId": "clippy::needless_return", "level": "warning", "uri": "src/lib.rs", "line": 9}]}
	deny_with(failed("Lint Marshal", warnings), {}) == {"Lint Marshal: 1 lint findings at warning exceed the limit of 0: clippy::needless_return at src/lib.rs:9"}
	count(deny_with(failed("Lint Marshal", warnings), {"max_lint_warnings": -1})) == 0
	strict := object.union(qe, {"flaky": 1, "flakyTests": ["t"], "maxFlaky": 0})
	deny_with(failed("QE Generalist", strict), {}) == {"QE Generalist: 1 flaky tests exceed the limit of 0: t"}
	count(deny_with(failed("QE Generalist", strict), {"max_flaky_tests": 1})) == 0
}
