import type { FeedFormat } from './types.ts';

const NEWLINE = 0x0a;
/** Past this many bytes without a decision, 'auto' settles on 'json'. */
export const SNIFF_LIMIT = 1 << 20;

/**
 * The format a file name implies, or null: `.ndjson` and `.jsonl` are NDJSON, `.json` is JSON.
 *
 * @example
 * detectFormatFromName('products.JSONL'); // 'ndjson'
 * detectFormatFromName('export.csv'); // null
 */
export function detectFormatFromName(fileName: string): FeedFormat | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  if (lower.endsWith('.json')) return 'json';
  return null;
}

function firstNonSpace(bytes: Buffer, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i;
  }
  return -1;
}

/**
 * Guesses the format from the head of a feed (BOM already removed); null means "send more bytes".
 * `complete` says the head is the whole feed. The rules, simple on purpose:
 * - first non-space byte `[` → 'json';
 * - first byte `{`: if the first line is a whole JSON object and more lines follow → 'ndjson'; a single
 *   line → 'json' when it has a `records` array, else 'ndjson' (one record); a first line that is not a
 *   whole object (a pretty-printed wrapper) → 'json';
 * - anything else, or an empty feed → 'ndjson', so that each line gets its own error (or none: zero rows).
 * Callers that know the format (Content-Type, file name) should say so instead.
 *
 * @example
 * sniffFormat(Buffer.from('{"id":1}\n{"id":2}\n'), true); // 'ndjson'
 * sniffFormat(Buffer.from('{\n  "records": []\n}'), true); // 'json'
 */
export function sniffFormat(head: Buffer, complete: boolean): FeedFormat | null {
  const first = firstNonSpace(head, 0);
  if (first === -1) return complete ? 'ndjson' : null;
  if (head[first] === 0x5b) return 'json';
  if (head[first] !== 0x7b) return 'ndjson';
  const newline = head.indexOf(NEWLINE, first);
  if (newline === -1 && !complete) return head.length >= SNIFF_LIMIT ? 'json' : null;
  const lineEnd = newline === -1 ? head.length : newline;
  let value: unknown;
  try {
    value = JSON.parse(head.toString('utf8', first, lineEnd));
  } catch {
    return 'json';
  }
  if (newline !== -1 && firstNonSpace(head, newline + 1) !== -1) return 'ndjson';
  if (!complete && head.length < SNIFF_LIMIT) return null;
  const records = (value as { records?: unknown } | null)?.records;
  return Array.isArray(records) ? 'json' : 'ndjson';
}
