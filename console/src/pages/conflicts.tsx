import { useState } from 'preact/hooks';
import { api, type Conflict, ok } from '../api';
import { segment } from '../router';
import {
  Empty,
  ErrorMessage,
  formatTime,
  JsonValue,
  Link,
  Loading,
  Notice,
  Page,
  Pager,
  readOnlyTitle,
  TableWrap,
  usePaged,
  useSession,
} from '../ui';
import { CollectionTabs } from './collection-tabs';

type Resolution = 'keep-manual' | 'take-source';

/** Open conflicts a page at a time: manual, old source and new source side by side; keep or take. */
export function Conflicts(props: { collection: string }) {
  const { collection } = props;
  const { canWrite } = useSession();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/conflicts', {
            params: { path: { collection }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
          }),
        )
      ).data,
    [collection],
  );
  const items = paged.data?.items;

  const resolve = async (conflicts: Conflict[], resolution: Resolution) => {
    setBusy(true);
    setFailure(undefined);
    let done = 0;
    try {
      // One at a time: each resolution is its own change of the record, in the order shown.
      for (const conflict of conflicts) {
        await ok(
          api.POST('/v1/collections/{collection}/conflicts/{conflictId}/resolve', {
            params: { path: { collection, conflictId: conflict.id } },
            body: { resolution } as never,
          }),
        );
        done++;
      }
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
      const verb = resolution === 'keep-manual' ? 'kept the manual value' : 'took the source value';
      setNotice(done > 0 ? `Resolved ${done} conflict(s): ${verb}.` : undefined);
      setSelected(new Set());
      paged.first();
      paged.reload();
    }
  };

  const chosen = (items ?? []).filter((c) => selected.has(c.id));
  const toggle = (id: string) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allChosen = items !== undefined && items.length > 0 && chosen.length === items.length;

  return (
    <Page title={`Conflicts of ${collection}`}>
      <CollectionTabs collection={collection} current="/conflicts" />
      <p class="hint">
        Upstream changed a field that was changed by hand. Keep the manual value, or take the new source
        value.
      </p>
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="conflicts" />}
      {items && items.length === 0 && <Empty>No open conflicts in {collection}.</Empty>}
      {items && items.length > 0 && (
        <>
          <fieldset class="row bulk">
            <legend class="visually-hidden">Selected conflicts</legend>
            <span>{chosen.length} selected</span>
            <button
              type="button"
              disabled={!canWrite || busy || chosen.length === 0}
              title={readOnlyTitle(canWrite)}
              onClick={() => resolve(chosen, 'keep-manual')}
            >
              Keep manual for selected
            </button>
            <button
              type="button"
              disabled={!canWrite || busy || chosen.length === 0}
              title={readOnlyTitle(canWrite)}
              onClick={() => resolve(chosen, 'take-source')}
            >
              Take source for selected
            </button>
          </fieldset>
          <TableWrap label="Open conflicts">
            <table class="conflicts" aria-busy={busy}>
              <caption class="visually-hidden">Open conflicts, page {paged.page}</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select every conflict on this page"
                      checked={allChosen}
                      disabled={!canWrite}
                      onChange={() => setSelected(allChosen ? new Set() : new Set(items.map((c) => c.id)))}
                    />
                  </th>
                  <th scope="col">Record and field</th>
                  <th scope="col">Manual value</th>
                  <th scope="col">Old source value</th>
                  <th scope="col">New source value</th>
                  <th scope="col">
                    <span class="visually-hidden">Resolve</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((conflict) => (
                  <tr key={conflict.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select the conflict on ${conflict.recordId} ${conflict.path}`}
                        checked={selected.has(conflict.id)}
                        disabled={!canWrite}
                        onChange={() => toggle(conflict.id)}
                      />
                    </td>
                    <th scope="row">
                      <Link to={`/c/${segment(collection)}/records/${segment(conflict.recordId)}`}>
                        {conflict.recordId}
                      </Link>{' '}
                      <code>{conflict.path}</code>
                      <div class="when">{formatTime(conflict.createdAt)}</div>
                      {conflict.kind === 'source' && <div class="when">two sources disagree</div>}
                    </th>
                    <td>
                      <JsonValue value={conflict.manualValue} missing="(removed)" />
                      {conflict.kind === 'source' && (
                        <div class="when">
                          source {conflict.otherSource}, lower priority (not a manual value)
                        </div>
                      )}
                    </td>
                    <td>
                      {conflict.kind === 'source' ? (
                        <span class="missing">— (two sources, not an upstream move)</span>
                      ) : (
                        <JsonValue value={conflict.previousSourceValue} missing="(none)" />
                      )}
                    </td>
                    <td>
                      <JsonValue value={conflict.sourceValue} missing="(none)" />
                      {conflict.source && (
                        <div class="when">
                          {conflict.kind === 'source'
                            ? `source ${conflict.source}, shown`
                            : `from ${conflict.source}`}
                        </div>
                      )}
                    </td>
                    <td class="actions">
                      <button
                        type="button"
                        disabled={!canWrite || busy}
                        title={readOnlyTitle(canWrite)}
                        aria-label={`Keep manual value of ${conflict.recordId} ${conflict.path}`}
                        onClick={() => resolve([conflict], 'keep-manual')}
                      >
                        Keep manual
                      </button>
                      <button
                        type="button"
                        disabled={!canWrite || busy}
                        title={readOnlyTitle(canWrite)}
                        aria-label={`Take source value of ${conflict.recordId} ${conflict.path}`}
                        onClick={() => resolve([conflict], 'take-source')}
                      >
                        Take source
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      )}
      <Pager paged={paged} label="Conflicts" />
    </Page>
  );
}
