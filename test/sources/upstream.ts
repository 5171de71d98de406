import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A real local HTTP server standing in for an upstream feed: answers with an ETag and honours If-None-Match. */
export interface Upstream {
  url: string;
  requests: {
    ifNoneMatch: string | undefined;
    ifModifiedSince: string | undefined;
    auth: string | undefined;
  }[];
  /** What the next requests get; the default serves `body` with an ETag. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  body: string;
  etag: string;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const upstream: Upstream = {
    url: '',
    requests: [],
    body: '[]',
    etag: '"v1"',
    handler: (req, res) => {
      if (req.headers['if-none-match'] === upstream.etag) {
        res.writeHead(304, { etag: upstream.etag }).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        etag: upstream.etag,
        'last-modified': new Date(0).toUTCString(),
      });
      res.end(upstream.body);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    upstream.requests.push({
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
      auth: req.headers.authorization,
    });
    upstream.handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return upstream;
}
