import type { Statement } from '../../db/database.ts';

/** The outbox write, in the caller's transaction: an event and a delivery per endpoint that wants it. */
export function emitEvent(
  tenantId: string,
  type: string,
  collection: string | null,
  payload: object,
): Statement {
  return {
    text: `SELECT webhook_emit($1, $2, $3, $4::jsonb)`,
    values: [tenantId, type, collection, JSON.stringify(payload)],
  };
}

/**
 * sync.failed for runs that recovery has just marked failed (left `running` by a process that died),
 * in recovery's transaction, with the same payload as a failure recorded by the process itself.
 */
export function emitRecoveredFailures(runIds: string[]): Statement {
  return {
    text: `SELECT webhook_emit(r.tenant_id, 'sync.failed', c.name, jsonb_build_object(
        'syncRunId', r.id, 'collection', c.name,
        'errors', (SELECT coalesce(jsonb_agg(e.value ORDER BY e.n), '[]') FROM jsonb_array_elements(r.errors)
          WITH ORDINALITY AS e(value, n) WHERE e.n <= 10)))
      FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.id = ANY ($1::uuid[]) AND r.status = 'failed'
      ORDER BY r.started_at`,
    values: [runIds],
  };
}

const COLUMNS = `id, url, events, collections, enabled, description, disabled_reason, failing_since,
  previous_secret_expires_at, created_at, updated_at`;

export function insertWebhook(
  tenantId: string,
  input: {
    url: string;
    events: string[];
    collections: string[] | null;
    enabled: boolean;
    description: string | null;
    secret: string;
    feedCursor: string;
  },
): Statement {
  return {
    text: `INSERT INTO webhooks (tenant_id, url, events, collections, enabled, description, secret, feed_cursor)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    values: [
      tenantId,
      input.url,
      input.events,
      input.collections,
      input.enabled,
      input.description,
      input.secret,
      input.feedCursor,
    ],
  };
}

export function listWebhooks(tenantId: string, after: string | null, limit: number): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM webhooks WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2)
      ORDER BY id LIMIT $3`,
    values: [tenantId, after, limit],
  };
}

export function findWebhook(tenantId: string, id: string): Statement {
  return { text: `SELECT ${COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id = $2`, values: [tenantId, id] };
}

/** A PATCH: each column given replaces the stored one; enabling again clears the reason it stopped. */
export function updateWebhook(
  tenantId: string,
  id: string,
  patch: {
    url?: string;
    events?: string[];
    collections?: string[] | null;
    enabled?: boolean;
    description?: string | null;
  },
): Statement {
  return {
    text: `UPDATE webhooks SET
        url = coalesce($3, url),
        events = coalesce($4, events),
        collections = CASE WHEN $5::boolean THEN $6::text[] ELSE collections END,
        enabled = coalesce($7, enabled),
        disabled_reason = CASE WHEN $7::boolean THEN NULL ELSE disabled_reason END,
        failing_since = CASE WHEN $7::boolean THEN NULL ELSE failing_since END,
        description = CASE WHEN $8::boolean THEN $9 ELSE description END,
        updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    values: [
      tenantId,
      id,
      patch.url ?? null,
      patch.events ?? null,
      patch.collections !== undefined,
      patch.collections ?? null,
      patch.enabled ?? null,
      patch.description !== undefined,
      patch.description ?? null,
    ],
  };
}

/** The new secret signs from now on; the old one signs beside it until `graceUntil`. */
export function rotateSecret(tenantId: string, id: string, secret: string, graceUntil: Date): Statement {
  return {
    text: `UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3,
        updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    values: [tenantId, id, secret, graceUntil],
  };
}

export function deleteWebhook(tenantId: string, id: string): Statement {
  return {
    text: `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2 RETURNING id`,
    values: [tenantId, id],
  };
}

/** An event for one endpoint only (a test ping, or records.changed derived for it). */
export function insertEventFor(
  tenantId: string,
  webhookId: string,
  type: string,
  payload: object,
): Statement {
  return {
    text: `WITH event AS (INSERT INTO webhook_events (tenant_id, type, payload) VALUES ($1, $3, $4::jsonb) RETURNING id)
      INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id) SELECT $1, $2, id FROM event
      RETURNING id, event_id`,
    values: [tenantId, webhookId, type, JSON.stringify(payload)],
  };
}

