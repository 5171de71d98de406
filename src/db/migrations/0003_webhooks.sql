-- Webhooks. An outbox: every event is written in the transaction of what it reports
-- (webhook_emit, one statement the writers call), as one webhook_events row and a delivery per
-- endpoint that wants it; records.changed is derived from the change feed instead, each endpoint
-- from its own cursor (feed_cursor), advanced in the transaction that writes its deliveries.
CREATE TABLE webhooks (
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  url              text NOT NULL,
  events           text[] NOT NULL,
  collections      text[],                 -- NULL: every collection
  enabled          boolean NOT NULL DEFAULT true,
  description      text,
  secret           text NOT NULL,          -- whsec_…, never listed after creation
  previous_secret  text,                   -- still signs (beside the new one) until it expires
  previous_secret_expires_at timestamptz,
  disabled_reason  text,
  failing_since    timestamptz,            -- the first failure since the last success
  feed_cursor      text,                   -- records.changed: the change feed position derived so far
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (id)
);

CREATE TABLE webhook_events (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),  -- webhook-id: msg_<id>, the same at every attempt
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
  tenant_id        uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  webhook_id       uuid NOT NULL,
  event_id         uuid NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  leased_until     timestamptz,            -- claimed by a worker until then (a dead one's lease runs out)
  first_attempt_at timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (id),
  FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, event_id) REFERENCES webhook_events (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (tenant_id, webhook_id, created_at DESC);

CREATE TABLE webhook_attempts (
  tenant_id     uuid NOT NULL,
  delivery_id   uuid NOT NULL,
  attempt       integer NOT NULL,
  at            timestamptz NOT NULL,
  status_code   integer,
  duration_ms   integer NOT NULL,
  error         text,
  response_body text,                       -- the first bytes only
  PRIMARY KEY (tenant_id, delivery_id, attempt),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);

-- The outbox write: an event and a delivery to every enabled endpoint of the tenant that wants its
-- type (and its collection, when it names collections). Nothing at all when none does.
CREATE FUNCTION webhook_emit(p_tenant uuid, p_type text, p_collection text, p_payload jsonb)
RETURNS void LANGUAGE sql AS $$
  WITH targets AS (
    SELECT id FROM webhooks
    WHERE tenant_id = p_tenant AND enabled AND p_type = ANY (events)
      AND (collections IS NULL OR p_collection IS NULL OR p_collection = ANY (collections))
  ), event AS (
    INSERT INTO webhook_events (tenant_id, type, payload)
    SELECT p_tenant, p_type, p_payload WHERE EXISTS (SELECT 1 FROM targets)
    RETURNING id
  )
  INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id)
  SELECT p_tenant, t.id, e.id FROM targets t CROSS JOIN event e
$$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhooks', 'webhook_events', 'webhook_deliveries', 'webhook_attempts']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO sync_manager_app USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO sync_manager_app', t);
  END LOOP;
END $$;
