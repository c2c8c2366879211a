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

artifact_sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

# Facts as each kind files them for a release in good order.
good_facts := {
	"Supply-Chain Lead": {"components": 42, "withHashes": 42, "withoutHashes": 0, "unpinned": []},
	"Provenance Sheriff": {"subjects": [{"name": "dist/app.tar.gz", "sha256": artifact_sha}]},
	"Artifactory Steward": {"signatures": [{"artifact": "dist/app.tar.gz", "sha256": artifact_sha}]},
	"Vendor Sentinel": {"counts": {"low": 1, "medium": 2, "high": 0, "critical": 0, "unknown": 0}, "vulnerabilities": [], "yanked": []},
	"Program Scheduler": {"commit": release.commit, "clean": true, "dirty": []},
}

evidence_for(agent, verdict, reason, seq) := with_facts(agent, verdict, reason, seq, good_facts[agent])

with_facts(agent, verdict, reason, seq, facts) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": facts,
	"sequence": seq,
}

# The passing evidence with one agent's facts replaced.
replaced(agent, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, "pass", "ok", 99, facts)])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.supply_chain.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
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
	others := [e | some e in passing_evidence; e.agent != "Provenance Sheriff"]
	evidence := array.concat(others, [evidence_for("Provenance Sheriff", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.supply_chain.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Provenance Sheriff: fail: threshold exceeded: 3 findings",
		"no passing provenance evidence",
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

high_vuln := {
	"counts": {"high": 1, "critical": 0},
	"vulnerabilities": [{"id": "GHSA-x84v-xcm2-53pg", "package": "requests", "version": "2.19.0", "severity": "high"}],
}

# A high vulnerability denies by default, naming the advisory and package.
test_high_vulnerability_denies_naming_it if {
	deny_with(replaced("Vendor Sentinel", high_vuln), {}) == {"Vendor Sentinel: 1 high vulnerabilities exceed the limit of 0: GHSA-x84v-xcm2-53pg in requests 2.19.0"}
}

# A threshold in conductor.toml lifts the limit.
test_vulnerability_limit_comes_from_settings if {
	count(deny_with(replaced("Vendor Sentinel", high_vuln), {"max_vulnerabilities": {"high": 1}})) == 0
	count(deny_with(replaced("Vendor Sentinel", high_vuln), {"max_vulnerabilities": {"high": -1}})) == 0
}

test_yanked_package_denies_unless_allowed if {
	facts := object.union(good_facts["Vendor Sentinel"], {"yanked": [{"package": "futures-util", "version": "0.3.29"}]})
	deny_with(replaced("Vendor Sentinel", facts), {}) == {"Vendor Sentinel: futures-util 0.3.29 is yanked from its registry; update the lock file or set allow_yanked"}
	count(deny_with(replaced("Vendor Sentinel", facts), {"allow_yanked": true})) == 0
}

test_signed_artifact_without_provenance_denies if {
	other := "0000000000000000000000000000000000000000000000000000000000000000"
	facts := {"signatures": [{"artifact": "dist/app.tar.gz", "sha256": artifact_sha}, {"artifact": "dist/extra.whl", "sha256": other}]}
	deny_with(replaced("Artifactory Steward", facts), {}) == {"Artifactory Steward: dist/extra.whl (sha256 000000000000) is signed but has no SLSA provenance"}
}

test_artifact_with_provenance_but_no_signature_denies if {
	facts := {"subjects": [{"name": "dist/app.tar.gz", "sha256": artifact_sha}, {"name": "dist/other.tar.gz", "sha256": "1111111111111111111111111111111111111111111111111111111111111111"}]}
	deny_with(replaced("Provenance Sheriff", facts), {}) == {"Provenance Sheriff: dist/other.tar.gz (sha256 111111111111) has provenance but no signature"}
}

test_git_facts_for_another_commit_deny if {
	facts := {"commit": "ffffffffffffffffffffffffffffffffffffffff", "clean": true}
	deny_with(replaced("Program Scheduler", facts), {}) == {"Program Scheduler: the git facts are for commit ffffffffffffffffffffffffffffffffffffffff but the release is bound to 0123456789abcdef0123456789abcdef01234567"}
}

test_dirty_worktree_denies_unless_allowed if {
	facts := {"commit": release.commit, "clean": false, "dirty": ["app.py"]}
	deny_with(replaced("Program Scheduler", facts), {}) == {"Program Scheduler: the work tree has local changes: app.py"}
	count(deny_with(replaced("Program Scheduler", facts), {"require_clean_worktree": false})) == 0
}

test_sbom_without_components_or_hashes_denies if {
	empty := {"components": 0, "withoutHashes": 0, "unpinned": []}
	deny_with(replaced("Supply-Chain Lead", empty), {}) == {"Supply-Chain Lead: the SBOM lists 0 components, fewer than 1"}
	unhashed := {"components": 3, "withoutHashes": 2, "unpinned": []}
	count(deny_with(replaced("Supply-Chain Lead", unhashed), {})) == 0
	deny_with(replaced("Supply-Chain Lead", unhashed), {"require_hashes": true}) == {"Supply-Chain Lead: 2 SBOM components carry no hash and require_hashes is set"}
}

test_unpinned_requirement_is_named if {
	facts := {"components": 3, "unpinned": [{"file": "requirements.txt", "line": 4, "requirement": "flask>=2"}]}
	deny_with(replaced("Supply-Chain Lead", facts), {}) == {"Supply-Chain Lead: requirements.txt:4 pins no version: flask>=2"}
}

failed(agent, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [with_facts(agent, "fail", "1 of 1 vulnerabilities are at or above high (or unrated)", 99, facts)])

# The vulnerability agent's own fail is left to this gate: its facts are judged against the
# gate's thresholds, so raising one in conductor.toml lets the release through.
test_a_failing_vulnerability_agent_is_judged_by_the_gate if {
	facts := object.union(high_vuln, {"failSeverity": "high"})
	deny_with(failed("Vendor Sentinel", facts), {}) == {"Vendor Sentinel: 1 high vulnerabilities exceed the limit of 0: GHSA-x84v-xcm2-53pg in requests 2.19.0"}
	count(deny_with(failed("Vendor Sentinel", facts), {"max_vulnerabilities": {"high": 1}})) == 0
}

# Without a threshold here the agent's fail_severity sets the defaults.
test_fail_severity_sets_the_default_limits if {
	medium := {"counts": {"medium": 1}, "vulnerabilities": [{"id": "GHSA-m", "package": "p", "version": "1", "severity": "medium"}], "failSeverity": "medium"}
	deny_with(failed("Vendor Sentinel", medium), {}) == {"Vendor Sentinel: 1 medium vulnerabilities exceed the limit of 0: GHSA-m in p 1"}
	count(deny_with(replaced("Vendor Sentinel", object.union(medium, {"failSeverity": "high"})), {})) == 0
}

# A fail that carries no facts is not the gate's to judge: it denies whatever the thresholds.
test_a_fail_without_facts_denies_whatever_the_thresholds if {
	evidence := array.concat([e | some e in passing_evidence; e.agent != "Vendor Sentinel"], [with_facts("Vendor Sentinel", "fail", "unreadable", 99, {})])
	deny_with(evidence, {"max_vulnerabilities": {"high": -1}}) == {"Vendor Sentinel: fail: unreadable", "no passing vulnerabilities evidence"}
}

test_a_report_of_another_lock_file_denies if {
	facts := object.union(good_facts["Vendor Sentinel"], {"staleReports": ["the report counted 5 packages in Cargo.lock, which now has 2"]})
	deny_with(failed("Vendor Sentinel", facts), {}) == {"Vendor Sentinel: the report counted 5 packages in Cargo.lock, which now has 2"}
}
