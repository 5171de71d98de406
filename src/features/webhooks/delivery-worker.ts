import { Webhook } from 'standardwebhooks';
import type { Database } from '../../db/database.ts';
import type { ChangeEntry, ChangeFeed } from '../changes/changes.service.ts';
import type { ChangeNotifier } from '../changes/notifier.ts';
import { postWebhook } from './post.ts';
import * as sql from './webhooks.sql.ts';

export interface DeliveryOptions {
  /** Deliveries in flight from this process at once; 0 sends nothing (the outbox waits). */
  concurrency: number;
  /** Deliveries in flight to one endpoint at once, so a dead endpoint holds only its own slots. */
  perEndpoint: number;
  /** One attempt (connect, answer, body) at most this long. */
  timeoutMs: number;
  /** The first retry comes about this long after a failure, doubling each time (with jitter). */
  retryBaseMs: number;
  /** The longest pause between two attempts. */
  retryMaxMs: number;
  /** A delivery is retried for this long after its first attempt, then fails. */
  retryWindowMs: number;
  /** An endpoint that has failed without one success for this long is disabled. */
  disableAfterMs: number;
  allowPrivate: boolean;
  /** How often the worker looks for due work when no commit wakes it. */
  pollMs: number;
  now?: () => Date;
  random?: () => number;
  log: { error(details: object, message: string): void; warn(details: object, message: string): void };
}

/** Bytes of a receiver's answer kept with the attempt. */
const MAX_BODY_BYTES = 1024;
/** Changes per records.changed event, and per feed read that derives them. */
export const RECORDS_PER_EVENT = 1000;

/**
 * Sends the outbox: derives records.changed events from the change feed for each endpoint that wants
 * them, then claims due deliveries (SKIP LOCKED with a lease, so several servers share the work and a
 * dead one's claims run out) and posts them, signed per Standard Webhooks, each attempt of a delivery
 * under the same webhook-id. Wakes at every change commit, and every `pollMs` for retries.
 */
