import http from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads are read loosely
  data: any;
  verified: boolean;
  /** The answer this request got. */
  status: number;
}

/**
 * A real HTTP receiver on a free local port. `answer` decides each request's status (default 200);
 * `hang` makes it never answer (a dead endpoint). Each request is verified with the standardwebhooks
 * library against `secret` once it is set.
 */
export async function startReceiver(
  options: { answer?: (request: { id: string; type: string; n: number }) => number; hang?: boolean } = {},
) {
  const received: Received[] = [];
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  let secret: string | null = null;
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (options.hang) return;
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      };
      let verified = false;
      try {
        if (secret) new Webhook(secret).verify(body, headers);
        verified = secret !== null;
      } catch {
        verified = false;
      }
      const parsed = JSON.parse(body) as { type: string; data: unknown };
      const n = received.filter((r) => r.id === headers['webhook-id']).length;
      const status = options.answer?.({ id: headers['webhook-id'], type: parsed.type, n }) ?? 200;
      received.push({ id: headers['webhook-id'], type: parsed.type, data: parsed.data, verified, status });
      response.writeHead(status).end('ok');
      for (const waiter of [...waiters]) {
        if (waiter.check()) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return {
    url,
    received,
    connections: () => sockets.size,
    setSecret(value: string) {
      secret = value;
    },
    /** Resolves once `check` holds (checked now and after every request). */
    until(check: () => boolean): Promise<void> {
      if (check()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ check, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
