# P0 supply_chain: decides whether the release's supply chain is accounted for: an SBOM,
# SLSA provenance and signatures for the artifacts, a dependency vulnerability report and the
# git facts of the release commit, each filed by its agent with a passing verdict.
#
# Thresholds ([gates.supply_chain] in conductor.toml):
#   max_vulnerabilities  per severity, -1 for no limit, e.g. { high = 2 } (default 0 at and above the
#                        agent's fail_severity and for unrated ones, -1 below it)
#   allow_yanked         accept yanked packages in lock files (default false)
#   min_sbom_components  the SBOM must list at least this many components (default 1)
#   require_hashes       every SBOM component must carry a hash (default false)
#   require_clean_worktree  the release commit was checked out without local changes (default true)
package conductor.gates.supply_chain

import rego.v1

import data.conductor.lib.evidence

# The record types whose findings the rules below judge with this gate's thresholds.
judged := {"vulnerabilities", "sbom"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

# Without a threshold here, severities at or above the agent's fail_severity (default high) allow
# none, the rest any number; unrated vulnerabilities allow none.
severity_order := ["none", "low", "medium", "high", "critical"]

# The strictest fail_severity the vulnerability agents were given ("none": they fail on none).
severity_rank := {s: i | some i, s in severity_order}

fail_ranks := [object.get(severity_rank, object.get(evidence.facts(e), "failSeverity", "high"), 0) |
	some e in evidence.of_type("vulnerabilities")
]

fail_rank := 99 if {
	count(fail_ranks) > 0
	min(fail_ranks) <= 0
} else := min(fail_ranks) if {
	count(fail_ranks) > 0
} else := 3

default_max_vulnerabilities[severity] := limit if {
	some i, severity in severity_order
	i > 0
	limit := evidence.at_or_above(i, fail_rank)
}

default_max_vulnerabilities.unknown := 0

max_vulnerabilities := object.union(default_max_vulnerabilities, evidence.setting("max_vulnerabilities", {}))

# Vulnerabilities over the limit of their severity, naming each.
deny contains msg if {
	some e in evidence.of_type("vulnerabilities")
	f := evidence.facts(e)
	some severity, limit in max_vulnerabilities
	n := object.get(object.get(f, "counts", {}), severity, 0)
	evidence.exceeds(n, limit)
	found := [sprintf("%s in %s %s", [v.id, v.package, v.version]) |
		some v in object.get(f, "vulnerabilities", [])
		v.severity == severity
	]
	msg := sprintf("%s: %d %s vulnerabilities exceed the limit of %d: %s", [e.agent, n, severity, limit, evidence.names(found)])
}

# A report made from another lock file than the repository's says nothing about this release.
deny contains msg if {
	some e in evidence.of_type("vulnerabilities")
	some why in object.get(evidence.facts(e), "staleReports", [])
	msg := sprintf("%s: %s", [e.agent, why])
}

deny contains msg if {
	not evidence.setting("allow_yanked", false)
	some e in evidence.of_type("vulnerabilities")
	some y in object.get(evidence.facts(e), "yanked", [])
	msg := sprintf("%s: %s %s is yanked from its registry; update the lock file or set allow_yanked", [e.agent, y.package, y.version])
}

deny contains msg if {
	some e in evidence.of_type("sbom")
	e.verdict == "pass"
	n := object.get(evidence.facts(e), "components", 0)
	minimum := evidence.setting("min_sbom_components", 1)
	n < minimum
	msg := sprintf("%s: the SBOM lists %d components, fewer than %d", [e.agent, n, minimum])
}

deny contains msg if {
	evidence.setting("require_hashes", false)
	some e in evidence.of_type("sbom")
	n := object.get(evidence.facts(e), "withoutHashes", 0)
	n > 0
	msg := sprintf("%s: %d SBOM components carry no hash and require_hashes is set", [e.agent, n])
}

deny contains msg if {
	some e in evidence.of_type("sbom")
	some u in object.get(evidence.facts(e), "unpinned", [])
	msg := sprintf("%s: %s:%d pins no version: %s", [e.agent, u.file, u.line, u.requirement])
}

provenance_digests contains s.sha256 if {
	some e in evidence.of_type("provenance")
	e.verdict == "pass"
	some s in object.get(evidence.facts(e), "subjects", [])
}

signed_digests contains s.sha256 if {
	some e in evidence.of_type("signature")
	e.verdict == "pass"
	some s in object.get(evidence.facts(e), "signatures", [])
}

# Every signed artifact has provenance, and every artifact with provenance is signed.
deny contains msg if {
	count(provenance_digests) > 0
	some e in evidence.of_type("signature")
	some s in object.get(evidence.facts(e), "signatures", [])
	not s.sha256 in provenance_digests
	msg := sprintf("%s: %s (sha256 %s) is signed but has no SLSA provenance", [e.agent, s.artifact, substring(s.sha256, 0, 12)])
}

deny contains msg if {
	count(signed_digests) > 0
	some e in evidence.of_type("provenance")
	some s in object.get(evidence.facts(e), "subjects", [])
	not s.sha256 in signed_digests
	msg := sprintf("%s: %s (sha256 %s) has provenance but no signature", [e.agent, s.name, substring(s.sha256, 0, 12)])
}

deny contains msg if {
	some e in evidence.of_type("git-facts")
	commit := object.get(evidence.facts(e), "commit", "")
	commit != input.release.commit
	msg := sprintf("%s: the git facts are for commit %s but the release is bound to %s", [e.agent, commit, input.release.commit])
}

deny contains msg if {
	evidence.setting("require_clean_worktree", true)
	some e in evidence.of_type("git-facts")
	f := evidence.facts(e)
	object.get(f, "clean", false) != true
	msg := sprintf("%s: the work tree has local changes: %s", [e.agent, evidence.names(object.get(f, "dirty", []))])
}
