# P2 migrations: decides whether migrations and backfills are reversible and compatible:
# migration and backfill checks on a scratch database, data-contract compatibility and shadow reads.
#
# The migrations kind lists its findings as facts.problems, each with a stable code (missing-down,
# down-failed, down-mismatch, rows-mismatch, up-failed, reapply-failed, reapply-mismatch,
# duplicate-version, orphan-down, prelude-failed), the migration and a message naming both the
# migration and what was expected; each denies.
#
# Thresholds ([gates.migrations] in conductor.toml):
#   allow_irreversible  migrations that may lack a down, by id (["003_add_index"]); only their
#                       missing-down finding is excused, every other finding still denies
# Backfill evidence from a run that checked no backfills denies, and so does a failed check
# whose facts list no finding: missing data never passes.
package conductor.gates.migrations

import rego.v1

import data.conductor.lib.evidence

# The record types whose facts the rules below judge.
judged := {"migration-check", "backfill-check"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

# Entries of the migrations kind that ran to a verdict on their facts.
checked := [e |
	some t in judged
	some e in evidence.of_type(t)
	e.kind == "migrations"
	e.verdict in {"pass", "fail"}
]

allowed_irreversible := {id | some id in evidence.setting("allow_irreversible", [])}

excused(p) if {
	p.code == "missing-down"
	p.migration in allowed_irreversible
}

deny contains msg if {
	some e in checked
	some p in object.get(evidence.facts(e), "problems", [])
	not excused(p)
	msg := sprintf("%s: %s", [e.agent, p.message])
}

deny contains msg if {
	some e in checked
	e.verdict == "fail"
	count(object.get(evidence.facts(e), "problems", [])) == 0
	msg := sprintf("%s: fail: %s", [e.agent, e.reason])
}

deny contains msg if {
	some e in checked
	e.recordType == "backfill-check"
	count(evidence.facts(e)) > 0
	object.get(evidence.facts(e), "mode", "") != "backfills"
	msg := sprintf("%s: no backfills were checked; set backfills_dir", [e.agent])
}
