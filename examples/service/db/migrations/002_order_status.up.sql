CREATE TYPE order_status AS ENUM ('placed', 'shipped', 'cancelled');
ALTER TABLE orders ADD COLUMN status order_status NOT NULL DEFAULT 'placed';
