/**
 * Index of the first byte in `bytes[start, end)` that breaks UTF-8 (overlong forms, surrogates, code
 * points above U+10FFFF and truncated sequences included), or -1. Only runs once `isUtf8` has already
 * said no, to say where.
 *
 * @example
 * firstInvalidUtf8(Buffer.from([0x61, 0xc3, 0x28]), 0, 3); // 1
 */
export function firstInvalidUtf8(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let code: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
      code = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
      code = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
      code = b & 0x07;
    } else {
      return i;
    }
    if (i + need >= end) return i;
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}
