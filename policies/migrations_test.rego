package conductor.gates.migrations_test

import rego.v1

# The migrations gate (P2) as phases/P2.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Schema Captain",
	"Backfill Marshal",
	"Data Contracts Engineer",
	"Shadow Reader",
]

needs := [
	"migration-check",
	"backfill-check",
	"contract-check",
	"shadow-read",
]

record_type := {
	"Schema Captain": "migration-check",
	"Backfill Marshal": "backfill-check",
	"Data Contracts Engineer": "contract-check",
	"Shadow Reader": "shadow-read",
}

kind := {
	"Schema Captain": "migrations",
	"Backfill Marshal": "migrations",
	"Data Contracts Engineer": "command",
	"Shadow Reader": "command",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": facts_for(agent, verdict),
	"sequence": seq,
}

# The facts a passing entry carries where the gate reads them: a run of its mode with no findings.
passing_facts := {
	"Schema Captain": {"mode": "migrations", "problems": []},
	"Backfill Marshal": {"mode": "backfills", "problems": []},
}

facts_for(agent, "pass") := object.get(passing_facts, agent, {})

facts_for(_, verdict) := {} if verdict != "pass"

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := []

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P2",
	"gate": {"id": "migrations", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.migrations.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Schema Captain"]
	denials := data.conductor.gates.migrations.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Schema Captain: no evidence recorded",
		"no passing migration-check evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Schema Captain"]
	evidence := array.concat(others, [evidence_for("Schema Captain", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.migrations.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Schema Captain: fail: threshold exceeded: 3 findings",
		"no passing migration-check evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Backfill Marshal"]
	evidence := array.concat(others, [evidence_for("Backfill Marshal", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.migrations.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Backfill Marshal: timed-out: no result within 300s",
		"no passing backfill-check evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.migrations.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

with_facts(agent, verdict, facts) := object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})

replaced(agent, verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, verdict, facts)])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.migrations.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

missing_down := {"code": "missing-down", "migration": "003_add_index", "message": "migration 003_add_index has no down migration"}

mismatch := {
	"code": "down-mismatch", "migration": "002_add_email",
	"message": "reverting migration 002_add_email does not restore the schema before it: left behind column public.users.email text",
	"differences": {"added": ["column public.users.email text"], "removed": []},
}

# Each finding denies with the agent and the kind's message, which names the migration.
test_findings_deny_naming_the_migration if {
	facts := {"mode": "migrations", "problems": [missing_down, mismatch]}
	deny_with(replaced("Schema Captain", "fail", facts), {}) == {
		"Schema Captain: migration 003_add_index has no down migration",
		"Schema Captain: reverting migration 002_add_email does not restore the schema before it: left behind column public.users.email text",
	}
}

# allow_irreversible excuses only the missing down of the migrations it names.
test_allow_irreversible_excuses_only_a_missing_down if {
	only_missing := {"mode": "migrations", "problems": [missing_down]}
	count(deny_with(replaced("Schema Captain", "fail", only_missing), {"allow_irreversible": ["003_add_index"]})) == 0
	count(deny_with(replaced("Schema Captain", "fail", only_missing), {"allow_irreversible": ["004_other"]})) == 1
	both := {"mode": "migrations", "problems": [missing_down, mismatch]}
	count(deny_with(replaced("Schema Captain", "fail", both), {"allow_irreversible": ["003_add_index", "002_add_email"]})) == 1
}

# A failed check that lists no finding still denies with its reason.
test_a_failure_without_findings_denies if {
	deny_with(replaced("Schema Captain", "fail", {"mode": "migrations", "problems": []}), {}) == {"Schema Captain: fail: as filed"}
}

# Backfill evidence from a run of the migrations folder proves nothing about backfills.
test_backfill_evidence_must_come_from_a_backfill_run if {
	deny_with(replaced("Backfill Marshal", "pass", {"mode": "migrations", "problems": []}), {}) == {"Backfill Marshal: no backfills were checked; set backfills_dir"}
}