export class DeliveryWorker {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perEndpoint = new Map<string, number>();
  private stopped = false;
  private loop: Promise<void> | null = null;
  private kick: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
    private readonly notifier: ChangeNotifier,
    private readonly options: DeliveryOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops claiming and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kick?.();
    await this.loop;
    this.loop = null;
    await Promise.all(this.inFlight.values());
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const woken = Promise.race([
        this.notifier.next('*', this.options.pollMs),
        new Promise<void>((resolve) => {
          this.kick = resolve;
        }),
      ]);
      try {
        await this.tick();
      } catch (error) {
        this.options.log.error({ err: error }, 'webhooks: delivery tick failed');
      }
      await woken;
    }
  }

  /** One round: derive records.changed, then claim and start what is due. */
  async tick(): Promise<void> {
    if (this.options.concurrency === 0) return;
    await this.deriveRecordsChanged();
    await this.dispatch();
  }

  private async dispatch(): Promise<void> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0 || this.stopped) return;
    const now = this.now();
    const busy = [...this.perEndpoint].filter(([, n]) => n >= this.options.perEndpoint).map(([id]) => id);
    const lease = new Date(now.getTime() + this.options.timeoutMs + 30_000);
    const claimed = await this.db.query<sql.ClaimedDelivery>(
      sql.claimDeliveries(now, lease, busy, this.options.perEndpoint, free),
    );
    for (const delivery of claimed) {
      this.perEndpoint.set(delivery.webhook_id, (this.perEndpoint.get(delivery.webhook_id) ?? 0) + 1);
      const sending = this.deliver(delivery)
        .catch((error) =>
          this.options.log.error({ err: error, deliveryId: delivery.id }, 'webhooks: delivery failed'),
        )
        .finally(() => {
          this.inFlight.delete(delivery.id);
          const left = (this.perEndpoint.get(delivery.webhook_id) ?? 1) - 1;
          if (left > 0) this.perEndpoint.set(delivery.webhook_id, left);
          else this.perEndpoint.delete(delivery.webhook_id);
          this.kick?.();
        });
      this.inFlight.set(delivery.id, sending);
    }
  }

  private async deliver(delivery: sql.ClaimedDelivery): Promise<void> {
    const body = `{"type":${JSON.stringify(delivery.type)},"timestamp":${JSON.stringify(
      delivery.event_created_at.toISOString(),
    )},"data":${delivery.payload_text}}`;
    const messageId = `msg_${delivery.event_id}`;
    // Signed at the wall clock's time: receivers check it against theirs.
    const signedAt = new Date();
    let signature = new Webhook(delivery.secret).sign(messageId, signedAt, body);
    const previousValid =
      delivery.previous_secret !== null &&
      delivery.previous_secret_expires_at !== null &&
      delivery.previous_secret_expires_at > this.now();
    if (previousValid) {
      signature += ` ${new Webhook(delivery.previous_secret!).sign(messageId, signedAt, body)}`;
    }
    const outcome = await postWebhook(
      delivery.url,
      {
        'content-type': 'application/json',
        'user-agent': 'sync-manager-webhooks',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      {
        timeoutMs: this.options.timeoutMs,
        maxBodyBytes: MAX_BODY_BYTES,
        allowPrivate: this.options.allowPrivate,
      },
    );
    const now = this.now();
    const code = outcome.statusCode;
    const ok = code !== null && code >= 200 && code < 300;
    const gone = code === 410;
    const error = ok ? null : (outcome.error ?? `the receiver answered HTTP ${code}`);
    let status: 'pending' | 'succeeded' | 'failed' = ok ? 'succeeded' : 'failed';
    let next: Date | null = null;
    if (!ok && !gone) {
      const pause = Math.min(
        this.options.retryMaxMs,
        this.options.retryBaseMs * 2 ** Math.min(delivery.attempts - 1, 30),
      );
      const jittered = pause * (0.75 + this.random() * 0.5);
      const at = new Date(now.getTime() + jittered);
      if (at.getTime() - delivery.first_attempt_at.getTime() <= this.options.retryWindowMs) {
        status = 'pending';
        next = at;
      }
    }
    await this.db.transaction(async (tx) => {
      await tx.query(sql.recordAttempt(delivery, now, outcome));
      await tx.query(sql.settleDelivery(delivery, status, next, code, error, now));
      if (ok) await tx.query(sql.endpointSucceeded(delivery.tenant_id, delivery.webhook_id));
      else {
        const reason = gone
          ? 'the receiver answered 410 Gone'
          : `failing since more than ${Math.round(this.options.disableAfterMs / 3_600_000)} h without a success (last: ${error})`;
        await tx.query(
          sql.endpointFailed(
            delivery.tenant_id,
            delivery.webhook_id,
            now,
            new Date(now.getTime() - this.options.disableAfterMs),
            gone,
            reason,
          ),
        );
      }
    });
  }

  /**
   * records.changed for every endpoint that wants it: from the endpoint's feed cursor, the changes of
   * each commit (per collection, at most RECORDS_PER_EVENT an event), written with the cursor's advance
   * in one transaction under the endpoint's row lock, so each change is announced once.
   */
  private async deriveRecordsChanged(): Promise<void> {
    const done: string[] = [];
    for (let round = 0; round < 1000 && !this.stopped; round++) {
      let current: string | null = null;
      const claimed = await this.db
        .transaction(async (tx) => {
          const [hook] = await tx.query<{
            tenant_id: string;
            id: string;
            collections: string[] | null;
            feed_cursor: string | null;
          }>(sql.claimRecordsChangedEndpoint(done));
          if (!hook) return null;
          current = hook.id;
          await tx.query(
            `SELECT set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', $1, true)`,
            [hook.tenant_id],
          );
          const page = await this.feed.readWithin(
            tx,
            hook.tenant_id,
            null,
            hook.feed_cursor ?? undefined,
            RECORDS_PER_EVENT,
          );
          const wanted = hook.collections === null ? null : new Set(hook.collections);
          for (const event of groupByCommit(page.entries, wanted)) {
            await tx.query(sql.insertEventFor(hook.tenant_id, hook.id, 'records.changed', event));
          }
          // Even with nothing read the cursor moves: its time keeps it from expiring.
          await tx.query(sql.advanceFeedCursor(hook.tenant_id, hook.id, page.nextCursor));
          return { id: hook.id, more: page.hasMore };
        })
        .catch((error: unknown) => {
          // One endpoint's failure (an expired cursor, say) must not stop the others' deliveries.
          this.options.log.warn(
            { err: error, webhookId: current },
            'webhooks: records.changed derivation failed',
          );
          return current === null ? null : { id: current, more: false };
        });
      if (!claimed) return;
      if (!claimed.more) done.push(claimed.id);
    }
  }
}

/** The payload of records.changed: one commit's changes of one collection (ids, not values). */
function groupByCommit(entries: ChangeEntry[], wanted: Set<string> | null): object[] {
  const events: object[] = [];
  type Pending = { key: string; payload: { changes: object[]; cursor: string; count: number } };
  let current = null as Pending | null;
  for (const { item } of entries) {
    if (wanted && !wanted.has(item.collection)) continue;
    const key = `${item.changeId}/${item.collection}`;
    if (current?.key !== key) {
      const payload = {
        collection: item.collection,
        changeId: item.changeId,
        origin: item.origin,
        at: item.at,
        count: 0,
        cursor: item.cursor,
        changes: [] as object[],
      };
      current = { key, payload };
      events.push(payload);
    }
    current.payload.changes.push({
      recordId: item.recordId,
      op: item.op,
      version: item.version,
      fields: item.fields,
    });
    current.payload.count++;
    current.payload.cursor = item.cursor;
  }
  return events;
}
