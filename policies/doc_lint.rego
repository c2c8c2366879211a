# P7 doc_lint: decides whether documentation, runbooks and release notes are in order: docs
# checks, runbook checks and the release notes for this version. Every problem the docs agents
# found is named with its file, line and code.
#
# Thresholds ([gates.doc_lint] in conductor.toml):
#   ignore_codes        problem codes accepted for this release, e.g. ["broken-link"] (default none)
#   min_release_notes_bytes  the release notes must be at least this large (default 1)
package conductor.gates.doc_lint

import rego.v1

import data.conductor.lib.evidence

# The record types whose problems the rule below judges, less the codes accepted here.
judged := {"doc-lint", "runbook-lint"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

ignored := {c | some c in evidence.setting("ignore_codes", [])}

deny contains msg if {
	some record_type in ["doc-lint", "runbook-lint"]
	some e in evidence.of_type(record_type)
	some p in object.get(evidence.facts(e), "problems", [])
	not p.code in ignored
	msg := sprintf("%s: %s:%v: %s: %s", [e.agent, p.file, object.get(p, "line", 0), p.code, p.message])
}

deny contains msg if {
	some e in evidence.of_type("release-notes")
	f := evidence.facts(e)
	n := object.get(f, "size", 0)
	minimum := evidence.setting("min_release_notes_bytes", 1)
	n < minimum
	msg := sprintf("%s: the release notes %s have %d bytes, fewer than %d", [e.agent, object.get(f, "path", "?"), n, minimum])
}
