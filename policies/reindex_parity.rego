# P4 reindex_parity: decides whether the rebuilt search index matches the old one: the reindex
# parity check and the shadow-read comparison.
package conductor.gates.reindex_parity

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
