import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { ChangeFeed } from '../changes/changes.service.ts';
import { ChangeNotifier } from '../changes/notifier.ts';
import { DeliveryWorker } from './delivery-worker.ts';

/** Endpoint slots: a dead endpoint holds at most these of the process's deliveries. */
const PER_ENDPOINT = 4;

/** The webhook delivery worker `serve` runs, from the config; `stop()` waits for what is in flight. */
export function startWebhookDelivery(
  config: Config,
  db: Database,
  log: { error(details: object, message: string): void; warn(details: object, message: string): void },
  overrides: { now?: () => Date } = {},
): { worker: DeliveryWorker; stop(): Promise<void> } {
  const notifier = new ChangeNotifier(db);
  const worker = new DeliveryWorker(db, new ChangeFeed(db, notifier, overrides), notifier, {
    concurrency: config.webhookConcurrency,
    perEndpoint: PER_ENDPOINT,
    timeoutMs: config.webhookTimeoutMs,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: 3_600_000,
    retryWindowMs: config.webhookRetryHours * 3_600_000,
    disableAfterMs: config.webhookDisableAfterHours * 3_600_000,
    allowPrivate: config.allowPrivateFeedUrls,
    pollMs: config.webhookPollMs,
    log,
    ...overrides,
  });
  worker.start();
  return {
    worker,
    async stop() {
      await worker.stop();
      await notifier.close();
    },
  };
}
