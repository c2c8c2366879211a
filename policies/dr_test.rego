package conductor.gates.dr_test

import rego.v1

# The dr gate (P5) as phases/P5.toml names it, with each agent's record type
# from agents/roster.toml.
agents := [
	"DR/BCP Lead",
	"Incident Commander",
	"Forensic Scribe",
]

needs := [
	"dr-drill",
	"incident-drill",
	"drill-timeline",
]

record_type := {
	"DR/BCP Lead": "dr-drill",
	"Incident Commander": "incident-drill",
	"Forensic Scribe": "drill-timeline",
}

kind := {
	"DR/BCP Lead": "drill",
	"Incident Commander": "drill",
	"Forensic Scribe": "file",
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
	"phase": "P5",
	"gate": {"id": "dr", "agents": agents, "needs": needs},
	"evidence": evidence,
	"prior_gates": prior,
}

# Every agent present with a passing verdict and every need covered: nothing to deny.
test_all_pass_allows if {
	count(data.conductor.gates.dr.deny) == 0 with input as gate_input(passing_evidence, passing_prior)
}

# One agent filed nothing: its absence and the uncovered need are both reported, and only those.
test_missing_agent_denies if {
	evidence := [e | some e in passing_evidence; e.agent != "DR/BCP Lead"]
	denials := data.conductor.gates.dr.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"DR/BCP Lead: no evidence recorded",
		"no passing dr-drill evidence",
	}
}

# One agent failed: the message carries agent, verdict and reason exactly.
test_failed_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "DR/BCP Lead"]
	evidence := array.concat(others, [evidence_for("DR/BCP Lead", "fail", "threshold exceeded: 3 findings", 100)])
	denials := data.conductor.gates.dr.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"DR/BCP Lead: fail: threshold exceeded: 3 findings",
		"no passing dr-drill evidence",
	}
}

# Verdicts other than fail (here timed-out) deny in the same shape.
test_timed_out_verdict_denies if {
	others := [e | some e in passing_evidence; e.agent != "Incident Commander"]
	evidence := array.concat(others, [evidence_for("Incident Commander", "timed-out", "no result within 300s", 100)])
	denials := data.conductor.gates.dr.deny with input as gate_input(evidence, passing_prior)
	denials == {
		"Incident Commander: timed-out: no result within 300s",
		"no passing incident-drill evidence",
	}
}

# No evidence at all: every agent and every need is reported.
test_no_evidence_denies_everything if {
	denials := data.conductor.gates.dr.deny with input as gate_input([], passing_prior)
	count(denials) == count(agents) + count(needs)
	every agent in agents {
		sprintf("%s: no evidence recorded", [agent]) in denials
	}
}

# Facts as the drill kind files them for a region failover within its limits.
failover_facts := {
	"drill": "region failover",
	"command": ["sh", "-c", "./drills/dr-drill.sh"],
	"exitCode": 0,
	"missing": [],
	"metrics": {"rto_seconds": 240, "rpo_seconds": 12},
	"limits": {"rto_seconds": 300, "rpo_seconds": 60},
	"checks": [{"name": "orders readable after failover", "ok": true}],
}

game_day_facts := {
	"drill": "payments outage game day",
	"exitCode": 0,
	"missing": [],
	"metrics": {"time_to_acknowledge_seconds": 120},
	"limits": {"time_to_acknowledge_seconds": 300},
	"checks": [],
}

with_facts(agent, verdict, facts) := object.union(evidence_for(agent, verdict, "as filed", 99), {"facts": facts})

drills_with(dr_facts, dr_verdict) := array.concat([e | some e in passing_evidence; not e.agent in {"DR/BCP Lead", "Incident Commander"}], [
	with_facts("DR/BCP Lead", dr_verdict, dr_facts),
	with_facts("Incident Commander", "pass", game_day_facts),
])

deny_with(evidence, settings) := denials if {
	denials := data.conductor.gates.dr.deny with input as object.union(gate_input(evidence, passing_prior), {"settings": settings})
}

