import { useEffect, useState } from 'preact/hooks';

/** Everything the console shows lives under this path; the server answers index.html for each page. */
export const BASE = '/console';

export function href(path: string): string {
  return BASE + path;
}

/** The page path without the base, e.g. `/c/products/records/42`. */
function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return path === '' ? '/' : path;
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', href(path));
  else history.pushState(null, '', href(path));
  for (const listener of listeners) listener();
  // The new page's heading takes the focus in its own effect (Page in ui.tsx).
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function useLocation(): Location {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((tick) => tick + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return { path: currentPath(), query: new URLSearchParams(location.search) };
}

/** Matches `/c/:collection/records/:id` against a path; segments are URL-decoded. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(':')) {
      if (h === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return undefined;
      }
    } else if (w !== h) return undefined;
  }
  return params;
}

export function segment(value: string): string {
  return encodeURIComponent(value);
}
