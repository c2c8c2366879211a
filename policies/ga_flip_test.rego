package conductor.gates.ga_flip_test

import rego.v1

# The ga_flip gate (P8) as phases/P8.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"Release Conductor",
	"Evidence QA",
	"SLO Economist",
	"Feature Flag Butler",
	"FinReporter",
]

needs := [
	"release-readiness",
	"pack-verification",
	"error-budget",
	"flag-state",
	"kpi-report",
]

record_type := {
	"Release Conductor": "release-readiness",
	"Evidence QA": "pack-verification",
	"SLO Economist": "error-budget",
	"Feature Flag Butler": "flag-state",
	"FinReporter": "kpi-report",
}

kind := {
	"Release Conductor": "readiness",
	"Evidence QA": "command",
	"SLO Economist": "slo",
	"Feature Flag Butler": "flags",
	"FinReporter": "file",
}

release := {"version": "v1.0.0", "commit": "0123456789abcdef0123456789abcdef01234567", "environment": "prod"}

evidence_for(agent, verdict, reason, seq) := {
	"agent": agent,
	"kind": kind[agent],
	"recordType": record_type[agent],
	"verdict": verdict,
	"reason": reason,
	"facts": object.get(passing_facts, agent, {}),
	"sequence": seq,
}

# The facts a passing entry carries where its gate reads them: a readiness decision of GO.
passing_facts := {
	"Release Conductor": {"decision": "GO", "score": 100, "blockers": []},
	"SLO Economist": {"source": {"kind": "recorded", "folder": "slo/recorded"}, "evaluationTime": "2026-11-30T12:00:00Z", "objectives": [met]},
}

passing_evidence := [e |
	some i, agent in agents
	e := evidence_for(agent, "pass", "ok", i + 1)
]

passing_prior := [
	{"phase": "P0", "gate": "supply_chain", "passed": true, "reasons": []},
	{"phase": "P0", "gate": "policy_ci", "passed": true, "reasons": []},
	{"phase": "P0", "gate": "hardening", "passed": true, "reasons": []},
	{"phase": "P1", "gate": "slo", "passed": true, "reasons": []},
	{"phase": "P1", "gate": "perf", "passed": true, "reasons": []},
	{"phase": "P1", "gate": "preview_budget", "passed": true, "reasons": []},
	{"phase": "P2", "gate": "migrations", "passed": true, "reasons": []},
	{"phase": "P2", "gate": "tenant_isolation", "passed": true, "reasons": []},
	{"phase": "P3", "gate": "identity", "passed": true, "reasons": []},
	{"phase": "P3", "gate": "authz", "passed": true, "reasons": []},
	{"phase": "P3", "gate": "audit", "passed": true, "reasons": []},
	{"phase": "P4", "gate": "product_slos", "passed": true, "reasons": []},
	{"phase": "P4", "gate": "reindex_parity", "passed": true, "reasons": []},
	{"phase": "P5", "gate": "dr", "passed": true, "reasons": []},
	{"phase": "P5", "gate": "chaos", "passed": true, "reasons": []},
	{"phase": "P6", "gate": "all_required_gates", "passed": true, "reasons": []},
	{"phase": "P7", "gate": "alert_hygiene", "passed": true, "reasons": []},
	{"phase": "P7", "gate": "doc_lint", "passed": true, "reasons": []},
]

