import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import {
  findImpreciseNumbers,
  findUnsafeJson,
  MAX_JSON_DEPTH,
  mayHaveImpreciseNumbers,
  UNSAFE_JSON_MESSAGES,
} from '../json/index.ts';
import { duplicateMemberOffset, pointerAtOffset } from './json-position.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replaces Fastify's JSON parser (app.ts, for every route) with a strict one, or adds it for more JSON
 * media types inside one plugin (the records PATCH types): bytes are decoded as UTF-8 without ever
 * substituting U+FFFD, then parsed, then checked for what PostgreSQL or JavaScript would not keep
 * exactly (NUL, lone surrogates, nesting past MAX_JSON_DEPTH, `__proto__`, numbers a double cannot
 * hold). Every refusal names where: a byte offset, or the JSON Pointer of the value.
 * `constructor` and `prototype` members are ordinary data here (every JSON helper reads own members
 * only), so they are stored exactly rather than refused.
 */
export function registerStrictJson(
  app: FastifyInstance,
  mediaTypes: readonly string[] = ['application/json'],
): void {
  if (mediaTypes.includes('application/json')) app.removeContentTypeParser('application/json');
  app.addContentTypeParser([...mediaTypes], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseStrictJson(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** The body's media type without parameters, lower-cased (`application/merge-patch+json`). */
export function mediaTypeOf(request: FastifyRequest): string {
  const header = request.headers['content-type'] ?? '';
  return header.split(';', 1)[0]!.trim().toLowerCase();
}

export function parseStrictJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    throw new AppError('invalid_json', `The body is not valid UTF-8 (byte offset ${offset})`);
  }
  if (text.trim() === '') throw new AppError('invalid_json', 'The body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError('invalid_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
  // Numbers first: their report quotes the literal, which the parsed value (Infinity, 0) has lost.
  if (mayHaveImpreciseNumbers(text)) {
    const imprecise = findImpreciseNumbers(text);
    if (imprecise.length > 0) {
      const errors = imprecise.map((n) => ({
        pointer: pointerAtOffset(text, n.offset),
        reason: `number-${n.reason}`,
        message: `the number ${n.literal} cannot be stored exactly as a double (${n.reason}); send it as a string`,
      }));
      const first = errors[0]!;
      throw new AppError('unsafe_json', `At ${describe(first.pointer)}: ${first.message}`, { errors });
    }
  }
  const unsafe = findUnsafeJson(value);
  if (unsafe.length > 0) {
    const errors = unsafe.map((r) => ({
      pointer: r.pointer,
      reason: r.reason,
      message: UNSAFE_JSON_MESSAGES[r.reason],
    }));
    const first = errors[0]!;
    const limit = first.reason === 'too-deep' ? ` (limit ${MAX_JSON_DEPTH})` : '';
    throw new AppError('unsafe_json', `At ${describe(first.pointer)}: ${first.message}${limit}`, { errors });
  }
  // Only objects can repeat a name: a body without a second `:` has none to look for.
  if (text.indexOf(':') !== text.lastIndexOf(':')) {
    const offset = duplicateMemberOffset(text);
    if (offset !== null) {
      const pointer = pointerAtOffset(text, offset);
      const message = 'the member name appears more than once in its object';
      throw new AppError('unsafe_json', `At ${describe(pointer)}: ${message}`, {
        errors: [{ pointer, reason: 'duplicate-member', message }],
      });
    }
  }
  return value;
}

function describe(pointer: string): string {
  return pointer === '' ? 'the document root' : JSON.stringify(pointer);
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return i;
}
