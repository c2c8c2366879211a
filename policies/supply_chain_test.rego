package conductor.gates.supply_chain_test

import rego.v1

# The supply_chain gate (P0) as phases/P0.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Supply-Chain Lead",
	"Provenance Sheriff",
	"Artifactory Steward",
	"Vendor Sentinel",
	"Program Scheduler",
]

needs := [
	"sbom",
	"provenance",
	"signature",
	"vulnerabilities",
	"git-facts",
]

record_type := {
	"Supply-Chain Lead": "sbom",
	"Provenance Sheriff": "provenance",
	"Artifactory Steward": "signature",
	"Vendor Sentinel": "vulnerabilities",
	"Program Scheduler": "git-facts",
}

kind := {
	"Supply-Chain Lead": "sbom",
	"Provenance Sheriff": "provenance",
	"Artifactory Steward": "sign",
	"Vendor Sentinel": "vulnerabilities",
	"Program Scheduler": "git",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": {},
	"sequence": seq,
}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := []

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P0",
	"gate": {"id": "supply_chain", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.supply_chain.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Supply-Chain Lead"]
	denials := data.conductor.gates.supply_chain.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Supply-Chain Lead: no evidence recorded",
		"no passing sbom evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Supply-Chain Lead"]
	evidence := array.concat(others, [evidence_for("Supply-Chain Lead", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.supply_chain.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Supply-Chain Lead: fail: threshold exceeded: 3 findings",
		"no passing sbom evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Provenance Sheriff"]
	evidence := array.concat(others, [evidence_for("Provenance Sheriff", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.supply_chain.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Provenance Sheriff: timed-out: no result within 300s",
		"no passing provenance evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.supply_chain.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}
