import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics, served by GET /metrics. One registry per process (a server is one
 * process); features record into it through the functions below, never through prom-client directly.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sync_manager_' });

const httpRequests = new Counter({
  name: 'sync_manager_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

const httpDuration = new Histogram({
  name: 'sync_manager_http_request_duration_seconds',
  help: 'Time from the request to the end of its response, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

const syncRuns = new Counter({
  name: 'sync_manager_sync_runs_total',
  help: 'Sync runs finished, by status (succeeded, planned, failed)',
  labelNames: ['status'] as const,
  registers: [registry],
});

const syncRecords = new Counter({
  name: 'sync_manager_sync_records_total',
  help: 'Feed records read by finished sync runs',
  labelNames: ['status'] as const,
  registers: [registry],
});

const syncDuration = new Histogram({
  name: 'sync_manager_sync_duration_seconds',
  help: 'Duration of finished sync runs',
  labelNames: ['status'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
  registers: [registry],
});

const syncThroughput = new Histogram({
  name: 'sync_manager_sync_records_per_second',
  help: 'Feed records read per second by each finished sync run',
  buckets: [100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000],
  registers: [registry],
});

/** What a database adapter can tell about its connections; fields it cannot tell are left out. */
export interface PoolStats {
  max: number;
  inUse: number;
  waiting: number;
  idle?: number;
}

const poolSources = new Set<() => PoolStats>();
new Gauge({
  name: 'sync_manager_db_connections',
  help: 'Database connections by state (in_use, idle, waiting callers, max)',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const read of poolSources) {
      const stats = read();
      this.inc({ state: 'max' }, stats.max);
      this.inc({ state: 'in_use' }, stats.inUse);
      this.inc({ state: 'waiting' }, stats.waiting);
      if (stats.idle !== undefined) this.inc({ state: 'idle' }, stats.idle);
    }
  },
});

const backlogSources = new Map<string, () => number | Promise<number>>();
new Gauge({
  name: 'sync_manager_queue_backlog',
  help: 'Items waiting in a queue (e.g. webhook deliveries), by queue',
  labelNames: ['queue'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const [queue, read] of backlogSources) this.set({ queue }, await read());
  },
});

/** Counts one answered request; `route` is the pattern (`/v1/collections/:collection`), never the path. */
export function recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
  const labels = { method, route, status: String(status) };
  httpRequests.inc(labels);
  httpDuration.observe(labels, seconds);
}

/** Called once where a sync run ends, whatever its outcome. */
export function recordSyncRun(status: string, records: number, seconds: number): void {
  syncRuns.inc({ status });
  syncRecords.inc({ status }, records);
  syncDuration.observe({ status }, seconds);
  if (status !== 'failed' && seconds > 0) syncThroughput.observe(records / seconds);
}

/** Adds a source of pool figures (one per open database); returns the function that removes it. */
export function registerPoolStats(read: () => PoolStats): () => void {
  poolSources.add(read);
  return () => poolSources.delete(read);
}

/**
 * Publishes a queue's backlog as `sync_manager_queue_backlog{queue="<name>"}`, read at each scrape
 * (e.g. a COUNT of pending deliveries). Returns the function that removes it; a second registration
 * under the same name replaces the first.
 */
export function registerQueueBacklog(name: string, read: () => number | Promise<number>): () => void {
  backlogSources.set(name, read);
  return () => {
    if (backlogSources.get(name) === read) backlogSources.delete(name);
  };
}
