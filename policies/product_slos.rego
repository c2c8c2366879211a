# P4 product_slos: decides whether each product track meets its SLOs and API contract:
# realtime, reporting and ingest SLOs, and the API compatibility check.
#
# Thresholds ([gates.product_slos] in conductor.toml):
#   targets  a table of objective name to the number its value is held to, as for the slo gate
# Each track's objectives are judged by lib/slo.rego: a value past its target, an
# inconclusive objective and an erring one each deny, naming the objective.
package conductor.gates.product_slos

import rego.v1

import data.conductor.lib.evidence
import data.conductor.lib.slo

# The record types whose facts the rules below judge with this gate's thresholds.
judged := {"realtime-slo", "reporting-slo", "ingest-slo"}

deny contains msg if {
	some msg in evidence.denials_judging(judged)
}

deny contains msg if {
	some msg in slo.denials(judged)
}
