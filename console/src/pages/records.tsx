import { useMemo, useState } from 'preact/hooks';
import { api, ok, Problem } from '../api';
import { fromSearch, isPlain, namedFields, type RecordQuery, toApiQuery, toSearch } from '../record-query';
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
import { RecordFilters } from './record-filters';

const PAGE_SIZE = 50;

/**
 * Id fields seen per collection (here and on the collections page), so that an id-prefix filter need
 * not wait for the settings, whose counts take a large collection's database a while.
 */
const idFields = new Map<string, string>();

export function rememberIdField(collection: string, idField: string): void {
  idFields.set(collection, idField);
}

async function loadSettings(collection: string) {
  const { data } = await ok(api.GET('/v1/collections/{collection}', { params: { path: { collection } } }));
  idFields.set(collection, data.idField);
  return data;
}

/**
 * A page of effective records at a time: in id order, or filtered and sorted as the URL says
 * (record-query.ts), so that a filtered list can be shared and reloaded.
 */
export function Records(props: { collection: string; search: string }) {
  const { collection, search } = props;
  const query = useMemo(() => fromSearch(new URLSearchParams(search)), [search]);
  const applied = toSearch(query);
  const paged = usePaged(
    async (cursor) => {
      // The id prefix filters on the id field's name, which only the settings say.
      const idField = query.prefix
        ? (idFields.get(collection) ?? (await loadSettings(collection)).idField)
        : 'id';
      const params = { ...toApiQuery(query, idField), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
      return (
        await ok(
          api.GET('/v1/collections/{collection}/records', {
            params: { path: { collection }, query: params },
          }),
        )
      ).data;
    },
    [collection, applied],
  );
  // The settings and counts come after the first page: counting a large collection takes the database
  // longer than the page itself, and must not hold it up. Until then the id field is taken to be `id`.
  const listed = paged.data !== undefined || paged.error !== undefined;
  const settings = useAsync(
    async () => (listed ? loadSettings(collection) : undefined),
    [collection, listed],
  );
  const [wanted, setWanted] = useState('');
  const idField = settings.data?.idField ?? 'id';
  const items = paged.data?.items as Record<string, unknown>[] | undefined;
  const columns = items ? chooseColumns(items, idField, query) : [];

  const open = (event: FormEvent) => {
    event.preventDefault();
    const id = wanted.trim();
    if (id) navigate(`/c/${segment(collection)}/records/${segment(id)}`);
  };
  const apply = (next: RecordQuery) => navigate(`/c/${segment(collection)}${toSearch(next)}`);

  return (
    <Page title={`Records of ${collection}`}>
      <CollectionTabs collection={collection} current="" />
      {settings.data && (
        <p class="summary">
          {settings.data.counts.records.toLocaleString()} records ·{' '}
          {settings.data.counts.overridden.toLocaleString()} with manual changes ·{' '}
          {settings.data.counts.openConflicts.toLocaleString()} open conflicts
          {settings.data.indexes.length > 0 && <> · indexed: {settings.data.indexes.join(', ')}</>}
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
      <details class="filters-box" open={!isPlain(query)}>
        <summary>Filter and sort{isPlain(query) ? '' : ' (active)'}</summary>
        <RecordFilters
          query={query}
          idField={idField}
          knownFields={items ? fieldsOf(items) : []}
          onApply={apply}
        />
      </details>
      {paged.error !== undefined && (
        <>
          <ErrorMessage error={paged.error} onRetry={paged.reload} />
          <FilterHint error={paged.error} indexes={settings.data?.indexes} />
        </>
      )}
      {paged.loading && !items && <Loading what="records" />}
      {items && items.length === 0 && (
        <Empty>
          {isPlain(query) ? 'This collection has no records.' : 'No record matches these filters.'}
        </Empty>
      )}
      {items && items.length > 0 && (
        <TableWrap label="Records">
          <table class="records" aria-busy={paged.loading}>
            <caption class="visually-hidden">
              Records of {collection}, page {paged.page}
              {isPlain(query) ? '' : ', filtered'}
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

/** What to do about a refused filter, beside the server's own words. */
function FilterHint(props: { error: unknown; indexes: string[] | undefined }) {
  if (!(props.error instanceof Problem)) return null;
  if (props.error.code === 'invalid_filter') {
    const part = props.error.body.part;
    return (
      <p class="hint">
        {typeof part === 'string' ? `The part refused: ${part}. ` : ''}Change it and apply again.
      </p>
    );
  }
  if (props.error.code !== 'index_required') return null;
  const indexes = props.indexes ?? [];
  return (
    <p class="hint">
      On a collection this large, a filter needs an equals, is-one-of or range condition on an indexed field,
      or a sort by one
      {indexes.length > 0 ? ` (indexed here: ${indexes.join(', ')})` : ' (this collection declares no index)'}
      ; the "Only records" filters work at any size. An admin declares indexes in the collection's settings.
    </p>
  );
}

/** The columns asked for, or the fields the query names and then the page's most common ones. */
function chooseColumns(items: Record<string, unknown>[], idField: string, query: RecordQuery): string[] {
  const asked = query.fields
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '' && f !== idField);
  if (asked.length > 0) return asked;
  const named = namedFields(query).filter((f) => f !== idField);
  return [...new Set([...named, ...pickColumns(items, idField)])].slice(0, Math.max(4, named.length));
}

/** Every top-level field of the page's records, to suggest in the filters. */
function fieldsOf(items: Record<string, unknown>[]): string[] {
  return [...new Set(items.flatMap((item) => Object.keys(item)))].sort();
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
