import type { Database, Statement } from './database.ts';

/** How the items of one kind go to the database together. */
export interface BatchedStatement<Item> {
  /** Items of one group (a tenant) go in one batch; items of different groups never do. */
  groupOf(item: Item): string;
  /** The item's members in its element of the batch's JSON array, after `"i":<index>,`. */
  membersOf(item: Item): string;
  /** The statement for a batch of `group`: `elements` is the JSON array, in the order of the items. */
  statement(group: string, elements: string): Statement;
}

interface Pending<Item, Row> {
  item: Item;
  group: string;
  json: string;
  resolve: (row: Row | undefined) => void;
  reject: (error: unknown) => void;
}

export interface BatchLimits {
  /** Batches at the database at a time. */
  maxInFlight: number;
  /** Items a batch. */
  maxBatch: number;
  /** Characters of the items' JSON a batch (one item alone may exceed it). */
  maxBytes: number;
}

const DEFAULT_LIMITS: BatchLimits = { maxInFlight: 4, maxBatch: 100, maxBytes: 1024 * 1024 };

/**
 * Single-row statements of concurrent requests, sent to the database together: each item waits for
 * the end of the event loop's turn, and all that are waiting then — or once a batch comes back, all
 * that arrived meanwhile — go as one statement (a function that takes them as a JSON array), up to
 * `maxBatch` items or `maxBytes` of their JSON, one group (tenant) a batch. An item alone pays one
 * turn of the loop for it; fifty at once share one round trip, one function call and its role switch,
 * and for a write one commit, which is most of what a small statement costs (docs/performance.md).
 *
 * At most `maxInFlight` batches are at the database at a time, so that the items that arrive while
 * they are out wait and go together; the rest of the pool is left to other statements.
 *
 * The statement answers with rows that carry their item's index (`i`); an item resolves to its row,
 * or to undefined when there is none. When the database refuses a batch of several, each item is
 * tried alone, so that a failure is the failing item's own; an error that leaves the outcome unknown
 * (a lost connection, after which a write may have committed) is every item's, and none is sent again.
 */
export class StatementBatches<Item, Row extends { i: number }> {
  private readonly waiting: Array<Pending<Item, Row>> = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly limits: BatchLimits;

  constructor(
    private readonly db: Database,
    private readonly kind: BatchedStatement<Item>,
    limits: Partial<BatchLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  run(item: Item): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        item,
        group: this.kind.groupOf(item),
        json: this.kind.membersOf(item),
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.limits.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.limits.maxInFlight && this.waiting.length > 0) {
        this.inFlight++;
        this.send(this.takeBatch()).finally(() => {
          this.inFlight--;
          this.schedule();
        });
      }
    });
  }

  /** The first waiting item and those after it of the same group, within the batch's limits. */
  private takeBatch(): Array<Pending<Item, Row>> {
    const group = this.waiting[0]!.group;
    const batch: Array<Pending<Item, Row>> = [];
    let bytes = 0;
    for (let i = 0; i < this.waiting.length && batch.length < this.limits.maxBatch; ) {
      const pending = this.waiting[i]!;
      if (pending.group !== group) {
        i++;
        continue;
      }
      if (batch.length > 0 && bytes + pending.json.length > this.limits.maxBytes) break;
      bytes += pending.json.length;
      batch.push(pending);
      this.waiting.splice(i, 1);
    }
    return batch;
  }

  private async send(batch: Array<Pending<Item, Row>>): Promise<void> {
    const elements = `[${batch.map((pending, i) => `{"i":${i},${pending.json}}`).join(',')}]`;
    let rows: Row[];
    try {
      rows = await this.db.query<Row>(this.kind.statement(batch[0]!.group, elements));
    } catch (error) {
      if (batch.length > 1 && rolledBack(error)) {
        await Promise.all(batch.map((pending) => this.send([pending])));
      } else {
        for (const pending of batch) pending.reject(error);
      }
      return;
    }
    const byIndex = new Map(rows.map((row) => [row.i, row]));
    for (const [i, pending] of batch.entries()) pending.resolve(byIndex.get(i));
  }
}

/**
 * True for an error the database reported for the statement (a SQLSTATE), which rolled its transaction
 * back; false for one that says nothing of the outcome (the connection was lost, say).
 */
export function rolledBack(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
