// Number literals that JSON.parse cannot represent: `12345678901234567890` silently becomes
// 12345678901234567000, `1e400` becomes Infinity (stored as null by JSON.stringify), `1e-400` becomes 0.
// This works on the raw text because the parsed value has already lost the information.

/** A number literal whose value does not survive JSON.parse → JSON.stringify. */
export type ImpreciseNumber = {
  /** Position of the literal in the text, in UTF-16 code units (a JavaScript string index). */
  offset: number;
  literal: string;
  /** `overflow`: became ±Infinity; `underflow`: a non-zero literal became 0; `rounded`: any other change. */
  reason: 'overflow' | 'underflow' | 'rounded';
};

/** Default cap on the number of reports, shared with findUnsafeJson. */
export const DEFAULT_MAX_REPORTS = 20;

// Every literal that can lose precision has 16+ digits (DBL_DIG is 15), contiguous or around a decimal
// point, or a 3-digit exponent (outside ±1e308 / the subnormal range). A 2-digit exponent with at most
// 15 digits always stays in the normal range and round-trips. `[\d.]{16}` covers both digit cases in one
// class (measured ~1.6M records/s on 225-byte records, against ~1.1M/s for separate alternatives).
const SUSPECT_NUMBER = /[\d.]{16}|[eE][+-]?\d{3}/;
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const EXPONENT_MARK = /[eE]/;

/**
 * Cheap pre-check for findImpreciseNumbers: false guarantees the text has no imprecise number; true
 * means "maybe" (it also fires on long digit runs inside strings). One regex test, no allocation.
 *
 * @example mayHaveImpreciseNumbers('{"price": 12.5}')                 // false
 * @example mayHaveImpreciseNumbers('{"id": 12345678901234567890}')    // true
 */
export function mayHaveImpreciseNumbers(text: string): boolean {
  return SUSPECT_NUMBER.test(text);
}

/**
 * Number literals outside strings whose value JSON.parse changes: overflow to ±Infinity, underflow of a
 * non-zero literal to 0, or rounding (an integer beyond 2^53 that is not exactly representable, a
 * decimal with more digits than a double keeps). A literal counts as fine when the double JSON.parse
 * gives prints back as the same decimal value (`1.0`, `1E2` and `0.10` are fine). Capped at `maxReports`
 * (default 20). Call mayHaveImpreciseNumbers first on the hot path.
 *
 * @example findImpreciseNumbers('{"a": 9007199254740993, "b": "9007199254740993"}')
 *   // [{ offset: 6, literal: '9007199254740993', reason: 'rounded' }]
 */
export function findImpreciseNumbers(text: string, options: { maxReports?: number } = {}): ImpreciseNumber[] {
  const maxReports = options.maxReports ?? DEFAULT_MAX_REPORTS;
  const found: ImpreciseNumber[] = [];
  const length = text.length;
  let i = 0;
  while (i < length && found.length < maxReports) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      i = endOfString(text, i + 1);
    } else if ((code >= 0x30 && code <= 0x39) || code === 0x2d) {
      NUMBER_TOKEN.lastIndex = i;
      const match = NUMBER_TOKEN.exec(text);
      if (match === null) {
        i++;
        continue;
      }
      const literal = match[0];
      const reason = precisionProblem(literal);
      if (reason !== null) found.push({ offset: i, literal, reason });
      i += literal.length;
    } else {
      i++;
    }
  }
  return found;
}

/**
 * What JSON.parse does wrong with one number literal, or null when its value survives.
 *
 * @example precisionProblem('1e400')             // 'overflow'
 * @example precisionProblem('9007199254740992')  // null
 */
export function precisionProblem(literal: string): ImpreciseNumber['reason'] | null {
  // At most 15 characters and no exponent: at most 15 digits in the normal range, always exact enough.
  if (literal.length <= 15 && !EXPONENT_MARK.test(literal)) return null;
  const value = Number(literal);
  if (!Number.isFinite(value)) return 'overflow';
  const written = decimalOf(literal);
  if (value === 0) return written.digits === '' ? null : 'underflow';
  const read = decimalOf(String(value));
  const same =
    written.negative === read.negative &&
    written.digits === read.digits &&
    written.exponent === read.exponent;
  return same ? null : 'rounded';
}

// A literal as sign, significant digits (no leading or trailing zeros) and exponent, with the value
// being 0.<digits> × 10^exponent; two literals denote the same number exactly when these agree.
function decimalOf(literal: string): { negative: boolean; digits: string; exponent: number } {
  const negative = literal.charCodeAt(0) === 0x2d;
  const start = negative ? 1 : 0;
  const mark = literal.search(EXPONENT_MARK);
  const mantissa = mark === -1 ? literal.slice(start) : literal.slice(start, mark);
  const power = mark === -1 ? 0 : Number(literal.slice(mark + 1));
  const dot = mantissa.indexOf('.');
  const whole = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const pointAt = (dot === -1 ? mantissa.length : dot) + power;
  let first = 0;
  while (first < whole.length && whole.charCodeAt(first) === 0x30) first++;
  let end = whole.length;
  while (end > first && whole.charCodeAt(end - 1) === 0x30) end--;
  return { negative, digits: whole.slice(first, end), exponent: pointAt - first };
}

// Index just past the closing quote of a string whose content starts at `from` (the text's end when
// the string is unterminated). A quote preceded by an odd number of backslashes is escaped.
function endOfString(text: string, from: number): number {
  let search = from;
  for (;;) {
    const quote = text.indexOf('"', search);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (quote - backslashes - 1 >= from && text.charCodeAt(quote - backslashes - 1) === 0x5c)
      backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    search = quote + 1;
  }
}
