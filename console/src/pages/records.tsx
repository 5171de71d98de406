import { useState } from 'preact/hooks';
import { api, ok } from '../api';
import { navigate, segment } from '../router';
import {
  Empty,
  ErrorMessage,
  type FormEvent,
  Link,
  Loading,
  Page,
  Pager,
  TableWrap,
  useAsync,
  usePaged,
} from '../ui';
import { CollectionTabs } from './collection-tabs';

const PAGE_SIZE = 50;

/**
 * A page of effective records at a time, in id order. The list has no filters in the API yet; when
 * the query feature lands, its filters (id prefix, overridden, conflicts, deleted, fields) go in the
 * form below and into the query of the GET.
 */
export function Records(props: { collection: string }) {
  const { collection } = props;
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/records', {
            params: { path: { collection }, query: { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } },
          }),
        )
      ).data,
    [collection],
  );
  // The settings and counts come after the first page: counting a large collection takes the database
  // longer than the page itself, and must not hold it up. Until then the id field is taken to be `id`.
  const listed = paged.data !== undefined;
  const settings = useAsync(
    async () =>
      listed
        ? (await ok(api.GET('/v1/collections/{collection}', { params: { path: { collection } } }))).data
        : undefined,
    [collection, listed],
  );
  const [wanted, setWanted] = useState('');
  const idField = settings.data?.idField ?? 'id';
  const items = paged.data?.items as Record<string, unknown>[] | undefined;
  const columns = items ? pickColumns(items, idField) : [];

  const open = (event: FormEvent) => {
    event.preventDefault();
    const id = wanted.trim();
    if (id) navigate(`/c/${segment(collection)}/records/${segment(id)}`);
  };

  return (
    <Page title={`Records of ${collection}`}>
      <CollectionTabs collection={collection} current="" />
      {settings.data && (
        <p class="summary">
          {settings.data.counts.records.toLocaleString()} records ·{' '}
          {settings.data.counts.overridden.toLocaleString()} with manual changes ·{' '}
          {settings.data.counts.openConflicts.toLocaleString()} open conflicts
        </p>
      )}
      <form class="inline-form" onSubmit={open}>
        <label for="record-id">Record id</label>
        <input
          id="record-id"
          value={wanted}
          onInput={(event) => setWanted(event.currentTarget.value)}
          placeholder={`the ${idField} of a record`}
        />
        <button type="submit">Open</button>
      </form>
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="records" />}
      {items && items.length === 0 && <Empty>This collection has no records.</Empty>}
      {items && items.length > 0 && (
        <TableWrap label="Records">
          <table class="records" aria-busy={paged.loading}>
            <caption class="visually-hidden">
              Records of {collection}, page {paged.page}
            </caption>
            <thead>
              <tr>
                <th scope="col">{idField}</th>
                {columns.map((column) => (
                  <th scope="col" key={column}>
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((record) => {
                const id = String(record[idField] ?? '');
                return (
                  <tr key={id}>
                    <th scope="row">
                      <Link to={`/c/${segment(collection)}/records/${segment(id)}`}>{id}</Link>
                    </th>
                    {columns.map((column) => (
                      <td key={column}>{cell(record[column])}</td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Records" />
    </Page>
  );
}

/** Up to four top-level fields that the page's records have most often, besides the id. */
function pickColumns(items: Record<string, unknown>[], idField: string): string[] {
  const seen = new Map<string, number>();
  for (const item of items) {
    for (const key of Object.keys(item)) if (key !== idField) seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([key]) => key);
}

function cell(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
