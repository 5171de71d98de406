import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { isBlockedAddress } from './url-safety.ts';

/** Why a fetch failed, in words for the run history; the next tick retries. */
export class FeedFetchError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
  }
}

export interface FetchOptions {
  headers: Record<string, string>;
  etag: string | null;
  lastModified: string | null;
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
}

export type FetchResult =
  | { kind: 'not-modified'; httpStatus: 304 }
  | {
      kind: 'body';
      httpStatus: number;
      /** The body, failing with a FeedFetchError past maxBytes or on a stalled upstream. */
      body: Transform;
      contentType: string | undefined;
      etag: string | null;
      lastModified: string | null;
    };

const MAX_REDIRECTS = 5;

/**
 * A conditional GET (If-None-Match / If-Modified-Since from the last synced body). The address
 * check runs in the socket's own DNS lookup, so the address connected to is the one checked (no
 * window for a name to resolve to a public address when checked and a private one when used).
 * Redirects are followed (up to 5), each one through the same check. Once a redirect leaves the
 * feed URL's origin, none of the source's own headers (its tokens) are sent any more, as browsers drop
 * Authorization on a cross-origin redirect.
 */
export async function fetchFeed(rawUrl: string, options: FetchOptions): Promise<FetchResult> {
  let url = new URL(rawUrl);
  const origin = url.origin;
  let sameOrigin = true;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await request(url, options, sameOrigin);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304 && response.headers.location) {
      response.resume();
      url = new URL(response.headers.location, url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new FeedFetchError(`redirected to a non-HTTP URL (${url.protocol})`, status);
      }
      if (url.origin !== origin) sameOrigin = false;
      continue;
    }
    if (status === 304) {
      response.resume();
      return { kind: 'not-modified', httpStatus: 304 };
    }
    if (status < 200 || status >= 300) {
      response.resume();
      throw new FeedFetchError(`the upstream answered HTTP ${status}`, status);
    }
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length) && length > options.maxBytes) {
      response.destroy();
      throw new FeedFetchError(`the feed is ${length} bytes, over the limit of ${options.maxBytes}`, status);
    }
    return {
      kind: 'body',
      httpStatus: status,
      body: capped(response, options),
      contentType: response.headers['content-type'],
      etag: header(response, 'etag'),
      lastModified: header(response, 'last-modified'),
    };
  }
  throw new FeedFetchError(`more than ${MAX_REDIRECTS} redirects`);
}

function header(response: IncomingMessage, name: string): string | null {
  const value = response.headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

function request(url: URL, options: FetchOptions, withSourceHeaders: boolean): Promise<IncomingMessage> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && isIP(host) && isBlockedAddress(host)) {
    return Promise.reject(
      new FeedFetchError(`refused: ${host} is a loopback, private or link-local address`),
    );
  }
  const headers: Record<string, string> = {
    'user-agent': 'sync-manager',
    accept: 'application/json, application/x-ndjson, */*',
  };
  if (withSourceHeaders) {
    for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
  }
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, {
      headers,
      lookup: checkedLookup(options.allowPrivate),
      timeout: options.timeoutMs,
    });
    req.once('response', (response) => {
      req.setTimeout(0);
      resolve(response);
    });
    req.once('timeout', () => req.destroy(new FeedFetchError(`no answer within ${options.timeoutMs} ms`)));
    req.once('error', (error) =>
      reject(
        error instanceof FeedFetchError ? error : new FeedFetchError(`connection failed: ${error.message}`),
      ),
    );
  });
}

function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const blocked = allowPrivate ? undefined : addresses.find((entry) => isBlockedAddress(entry.address));
      if (blocked) {
        return callback(
          new FeedFetchError(
            `refused: ${hostname} resolves to ${blocked.address}, a loopback, private or link-local address`,
          ),
          '',
          0,
        );
      }
      if (lookupOptions.all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new FeedFetchError(`${hostname} does not resolve`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Passes the body through, failing past maxBytes or when the upstream stalls for timeoutMs. */
function capped(response: IncomingMessage, options: FetchOptions): Transform {
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > options.maxBytes) {
        // Fail the stream with the real reason before the socket closes and reports an abort.
        stream.destroy(new FeedFetchError(`the feed is over the limit of ${options.maxBytes} bytes`));
        response.destroy();
        return;
      }
      callback(null, chunk);
    },
  });
  const fail = (error: Error) => {
    if (!stream.destroyed) stream.destroy(error);
  };
  response.setTimeout(options.timeoutMs, () =>
    fail(new FeedFetchError(`the upstream stalled for ${options.timeoutMs} ms mid-body`)),
  );
  response.once('error', (error) =>
    fail(error instanceof FeedFetchError ? error : new FeedFetchError(`connection failed: ${error.message}`)),
  );
  response.once('aborted', () => fail(new FeedFetchError('the upstream closed the connection mid-body')));
  response.pipe(stream);
  return stream;
}
