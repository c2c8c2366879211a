# P4 product_slos: decides whether each product track meets its SLOs and API contract:
# realtime, reporting and ingest SLOs, and the API compatibility check.
package conductor.gates.product_slos

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
