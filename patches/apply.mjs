#!/usr/bin/env node
// Patches installed dependencies in place; run by the root package's `postinstall`, so every
// `npm ci` / `npm install` (production installs included: no dev dependency is needed) gets them.
// Idempotent: a file that already carries a patch is left alone. Fails the install when the text to
// replace is missing (a new version of the dependency): look whether upstream fixed the bug, then
// update or drop the patch here.
//
// Why not patch-package: it would have to be a production dependency (the crash matters most in
// production, and `npm ci --omit=dev` still runs postinstall), with about fifteen packages of its own,
// to apply a handful of exact replacements that this file states and verifies directly.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARK = 'sync-manager patch';

/**
 * postgres 3.4.9 (porsager/postgres issues #1154, #1208, #1199; open upstream at the time of writing).
 *
 * 1. A write to a connection whose socket has closed (postgres.js's own ROLLBACK after a failed
 *    query in `sql.begin`, or any query on a reserved connection) buffers the bytes and schedules
 *    `nextWrite` with setImmediate, which then dereferences the null socket: an uncatchable
 *    TypeError that kills the process. Such a query is now settled with CONNECTION_CLOSED instead
 *    (never dropped: a dropped query would leave its caller awaiting forever).
 * 2. `closed()` and `terminate()` cleared the write timer without resetting it or the buffered bytes,
 *    so after a reconnect the startup message was appended to stale bytes and never flushed; and a
 *    socket that closed with an error left a query issued after the error unsettled for ever (and
 *    `sql.end()` waiting on it).
 * 3. A reserved connection (and a `sql.begin` transaction) keeps issuing queries to its connection
 *    object after the pool took it back on close (and may already have reconnected it for another
 *    caller); `release()` then put the dead connection among the open ones (#1199). Such queries are
 *    now rejected with CONNECTION_CLOSED, queries queued behind a full reserved connection are
 *    rejected when it closes, and `release()` of a connection the pool took back does nothing.
 * 4. A `COPY … FROM STDIN` that the server fails (a unique violation, a bad value) left its writable
 *    stream waiting for a CommandComplete that never comes: the query's promise had already resolved
 *    to the stream, so the error went nowhere, the stream's 'finish' fired at the next statement's
 *    completion, and a caller awaiting it alone hung for ever (a transaction that went on would even
 *    COMMIT, which the server turns into a silent ROLLBACK). The error now fails the stream.
 * 5. TCP sockets kept Nagle's algorithm on: a small message written while a large one was still
 *    unacknowledged (a COPY's CopyDone after its data, the next statement of a pipelined transaction)
 *    waited for the peer's delayed ACK, up to 40 ms on Linux. Measured: COPY of 300k rows in 1 MB
 *    statements 55k rows/s with Nagle, against 165k rows/s as one statement. Sockets now set noDelay.
 * 6. The pool's queues (src/queue.js) never drop the slots `shift()` empties while they are not
 *    drained, and `remove()` scans from the first slot. Under sustained load the busy-connections
 *    queue is never drained, so it grows by one slot a query and every move of a connection between
 *    queues scans all of them: a pool of 10 serving 50 concurrent `SELECT 1` loops fell from 38k to
 *    14k queries/s within 10 s, and kept falling (and the array kept growing). `remove()` now looks
 *    only at live slots, and `shift()` drops the emptied ones every 1024.
 * 7. `COPY … TO STDOUT` pauses the socket when its readable stream is full, and only the stream's
 *    read() resumes it. When the CopyDone that ends the stream came in the same socket data as the
 *    CopyData that filled it, the stream ended with the socket paused and read() was never called
 *    again: every later query on that connection waited for ever (a 26 MB COPY of 1M index lines,
 *    then the next statement of its transaction). CopyDone now resumes the socket.
 */
