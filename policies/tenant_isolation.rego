# P2 tenant_isolation: decides whether tenants stay isolated, including through a purge:
# cross-tenant access attempts refused and a tenant purge that touches no other tenant.
#
# The tenant_isolation kind lists its findings as facts.problems, each with a stable code
# (rls-disabled, rls-not-forced, cross-tenant-read, cross-tenant-write, own-rows-hidden,
# not-probed, purge-incomplete, purge-touched-other-tenant), the table and a message naming the
# table, the tenants and the count; each denies. Purge evidence from a run that purged nothing,
# isolation evidence from a purge run, and a failed check whose facts list no finding deny too:
# missing data never passes.
package conductor.gates.tenant_isolation

import rego.v1

import data.conductor.lib.evidence

# The record types whose facts the rules below judge.
judged := {"tenant-isolation", "purge-check"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

# Entries of the tenant_isolation kind that ran to a verdict on their facts.
checked := [e |
	some t in judged
	some e in evidence.of_type(t)
	e.kind == "tenant_isolation"
	e.verdict in {"pass", "fail"}
]

deny contains msg if {
	some e in checked
	some p in object.get(evidence.facts(e), "problems", [])
	msg := sprintf("%s: %s", [e.agent, p.message])
}

deny contains msg if {
	some e in checked
	e.verdict == "fail"
	count(object.get(evidence.facts(e), "problems", [])) == 0
	msg := sprintf("%s: fail: %s", [e.agent, e.reason])
}

expected_mode := {"tenant-isolation": "isolation", "purge-check": "purge"}

deny contains msg if {
	some e in checked
	count(evidence.facts(e)) > 0
	mode := object.get(evidence.facts(e), "mode", "")
	mode != expected_mode[e.recordType]
	msg := sprintf("%s: the check ran in mode %s, but %s evidence needs mode %s%s", [e.agent, mode, e.recordType, expected_mode[e.recordType], mode_hint(e.recordType)])
}

mode_hint("purge-check") := "; set purge to the SQL file that deletes the tenant :'tenant'"

mode_hint("tenant-isolation") := "; remove purge and mode"