/** Newest first, each with its attempts. */
export function listDeliveries(
  tenantId: string,
  webhookId: string,
  before: { createdAt: string; id: string } | null,
  limit: number,
): Statement {
  return {
    text: `SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at, d.last_status_code,
        d.last_error, d.created_at, d.finished_at, to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_key,
        coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'statusCode', a.status_code,
            'durationMs', a.duration_ms, 'error', a.error) ORDER BY a.attempt)
          FROM webhook_attempts a WHERE a.tenant_id = d.tenant_id AND a.delivery_id = d.id), '[]') AS attempt_list
      FROM webhook_deliveries d JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
      WHERE d.tenant_id = $1 AND d.webhook_id = $2
        AND ($3::timestamp IS NULL OR (d.created_at AT TIME ZONE 'UTC', d.id) < ($3::timestamp, $4::uuid))
      ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
    values: [tenantId, webhookId, before?.createdAt ?? null, before?.id ?? null, limit],
  };
}

/** Due again now, with a fresh retry window. */
export function retryDelivery(tenantId: string, webhookId: string, deliveryId: string, now: Date): Statement {
  return {
    text: `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4, leased_until = NULL,
        first_attempt_at = NULL, finished_at = NULL
      WHERE tenant_id = $1 AND webhook_id = $2 AND id = $3 RETURNING id`,
    values: [tenantId, webhookId, deliveryId, now],
  };
}

export interface ClaimedDelivery {
  tenant_id: string;
  id: string;
  webhook_id: string;
  event_id: string;
  attempts: number;
  first_attempt_at: Date;
  type: string;
  payload_text: string;
  event_created_at: Date;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Claims due deliveries for this worker until `leaseUntil`: at most `perEndpoint` of one endpoint and
 * none of the endpoints in `busy` (their slots are full here). SKIP LOCKED: two servers never claim
 * the same row; the lease is what keeps the row theirs after this statement, and what hands it to
 * another worker when theirs dies.
 */
export function claimDeliveries(
  now: Date,
  leaseUntil: Date,
  busy: string[],
  perEndpoint: number,
  limit: number,
): Statement {
  return {
    text: `WITH candidates AS (
        SELECT d.tenant_id, d.id, d.webhook_id, d.next_attempt_at FROM webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.leased_until IS NULL OR d.leased_until < $1)
          AND NOT (d.webhook_id = ANY ($3::uuid[]))
          AND EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.enabled)
        ORDER BY d.next_attempt_at LIMIT 500
        FOR UPDATE OF d SKIP LOCKED
      ), picked AS (
        SELECT tenant_id, id FROM (
          SELECT tenant_id, id, next_attempt_at,
            row_number() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at) AS n FROM candidates) x
        WHERE n <= $4 ORDER BY next_attempt_at LIMIT $5
      ), claimed AS (
        UPDATE webhook_deliveries d SET leased_until = $2, attempts = d.attempts + 1,
          first_attempt_at = coalesce(d.first_attempt_at, $1)
        FROM picked p WHERE d.tenant_id = p.tenant_id AND d.id = p.id
        RETURNING d.tenant_id, d.id, d.webhook_id, d.event_id, d.attempts, d.first_attempt_at
      )
      SELECT c.*, e.type, e.payload::text AS payload_text, e.created_at AS event_created_at, w.url, w.secret,
        w.previous_secret, w.previous_secret_expires_at
      FROM claimed c
      JOIN webhook_events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id
      JOIN webhooks w ON w.tenant_id = c.tenant_id AND w.id = c.webhook_id`,
    values: [now, leaseUntil, `{${busy.join(',')}}`, perEndpoint, limit],
  };
}

export function recordAttempt(
  delivery: ClaimedDelivery,
  at: Date,
  outcome: { statusCode: number | null; durationMs: number; error: string | null; body: string | null },
): Statement {
  return {
    // The delivery may have gone meanwhile (its endpoint deleted): then there is nothing to record.
    text: `INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, at, status_code, duration_ms, error, response_body)
      SELECT $1, $2, $3, $4, $5, $6, $7, $8
      WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2)
      ON CONFLICT DO NOTHING`,
    values: [
      delivery.tenant_id,
      delivery.id,
      delivery.attempts,
      at,
      outcome.statusCode,
      outcome.durationMs,
      outcome.error,
      outcome.body,
    ],
  };
}

/**
 * The end of an attempt, only while the claim is still this attempt's: `next` null ends the delivery
 * (`status` succeeded or failed), a date schedules the next attempt.
 */
export function settleDelivery(
  delivery: ClaimedDelivery,
  status: 'pending' | 'succeeded' | 'failed',
  next: Date | null,
  statusCode: number | null,
  error: string | null,
  now: Date,
): Statement {
  return {
    text: `UPDATE webhook_deliveries SET status = $3, next_attempt_at = coalesce($4, next_attempt_at),
        leased_until = NULL, last_status_code = $5, last_error = $6,
        finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $7::timestamptz END
      WHERE tenant_id = $1 AND id = $2 AND attempts = $8 AND status = 'pending'`,
    values: [delivery.tenant_id, delivery.id, status, next, statusCode, error, now, delivery.attempts],
  };
}

/** A success clears the endpoint's failing streak. */
export function endpointSucceeded(tenantId: string, webhookId: string): Statement {
  return {
    text: `UPDATE webhooks SET failing_since = NULL WHERE tenant_id = $1 AND id = $2 AND failing_since IS NOT NULL`,
    values: [tenantId, webhookId],
  };
}

/**
 * A failure starts (or continues) the endpoint's failing streak; one failing since before
 * `disableBefore`, or `disableNow` (a 410), disables it with `reason`.
 */
export function endpointFailed(
  tenantId: string,
  webhookId: string,
  now: Date,
  disableBefore: Date,
  disableNow: boolean,
  reason: string,
): Statement {
  return {
    text: `UPDATE webhooks SET failing_since = coalesce(failing_since, $3),
        enabled = enabled AND NOT ($5 OR coalesce(failing_since, $3) < $4),
        disabled_reason = CASE WHEN enabled AND ($5 OR coalesce(failing_since, $3) < $4) THEN $6 ELSE disabled_reason END
      WHERE tenant_id = $1 AND id = $2`,
    values: [tenantId, webhookId, now, disableBefore, disableNow, reason],
  };
}

/** Endpoints that derive records.changed, one claimed at a time (SKIP LOCKED: another server takes the next). */
export function claimRecordsChangedEndpoint(skip: string[]): Statement {
  return {
    text: `SELECT tenant_id, id, collections, feed_cursor FROM webhooks
      WHERE enabled AND 'records.changed' = ANY (events) AND NOT (id = ANY ($1::uuid[]))
      ORDER BY updated_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    values: [`{${skip.join(',')}}`],
  };
}

export function advanceFeedCursor(tenantId: string, webhookId: string, cursor: string): Statement {
  return {
    text: `UPDATE webhooks SET feed_cursor = $3 WHERE tenant_id = $1 AND id = $2`,
    values: [tenantId, webhookId, cursor],
  };
}