gate_input(evidence, prior) := {
	"release": release,
	"phase": "P8",
	"gate": {"id": "ga_flip", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.ga_flip.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "Release Conductor"]
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Release Conductor: no evidence recorded",
		"no passing release-readiness evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Release Conductor"]
	evidence := array.concat(others, [evidence_for("Release Conductor", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Release Conductor: fail: threshold exceeded: 3 findings",
		"no passing release-readiness evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Evidence QA"]
	evidence := array.concat(others, [evidence_for("Evidence QA", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Evidence QA: timed-out: no result within 300s",
		"no passing pack-verification evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.ga_flip.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

# An earlier gate failed: its first reason is quoted.
test_failed_prior_gate_denies if {
	others := [g | some g in passing_prior; g.gate != "supply_chain"]
	failed := {"phase": "P0", "gate": "supply_chain", "passed": false, "reasons": ["no passing sbom evidence", "Vendor Sentinel: fail: 2 critical"]}
	prior := array.concat(others, [failed])
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(passing_evidence, prior)
	denials == {"P0/supply_chain has not passed: no passing sbom evidence"}
}

# An earlier gate with no recorded reasons falls back to 'no decision recorded'.
test_failed_prior_gate_without_reasons_denies if {
	others := [g | some g in passing_prior; g.gate != "doc_lint"]
	prior := array.concat(others, [{"phase": "P7", "gate": "doc_lint", "passed": false, "reasons": []}])
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(passing_evidence, prior)
	denials == {"P7/doc_lint has not passed: no decision recorded"}
}

# No earlier decisions at all is a denial, not a pass.
test_no_prior_gates_denies if {
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(passing_evidence, [])
	denials == {"no earlier gate decisions were found"}
}

# Before the GA flip the readiness is recomputed; a NO-GO then denies with its score and blockers.
test_no_go_readiness_denies_the_flip if {
	others := [e | some e in passing_evidence; e.agent != "Release Conductor"]
	readiness := object.union(evidence_for("Release Conductor", "fail", "NO-GO", 100), {"facts": {
		"decision": "NO-GO",
		"score": 54,
		"blockers": [],
	}})
	denials := data.conductor.gates.ga_flip.deny with input as gate_input(array.concat(others, [readiness]), passing_prior)
	"release readiness is NO-GO with score 54 of 100" in denials
}

# The flag inventory as the flags kind files it, with one flag past its removal date.
flag_facts := {
	"total": 3,
	"invalid": [],
	"expired": [{"name": "legacy-search", "file": "flags/flags.json", "expires": "2026-10-01"}],
	"allowExpired": false,
	"notEnabled": [],
	"asOf": "2026-11-30T09:00:00Z",
}

flags_with(verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != "Feature Flag Butler"], [object.union(evidence_for("Feature Flag Butler", verdict, "as filed", 99), {"facts": facts})])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.ga_flip.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

test_an_expired_flag_denies_naming_it_and_its_date if {
	deny_with(flags_with("fail", flag_facts), {}) == {"Feature Flag Butler: flag legacy-search in flags/flags.json was due for removal on 2026-10-01 (as of 2026-11-30T09:00:00Z); remove it or set allow_expired_flags"}
}

test_expired_flags_may_be_allowed_by_the_agent_or_the_gate if {
	count(deny_with(flags_with("fail", flag_facts), {"allow_expired_flags": true})) == 0
	allowed := object.union(flag_facts, {"allowExpired": true})
	count(deny_with(flags_with("pass", allowed), {})) == 0
	count(deny_with(flags_with("pass", allowed), {"allow_expired_flags": false})) == 1
}

test_an_invalid_flag_denies_whatever_the_thresholds if {
	invalid := object.union(object.remove(flag_facts, ["expired"]), {"expired": [], "invalid": [{"name": "dark-mode", "file": "flags/flags.json", "problems": ["defaultVariant 'dark' is not one of its variants (off, on)"]}]})
	deny_with(flags_with("fail", invalid), {"allow_expired_flags": true}) == {"Feature Flag Butler: flag dark-mode in flags/flags.json is invalid: defaultVariant 'dark' is not one of its variants (off, on)"}
}

test_a_required_flag_that_is_off_denies if {
	off := object.union(object.remove(flag_facts, ["expired"]), {"expired": [], "notEnabled": ["new-checkout"]})
	deny_with(flags_with("fail", off), {}) == {"Feature Flag Butler: flag new-checkout must be ENABLED for the GA flip"}
}

test_an_unreadable_flag_file_denies_with_its_reason if {
	evidence := array.concat([e | some e in passing_evidence; e.agent != "Feature Flag Butler"], [evidence_for("Feature Flag Butler", "missing-input", "flags.json is not a flagd flag file: EOF", 99)])
	deny_with(evidence, {"allow_expired_flags": true}) == {
		"Feature Flag Butler: missing-input: flags.json is not a flagd flag file: EOF",
		"no passing flag-state evidence",
	}
}

test_a_kill_switch_no_file_defines_denies if {
	absent := object.union(object.remove(flag_facts, ["expired"]), {"expired": [], "absent": ["kill-orders-writes"]})
	deny_with(flags_with("fail", absent), {"allow_expired_flags": true}) == {"Feature Flag Butler: flag kill-orders-writes must be defined in a flag file; the release relies on it"}
}

# An objective as the slo kind files it (see agents/src/slo/evaluate.rs).
met := {"name": "checkout-availability", "kind": "availability", "label": "availability", "unit": "", "target": 0.999, "comparison": ">=", "value": 0.9995, "valueText": null, "outcome": "pass", "reason": "checkout-availability: 0.9995 >= target 0.999 over 30d", "query": "1 - (sum(rate(http_requests_total{code=~\"5..\"}[30d])) / sum(rate(http_requests_total[30d])))", "window": "30d", "noData": "inconclusive", "nan": "inconclusive"}

slo_facts(objectives) := {"source": {"kind": "recorded", "folder": "slo/recorded"}, "evaluationTime": "2026-11-30T12:00:00Z", "objectives": objectives}

missed := object.union(met, {"value": 0.9931, "outcome": "fail", "reason": "checkout-availability: 0.9931 < target 0.999 over 30d"})

slo_with(agent, verdict, facts) := array.concat([e | some e in passing_evidence; e.agent != agent], [object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})])

slo_deny(evidence, settings) := denials if {
	denials := data.conductor.gates.ga_flip.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

# An error-budget fail with facts is not the gate's to accept: it denies with the agent's reason
# and names the objective.
test_an_error_budget_fail_denies_the_flip if {
	burning := object.union(met, {"name": "checkout-burn", "kind": "burn_rate", "label": "burn rate", "target": 14.4, "comparison": "<=", "value": 20.5, "outcome": "fail", "window": "1h, 5m"})
	denials := slo_deny(slo_with("SLO Economist", "fail", slo_facts([burning])), {"targets": {"checkout-burn": 30}})
	"SLO Economist: fail: as filed" in denials
	"no passing error-budget evidence" in denials
	denials2 := slo_deny(slo_with("SLO Economist", "fail", slo_facts([burning])), {})
	"SLO Economist: checkout-burn: burn rate 20.5 is above the limit 14.4 (1h, 5m)" in denials2
}
