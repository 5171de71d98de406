export interface IntervalWorkerOptions {
  /** The pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Logged with the error when a run throws; the worker carries on at the next interval. */
  failureMessage: string;
  log: { error(details: object, message: string): void };
}

/**
 * Runs `work` now and then again `intervalMs` after each run ends, until stopped. Runs never overlap:
 * the next one is scheduled only when the previous one settled, so a run that takes longer than the
 * interval delays the next instead of piling up behind it. A run that throws is logged, not thrown.
 * `stop()` aborts the signal given to the run in progress (a loop over files or due sources leaves
 * early at its next step) and waits for that run to end.
 *
 * @example
 * const worker = new IntervalWorker((signal) => importer.scan(signal), {
 *   intervalMs: 1000, failureMessage: 'auto-import: scan failed', log,
 * });
 * worker.start();
 * await worker.stop(); // the scan in progress, if any, has ended
 */
export class IntervalWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** One per start(); aborted by stop() or a later start(), so an old loop never schedules again. */
  private controller: AbortController | undefined;

  constructor(
    private readonly work: (signal: AbortSignal) => Promise<unknown>,
    private readonly options: IntervalWorkerOptions,
  ) {}

  /** Runs `work` as soon as the run in progress (if any) has ended, then every interval. */
  start(): void {
    this.controller?.abort();
    clearTimeout(this.timer);
    const controller = new AbortController();
    this.controller = controller;
    this.timer = setTimeout(() => this.runOnce(controller.signal), 0);
  }

  /** Stops the timer and waits for the run in progress, if any; no run starts after this resolves. */
  async stop(): Promise<void> {
    this.controller?.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private async runOnce(signal: AbortSignal): Promise<void> {
    while (this.running) await this.running;
    if (signal.aborted) return;
    const run = Promise.resolve()
      .then(() => this.work(signal))
      .then(
        () => {},
        (error) => this.options.log.error({ err: error }, this.options.failureMessage),
      );
    this.running = run;
    await run;
    if (this.running === run) this.running = undefined;
    if (!signal.aborted) this.timer = setTimeout(() => this.runOnce(signal), this.options.intervalMs);
  }
}
