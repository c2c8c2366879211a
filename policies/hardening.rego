# P0 hardening: decides whether the code and infrastructure are hardened: IaC scan, static
# analysis and secret scan, each with a passing verdict.
package conductor.gates.hardening

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
