-- Two tenants' orders, as the tenant checks probe them.
INSERT INTO orders (tenant_id, item, quantity) VALUES
    ('acme', 'espresso beans', 2),
    ('acme', 'filter papers', 10),
    ('globex', 'green tea', 1);
