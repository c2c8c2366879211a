# P3 audit: decides whether the audit trail and compliance evidence are complete: the audit-trail
# check, the compliance control mapping, the PII scan and a secret scan over the whole git history,
# on top of the P0 gates whose evidence an auditor reads first (the supply chain and the hardening
# scans).
#
# Thresholds ([gates.audit] in conductor.toml):
#   max_history_secrets     secrets anywhere in git history, outside allowlist and baseline (default 0)
#   required_gates          earlier gates that must have passed (default supply_chain, hardening)
#   min_compliance_bytes    the compliance report must be at least this large (default 1)
package conductor.gates.audit

import rego.v1

import data.conductor.lib.evidence

# The history scan's findings are judged by the rule below, with this gate's threshold.
judged := {"secrets-scan"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

# The audit reads the whole history: a secret committed and deleted again is still in every clone.
deny contains msg if {
	some e in evidence.of_type("secrets-scan")
	mode := object.get(evidence.facts(e), "mode", "unknown")
	mode != "history"
	msg := sprintf("%s: the audit needs a scan of the git history, but this scan covered the %s; set mode = \"history\" under [agents.\"%s\".phases.P3]", [e.agent, mode_scope(mode), e.agent])
}

mode_scope(mode) := "work tree" if mode == "tree"

else := "changes since the last tag" if mode == "diff"

else := sprintf("mode %v", [mode])

deny contains msg if {
	some e in evidence.of_type("secrets-scan")
	f := evidence.facts(e)
	n := object.get(f, "total", 0)
	limit := evidence.setting("max_history_secrets", 0)
	evidence.exceeds(n, limit)
	found := [sprintf("%s at %s:%v in %s", [x.rule, x.file, x.line, substring(object.get(x, "commit", "?"), 0, 12)]) | some x in object.get(f, "findings", [])]
	msg := sprintf("%s: %d secrets in git history: %s; rotate them (deleting the file does not remove them from history), or baseline accepted ones", [e.agent, n, evidence.names(found)])
}

required_gates := evidence.setting("required_gates", ["supply_chain", "hardening"])

deny contains msg if {
	some gate in required_gates
	not gate_passed(gate)
	msg := sprintf("the audit needs the %s gate passed first: %s", [gate, gate_reason(gate)])
}

gate_passed(gate) if {
	some g in evidence.prior_gates
	g.gate == gate
	g.passed == true
}

gate_reason(gate) := reason if {
	some g in evidence.prior_gates
	g.gate == gate
	reason := evidence.first_reason(object.get(g, "reasons", []))
} else := "it was never decided"

deny contains msg if {
	some e in evidence.of_type("compliance-report")
	f := evidence.facts(e)
	n := object.get(f, "size", 0)
	minimum := evidence.setting("min_compliance_bytes", 1)
	n < minimum
	msg := sprintf("%s: the compliance report %s has %d bytes, fewer than %d", [e.agent, object.get(f, "path", "?"), n, minimum])
}
