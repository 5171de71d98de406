import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isBlockedAddress } from '../sources/url-safety.ts';

export interface PostOutcome {
  statusCode: number | null;
  /** The first `maxBodyBytes` of the answer, as text. */
  body: string | null;
  error: string | null;
  durationMs: number;
}

/**
 * One POST to a webhook URL, with no redirect followed (a 3xx is an answer like any other), the
 * address checked in the socket's own DNS lookup (so the address connected to is the one checked),
 * everything (connect, answer, body) within `timeoutMs`, and at most `maxBodyBytes` of the body read.
 * Never throws: the outcome says what happened.
 */
export function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; maxBodyBytes: number; allowPrivate: boolean },
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: Omit<PostOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return finish({ statusCode: null, body: null, error: 'not a URL' });
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivate && isIP(host) && isBlockedAddress(host)) {
      return finish({ statusCode: null, body: null, error: `refused: ${host} is not a public address` });
    }
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: checkedLookup(options.allowPrivate),
      agent: false,
    });
    timer = setTimeout(() => {
      request.destroy();
      finish({ statusCode: null, body: null, error: `no complete answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    request.once('error', (error) => finish({ statusCode: null, body: null, error: error.message }));
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const text = Buffer.concat(chunks).subarray(0, options.maxBodyBytes).toString('utf8');
        finish({ statusCode: response.statusCode ?? null, body: text, error: null });
      };
      response.on('data', (chunk: Buffer) => {
        if (size >= options.maxBodyBytes) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size >= options.maxBodyBytes) {
          done();
          response.destroy();
        }
      });
      response.once('end', done);
      response.once('error', done);
      response.once('aborted', done);
    });
    request.end(body);
  });
}

function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const blocked = allowPrivate ? undefined : addresses.find((entry) => isBlockedAddress(entry.address));
      if (blocked) {
        return callback(
          new Error(`refused: ${hostname} resolves to ${blocked.address}, not a public address`),
          '',
          0,
        );
      }
      if (lookupOptions.all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      }
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} does not resolve`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
