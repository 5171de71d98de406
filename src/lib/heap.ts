import { setFlagsFromString } from 'node:v8';

/**
 * Lets V8's old generation grow to 1.3× what the last full collection kept, instead of the up to 4×
 * it chooses on its own when collections are cheap. A sync keeps little on the JavaScript heap (its
 * index is in typed arrays) but turns over gigabytes of short-lived text, and with the default the heap
 * idled at 100–160 MB of garbage beside 25–35 MB of live objects: a 10M-record re-sync through the CLI
 * peaked at 386–455 MB of RSS, and 368–383 MB with this (docs/performance.md, session 7), in the same
 * time. V8 reads the flags at each collection, so setting them at start-up works; the heap's limit
 * (--max-old-space-size) is left alone, so no workload can run out of heap because of it.
 *
 * With so little room between the live size and the limit, V8 began marking again as soon as a full
 * collection had finished (its default trigger is "less room left than the young generation's
 * size"): a 1M first import ran 35–41 full collections back to back. Marking from 80% of the way to
 * the limit (at once from 90%) halves that; the same import used 0.9 s less CPU (8.2 → 7.3 s, three
 * alternating pairs) for 5–10 MB more peak RSS (docs/performance.md, session 9).
 */
export function limitHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=30');
  setFlagsFromString('--incremental-marking-soft-trigger=80');
  setFlagsFromString('--incremental-marking-hard-trigger=90');
}
