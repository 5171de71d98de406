import type { Database } from '../../db/database.ts';

/** The channel the changes table's trigger notifies (migration 0002), with the tenant id as payload. */
export const CHANGES_CHANNEL = 'sync_manager_changes';

/**
 * Wakes waiters when a change of their tenant commits: one LISTEN per process (PostgreSQL's
 * LISTEN/NOTIFY, or PGlite's in-process notifications), started at the first wait. If LISTEN cannot
 * be set up, waiters fall back on their own timeout (a poll).
 */
export class ChangeNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private listening: Promise<(() => Promise<void>) | null> | null = null;
  private closed = false;
  private ready = false;

  constructor(private readonly db: Database) {}

  /**
   * A promise that resolves at the next commit of a change of `tenantId` ('*' for any), or after
   * `timeoutMs`, or when `signal` aborts. Take it before reading, so a commit between the read and
   * the wait is not missed.
   */
  next(tenantId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    void this.listen();
    return new Promise((resolve) => {
      const set = this.waiters.get(tenantId) ?? new Set<() => void>();
      this.waiters.set(tenantId, set);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(tenantId) === set) this.waiters.delete(tenantId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  /** Starts listening now (a long poll's first wait would otherwise pay for it). */
  listen(): Promise<unknown> {
    if (this.closed) return Promise.resolve();
    const { db } = this;
    this.listening ??= db.listen
      ? db
          .listen(CHANGES_CHANNEL, (payload) => this.notify(payload))
          .then(
            (stop) => {
              this.ready = true;
              return stop;
            },
            () => null,
          )
      : Promise.resolve(null);
    return this.listening;
  }

  /** Whether notifications arrive: until then (or without LISTEN) a waiter must poll. */
  get isListening(): boolean {
    return this.ready;
  }

  private notify(tenantId: string): void {
    for (const key of [tenantId, '*']) {
      const set = this.waiters.get(key);
      if (set) for (const wake of [...set]) wake();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    const stop = await this.listening;
    await stop?.().catch(() => {});
  }
}
