# P7 doc_lint: decides whether documentation, runbooks and release notes are in order: docs
# checks, runbook checks and the release notes for this version.
package conductor.gates.doc_lint

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
