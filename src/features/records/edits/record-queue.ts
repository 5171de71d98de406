/** What a turn decided for one of its requests. */
export type Decided<Result> = { value: Result } | { error: unknown };

/**
 * Decides a turn's requests (all of one record, in arrival order): an outcome for each of the first
 * ones, at least one; those it leaves undecided wait for the record's next turn, first in line. If it
 * throws, every request of the turn fails with the error.
 */
export type DecideTurn<Request, Result> = (requests: Request[]) => Promise<Array<Decided<Result>>>;

interface Waiting<Request, Result> {
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/** The requests a turn takes at most; the rest wait for the next. */
const MAX_TURN = 100;

/**
 * Edits of one record in this process queue, and go in turns: a turn starts when the one before it has
 * finished and takes every edit of the record that arrived meanwhile (up to MAX_TURN), so that they
 * are planned as one series and written in one call, where fifty concurrent edits of one record would
 * all read one version and all but one find it moved. Edits of different records do not wait for each
 * other; a failed turn does not hold up the next.
 */
export class RecordQueue<Request, Result> {
  private readonly queues = new Map<string, Array<Waiting<Request, Result>>>();

  /** Queues `request` for the record `key`; `decide` decides its turns while the record has a queue. */
  run(key: string, request: Request, decide: DecideTurn<Request, Result>): Promise<Result> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ request, resolve, reject });
        return;
      }
      this.queues.set(key, [{ request, resolve, reject }]);
      void this.takeTurns(key, decide);
    });
  }

  /** Records with an edit running or waiting (for tests). */
  get size(): number {
    return this.queues.size;
  }

  private async takeTurns(key: string, decide: DecideTurn<Request, Result>): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      const turn = queue.splice(0, MAX_TURN);
      let outcomes: Array<Decided<Result>>;
      try {
        outcomes = await decide(turn.map((waiting) => waiting.request));
      } catch (error) {
        outcomes = turn.map(() => ({ error }));
      }
      // At least the first is decided, so every turn makes progress.
      if (outcomes.length === 0) outcomes = [{ error: new Error('a turn decided none of its edits') }];
      for (const [i, outcome] of outcomes.slice(0, turn.length).entries()) {
        if ('error' in outcome) turn[i]!.reject(outcome.error);
        else turn[i]!.resolve(outcome.value);
      }
      queue.unshift(...turn.slice(outcomes.length));
    }
    this.queues.delete(key);
  }
}

/**
 * One record of one tenant's collection. NUL cannot occur in a tenant id, a collection name or a
 * record id (they are stored as text).
 */
export function keyOf(tenantId: string, collection: string, recordId: string): string {
  return `${tenantId}\u0000${collection}\u0000${recordId}`;
}