test_drills_within_their_limits_pass if {
	count(deny_with(drills_with(failover_facts, "pass"), {})) == 0
}

test_rto_over_the_limit_names_drill_value_and_limit if {
	slow := object.union(failover_facts, {"metrics": {"rto_seconds": 420, "rpo_seconds": 12}})
	deny_with(drills_with(slow, "fail"), {}) == {"DR/BCP Lead: drill region failover: RTO 420 s exceeds the limit of 300 s"}
}

test_rpo_over_the_limit_denies if {
	lossy := object.union(failover_facts, {"metrics": {"rto_seconds": 240, "rpo_seconds": 90}})
	deny_with(drills_with(lossy, "fail"), {}) == {"DR/BCP Lead: drill region failover: RPO 90 s exceeds the limit of 60 s"}
}

test_a_drill_that_reported_no_rto_denies if {
	silent := object.union(object.remove(failover_facts, ["metrics"]), {"metrics": {"rpo_seconds": 12}})
	deny_with(drills_with(silent, "fail"), {}) == {"DR/BCP Lead: drill region failover: the drill reported no RTO; the limit is 300 s"}
}

test_the_gate_threshold_decides_in_either_direction if {
	slow := object.union(failover_facts, {"metrics": {"rto_seconds": 420, "rpo_seconds": 12}})
	count(deny_with(drills_with(slow, "fail"), {"max_rto_seconds": 600})) == 0
	deny_with(drills_with(failover_facts, "pass"), {"max_rto_seconds": 180}) == {"DR/BCP Lead: drill region failover: RTO 240 s exceeds the limit of 180 s"}
}

test_a_drill_held_to_no_limit_denies if {
	unlimited := object.union(object.remove(failover_facts, ["limits"]), {"limits": {}})
	deny_with(drills_with(unlimited, "pass"), {}) == {
		"DR/BCP Lead: drill region failover is held to no RTO; set rto_seconds for the agent or max_rto_seconds for the gate",
		"DR/BCP Lead: drill region failover is held to no RPO; set rpo_seconds for the agent or max_rpo_seconds for the gate",
	}
	count(deny_with(drills_with(unlimited, "pass"), {"max_rto_seconds": 300, "max_rpo_seconds": 60})) == 0
}

test_a_failed_exit_or_check_denies_whatever_the_thresholds if {
	crashed := object.union(failover_facts, {"exitCode": 3})
	deny_with(drills_with(crashed, "fail"), {"max_rto_seconds": 9999}) == {"DR/BCP Lead: drill region failover exited with status 3"}
	killed := object.union(failover_facts, {"exitCode": null})
	deny_with(drills_with(killed, "fail"), {}) == {"DR/BCP Lead: drill region failover was killed by a signal"}
	broken := object.union(failover_facts, {"checks": [{"name": "orders readable after failover", "ok": false, "detail": "404 on /orders/1"}]})
	deny_with(drills_with(broken, "fail"), {}) == {"DR/BCP Lead: drill region failover: check orders readable after failover did not hold: 404 on /orders/1"}
	lazy := object.union(failover_facts, {"missing": ["drills/restore-report.json"]})
	deny_with(drills_with(lazy, "fail"), {}) == {"DR/BCP Lead: drill region failover did not produce drills/restore-report.json"}
}

test_the_incident_drill_is_held_to_its_own_limits if {
	late := object.union(game_day_facts, {"metrics": {"time_to_acknowledge_seconds": 420}})
	evidence := array.concat([e | some e in drills_with(failover_facts, "pass"); e.agent != "Incident Commander"], [with_facts("Incident Commander", "fail", late)])
	deny_with(evidence, {"max_rto_seconds": 1}) == {
		"Incident Commander: drill payments outage game day: time_to_acknowledge_seconds 420 s exceeds the limit of 300 s",
		"DR/BCP Lead: drill region failover: RTO 240 s exceeds the limit of 1 s",
	}
}
