import { formatPointer } from '../json/index.ts';

type Frame = { kind: 'object'; key: string | null } | { kind: 'array'; index: number };

/**
 * The JSON Pointer of the value that starts at `offset` in `text` (valid JSON, already parsed once), so
 * a refusal found on the raw text (a number a double cannot hold) can name the field. One pass over
 * the text up to `offset`; only run on the error path.
 *
 * @example pointerAtOffset('{"a":[1,2e400]}', 8) // '/a/1'
 */
export function pointerAtOffset(text: string, offset: number): string {
  const stack: Frame[] = [];
  let expectKey = false;
  let i = 0;
  while (i < offset && i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = endOfString(text, i + 1);
      if (expectKey) {
        const top = stack[stack.length - 1];
        if (top?.kind === 'object') top.key = JSON.parse(text.slice(i, end)) as string;
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === 0x7b) {
      stack.push({ kind: 'object', key: null });
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push({ kind: 'array', index: 0 });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
      else expectKey = true;
    }
    i++;
  }
  return formatPointer(
    stack.map((frame) => (frame.kind === 'array' ? String(frame.index) : (frame.key ?? ''))),
  );
}

/**
 * The first member name that repeats within one object of `text` (valid JSON, already parsed once), as
 * the offset where its value starts: JSON.parse keeps the last silently, and so does jsonb. Names are
 * compared decoded (`"a"` and `"\u0061"` are the same name). One pass, no recursion.
 *
 * @example duplicateMemberOffset('{"a":1,"a":2}') // 11
 */
export function duplicateMemberOffset(text: string): number | null {
  const stack: (Set<string> | null)[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = endOfString(text, i + 1);
      const names = stack[stack.length - 1];
      let next = end;
      while (next < text.length && isSpace(text.charCodeAt(next))) next++;
      if (names && text.charCodeAt(next) === 0x3a) {
        const raw = text.slice(i, end);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (names.has(name)) {
          next++;
          while (next < text.length && isSpace(text.charCodeAt(next))) next++;
          return next;
        }
        names.add(name);
      }
      i = end;
      continue;
    }
    if (c === 0x7b) stack.push(new Set());
    else if (c === 0x5b) stack.push(null);
    else if (c === 0x7d || c === 0x5d) stack.pop();
    i++;
  }
  return null;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function endOfString(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return text.length;
}
