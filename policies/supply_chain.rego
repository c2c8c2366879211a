# P0 supply_chain: decides whether the release's supply chain is accounted for: an SBOM,
# SLSA provenance and signatures for the artifacts, a dependency vulnerability report and the
# git facts of the release commit, each filed by its agent with a passing verdict.
package conductor.gates.supply_chain

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