const postgresPatches = {
  connection: [
    {
      find: `  function CopyDone() {
    stream && stream.push(null)
    stream = null
`,
      replace: `  function CopyDone() {
    stream && stream.push(null)
    stream = null
    socket.resume() // ${MARK}: a stream that ended full would never resume it
`,
    },
    {
      find: `      keep_alive && socket.setKeepAlive && socket.setKeepAlive(true, 1000 * keep_alive)
`,
      replace: `      keep_alive && socket.setKeepAlive && socket.setKeepAlive(true, 1000 * keep_alive)
      socket.setNoDelay && socket.setNoDelay(true) // ${MARK}: no Nagle delay on pipelined writes
`,
    },
    {
      find: `  function ErrorResponse(x) {
    if (query) {
      (query.cursorFn || query.describeFirst) && write(Sync)
      errorResponse = Errors.postgres(parseError(x))
`,
      replace: `  function ErrorResponse(x) {
    if (query) {
      (query.cursorFn || query.describeFirst) && write(Sync)
      errorResponse = Errors.postgres(parseError(x))
      // ${MARK}: a failed COPY FROM STDIN fails its stream (its promise resolved long ago)
      if (final) {
        const done = final
        final = null
        done(errorResponse)
      } else if (stream instanceof Stream.Writable && !stream.destroyed) {
        const failed = stream
        stream = null
        failed.destroy(errorResponse)
      }
`,
    },
    {
      find: `    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))
`,
      replace: `    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))

    // ${MARK}: no socket (closed, not reconnected): settle the query rather than buffer a write
    // that would dereference the null socket. True keeps the caller from moving the connection.
    if (socket === null)
      return (queryError(q, Errors.connection('CONNECTION_CLOSED', options)), true)
`,
    },
    {
      find: `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)
`,
      replace: `  function nextWrite(fn) {
    // ${MARK}: the socket closed after these bytes were buffered: settle what waits for them.
    if (socket === null) {
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)
`,
    },
    {
      find: `    clearImmediate(nextWriteTimer)
    if (socket) {
`,
      replace: `    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null // ${MARK}: no stale bytes or timer survive a terminate
    if (socket) {
`,
    },
    {
      find: `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`,
      replace: `    // ${MARK}: settle whatever still waits, however the socket closed: a query written between
    // the socket's 'error' (which settled the queries of that moment) and this 'close' was left
    // pending for ever, and the stale \`query\` kept end() from ever resolving...
    ;(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
    // ...and forget the dead session's state, or the next ReadyForQuery after a reconnect reports its
    // ErrorResponse (57P01 from pg_terminate_backend) to the first query of the new session.
    query = results = errorResponse = null
    result = new Result()
`,
    },
    {
      find: `    incomings = null
    clearImmediate(nextWriteTimer)
`,
      replace: `    incomings = null
    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null // ${MARK}: no stale bytes or timer survive a close
`,
    },
  ],
  index: [
    {
      find: `    const sql = Sql(handler)
    sql.release = () => {
      c.reserved = null
      onopen(c)
    }
`,
      replace: `    const sql = Sql(handler)
    // ${MARK}: once the pool took the connection back (onclose clears c.reserved), this reservation
    // owns nothing: queued queries are rejected, new ones too, and release() does nothing.
    const owner = c.reserved
    c.onclose = (error) => {
      while (queue.length)
        queue.shift().reject(error)
    }
    sql.release = () => {
      if (c.reserved !== owner)
        return
      c.reserved = null
      c.onclose = null
      onopen(c)
    }
`,
    },
    {
      find: `    function handler(q) {
      c.queue === full
        ? queue.push(q)
        : c.execute(q) || move(c, full)
    }
`,
      replace: `    function handler(q) {
      c.reserved !== owner // ${MARK}
        ? q.reject(Errors.connection('CONNECTION_CLOSED', options))
        : c.queue === full
          ? queue.push(q)
          : c.execute(q) || move(c, full)
    }
`,
    },
    {
      find: `      function handler(q) {
        q.catch(e => uncaughtError || (uncaughtError = e))
        c.queue === full
          ? queries.push(q)
          : c.execute(q) || move(c, full)
      }
`,
      replace: `      function handler(q) {
        q.catch(e => uncaughtError || (uncaughtError = e))
        c.reserved === null // ${MARK}: closed, the pool took the connection back
          ? q.reject(Errors.connection('CONNECTION_CLOSED', options))
          : c.queue === full
            ? queries.push(q)
            : c.execute(q) || move(c, full)
      }
`,
    },
  ],
  queue: [
    {
      find: `    remove: (x) => {
      const index = xs.indexOf(x)
      return index === -1
        ? null
        : (xs.splice(index, 1), x)
    },
`,
      replace: `    remove: (x) => {
      const at = xs.indexOf(x, index) // ${MARK}: the live slots only, not those shift() emptied
      return at === -1
        ? null
        : (xs.splice(at, 1), x)
    },
`,
    },
    {
      find: `      if (index === xs.length) {
        index = 0
        xs = []
      } else {
        xs[index - 1] = undefined
      }
`,
      replace: `      if (index === xs.length) {
        index = 0
        xs = []
      } else if (index >= 1024) { // ${MARK}: drop the emptied slots of a queue never drained
        xs = xs.slice(index)
        index = 0
      } else {
        xs[index - 1] = undefined
      }
`,
    },
  ],
};

const targets = [
  {
    name: 'postgres',
    version: '3.4.9',
    files: ['src', 'cjs/src', 'cf/src'].flatMap((dir) => [
      { path: `${dir}/connection.js`, patches: postgresPatches.connection },
      { path: `${dir}/index.js`, patches: postgresPatches.index },
      { path: `${dir}/queue.js`, patches: postgresPatches.queue },
    ]),
  },
];

let failed = false;
for (const target of targets) {
  const base = join(root, 'node_modules', target.name);
  let version;
  try {
    version = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')).version;
  } catch {
    continue; // not installed (e.g. a partial install): nothing to patch
  }
  if (version !== target.version) {
    console.error(
      `patches/apply.mjs: ${target.name} is ${version}, the patch is for ${target.version}: ` +
        'check whether upstream fixed the bug, then update or remove the patch',
    );
    failed = true;
    continue;
  }
  for (const file of target.files) {
    const path = join(base, file.path);
    const original = readFileSync(path, 'utf8');
    let text = original;
    for (const patch of file.patches) {
      const marker = patch.replace.split('\n').find((line) => line.includes(MARK));
      if (text.includes(marker)) continue;
      const at = text.indexOf(patch.find);
      if (at === -1 || text.indexOf(patch.find, at + 1) !== -1) {
        console.error(`patches/apply.mjs: ${target.name}/${file.path}: text to patch not found exactly once`);
        failed = true;
        continue;
      }
      text = text.slice(0, at) + patch.replace + text.slice(at + patch.find.length);
    }
    if (text !== original) writeFileSync(path, text);
  }
  if (!failed) console.log(`patches/apply.mjs: ${target.name} ${version} patched`);
}
if (failed) process.exit(1);
