# P0 policy_ci: decides whether CI and policy checks pass on the release commit: the test
# results with their coverage, policy tests, lint findings, template drift, the repository
# pre-flight and the environment check.
#
# Thresholds ([gates.policy_ci] in conductor.toml):
#   min_tests          the test reports must hold at least this many tests (default 1)
#   min_line_rate      line coverage the test evidence must show, 0..1 (default the agent's
#                      min_line_rate, else 0.8)
#   max_flaky_tests    tests that passed only on retry, -1 for no limit (default the agent's
#                      max_flaky, else -1)
#   max_lint_errors    lint findings at level error (default 0)
#   max_lint_warnings  lint findings at level warning, -1 for no limit (default 0 when the
#                      agent's fail_level is warning or note, else -1)
package conductor.gates.policy_ci

import rego.v1

import data.conductor.lib.evidence

# The record types whose findings the rules below judge with this gate's thresholds.
judged := {"junit", "lint", "preflight"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

deny contains msg if {
	some e in evidence.of_type("junit")
	n := object.get(evidence.facts(e), "tests", 0)
	minimum := evidence.setting("min_tests", 1)
	n < minimum
	msg := sprintf("%s: the reports hold %d tests, fewer than %d", [e.agent, n, minimum])
}

deny contains msg if {
	some e in evidence.of_type("junit")
	failing := object.get(evidence.facts(e), "failing", [])
	count(failing) > 0
	msg := sprintf("%s: failing tests: %s", [e.agent, evidence.names(failing)])
}

deny contains msg if {
	some e in evidence.of_type("junit")
	f := evidence.facts(e)
	n := object.get(f, "flaky", 0)
	limit := evidence.setting("max_flaky_tests", agent_limit(f, "maxFlaky", -1))
	evidence.exceeds(n, limit)
	msg := sprintf("%s: %d flaky tests exceed the limit of %d: %s", [e.agent, n, limit, evidence.names(object.get(f, "flakyTests", []))])
}

deny contains msg if {
	some e in evidence.of_type("junit")
	not evidence.facts(e).coverage
	msg := sprintf("%s: the test evidence carries no coverage figures; set coverage and min_line_rate for the agent", [e.agent])
}

deny contains msg if {
	some e in evidence.of_type("junit")
	rate := evidence.facts(e).coverage.lineRate
	minimum := evidence.setting("min_line_rate", agent_limit(evidence.facts(e).coverage, "minLineRate", 0.8))
	rate < minimum
	msg := sprintf("%s: line coverage %v%% is below the gate's minimum of %v%%", [e.agent, evidence.percent(rate), evidence.percent(minimum)])
}

# A limit the agent itself was given, when its facts carry one.
agent_limit(f, key, fallback) := f[key] if {
	is_number(f[key])
} else := fallback

lint_limits := evidence.level_limits(evidence.of_type("lint"), evidence.setting("max_lint_errors", null), evidence.setting("max_lint_warnings", null))

deny contains msg if {
	some e in evidence.of_type("lint")
	f := evidence.facts(e)
	some level, limit in lint_limits
	n := object.get(object.get(f, "counts", {}), level, 0)
	evidence.exceeds(n, limit)
	found := [sprintf("%s at %s:%v", [x.ruleId, x.uri, x.line]) | some x in object.get(f, "findings", []); x.level == level]
	msg := sprintf("%s: %d lint findings at %s exceed the limit of %d: %s", [e.agent, n, level, limit, evidence.names(found)])
}

deny contains msg if {
	some e in evidence.of_type("preflight")
	some check in object.get(evidence.facts(e), "checks", [])
	check.passed != true
	msg := sprintf("%s: pre-flight %s failed: %s", [e.agent, check.id, check.detail])
}
