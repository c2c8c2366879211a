-- Removes every row of one tenant: run with psql -v tenant=acme -f purge.sql.
DELETE FROM orders WHERE tenant_id = :'tenant';
