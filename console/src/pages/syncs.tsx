import { useRef, useState } from 'preact/hooks';
import { api, ok, Problem, type SyncRun } from '../api';
import { segment } from '../router';
import {
  Empty,
  ErrorMessage,
  type FormEvent,
  formatTime,
  Link,
  Loading,
  Notice,
  Page,
  Pager,
  readOnlyTitle,
  TableWrap,
  useAsync,
  usePaged,
  useSession,
} from '../ui';
import { CollectionTabs } from './collection-tabs';
import { canRevert, HeldRun, RevertRun } from './sync-actions';

type Mode = 'full' | 'partial';

/** Held runs listed above the history at most; more are rare (each expires after some days). */
const HELD_SHOWN = 50;

/** Sync history with counts, timings and errors; upload a feed file, see the dry-run plan, apply it. */
export function Syncs(props: { collection: string }) {
  const { collection } = props;
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/syncs', {
            params: { path: { collection }, query: { limit: 20, ...(cursor ? { cursor } : {}) } },
          }),
        )
      ).data,
    [collection],
  );
  // Every held run, however far back in the history: each waits for a person.
  const waiting = useAsync(
    async () =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/syncs', {
            params: { path: { collection }, query: { status: 'held', limit: HELD_SHOWN } },
          }),
        )
      ).data,
    [collection],
  );
  const items = paged.data?.items;
  const [notice, setNotice] = useState<string>();
  const done = (message: string) => {
    setNotice(message);
    paged.reload();
    waiting.reload();
  };
  const held = waiting.data?.items ?? [];
  return (
    <Page title={`Syncs of ${collection}`}>
      <CollectionTabs collection={collection} current="/syncs" />
      <Upload collection={collection} onApplied={paged.reload} />
      <h2>History</h2>
      <Notice message={notice} />
      {held.length > 0 && (
        <>
          <p class="held-note">
            {held.length}
            {waiting.data?.nextCursor ? ' or more' : ''} run(s) are held by a guard and wait for approval:
            nothing of them is applied until then.
          </p>
          {held.map((run) => (
            <HeldRun key={run.id} run={run} onDone={done} />
          ))}
        </>
      )}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="sync runs" />}
      {items && items.length === 0 && <Empty>No sync has run on {collection} yet.</Empty>}
      {items && items.length > 0 && (
        <TableWrap label="Sync runs">
          <table>
            <caption class="visually-hidden">Sync runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col">Mode</th>
                <th scope="col">Counts</th>
                <th scope="col">Time</th>
                <th scope="col">Errors</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((run) => (
                <tr key={run.id} class={run.status === 'held' ? 'held-row' : undefined}>
                  <th scope="row">
                    {formatTime(run.startedAt)}
                    <div class="when">{run.id.slice(0, 8)}</div>
                  </th>
                  <td>
                    <span class={`status status-${run.status}`}>{run.status}</span>
                    {run.dryRun && ' (dry run)'}
                  </td>
                  <td>
                    {run.mode}
                    {run.forced && ', forced'}
                    {run.source && <div class="when">source {run.source}</div>}
                    {run.revertOf && <div class="when">reverts {run.revertOf.slice(0, 8)}</div>}
                  </td>
                  <td>
                    <Counts counts={run.counts} />
                  </td>
                  <td>{duration(run)}</td>
                  <td>{run.status === 'held' ? 'held: see above' : <Errors errors={run.errors} />}</td>
                  <td class="actions">{canRevert(run) && <RevertRun run={run} onDone={done} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Sync runs" />
    </Page>
  );
}

function Upload(props: { collection: string; onApplied: () => void }) {
  const { canWrite } = useSession();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File>();
  const [mode, setMode] = useState<Mode>('full');
  const [source, setSource] = useState('');
  const [plan, setPlan] = useState<SyncRun>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string>();

  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const ndjson = /\.(ndjson|jsonl)$/i.test(file.name);
      const { data } = await ok(
        api.POST('/v1/collections/{collection}/syncs', {
          params: {
            path: { collection: props.collection },
            query: { mode, dryRun, ...(source.trim() ? { source: source.trim() } : {}) },
          },
          body: file as never,
          bodySerializer: (body: unknown) => body as Blob,
          headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
        }),
      );
      const run = data as SyncRun;
      if (dryRun) setPlan(run);
      else {
        setPlan(undefined);
        setFile(undefined);
        if (input.current) input.current.value = '';
        setNotice(`Applied: ${describeCounts(run.counts)}.`);
        props.onApplied();
      }
    } catch (problem) {
      setError(problem);
      // A guard held the run: it is in the history now, waiting for approval.
      if (problem instanceof Problem && problem.body.syncStatus === 'held') {
        setPlan(undefined);
        setNotice('The run is held, nothing was applied: approve or reject it in the history below.');
        props.onApplied();
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void send(true);
  };

  return (
    <section aria-labelledby="upload-title" class="card">
      <h2 id="upload-title">Upload a feed</h2>
      <form onSubmit={submit} class="upload">
        <div>
          <label for="feed-file">Feed file (JSON array, {'{ "records": [...] }'} or NDJSON)</label>
          <input
            id="feed-file"
            ref={input}
            type="file"
            accept=".json,.ndjson,.jsonl,application/json"
            disabled={!canWrite}
            title={readOnlyTitle(canWrite)}
            onChange={(event) => {
              setFile(event.currentTarget.files?.[0]);
              setPlan(undefined);
            }}
          />
        </div>
        <div>
          <label for="feed-source">Source (empty: default)</label>
          <input
            id="feed-source"
            value={source}
            placeholder="default"
            onInput={(event) => {
              setSource(event.currentTarget.value);
              setPlan(undefined);
            }}
          />
        </div>
        <fieldset>
          <legend>Mode</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'full'} onChange={() => setMode('full')} /> full
            (records missing from the feed are gone)
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'partial'}
              onChange={() => setMode('partial')}
            />{' '}
            partial (only upserts)
          </label>
        </fieldset>
        <button type="submit" disabled={!canWrite || !file || busy} title={readOnlyTitle(canWrite)}>
          {busy && !plan ? 'Planning…' : 'Plan (dry run)'}
        </button>
      </form>
      <Notice message={notice} />
      {error !== undefined && <ErrorMessage error={error} />}
      {plan && (
        <section class="plan" aria-labelledby="plan-title">
          <h3 id="plan-title">Plan for {file?.name}</h3>
          <p>
            <Counts counts={plan.counts} />
          </p>
          {plan.plan && (
            <dl class="facts">
              <PlanIds label="Created" ids={plan.plan.create} collection={props.collection} />
              <PlanIds label="Updated" ids={plan.plan.update} collection={props.collection} />
              <PlanIds label="Deleted" ids={plan.plan.delete} collection={props.collection} />
            </dl>
          )}
          <div class="row">
            <button type="button" class="primary" disabled={busy} onClick={() => send(false)}>
              {busy ? 'Applying…' : 'Apply this sync'}
            </button>
            <button type="button" disabled={busy} onClick={() => setPlan(undefined)}>
              Cancel
            </button>
          </div>
        </section>
      )}
    </section>
  );
}

export function PlanIds(props: { label: string; ids: string[]; collection: string }) {
  if (props.ids.length === 0) return null;
  return (
    <>
      <dt>
        {props.label} (first {props.ids.length})
      </dt>
      <dd>
        {props.ids.slice(0, 20).map((id, i) => (
          <span key={id}>
            {i > 0 && ', '}
            <Link to={`/c/${segment(props.collection)}/records/${segment(id)}`}>{id}</Link>
          </span>
        ))}
        {props.ids.length > 20 && ' …'}
      </dd>
    </>
  );
}

const COUNT_LABELS: [string, string][] = [
  ['created', 'created'],
  ['updated', 'updated'],
  ['deleted', 'deleted'],
  ['unchanged', 'unchanged'],
  ['conflicts', 'conflicts'],
  ['revived', 'revived'],
  ['ignoredFields', 'fields not owned, left out'],
];

function describeCounts(counts: Record<string, unknown>): string {
  return (
    COUNT_LABELS.filter(([key]) => typeof counts[key] === 'number' && counts[key] !== 0)
      .map(([key, label]) => `${(counts[key] as number).toLocaleString()} ${label}`)
      .join(', ') || 'no change'
  );
}

export function Counts(props: { counts: Record<string, unknown> }) {
  return <span class="counts">{describeCounts(props.counts)}</span>;
}

function duration(run: SyncRun): string {
  const total = run.timings?.totalMs ?? run.timings?.total;
  if (typeof total === 'number') return `${(total / 1000).toFixed(2)} s`;
  if (!run.finishedAt) return run.status === 'running' ? 'running' : '—';
  return `${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(2)} s`;
}

function Errors(props: { errors: unknown[] }) {
  if (props.errors.length === 0) return <span class="same">none</span>;
  return (
    <details>
      <summary>{props.errors.length} error(s)</summary>
      <ul>
        {props.errors.slice(0, 20).map((error, i) => (
          <li key={i}>{typeof error === 'string' ? error : JSON.stringify(error)}</li>
        ))}
      </ul>
    </details>
  );
}
