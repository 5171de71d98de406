import type { ComponentChildren, TargetedEvent } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { Problem, type Session } from './api';
import { href, navigate } from './router';

export interface SessionState {
  session: Session;
  canWrite: boolean;
  canAdmin: boolean;
}

export const SessionContext = createContext<SessionState | undefined>(undefined);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside a signed-in page');
  return state;
}

/** A link inside the console: navigates without reloading, but opens a new tab as any link does. */
export function Link(props: { to: string; children: ComponentChildren; class?: string; current?: boolean }) {
  return (
    <a
      href={href(props.to)}
      class={props.class}
      aria-current={props.current ? 'page' : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

/** A page: its heading takes the focus when the page opens, so a screen reader announces it. */
export function Page(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Sync Manager`;
    heading.current?.focus({ preventScroll: true });
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {props.title}
        </h1>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p class="loading" role="status">
      Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}

/** A problem as the server described it: title, detail and code, and any listed errors. */
export function ErrorMessage(props: { error: unknown; onRetry?: () => void }) {
  const error = props.error;
  const problem = error instanceof Problem ? error : undefined;
  const errors = problem && Array.isArray(problem.body.errors) ? (problem.body.errors as unknown[]) : [];
  return (
    <div class="error" role="alert">
      <p>
        <strong>{problem ? problem.title : 'Something went wrong'}</strong>
        {problem && problem.status > 0 && (
          <span class="code">
            {' '}
            ({problem.code}, {problem.status})
          </span>
        )}
      </p>
      <p>{problem ? problem.detail : String((error as Error)?.message ?? error)}</p>
      {errors.length > 0 && (
        <ul>
          {errors.slice(0, 20).map((item, i) => (
            <li key={i}>{typeof item === 'string' ? item : JSON.stringify(item)}</li>
          ))}
        </ul>
      )}
      {props.onRetry && (
        <button type="button" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/**
 * A table that scrolls sideways on a narrow screen. It takes the focus so that a keyboard can scroll
 * it (axe: scrollable-region-focusable), and is a labelled region so that the focus says what it is.
 */
export function TableWrap(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard
    <section class="table-wrap" aria-label={props.label} tabIndex={0}>
      {props.children}
    </section>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** A short message for the person after an action, read out by screen readers. */
export function Notice(props: { message: string | undefined }) {
  return (
    <p class="notice" role="status" aria-live="polite">
      {props.message ?? ''}
    </p>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((old) => ({ ...old, loading: true, error: undefined }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export interface Paged<T> extends Async<{ items: T[]; nextCursor: string | null }> {
  page: number;
  next: () => void;
  previous: () => void;
  first: () => void;
}

/** Cursor paging: a page at a time, with the cursors seen kept for "Previous". Never the whole list. */
export function usePaged<T>(
  load: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  deps: unknown[],
): Paged<T> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), deps);
  const cursor = cursors[cursors.length - 1];
  const result = useAsync(() => load(cursor), [...deps, cursor]);
  return {
    ...result,
    page: cursors.length,
    next: () => {
      const nextCursor = result.data?.nextCursor;
      if (nextCursor) setCursors((list) => [...list, nextCursor]);
    },
    previous: () => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)),
    first: () => setCursors([undefined]),
  };
}

export function Pager<T>(props: { paged: Paged<T>; label: string }) {
  const { paged } = props;
  const hasNext = Boolean(paged.data?.nextCursor);
  if (paged.page === 1 && !hasNext) return null;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" onClick={paged.first} disabled={paged.page === 1}>
        First
      </button>
      <button type="button" onClick={paged.previous} disabled={paged.page === 1}>
        Previous
      </button>
      <span>Page {paged.page}</span>
      <button type="button" onClick={paged.next} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}

/** A JSON value, compact, in a code element (strings shown with their quotes, as JSON). */
export function JsonValue(props: { value: unknown; missing?: string }) {
  if (props.value === undefined) return <span class="missing">{props.missing ?? '—'}</span>;
  return <code class="json">{JSON.stringify(props.value)}</code>;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/**
 * A confirmation in a modal dialog (the browser's own: focus stays inside, Escape cancels). It says
 * what will happen; the action runs only on the confirm button.
 */
/** A scheduled source's last fetch: its status, when, and its error; "not yet" before the first. */
export function LastRun(props: {
  run: { status: string; at: string; error?: string | null } | null | undefined;
}) {
  const { run } = props;
  if (!run) return <>not yet</>;
  return (
    <>
      <span class={`status status-${run.status}`}>{run.status}</span> {formatTime(run.at)}
      {run.error && <div class="invalid">{run.error}</div>}
    </>
  );
}

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  confirmLabel: string;
  children: ComponentChildren;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  // Unique per dialog: a page may hold several, each labelled by its own title.
  const titleId = useId();
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (props.open && !element.open) element.showModal();
    if (!props.open && element.open) element.close();
  }, [props.open]);
  return (
    <dialog ref={dialog} aria-labelledby={titleId} onCancel={props.onCancel} class="dialog">
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <div class="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={props.onConfirm} disabled={props.busy}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Why a control is disabled for a read-only key, said on the control itself. */
export function readOnlyTitle(canWrite: boolean): string | undefined {
  return canWrite ? undefined : 'Your API key can read only';
}

export type FormEvent = TargetedEvent<HTMLFormElement, Event>;
