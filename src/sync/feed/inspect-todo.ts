/**
 * TODO(json-toolkit): a local stand-in for `src/json/inspect.ts`, which another engineer is writing.
 * Same signatures; once that file is committed, delete this one and import from '../../json/inspect.ts'
 * in unsafe-values.ts. Kept deliberately small: it only has to agree with the toolkit on what is unsafe.
 */

const MAX_DEPTH = 64;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function pointerToken(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

function stringProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains \\u0000';
  if (LONE_SURROGATE.test(s)) return 'contains a lone surrogate';
  return null;
}

/** Values a database or a merge would mishandle: depth > 64, `\u0000`, lone surrogates, `__proto__` keys. */
export function findUnsafeJson(value: unknown): { pointer: string; reason: string }[] {
  const found: { pointer: string; reason: string }[] = [];
  const visit = (v: unknown, pointer: string, depth: number): void => {
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) found.push({ pointer, reason: `string ${problem}` });
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth > MAX_DEPTH) {
      found.push({ pointer, reason: `nested deeper than ${MAX_DEPTH}` });
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) visit(v[i], `${pointer}/${i}`, depth + 1);
      return;
    }
    for (const [key, item] of Object.entries(v)) {
      const at = `${pointer}/${pointerToken(key)}`;
      if (key === '__proto__') found.push({ pointer: at, reason: 'key __proto__' });
      const problem = stringProblem(key);
      if (problem) found.push({ pointer: at, reason: `key ${problem}` });
      visit(item, at, depth + 1);
    }
  };
  visit(value, '', 1);
  return found;
}

/** Cheap over-approximation: false means no number literal in `text` can be rounded by JSON.parse. */
export function mayHaveImpreciseNumbers(text: string): boolean {
  return /\d[\d.]{15}|\d[eE]/.test(text);
}

/** "-1.50e3" → "15e2": significant digits without leading/trailing zeros, and the exponent. */
function normalise(literal: string): string {
  const match = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) return literal;
  let digits = match[1]! + (match[2] ?? '');
  let exponent = Number(match[3] ?? 0) + match[1]!.length;
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead).replace(/0+$/, '');
  exponent -= lead;
  return digits === '' ? '0' : `${literal.startsWith('-') ? '-' : ''}${digits}e${exponent}`;
}

/** Number literals (outside strings) whose value JSON.parse cannot hold exactly in a double. */
export function findImpreciseNumbers(text: string): { offset: number; literal: string }[] {
  const found: { offset: number; literal: string }[] = [];
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const literal = m[0];
    if (literal.startsWith('"')) continue;
    const parsed = Number(literal);
    if (!Number.isFinite(parsed) || normalise(String(parsed)) !== normalise(literal)) {
      found.push({ offset: m.index, literal });
    }
  }
  return found;
}
