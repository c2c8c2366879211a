# P3 audit: decides whether the audit trail and compliance evidence are complete: the audit-trail
# check, the compliance control mapping and the PII scan.
package conductor.gates.audit

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
