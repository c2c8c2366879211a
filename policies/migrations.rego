# P2 migrations: decides whether migrations and backfills are reversible and compatible:
# migration and backfill checks on a scratch database, data-contract compatibility and shadow reads.
package conductor.gates.migrations

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
