package orders.authz_test

import rego.v1

import data.orders.authz

clerk := {"role": "clerk", "tenant": "acme"}

test_admin_may_cancel if {
	authz.allow with input as {"user": {"role": "admin"}, "action": "cancel", "order": {"tenant": "acme"}}
}

test_clerk_reads_own_tenant if {
	authz.allow with input as {"user": clerk, "action": "read", "order": {"tenant": "acme"}}
}

test_clerk_may_not_cancel if {
	not authz.allow with input as {"user": clerk, "action": "cancel", "order": {"tenant": "acme"}}
}

test_no_read_across_tenants if {
	not authz.allow with input as {"user": clerk, "action": "read", "order": {"tenant": "globex"}}
}

test_anonymous_is_refused if {
	not authz.allow with input as {"action": "read", "order": {"tenant": "acme"}}
}
