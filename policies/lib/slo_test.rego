package conductor.lib.slo_test

import rego.v1

import data.conductor.lib.slo

# An objective as the slo kind files it.
met := {"name": "api-error-rate", "kind": "error_rate", "label": "error rate", "unit": "", "target": 0.01, "comparison": "<=", "value": 0.004, "valueText": null, "outcome": "pass", "reason": "api-error-rate: 0.004 <= target 0.01 over 1h", "window": "1h", "noData": "inconclusive", "nan": "inconclusive"}

entry(verdict, objectives) := {"agent": "SLO Librarian", "kind": "slo", "recordType": "slo-snapshot", "verdict": verdict, "reason": "as filed", "facts": {"objectives": objectives}}

denials_for(entries, settings) := d if {
	d := slo.denials({"slo-snapshot"}) with input as {"evidence": entries, "settings": settings}
}

test_a_met_objective_denies_nothing if {
	count(denials_for([entry("pass", [met])], {})) == 0
}

test_an_error_rate_above_its_limit_denies if {
	high := object.union(met, {"value": 0.0234567891, "outcome": "fail"})
	denials_for([entry("fail", [high])], {}) == {"SLO Librarian: api-error-rate: error rate 0.023457 is above the limit 0.01 (1h)"}
}

test_the_gate_target_replaces_the_agents if {
	denials_for([entry("pass", [met])], {"targets": {"api-error-rate": 0.001}}) == {"SLO Librarian: api-error-rate: error rate 0.004 is above the limit 0.001 (1h)"}
	count(denials_for([entry("pass", [met])], {"targets": {"other": 0.001}})) == 0
	count(denials_for([entry("pass", [met])], {"targets": {"api-error-rate": "strict"}})) == 0
}

test_entries_of_other_types_and_unjudged_verdicts_are_left_alone if {
	high := object.union(met, {"value": 0.5, "outcome": "fail"})
	other := object.union(entry("fail", [high]), {"recordType": "probe-snapshot"})
	count(denials_for([other], {})) == 0
	count(denials_for([entry("error", [high])], {})) == 0
}

test_an_erring_objective_denies_with_its_reason if {
	broken := object.union(met, {"value": null, "outcome": "error", "reason": "api-error-rate: prometheus answered bad_data: parse error (query sum(rate(x[1h]) /)"})
	denials_for([entry("pass", [broken])], {}) == {"SLO Librarian: api-error-rate: prometheus answered bad_data: parse error (query sum(rate(x[1h]) /)"}
}
