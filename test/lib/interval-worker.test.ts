import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { IntervalWorker } from '../../src/lib/interval-worker.ts';
import { sleep, waitFor } from '../auto-import/serve.ts';

function recordingLog() {
  const errors: { details: { err?: unknown }; message: string }[] = [];
  return { errors, error: (details: object, message: string) => errors.push({ details, message }) };
}

/** A promise the test resolves when it chooses. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

test('runs again and again, never two runs at once, even when a run outlasts the interval', async () => {
  let active = 0;
  let mostActive = 0;
  let runs = 0;
  const worker = new IntervalWorker(
    async () => {
      active++;
      mostActive = Math.max(mostActive, active);
      await sleep(20); // longer than the 1 ms interval
      active--;
      runs++;
    },
    { intervalMs: 1, failureMessage: 'failed', log: recordingLog() },
  );
  worker.start();
  worker.start(); // a second start does not start a second loop
  await waitFor('five runs', () => runs >= 5);
  await worker.stop();
  assert.equal(mostActive, 1);
});

test('stop aborts the run in progress and waits for it; nothing runs after it resolved', async () => {
  const log = recordingLog();
  let started = 0;
  let finished = 0;
  const signals: AbortSignal[] = [];
  const release = gate();
  const worker = new IntervalWorker(
    async (signal) => {
      signals.push(signal);
      started++;
      await release.opened;
      finished++;
    },
    { intervalMs: 1, failureMessage: 'failed', log },
  );
  worker.start();
  await waitFor('the first run to start', () => started >= 1);
  let stopped = false;
  const stopping = worker.stop().then(() => {
    stopped = true;
  });
  assert.equal(signals[0]!.aborted, true, 'the run in progress is told to leave early');
  await turn();
  await turn();
  assert.equal(stopped, false, 'stop() resolved while a run was still in progress');
  release.open();
  await stopping;
  assert.equal(finished, 1);
  await sleep(50); // fifty intervals: a timer left behind would have started a run by now
  assert.equal(started, 1);

  worker.start(); // and it can be started again
  await waitFor('a run after the restart', () => started >= 2);
  assert.equal(signals[1]!.aborted, false);
  await worker.stop();
  assert.deepEqual(log.errors, []);
});

test('a run that throws is logged, not thrown, and the next run still comes', async () => {
  const log = recordingLog();
  let runs = 0;
  const worker = new IntervalWorker(
    () => {
      runs++;
      if (runs === 1) throw new Error('synchronous failure');
      if (runs === 2) return Promise.reject(new Error('asynchronous failure'));
      return Promise.resolve();
    },
    { intervalMs: 1, failureMessage: 'poll failed', log },
  );
  worker.start();
  await waitFor('a third run', () => runs >= 3);
  await worker.stop();
  assert.deepEqual(
    log.errors.map((e) => [e.message, (e.details.err as Error).message]),
    [
      ['poll failed', 'synchronous failure'],
      ['poll failed', 'asynchronous failure'],
    ],
  );
});
