# P1 slo: decides whether SLO and observability baselines are recorded: SLO and synthetic-probe
# snapshots, dashboard snapshots and the structured-log check.
#
# Thresholds ([gates.slo] in conductor.toml):
#   targets  a table of objective name to the number its value is held to (the target of an
#            availability or error-rate objective, the latency threshold in seconds, the
#            maximum burn rate), such as targets = { "checkout-availability" = 0.995 }
#   max_probe_latency_ms  the slowest probe sample allowed, one number for every endpoint or a
#            table by endpoint name (default each endpoint's max_latency_ms)
# Each SLO snapshot objective is judged by lib/slo.rego: a value past its target, an
# inconclusive objective (no data, NaN) and an erring one each deny, naming the objective.
# Each probed endpoint is judged by lib/probe.rego: no answer, an unexpected status or body, and
# a latency over its limit each deny, naming the endpoint.
package conductor.gates.slo

import rego.v1

import data.conductor.lib.evidence
import data.conductor.lib.probe
import data.conductor.lib.slo

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"slo-snapshot", "probe-snapshot"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

deny contains msg if {
	some msg in slo.denials({"slo-snapshot"})
}

deny contains msg if {
	some msg in probe.denials({"probe-snapshot"})
}
