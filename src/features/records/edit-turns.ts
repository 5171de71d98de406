/** What a turn decided for one of its requests. */
export type Decided<Result> = { value: Result } | { error: unknown };

/**
 * Decides a turn's requests (all of one key, in arrival order): an outcome for each of the first
 * ones, at least one; the requests it leaves undecided wait for the key's next turn, first in line.
 */
export type DecideTurn<Request, Result> = (requests: Request[]) => Promise<Array<Decided<Result>>>;

interface Waiting<Request, Result> {
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/** The edits a turn takes at most; the rest wait for the next. */
const MAX_TURN = 100;

/**
 * Edits of one record in this process take turns: a turn starts when the one before it has finished,
 * and takes every edit of the record that arrived meanwhile (up to MAX_TURN). The record service
 * then plans them one after the other, each from the state the one before it leaves, and writes them
 * together (records.service.ts, src/db/functions.sql), where concurrent edits of one record would all read
 * the same version, and all but one would find it moved and queue on the row lock. Edits of different
 * records do not wait for each other; other processes, syncs and restores are met by the version
 * check and the row lock as before. An edit's failure does not hold up the next one.
 */
export class EditTurns<Request, Result> {
  private readonly queues = new Map<string, Array<Waiting<Request, Result>>>();

  constructor(private readonly decide: DecideTurn<Request, Result>) {}

  run(key: string, request: Request): Promise<Result> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ request, resolve, reject });
        return;
      }
      this.queues.set(key, [{ request, resolve, reject }]);
      void this.takeTurns(key);
    });
  }

  /** Keys with an edit running or waiting (for tests). */
  get size(): number {
    return this.queues.size;
  }

  private async takeTurns(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      const turn = queue.splice(0, MAX_TURN);
      let outcomes: Array<Decided<Result>>;
      try {
        outcomes = await this.decide(turn.map((waiting) => waiting.request));
      } catch (error) {
        outcomes = [{ error }];
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
