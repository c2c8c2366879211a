# Who may do what with an order: admins anything, clerks read and update their own
# tenant's orders, and nobody reads across tenants.
package orders.authz

import rego.v1

default allow := false

allow if input.user.role == "admin"

allow if {
	input.user.role == "clerk"
	input.action in {"read", "update"}
	input.order.tenant == input.user.tenant
}
