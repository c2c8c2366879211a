# P2 tenant_isolation: decides whether tenants stay isolated, including through a purge:
# cross-tenant access attempts refused and a tenant purge that touches no other tenant.
package conductor.gates.tenant_isolation

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
