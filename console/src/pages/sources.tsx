import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, ok, type Source } from '../api';
import { segment } from '../router';
import {
  Empty,
  ErrorMessage,
  formatTime,
  LastRun,
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

/** Scheduled sources with their schedule, next and last run; a source's recent fetches on demand. */
export function Sources() {
  const { canWrite } = useSession();
  const [open, setOpen] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const paged = usePaged(
    async (cursor) =>
      (await ok(api.GET('/v1/sources', { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })))
        .data,
    [],
  );
  const items = paged.data?.items;

  const runNow = async (source: Source) => {
    setFailure(undefined);
    try {
      await ok(
        api.POST('/v1/collections/{collection}/source/run', {
          params: { path: { collection: source.collection } },
        }),
      );
      setNotice(`${source.collection}: the source will be fetched at the next tick.`);
    } catch (error) {
      setFailure(error);
    }
  };

  return (
    <Page title="Sources">
      <p class="hint">
        Feeds fetched on a schedule. Set one up with <code>sync-manager sources set</code> or{' '}
        <code>PUT /v1/collections/&#123;collection&#125;/source</code>.
      </p>
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="sources" />}
      {items && items.length === 0 && <Empty>No scheduled sources.</Empty>}
      {items && items.length > 0 && (
        <TableWrap label="Sources">
          <table>
            <caption class="visually-hidden">Scheduled sources</caption>
            <thead>
              <tr>
                <th scope="col">Collection</th>
                <th scope="col">Feed</th>
                <th scope="col">Schedule</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((source) => (
                <Fragment key={source.collection}>
                  <tr>
                    <th scope="row">
                      <Link to={`/c/${segment(source.collection)}`}>{source.collection}</Link>
                    </th>
                    <td class="url">
                      {source.url} <span class="same">({source.mode})</span>
                    </td>
                    <td>
                      <code>{source.schedule}</code>
                    </td>
                    <td>{formatTime(source.nextRunAt)}</td>
                    <td>
                      <LastRun run={source.lastRun} />
                    </td>
                    <td class="actions">
                      <button
                        type="button"
                        aria-expanded={open === source.collection}
                        onClick={() => setOpen(open === source.collection ? undefined : source.collection)}
                      >
                        Runs
                      </button>
                      <button
                        type="button"
                        disabled={!canWrite}
                        title={readOnlyTitle(canWrite)}
                        onClick={() => runNow(source)}
                        aria-label={`Fetch now: ${source.collection}`}
                      >
                        Fetch now
                      </button>
                    </td>
                  </tr>
                  {open === source.collection && (
                    <tr>
                      <td colSpan={6}>
                        <SourceRuns collection={source.collection} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Sources" />
    </Page>
  );
}

function SourceRuns(props: { collection: string }) {
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/collections/{collection}/source/runs', {
            params: {
              path: { collection: props.collection },
              query: { limit: 10, ...(cursor ? { cursor } : {}) },
            },
          }),
        )
      ).data,
    [props.collection],
  );
  const items = paged.data?.items;
  return (
    <div>
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="runs" />}
      {items && items.length === 0 && <Empty>No fetch yet.</Empty>}
      {items && items.length > 0 && (
        <ul class="runs">
          {items.map((run) => (
            <li key={run.id}>
              <span class={`status status-${run.status}`}>{run.status}</span> {formatTime(run.startedAt)}
              {run.httpStatus !== null && ` · HTTP ${run.httpStatus}`}
              {run.error && <span class="invalid"> · {run.error}</span>}
            </li>
          ))}
        </ul>
      )}
      <Pager paged={paged} label={`Runs of ${props.collection}`} />
    </div>
  );
}
