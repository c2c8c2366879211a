# P1 preview_budget: decides whether the preview environment is up, usable and within budget:
# cost estimate, preview deployment, accessibility run and the mobile/edge suite.
#
# Thresholds ([gates.preview_budget] in conductor.toml):
#   max_monthly_cost  the monthly budget, in the report's currency (default the Cost/FinOps
#                     agent's max_monthly_cost)
#   max_increase      the largest rise on the previous estimate, as a fraction (default the
#                     agent's max_increase; none when neither is set)
# A cost estimate is judged by its total; an estimate without one, or an agent without a budget,
# denies as missing input.
package conductor.gates.preview_budget

import rego.v1

import data.conductor.lib.evidence

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"cost-estimate"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

estimates := [e |
	some e in evidence.of_type("cost-estimate")
	e.verdict in {"pass", "fail"}
	is_number(object.get(evidence.facts(e), "totalMonthlyCost", null))
]

budget(f) := evidence.setting("max_monthly_cost", object.get(f, "maxMonthlyCost", null))

rise_limit(f) := evidence.setting("max_increase", object.get(f, "maxIncrease", null))

cents(x) := round(x * 100) / 100

deny contains msg if {
	some e in estimates
	f := e.facts
	limit := budget(f)
	is_number(limit)
	f.totalMonthlyCost > limit
	msg := sprintf("%s: %v %s a month is over the budget of %v", [e.agent, cents(f.totalMonthlyCost), f.currency, limit])
}

deny contains msg if {
	some e in estimates
	f := e.facts
	not is_number(budget(f))
	msg := sprintf("%s: no monthly budget to hold the estimate of %v %s to; set max_monthly_cost", [e.agent, cents(f.totalMonthlyCost), f.currency])
}

deny contains msg if {
	some e in estimates
	f := e.facts
	limit := rise_limit(f)
	is_number(limit)
	rise := object.get(f, "increase", null)
	is_number(rise)
	rise > limit
	msg := sprintf("%s: the monthly cost rose %v%% on the previous %v %s, over the limit of %v%%", [e.agent, evidence.percent(rise), cents(f.pastTotalMonthlyCost), f.currency, evidence.percent(limit)])
}
