# P0 policy_ci: decides whether CI and policy checks pass on the release commit: coverage, JUnit
# results, policy tests, lint findings, template drift and the environment pre-flight.
package conductor.gates.policy_ci

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
