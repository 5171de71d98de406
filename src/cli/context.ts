import { type Config, loadConfig } from '../config.ts';
import { type ApiClient, openClient } from './client.ts';

/** Runs `fn` with an API client, closing it (and the embedded database) however `fn` ends. */
export async function withClient<T>(fn: (client: ApiClient, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await openClient(config);
  try {
    return await fn(client, config);
  } finally {
    await client.close();
  }
}

/** Fetches every page of a listing. */
export async function listAll<T>(client: ApiClient, path: string, tenant?: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page: { items: T[]; nextCursor: string | null } = await client.call({
      method: 'GET',
      path: `${path}${separator}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      ...(tenant ? { tenant } : {}),
    });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
