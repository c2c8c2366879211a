# P3 audit: decides whether the audit trail and compliance evidence are complete: the audit-trail
# check, the compliance control mapping and the PII scan, on top of the P0 gates whose evidence an
# auditor reads first (the supply chain and the hardening scans).
#
# Thresholds ([gates.audit] in conductor.toml):
#   required_gates          earlier gates that must have passed (default supply_chain, hardening)
#   min_compliance_bytes    the compliance report must be at least this large (default 1)
package conductor.gates.audit

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
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
