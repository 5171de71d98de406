import { api, ok } from '../api';
import { segment } from '../router';
import { Empty, ErrorMessage, formatTime, Link, Loading, Page, Pager, TableWrap, usePaged } from '../ui';
import { rememberIdField } from './records';

export function Collections() {
  const paged = usePaged(async (cursor) => {
    const { data } = await ok(
      api.GET('/v1/collections', { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } }),
    );
    for (const collection of data.items) rememberIdField(collection.name, collection.idField);
    return data;
  }, []);
  const items = paged.data?.items;
  return (
    <Page title="Collections">
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="collections" />}
      {items && items.length === 0 && (
        <Empty>
          No collections yet. A collection is made by its first sync (or `sync-manager collections create`).
        </Empty>
      )}
      {items && items.length > 0 && (
        <TableWrap label="Collections">
          <table>
            <caption class="visually-hidden">Collections with their counts and last sync</caption>
            <thead>
              <tr>
                <th scope="col">Collection</th>
                <th scope="col" class="num">
                  Records
                </th>
                <th scope="col" class="num">
                  Overridden
                </th>
                <th scope="col" class="num">
                  Open conflicts
                </th>
                <th scope="col">Last sync</th>
              </tr>
            </thead>
            <tbody>
              {items.map((collection) => (
                <tr key={collection.name}>
                  <th scope="row">
                    <Link to={`/c/${segment(collection.name)}`}>{collection.name}</Link>
                  </th>
                  <td class="num">{collection.counts.records.toLocaleString()}</td>
                  <td class="num">{collection.counts.overridden.toLocaleString()}</td>
                  <td class="num">
                    {collection.counts.openConflicts > 0 ? (
                      <Link to={`/c/${segment(collection.name)}/conflicts`}>
                        {collection.counts.openConflicts.toLocaleString()}
                      </Link>
                    ) : (
                      0
                    )}
                  </td>
                  <td>
                    {collection.lastSync ? (
                      <>
                        <span class={`status status-${collection.lastSync.status}`}>
                          {collection.lastSync.status}
                        </span>{' '}
                        {formatTime(collection.lastSync.finishedAt ?? collection.lastSync.startedAt)}
                      </>
                    ) : (
                      'never'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Collections" />
    </Page>
  );
}
