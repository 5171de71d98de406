import { useState } from 'preact/hooks';
import { api, type NamedSource, ok } from '../api';
import {
  ConfirmDialog,
  Empty,
  ErrorMessage,
  formatTime,
  LastRun,
  Loading,
  Notice,
  Page,
  TableWrap,
  useAsync,
  useSession,
} from '../ui';
import { CollectionTabs } from './collection-tabs';
import { SourceForm } from './source-form';

/**
 * A collection's named sources (docs/sources.md): the fields each owns, its priority, ignoreEmpty,
 * schedule and last run; define, edit or remove one (the API asks the admin scope for those).
 */
export function CollectionSources(props: { collection: string }) {
  const { collection } = props;
  const { canAdmin } = useSession();
  const [editing, setEditing] = useState<NamedSource | 'new'>();
  const [removing, setRemoving] = useState<NamedSource>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  // A collection has a handful of sources: the API lists them all at once (no paging).
  const list = useAsync(
    async () =>
      (await ok(api.GET('/v1/collections/{collection}/sources', { params: { path: { collection } } }))).data
        .items,
    [collection],
  );

  const remove = async (source: NamedSource) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await ok(
        api.DELETE('/v1/collections/{collection}/sources/{name}', {
          params: { path: { collection, name: source.name } },
        }),
      );
      setNotice(`Source ${source.name} removed.`);
      list.reload();
    } catch (error) {
      setFailure(error);
    } finally {
      setRemoving(undefined);
      setBusy(false);
    }
  };

  const items = list.data;
  return (
    <Page title={`Sources of ${collection}`}>
      <CollectionTabs collection={collection} current="/sources" />
      <p class="hint">
        Each source owns some fields (JSON Pointers; <code>/</code> is every field). A sync names its source
        (Syncs: "Source") and writes only the fields that source owns; where two own a field, the higher
        priority wins. Defining or removing a source needs an admin key.
      </p>
      <div class="row">
        <button
          type="button"
          disabled={!canAdmin}
          title={canAdmin ? undefined : 'Only an admin key can define sources'}
          aria-expanded={editing === 'new'}
          onClick={() => {
            setNotice(undefined);
            setEditing(editing === 'new' ? undefined : 'new');
          }}
        >
          New source
        </button>
      </div>
      {editing !== undefined && (
        <SourceForm
          collection={collection}
          source={editing === 'new' ? undefined : editing}
          onSaved={(name, created) => {
            setEditing(undefined);
            setNotice(created ? `Source ${name} defined.` : `Source ${name} saved.`);
            list.reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      )}
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {list.error !== undefined && <ErrorMessage error={list.error} onRetry={list.reload} />}
      {list.loading && !items && <Loading what="sources" />}
      {items && items.length === 0 && <Empty>No source: every field belongs to the default source.</Empty>}
      {items && items.length > 0 && (
        <TableWrap label="Named sources">
          <table>
            <caption class="visually-hidden">Named sources of {collection}, highest priority first</caption>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Fields owned</th>
                <th scope="col">Priority</th>
                <th scope="col">Empty values</th>
                <th scope="col">Fetched</th>
                <th scope="col">Last run</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {[...items]
                .sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name))
                .map((source) => (
                  <tr key={source.name}>
                    <th scope="row">
                      {source.name}
                      {!source.stored && <span class="badge quiet">implicit</span>}
                    </th>
                    <td>
                      {source.fields.map((field) => (
                        <code key={field} class="pointer">
                          {field}
                        </code>
                      ))}
                    </td>
                    <td>{source.priority}</td>
                    <td>{source.ignoreEmpty ? 'ignored' : 'kept'}</td>
                    <td class="url">
                      {source.url ? (
                        <>
                          {source.url} <span class="same">({source.mode})</span>
                          <div>
                            <code>{source.schedule}</code>, next {formatTime(source.nextRunAt)}
                          </div>
                          {source.headerNames.length > 0 && (
                            <div class="when">headers: {source.headerNames.join(', ')}</div>
                          )}
                        </>
                      ) : (
                        <span class="same">pushed syncs only</span>
                      )}
                    </td>
                    <td>
                      <LastRun run={source.lastRun} />
                    </td>
                    <td class="actions">
                      <button
                        type="button"
                        disabled={!canAdmin}
                        title={canAdmin ? undefined : 'Only an admin key can edit sources'}
                        aria-label={`Edit source ${source.name}`}
                        onClick={() => {
                          setNotice(undefined);
                          setEditing(source);
                        }}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="danger"
                        disabled={!canAdmin || !source.stored}
                        title={
                          canAdmin
                            ? source.stored
                              ? undefined
                              : 'Nothing stored to remove'
                            : 'Only an admin key can remove sources'
                        }
                        aria-label={`Remove source ${source.name}…`}
                        onClick={() => setRemoving(source)}
                      >
                        Remove…
                      </button>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove source ${removing?.name ?? ''}?`}
        confirmLabel="Remove"
        busy={busy}
        onConfirm={() => removing && remove(removing)}
        onCancel={() => setRemoving(undefined)}
      >
        <p>
          Its settings{removing?.url ? ' and its schedule' : ''} go. The values it gave records stay until
          each record is next synced.
          {removing?.name === 'default' && ' The default source then owns every field again.'}
        </p>
      </ConfirmDialog>
    </Page>
  );
}
