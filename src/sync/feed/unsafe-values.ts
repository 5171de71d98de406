import { findImpreciseNumbers, findUnsafeJson, mayHaveImpreciseNumbers } from './inspect-todo.ts';

const OPEN_BRACE = '{';
const OPEN_BRACKET = '[';

/** Counts `{` and `[` up to `limit`, strings included: an upper bound of the nesting depth. */
function opensReach(text: string, limit: number): boolean {
  let count = 0;
  for (const open of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let at = text.indexOf(open); at !== -1; at = text.indexOf(open, at + 1)) {
      if (++count >= limit) return true;
    }
  }
  return false;
}

/**
 * Describes the first unsafe value in one record, or returns null. The toolkit's full walk only runs when
 * the text could hold a problem: in UTF-8-valid JSON text, `\u0000` and lone surrogates can only be
 * written as `\u` escapes, a `__proto__` key is spelled out or escaped, and depth > 64 needs more than
 * 64 opening brackets. Most records cost two `indexOf` calls and a regex test (~100 ns).
 *
 * @example
 * unsafeValueMessage('{"a":"\\u0000"}', { a: '\u0000' }); // 'unsafe value at /a: string contains \\u0000'
 */
export function unsafeValueMessage(text: string, value: unknown): string | null {
  if (
    text.includes('\\u') ||
    text.includes('__proto__') ||
    text.includes('constructor') ||
    opensReach(text, 64)
  ) {
    const unsafe = findUnsafeJson(value);
    if (unsafe.length > 0) {
      const list = unsafe.slice(0, 3).map((u) => `${u.pointer || '/'}: ${u.reason}`);
      return `unsafe value at ${list.join('; ')}${unsafe.length > 3 ? ` (and ${unsafe.length - 3} more)` : ''}`;
    }
  }
  if (mayHaveImpreciseNumbers(text)) {
    const imprecise = findImpreciseNumbers(text);
    if (imprecise.length > 0) {
      const list = imprecise.slice(0, 3).map((n) => `${n.literal} (character ${n.offset})`);
      return `number that JSON.parse would round: ${list.join(', ')}`;
    }
  }
  return null;
}
