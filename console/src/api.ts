// The one file that knows where the API's types come from: the generated client's types, which a test
// keeps equal to the server's OpenAPI document (npm run generate:client).
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from '../../client/schema';

export type { components, paths };

/** The header the server demands on every change made with the session cookie (CSRF). */
const csrf: Middleware = {
  onRequest({ request }) {
    request.headers.set('x-sync-manager-csrf', '1');
    return request;
  },
};

/** Same origin as the page: the cookie goes with every call, the key is never in the browser. */
export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
api.use(csrf);

/** An RFC 9457 problem from the server, shown to the person with its detail. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly code: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail || title);
  }
}

/** Listeners told when any call answers 401: the session ended (signed out elsewhere, key revoked). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** The data of an openapi-fetch answer, or a thrown Problem. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; response: Response }> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw new Problem(
      0,
      'The server cannot be reached',
      String((error as Error).message ?? error),
      'network',
    );
  }
  const { data, error, response } = result;
  if (response.ok) return { data: data as T, response };
  const body = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  throw new Problem(
    response.status,
    String(body.title ?? response.statusText),
    String(body.detail ?? ''),
    String(body.code ?? 'http_error'),
    body,
  );
}

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

export type Session = Json<'/v1/session', 'get'>;
export type Collection = Json<'/v1/collections', 'get'>['items'][number];
export type RecordMeta = Json<'/v1/collections/{collection}/records/{id}', 'get'> & {
  id: string;
  data: Record<string, unknown> | null;
  source: Record<string, unknown> | null;
  overrides: { path: string; value?: unknown; removed?: boolean; by: string | null; at: string }[];
  manualDelete: { by: string | null; at: string } | null;
  upstreamGone: boolean;
  version: number;
  updatedAt: string;
};
export type HistoryEntry = Json<'/v1/collections/{collection}/records/{id}/history', 'get'>['items'][number];
export type Conflict = Json<'/v1/collections/{collection}/conflicts', 'get'>['items'][number];
export type SyncRun = Json<'/v1/collections/{collection}/syncs', 'get'>['items'][number];
export type Snapshot = Json<'/v1/snapshots', 'get'>['items'][number];
export type SnapshotDiff = Json<'/v1/snapshots/{snapshotId}/diff', 'get'>;
export type Source = Json<'/v1/sources', 'get'>['items'][number];
export type SourceRun = Json<'/v1/collections/{collection}/source/runs', 'get'>['items'][number];
export type ApiKey = Json<'/v1/api-keys', 'get'>['items'][number];
export type Webhook = Json<'/v1/webhooks/{webhookId}', 'get'>;
export type WebhookDelivery = Json<'/v1/webhooks/{webhookId}/deliveries', 'get'>['items'][number];
export type WebhookEvent = NonNullable<
  paths['/v1/webhooks']['post']['requestBody']
>['content']['application/json']['events'][number];
export type NamedSource = Json<'/v1/collections/{collection}/sources', 'get'>['items'][number];
export type RevertResult = Json<'/v1/syncs/{syncId}/revert', 'post'>;
export type BlameLeaf = Json<'/v1/collections/{collection}/records/{id}/blame', 'get'>['leaves'][number];
