package conductor.lib.drills_test

import rego.v1

import data.conductor.lib.drills

entry(facts) := {"agent": "DR/BCP Lead", "kind": "drill", "recordType": "dr-drill", "verdict": "fail", "reason": "as filed", "facts": facts}

facts := {
	"drill": "region failover",
	"exitCode": 0,
	"missing": [],
	"metrics": {"rto_seconds": 240},
	"limits": {"rto_seconds": 300, "rpo_seconds": 60},
	"checks": [],
}

test_the_gate_overrides_lay_over_the_agent_limits if {
	drills.limits(entry(facts), {"dr-drill": {"rto_seconds": 120, "rpo_seconds": null}}) == {"rto_seconds": 120, "rpo_seconds": 60}
	drills.limits(entry(facts), {"chaos-experiment": {"rto_seconds": 1}}) == {"rto_seconds": 300, "rpo_seconds": 60}
}

test_each_limit_denies_over_or_missing if {
	denials := drills.denials({"dr-drill"}, {"dr-drill": {"rto_seconds": 120}}) with input as {"evidence": [entry(facts)]}
	denials == {
		"DR/BCP Lead: drill region failover: RTO 240 s exceeds the limit of 120 s",
		"DR/BCP Lead: drill region failover: the drill reported no RPO; the limit is 60 s",
	}
}

test_a_drill_without_a_name_is_named_by_its_command if {
	drills.name({"command": ["sh", "-c", "./drill.sh"]}) == "sh -c ./drill.sh"
	drills.status_text(null) == "was killed by a signal"
	drills.status_text(2) == "exited with status 2"
}

test_entries_without_facts_are_left_to_the_standard_denials if {
	denials := drills.denials({"dr-drill"}, {}) with input as {"evidence": [entry({})]}
	count(denials) == 0
}
