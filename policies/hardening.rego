# P0 hardening: decides whether the code and infrastructure are hardened: IaC scan, static
# analysis and secret scan, each with a passing verdict and findings within the limits.
#
# Thresholds ([gates.hardening] in conductor.toml), -1 for no limit:
#   max_sast_errors, max_sast_warnings   static-analysis findings by level (default 0, and 0 or -1
#                                        as the agent's fail_level does or does not reach warning)
#   max_iac_errors, max_iac_warnings     IaC findings by level (the same defaults)
#   max_new_sast_findings                findings the previous release did not have (default -1)
#   max_secrets                          secrets found and neither allowlisted nor baselined (default 0)
package conductor.gates.hardening

import rego.v1

import data.conductor.lib.evidence

# The record types whose findings the rules below judge with this gate's thresholds.
judged := {"sast", "iac-scan", "secrets-scan"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

limits := {
	"sast": evidence.level_limits(evidence.of_type("sast"), evidence.setting("max_sast_errors", null), evidence.setting("max_sast_warnings", null)),
	"iac-scan": evidence.level_limits(evidence.of_type("iac-scan"), evidence.setting("max_iac_errors", null), evidence.setting("max_iac_warnings", null)),
}

located(x) := sprintf("%s at %s:%v", [x.ruleId, object.get(x, "uri", "?"), object.get(x, "line", "?")])

deny contains msg if {
	some record_type, by_level in limits
	some e in evidence.of_type(record_type)
	f := evidence.facts(e)
	some level, limit in by_level
	n := object.get(object.get(f, "counts", {}), level, 0)
	evidence.exceeds(n, limit)
	found := [located(x) | some x in object.get(f, "findings", []); x.level == level]
	msg := sprintf("%s: %d %s findings at %s exceed the limit of %d: %s", [e.agent, n, record_type, level, limit, evidence.names(found)])
}

deny contains msg if {
	some e in evidence.of_type("sast")
	f := evidence.facts(e)
	n := object.get(f, "new", 0)
	is_number(n)
	limit := evidence.setting("max_new_sast_findings", -1)
	evidence.exceeds(n, limit)
	found := [located(x) | some x in object.get(f, "newFindings", [])]
	msg := sprintf("%s: %d findings are new since %s, more than %d: %s", [e.agent, n, f.previousVersion, limit, evidence.names(found)])
}

deny contains msg if {
	some e in evidence.of_type("secrets-scan")
	f := evidence.facts(e)
	n := object.get(f, "total", 0)
	limit := evidence.setting("max_secrets", 0)
	evidence.exceeds(n, limit)
	found := [sprintf("%s at %s:%v", [x.rule, x.file, x.line]) | some x in object.get(f, "findings", [])]
	msg := sprintf("%s: %d secrets found: %s; remove and rotate them, or allowlist or baseline false positives", [e.agent, n, evidence.names(found)])
}
