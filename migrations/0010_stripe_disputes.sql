-- Stripe's webhook events already handled, by event id: a redelivered event is stored once.
CREATE TABLE stripe_events (
    id           TEXT    PRIMARY KEY,
    type         TEXT    NOT NULL,
    received_at  INTEGER NOT NULL
);

-- Chargebacks Stripe reported (charge.dispute.*), as last described: amounts in the currency's
-- smallest unit, times as Unix milliseconds, the dispute object kept whole as JSON. The
-- customer's email is NULL when the event did not carry it.
CREATE TABLE disputes (
    id                   TEXT    PRIMARY KEY,
    charge               TEXT    NOT NULL,
    amount               INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    reason               TEXT    NOT NULL,
    network_reason_code  TEXT,
    status               TEXT    NOT NULL,
    evidence_due_by      INTEGER,
    customer_email       TEXT,
    customer_id          TEXT,
    payment_intent       TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    raw_json             TEXT    NOT NULL
);
CREATE INDEX disputes_evidence_due_by ON disputes (evidence_due_by);
