/**
 * Edits of one record in this process take turns: each starts when the one before it has finished.
 * Then the next edit of a record finds the state the last one wrote (RecentEdits) and goes straight to
 * its optimistic write, where concurrent edits of one record would all read the same version, and all
 * but one would find it moved and queue on the row lock, two round trips each. Edits of different
 * records do not wait for each other; other processes, syncs and restores are met by the version check
 * and the row lock as before. An edit's failure does not hold up the next one.
 */
export class SerialEdits {
  private readonly last = new Map<string, Promise<void>>();

  run<T>(key: string, edit: () => Promise<T>): Promise<T> {
    const before = this.last.get(key);
    const result = before ? before.then(edit) : edit();
    const done = result.then(
      () => {},
      () => {},
    );
    this.last.set(key, done);
    void done.then(() => {
      if (this.last.get(key) === done) this.last.delete(key);
    });
    return result;
  }

  /** Records with an edit running or waiting (for tests). */
  get size(): number {
    return this.last.size;
  }
}
