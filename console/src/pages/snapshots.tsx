import { useState } from 'preact/hooks';
import { api, ok, type Snapshot, type SnapshotDiff } from '../api';
import { navigate, segment } from '../router';
import {
  ConfirmDialog,
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
import { ChangeList } from './record';

/** Snapshots newest first: take one, label, pin or unpin; open one to compare it with now and restore. */
export function Snapshots() {
  const { canWrite } = useSession();
  const [label, setLabel] = useState('');
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/snapshots', { params: { query: { limit: 25, ...(cursor ? { cursor } : {}) } } }),
        )
      ).data,
    [],
  );
  const items = paged.data?.items;

  const act = async (work: () => Promise<unknown>, message: string) => {
    setFailure(undefined);
    try {
      await work();
      setNotice(message);
      paged.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  const take = (event: FormEvent) => {
    event.preventDefault();
    const text = label.trim();
    void act(
      async () => {
        await ok(api.POST('/v1/snapshots', { body: (text ? { label: text } : {}) as never }));
        setLabel('');
        paged.first();
      },
      `Snapshot ${text ? `"${text}" ` : ''}taken.`,
    );
  };

  const update = (snapshot: Snapshot, body: { label?: string | null; pinned?: boolean }, message: string) =>
    act(
      () =>
        ok(
          api.PATCH('/v1/snapshots/{snapshotId}', {
            params: { path: { snapshotId: snapshot.id } },
            body: body as never,
          }),
        ),
      message,
    );

  return (
    <Page title="Snapshots">
      <form class="inline-form" onSubmit={take}>
        <label for="snapshot-label">Label</label>
        <input
          id="snapshot-label"
          value={label}
          maxLength={200}
          placeholder="before the spring sale"
          disabled={!canWrite}
          onInput={(event) => setLabel(event.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={!canWrite} title={readOnlyTitle(canWrite)}>
          Take a snapshot
        </button>
      </form>
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="snapshots" />}
      {items && items.length === 0 && (
        <Empty>No snapshots yet. One is taken before every sync and restore.</Empty>
      )}
      {items && items.length > 0 && (
        <TableWrap label="Snapshots">
          <table>
            <caption class="visually-hidden">Snapshots, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Taken</th>
                <th scope="col">Label</th>
                <th scope="col">Kept until</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((snapshot) => (
                <tr key={snapshot.id}>
                  <th scope="row">
                    <Link to={`/snapshots/${segment(snapshot.id)}`}>{formatTime(snapshot.createdAt)}</Link>
                    {snapshot.auto && <span class="badge quiet">automatic</span>}
                  </th>
                  <td>{snapshot.label ?? <span class="same">no label</span>}</td>
                  <td>{snapshot.pinned ? 'pinned: kept' : formatTime(snapshot.expiresAt)}</td>
                  <td class="actions">
                    <button
                      type="button"
                      disabled={!canWrite}
                      title={readOnlyTitle(canWrite)}
                      aria-label={`${snapshot.pinned ? 'Unpin' : 'Pin'} the snapshot of ${formatTime(snapshot.createdAt)}`}
                      onClick={() =>
                        update(
                          snapshot,
                          { pinned: !snapshot.pinned },
                          snapshot.pinned ? 'Unpinned.' : 'Pinned.',
                        )
                      }
                    >
                      {snapshot.pinned ? 'Unpin' : 'Pin'}
                    </button>
                    <button
                      type="button"
                      disabled={!canWrite}
                      title={readOnlyTitle(canWrite)}
                      aria-label={`Relabel the snapshot of ${formatTime(snapshot.createdAt)}`}
                      onClick={() => {
                        const next = window.prompt('New label (empty to remove it)', snapshot.label ?? '');
                        if (next !== null)
                          void update(snapshot, { label: next.trim() || null }, 'Relabelled.');
                      }}
                    >
                      Relabel
                    </button>
                    <Link to={`/snapshots/${segment(snapshot.id)}`} class="button">
                      Compare and restore
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Snapshots" />
    </Page>
  );
}

type DiffCollection = SnapshotDiff['collections'][number];

/** One snapshot: what changed since (diff against now, a page at a time) and restore it. */
export function SnapshotPage(props: { id: string }) {
  const { canWrite } = useSession();
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const snapshot = useAsync(
    async () =>
      (await ok(api.GET('/v1/snapshots/{snapshotId}', { params: { path: { snapshotId: props.id } } }))).data,
    [props.id],
  );
  const diff = usePaged(
    async (cursor) => {
      const { data } = await ok(
        api.GET('/v1/snapshots/{snapshotId}/diff', {
          params: { path: { snapshotId: props.id }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
        }),
      );
      return { items: data.collections, nextCursor: data.nextCursor };
    },
    [props.id],
  );
  const collections = diff.data?.items;
  const changed = (collections ?? []).filter(
    (c) => c.counts.created + c.counts.changed + c.counts.deleted > 0,
  );

  const restore = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      const { data } = await ok(
        api.POST('/v1/snapshots/{snapshotId}/restore', {
          params: { path: { snapshotId: props.id } },
          body: {} as never,
        }),
      );
      setConfirm(false);
      const result = data as { collections: { name: string }[]; undoSnapshotId: string };
      setNotice(
        `Restored ${result.collections.length} collection(s). A snapshot was taken just before: restore it to undo.`,
      );
      diff.first();
      diff.reload();
    } catch (error) {
      setConfirm(false);
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const title = snapshot.data
    ? `Snapshot ${snapshot.data.label ? `"${snapshot.data.label}"` : formatTime(snapshot.data.createdAt)}`
    : 'Snapshot';
  return (
    <Page title={title}>
      <p>
        <Link to="/snapshots">All snapshots</Link>
      </p>
      {snapshot.error !== undefined && <ErrorMessage error={snapshot.error} onRetry={snapshot.reload} />}
      {snapshot.data && (
        <dl class="facts">
          <dt>Taken</dt>
          <dd>{formatTime(snapshot.data.createdAt)}</dd>
          <dt>Kind</dt>
          <dd>{snapshot.data.auto ? 'automatic' : 'taken by hand'}</dd>
          <dt>Kept</dt>
          <dd>{snapshot.data.pinned ? 'pinned' : `until ${formatTime(snapshot.data.expiresAt)}`}</dd>
        </dl>
      )}
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      <h2>Changed since this snapshot</h2>
      {diff.error !== undefined && <ErrorMessage error={diff.error} onRetry={diff.reload} />}
      {diff.loading && !collections && <Loading what="the differences" />}
      {collections && changed.length === 0 && diff.page === 1 && (
        <Empty>Nothing changed since this snapshot.</Empty>
      )}
      {changed.map((collection) => (
        <DiffOfCollection key={collection.name} collection={collection} />
      ))}
      <Pager paged={diff} label="Differences" />
      <div class="row">
        <button
          type="button"
          class="danger"
          disabled={!canWrite || busy || changed.length === 0}
          title={readOnlyTitle(canWrite)}
          onClick={() => setConfirm(true)}
        >
          Restore this snapshot…
        </button>
      </div>
      <ConfirmDialog
        open={confirm}
        title="Restore this snapshot?"
        confirmLabel={busy ? 'Restoring…' : 'Restore'}
        busy={busy}
        onCancel={() => setConfirm(false)}
        onConfirm={restore}
      >
        <p>Every collection goes back to how it was when the snapshot was taken. This will:</p>
        <ul>
          {changed.map((c) => (
            <li key={c.name}>
              <strong>{c.name}</strong>: {restoreSentence(c)}
            </li>
          ))}
        </ul>
        <p>A snapshot is taken first, so this restore can itself be undone.</p>
      </ConfirmDialog>
      <p class="hint">
        <button type="button" class="link" onClick={() => navigate('/snapshots')}>
          Back to the snapshots
        </button>
      </p>
    </Page>
  );
}

function restoreSentence(collection: DiffCollection): string {
  const parts: string[] = [];
  const { created, changed, deleted } = collection.counts;
  if (created) parts.push(`delete ${created.toLocaleString()} record(s) created since`);
  if (changed) parts.push(`change back ${changed.toLocaleString()} record(s)`);
  if (deleted) parts.push(`bring back ${deleted.toLocaleString()} record(s) deleted since`);
  return parts.join(', ');
}

function DiffOfCollection(props: { collection: DiffCollection }) {
  const { collection } = props;
  return (
    <section class="card" aria-label={`Differences in ${collection.name}`}>
      <h3>
        {collection.name}: {collection.counts.created} created, {collection.counts.changed} changed,{' '}
        {collection.counts.deleted} deleted
      </h3>
      <ul class="diff">
        {collection.records.map((record) => (
          <li key={record.id}>
            <Link to={`/c/${segment(collection.name)}/records/${segment(record.id)}`}>{record.id}</Link>{' '}
            <span class={`badge change-${record.change}`}>{record.change}</span>
            {record.change === 'changed' && <ChangeList changes={record.changes} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
