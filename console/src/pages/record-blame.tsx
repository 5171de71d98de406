import { api, type BlameLeaf, ok } from '../api';
import { segment } from '../router';
import { Empty, ErrorMessage, formatTime, JsonValue, Link, Loading, TableWrap, useAsync } from '../ui';

/**
 * Who set each leaf of the effective value, and when: a source's sync, an edit with an API key, a
 * restore or a revert. One call of the record's own history (GET …/blame), never the collection.
 */
export function Blame(props: { collection: string; id: string; tick: number }) {
  const { collection, id } = props;
  const blame = useAsync(
    async () =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/records/{id}/blame', {
            params: { path: { collection, id } },
          }),
        )
      ).data.leaves,
    [collection, id, props.tick],
  );
  const leaves = blame.data;
  return (
    <section aria-labelledby="blame-title">
      <h2 id="blame-title">Blame</h2>
      <p class="hint">Who set each field's present value, and when.</p>
      {blame.error !== undefined && <ErrorMessage error={blame.error} onRetry={blame.reload} />}
      {blame.loading && !leaves && <Loading what="who set each field" />}
      {leaves && leaves.length === 0 && <Empty>The record has no field to blame.</Empty>}
      {leaves && leaves.length > 0 && (
        <TableWrap label="Blame">
          <table>
            <caption class="visually-hidden">Who set each field of {id}</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Value</th>
                <th scope="col">Set by</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {leaves.map((leaf) => (
                <tr key={leaf.path} class={leaf.setBy.kind === 'api' ? 'overridden' : undefined}>
                  <th scope="row">
                    <code>{leaf.path === '' ? '(root)' : leaf.path}</code>
                  </th>
                  <td>
                    <JsonValue value={leaf.value} />
                  </td>
                  <td>
                    <SetBy leaf={leaf} collection={collection} />
                  </td>
                  <td>
                    {leaf.complete ? '' : 'before '}
                    {formatTime(leaf.at)}
                    <div class="when">version {leaf.version}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

function SetBy(props: { leaf: BlameLeaf; collection: string }) {
  const by = props.leaf.setBy;
  const syncs = `/c/${segment(props.collection)}/syncs`;
  switch (by.kind) {
    case 'source':
      return (
        <>
          source <strong>{by.source ?? 'default'}</strong>
          {by.syncRunId && (
            <div class="when">
              <Link to={syncs}>sync run {by.syncRunId.slice(0, 8)}</Link>
            </div>
          )}
        </>
      );
    case 'api':
      return (
        <>
          edited by hand<span class="badge">manual</span>
          {by.apiKeyId && <div class="when">API key {by.apiKeyId.slice(0, 8)}</div>}
        </>
      );
    case 'restore':
      return (
        <>
          restore
          {by.snapshotId && (
            <div class="when">
              <Link to={`/snapshots/${segment(by.snapshotId)}`}>snapshot {by.snapshotId.slice(0, 8)}</Link>
            </div>
          )}
        </>
      );
    case 'revert':
      return <>a revert</>;
    default:
      return <>{by.kind}</>;
  }
}
