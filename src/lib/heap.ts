import { setFlagsFromString } from 'node:v8';

/**
 * Lets V8's old generation grow to 1.3× what the last full collection kept, instead of the up to 4×
 * it chooses on its own when collections are cheap. A sync keeps little on the JavaScript heap (its
 * index is in typed arrays) but turns over gigabytes of short-lived text, and with the default the heap
 * idled at 100–160 MB of garbage beside 25–35 MB of live objects: a 10M-record re-sync through the CLI
 * peaked at 386–455 MB of RSS, and 368–383 MB with this (docs/performance.md, session 7), in the same
 * time. V8 reads the flag at each collection, so setting it at start-up works; the heap's limit
 * (--max-old-space-size) is left alone, so no workload can run out of heap because of it.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=30');
}
