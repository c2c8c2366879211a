package conductor.gates.tenant_isolation_test

import rego.v1

# The tenant_isolation gate (P2) as phases/P2.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Data Plane Owner",
	"Purge Marshall",
]

needs := [
	"tenant-isolation",
	"purge-check",
]

record_type := {
	"Data Plane Owner": "tenant-isolation",
	"Purge Marshall": "purge-check",
}

kind := {
	"Data Plane Owner": "tenant_isolation",
	"Purge Marshall": "tenant_isolation",
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
	"Data Plane Owner": {"mode": "isolation", "problems": []},
	"Purge Marshall": {"mode": "purge", "problems": []},
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
	"gate": {"id": "tenant_isolation", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.tenant_isolation.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Data Plane Owner"]
	denials := data.conductor.gates.tenant_isolation.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Data Plane Owner: no evidence recorded",
		"no passing tenant-isolation evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Data Plane Owner"]
	evidence := array.concat(others, [evidence_for("Data Plane Owner", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.tenant_isolation.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Data Plane Owner: fail: threshold exceeded: 3 findings",
		"no passing tenant-isolation evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Purge Marshall"]
	evidence := array.concat(others, [evidence_for("Purge Marshall", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.tenant_isolation.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Purge Marshall: timed-out: no result within 300s",
		"no passing purge-check evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.tenant_isolation.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

with_facts(agent, verdict, facts) := object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})

replaced(agent, verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, verdict, facts)])

deny_with(evidence) := denials if {
	denials := data.conductor.gates.tenant_isolation.deny with input as gate_input(evidence, passing_prior)
}

# Each finding denies with the agent and the kind's message, which names the table.
test_findings_deny_naming_the_table if {
	facts := {"mode": "isolation", "problems": [
		{"code": "rls-disabled", "table": "invoices", "message": "table invoices: row-level security is not enabled"},
		{"code": "cross-tenant-read", "table": "notes", "message": "table notes: tenant acme read 1 row of tenant globex, expected none"},
	]}
	deny_with(replaced("Data Plane Owner", "fail", facts)) == {
		"Data Plane Owner: table invoices: row-level security is not enabled",
		"Data Plane Owner: table notes: tenant acme read 1 row of tenant globex, expected none",
	}
}

# A purge that left rows denies naming the table and the count.
test_purge_findings_deny if {
	facts := {"mode": "purge", "problems": [{"code": "purge-incomplete", "table": "invoices", "message": "table invoices: 2 rows of tenant acme remain after the purge, expected none"}]}
	deny_with(replaced("Purge Marshall", "fail", facts)) == {"Purge Marshall: table invoices: 2 rows of tenant acme remain after the purge, expected none"}
}

# Purge evidence from an isolation run purged nothing.
test_purge_evidence_needs_a_purge_run if {
	deny_with(replaced("Purge Marshall", "pass", {"mode": "isolation", "problems": []})) == {"Purge Marshall: the check ran in mode isolation, but purge-check evidence needs mode purge; set purge to the SQL file that deletes the tenant :'tenant'"}
}

# A failed check that lists no finding still denies.
test_a_failure_without_findings_denies if {
	deny_with(replaced("Data Plane Owner", "fail", {"mode": "isolation", "problems": []})) == {"Data Plane Owner: fail: as filed"}
}
