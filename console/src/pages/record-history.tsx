import { api, ok } from '../api';
import { Empty, ErrorMessage, formatTime, Loading, Pager, usePaged } from '../ui';
import { ChangeList } from './record';

/** Versions newest first, a page at a time, each with its origin and field changes. */
export function History(props: { collection: string; id: string; tick: number }) {
  const { collection, id } = props;
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/records/{id}/history', {
            params: { path: { collection, id }, query: { limit: 20, ...(cursor ? { cursor } : {}) } },
          }),
        )
      ).data,
    [collection, id, props.tick],
  );
  const items = paged.data?.items;
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="the history" />}
      {items && items.length === 0 && <Empty>No versions.</Empty>}
      {items && items.length > 0 && (
        <ol class="history">
          {items.map((entry) => (
            <li key={entry.version}>
              <p>
                <strong>Version {entry.version}</strong> · {origin(entry.origin)} · {formatTime(entry.at)}
              </p>
              <ChangeList changes={entry.changes} />
            </li>
          ))}
        </ol>
      )}
      <Pager paged={paged} label="History" />
    </section>
  );
}

function origin(value: { kind: string; apiKeyId?: string; syncRunId?: string; snapshotId?: string }): string {
  switch (value.kind) {
    case 'sync':
      return `sync ${value.syncRunId ?? ''}`.trim();
    case 'restore':
      return `restore of snapshot ${value.snapshotId ?? ''}`.trim();
    default:
      return value.apiKeyId ? `${value.kind} by key ${value.apiKeyId.slice(0, 8)}` : value.kind;
  }
}
