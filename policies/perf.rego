# P1 perf: decides whether performance baselines hold: latency/throughput results, capacity
# headroom and the infrastructure load test, each compared with its baseline by its agent.
package conductor.gates.perf

import rego.v1

import data.conductor.lib.evidence

deny contains msg if {
	some msg in evidence.standard_denials
}

# Gate-specific checks arrive with the specialised agent kinds.
