import { setFlagsFromString } from 'node:v8';

/**
 * Lets V8's old generation grow to 1.3× what the last full collection kept, instead of the up to 4×
 * it chooses on its own when collections are cheap. A sync keeps little on the JavaScript heap (its
 * index is in typed arrays) but turns over gigabytes of short-lived text, which with the default
 * grows the heap with garbage and the peak RSS of a large sync with it. V8 reads the flags at each
 * collection, so setting them at start-up works; the heap's limit (--max-old-space-size) is left
 * alone, so no workload can run out of heap because of it.
 *
 * With so little room between the live size and the limit, V8 would begin marking again as soon as a
 * full collection finished (its default trigger is "less room left than the young generation's
 * size"); marking from 80% of the way to the limit (at once from 90%) avoids collections back to
 * back. Figures: docs/performance.md, the decision register.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=30');
  setFlagsFromString('--incremental-marking-soft-trigger=80');
  setFlagsFromString('--incremental-marking-hard-trigger=90');
}
