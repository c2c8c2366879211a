package conductor.gates.doc_lint_test

import rego.v1

# The doc_lint gate (P7) as phases/P7.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Docs Librarian",
	"Runbook Editor",
	"Comms Bard",
]

needs := [
	"doc-lint",
	"runbook-lint",
	"release-notes",
]

record_type := {
	"Docs Librarian": "doc-lint",
	"Runbook Editor": "runbook-lint",
	"Comms Bard": "release-notes",
}

kind := {
	"Docs Librarian": "docs",
	"Runbook Editor": "docs",
	"Comms Bard": "changelog",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": object.get(good_facts, agent, {}),
	"sequence": seq,
}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

good_facts := {
	"Docs Librarian": {"problems": [], "counts": {}},
	"Runbook Editor": {"problems": [], "counts": {}},
	"Comms Bard": {"path": "release-notes.md", "size": 900},
}

passing_prior := []

broken := {"problems": [{"file": "README.md", "line": 12, "code": "broken-link", "message": "docs/setup.md does not exist"}]}

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.doc_lint.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P7",
	"gate": {"id": "doc_lint", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.doc_lint.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Docs Librarian"]
	denials := data.conductor.gates.doc_lint.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Docs Librarian: no evidence recorded",
		"no passing doc-lint evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Comms Bard"]
	evidence := array.concat(others, [evidence_for("Comms Bard", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.doc_lint.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Comms Bard: fail: threshold exceeded: 3 findings",
		"no passing release-notes evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Runbook Editor"]
	evidence := array.concat(others, [evidence_for("Runbook Editor", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.doc_lint.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Runbook Editor: timed-out: no result within 300s",
		"no passing runbook-lint evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.doc_lint.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

test_each_docs_problem_is_named if {
	evidence := [object.union(e, {"facts": broken}) | some e in passing_evidence; e.agent == "Docs Librarian"]
	others := [e | some e in passing_evidence; e.agent != "Docs Librarian"]
	deny_with(array.concat(others, evidence), {}) == {"Docs Librarian: README.md:12: broken-link: docs/setup.md does not exist"}
	count(deny_with(array.concat(others, evidence), {"ignore_codes": ["broken-link"]})) == 0
}

test_empty_release_notes_deny if {
	deny_with(passing_evidence, {"min_release_notes_bytes": 1000}) == {"Comms Bard: the release notes release-notes.md have 900 bytes, fewer than 1000"}
}

# The docs agent fails on any problem; the gate names each and accepts the codes it is told to.
test_a_failing_docs_agent_is_judged_by_the_gate if {
	evidence := [object.union(e, {"facts": broken, "verdict": "fail", "reason": "1 documentation problems"}) | some e in passing_evidence; e.agent == "Docs Librarian"]
	others := [e | some e in passing_evidence; e.agent != "Docs Librarian"]
	deny_with(array.concat(others, evidence), {}) == {"Docs Librarian: README.md:12: broken-link: docs/setup.md does not exist"}
	count(deny_with(array.concat(others, evidence), {"ignore_codes": ["broken-link"]})) == 0
}
