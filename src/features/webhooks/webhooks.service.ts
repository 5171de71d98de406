import { randomBytes } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { ChangeFeed } from '../changes/changes.service.ts';
import { assertFeedUrlAllowed } from '../sources/url-safety.ts';
import * as sql from './webhooks.sql.ts';

export const WEBHOOK_EVENTS = [
  'records.changed',
  'sync.succeeded',
  'sync.failed',
  'conflict.opened',
  'conflict.resolved',
  'snapshot.restored',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookInput {
  url: string;
  events: string[];
  collections?: string[] | null;
  enabled?: boolean;
  description?: string | null;
}

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  collections: string[] | null;
  enabled: boolean;
  description: string | null;
  disabled_reason: string | null;
  failing_since: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  collections: string[] | null;
  enabled: boolean;
  description: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** How long the old secret keeps signing after a rotation, unless the caller says. */
export const DEFAULT_ROTATION_GRACE_HOURS = 24;

/** Endpoints of a tenant (CRUD, secrets, deliveries); sending is the DeliveryWorker's. */
export class WebhookService {
  private readonly now: () => Date;

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
    private readonly options: { allowPrivate: boolean; now?: () => Date },
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async create(tenantId: string, input: WebhookInput): Promise<WebhookView & { secret: string }> {
    const url = await this.checkUrl(input.url);
    const secret = newSecret();
    // records.changed starts from now: an endpoint is not sent the history before it existed.
    const feedCursor = await this.feed.currentCursor(tenantId);
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.query<WebhookRow>(
        sql.insertWebhook(tenantId, {
          url,
          events: checkEvents(input.events),
          collections: input.collections ?? null,
          enabled: input.enabled ?? true,
          description: input.description ?? null,
          secret,
          feedCursor,
        }),
      ),
    );
    return { ...toView(row!), secret };
  }

  async list(tenantId: string, after: string | null, limit: number): Promise<WebhookView[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query<WebhookRow>(sql.listWebhooks(tenantId, after, limit)),
    );
    return rows.map(toView);
  }

  async get(tenantId: string, id: string): Promise<WebhookView> {
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.query<WebhookRow>(sql.findWebhook(tenantId, id)),
    );
    if (!row) throw notFound(id);
    return toView(row);
  }

  async update(tenantId: string, id: string, patch: Partial<WebhookInput>): Promise<WebhookView> {
    const url = patch.url === undefined ? undefined : await this.checkUrl(patch.url);
    const events = patch.events === undefined ? undefined : checkEvents(patch.events);
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.query<WebhookRow>(
        sql.updateWebhook(tenantId, id, {
          ...(url === undefined ? {} : { url }),
          ...(events === undefined ? {} : { events }),
          ...(patch.collections === undefined ? {} : { collections: patch.collections }),
          ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
        }),
      ),
    );
    if (!row) throw notFound(id);
    return toView(row);
  }

  /** A new secret, shown once; the old one keeps signing beside it for `graceHours`. */
  async rotateSecret(
    tenantId: string,
    id: string,
    graceHours: number,
  ): Promise<WebhookView & { secret: string }> {
    const secret = newSecret();
    const graceUntil = new Date(this.now().getTime() + graceHours * 3_600_000);
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.query<WebhookRow>(sql.rotateSecret(tenantId, id, secret, graceUntil)),
    );
    if (!row) throw notFound(id);
    return { ...toView(row), secret };
  }

  async delete(tenantId: string, id: string): Promise<void> {
    const rows = await withTenant(this.db, tenantId, (tx) => tx.query(sql.deleteWebhook(tenantId, id)));
    if (rows.length === 0) throw notFound(id);
  }

  async deliveries(
    tenantId: string,
    id: string,
    before: { createdAt: string; id: string } | null,
    limit: number,
  ) {
    return withTenant(this.db, tenantId, async (tx) => {
      const [hook] = await tx.query(sql.findWebhook(tenantId, id));
      if (!hook) throw notFound(id);
      return tx.query<DeliveryRow>(sql.listDeliveries(tenantId, id, before, limit));
    });
  }

  async retry(tenantId: string, id: string, deliveryId: string): Promise<void> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query(sql.retryDelivery(tenantId, id, deliveryId, this.now())),
    );
    if (rows.length === 0) throw new AppError('not_found', `No delivery ${deliveryId} of webhook ${id}`);
  }

  /** A `webhook.test` ping to this endpoint only, delivered like any event. */
  async test(tenantId: string, id: string): Promise<{ deliveryId: string; eventId: string }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const [hook] = await tx.query(sql.findWebhook(tenantId, id));
      if (!hook) throw notFound(id);
      const [row] = await tx.query<{ id: string; event_id: string }>(
        sql.insertEventFor(tenantId, id, 'webhook.test', { webhookId: id }),
      );
      return { deliveryId: row!.id, eventId: row!.event_id };
    });
  }

  private async checkUrl(raw: string): Promise<string> {
    try {
      return (await assertFeedUrlAllowed(raw, { allowPrivate: this.options.allowPrivate })).toString();
    } catch (error) {
      if (error instanceof AppError && error.code === 'feed_url_refused') {
        throw new AppError(
          'webhook_url_refused',
          error.message.replace('such feed URLs', 'such webhook URLs'),
        );
      }
      throw error;
    }
  }
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
  created_key: string;
  attempt_list: {
    attempt: number;
    at: string;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
  }[];
}

/** Standard Webhooks secret: whsec_ and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function checkEvents(events: string[]): string[] {
  const unknown = events.filter((event) => !(WEBHOOK_EVENTS as readonly string[]).includes(event));
  if (unknown.length > 0 || events.length === 0) {
    throw new AppError(
      'validation_failed',
      `events must name one or more of ${WEBHOOK_EVENTS.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`,
    );
  }
  return [...new Set(events)];
}

function notFound(id: string): AppError {
  return new AppError('webhook_not_found', `No webhook ${id}`);
}

function toView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    collections: row.collections,
    enabled: row.enabled,
    description: row.description,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since?.toISOString() ?? null,
    previousSecretExpiresAt: row.previous_secret_expires_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
