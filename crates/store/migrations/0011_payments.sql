-- Unified payment and delivery (统一支付 · 快递送达). Money is integer fen throughout.

-- One payment order per case: what is due, to whom, and where it stands.
CREATE TABLE payment_orders (
    order_no TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    case_number TEXT NOT NULL,
    title TEXT NOT NULL,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    -- 'person:<ID>' or 'business:<code>'
    payer TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    -- JSON [{name, basis, amount_fen}]
    items TEXT NOT NULL,
    -- pending | paid | expired | closed | refunding | refunded
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_txn TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    paid_at TEXT,
    -- China date of payment (reconciliation and revenue)
    paid_day TEXT,
    -- When the case started (or the money was sent back) after payment: the sweep that heals
    -- a crash between the two stops looking at the order.
    settled_at TEXT,
    refunded_fen BIGINT NOT NULL DEFAULT 0,
    refund_reason TEXT,
    last_query_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX payment_orders_case ON payment_orders (case_id);
CREATE INDEX payment_orders_status ON payment_orders (status, created_at);
CREATE INDEX payment_orders_paid_day ON payment_orders (paid_day);

-- Every change of an order (支付流水), for audit.
CREATE TABLE payment_events (
    id {{AUTO_ID}},
    order_no TEXT NOT NULL REFERENCES payment_orders (order_no),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_fen BIGINT,
    detail TEXT NOT NULL,
    actor TEXT
);
CREATE INDEX payment_events_order ON payment_events (order_no, id);

-- Provider notifications already handled: a replayed callback changes nothing.
CREATE TABLE payment_notifications (
    provider TEXT NOT NULL,
    notify_id TEXT NOT NULL,
    order_no TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (provider, notify_id)
);

-- Daily reconciliation reports (对账).
CREATE TABLE payment_reconciliations (
    day TEXT NOT NULL,
    provider TEXT NOT NULL,
    matched BIGINT NOT NULL,
    mismatches TEXT NOT NULL,
    local_fen BIGINT NOT NULL,
    provider_fen BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (day, provider)
);

-- The built-in sandbox payment provider's own books (a real provider keeps these itself).
CREATE TABLE sandbox_transactions (
    txn_id TEXT PRIMARY KEY,
    order_no TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    -- paid | failed
    status TEXT NOT NULL,
    refunded_fen BIGINT NOT NULL DEFAULT 0,
    at TEXT NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX sandbox_transactions_order ON sandbox_transactions (order_no);
CREATE INDEX sandbox_transactions_day ON sandbox_transactions (day);

-- Results sent by courier (快递送达).
CREATE TABLE shipments (
    shipment_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    carrier TEXT NOT NULL,
    waybill TEXT,
    recipient TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    -- pending | created | picked_up | in_transit | out_for_delivery | delivered
    status TEXT NOT NULL,
    signer TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX shipments_case ON shipments (case_id);
CREATE INDEX shipments_status ON shipments (status);

CREATE TABLE shipment_events (
    id {{AUTO_ID}},
    shipment_id TEXT NOT NULL REFERENCES shipments (shipment_id),
    event_id TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE UNIQUE INDEX shipment_events_event ON shipment_events (shipment_id, event_id);
