import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ok, type WebhookDelivery } from '../api';
import {
  Empty,
  ErrorMessage,
  formatTime,
  Loading,
  Notice,
  Pager,
  TableWrap,
  usePaged,
  useSession,
} from '../ui';

/** How often the list looks again while a delivery is pending (the worker sends within seconds). */
const PENDING_REFRESH_MS = 2000;

/** An endpoint's deliveries, newest first: status, attempts (each one on demand), retry. */
export function WebhookDeliveries(props: { webhookId: string; tick: number }) {
  const { webhookId } = props;
  const { canAdmin } = useSession();
  const [open, setOpen] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const paged = usePaged(
    async (cursor) =>
      (
        await ok(
          api.GET('/v1/webhooks/{webhookId}/deliveries', {
            params: { path: { webhookId }, query: { limit: 20, ...(cursor ? { cursor } : {}) } },
          }),
        )
      ).data,
    [webhookId, props.tick],
  );
  const items = paged.data?.items;
  const pending = items?.some((delivery) => delivery.status === 'pending') ?? false;
  useEffect(() => {
    if (!pending || paged.loading) return;
    const timer = setTimeout(paged.reload, PENDING_REFRESH_MS);
    return () => clearTimeout(timer);
  }, [pending, paged.loading, paged.data]);

  const retry = async (delivery: WebhookDelivery) => {
    setFailure(undefined);
    try {
      await ok(
        api.POST('/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry', {
          params: { path: { webhookId, deliveryId: delivery.id } },
        }),
      );
      setNotice(`${delivery.type} will be sent again now (same webhook-id).`);
      paged.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  return (
    <section aria-labelledby="deliveries-title">
      <div class="row">
        <h2 id="deliveries-title">Deliveries</h2>
        <button type="button" onClick={paged.reload} disabled={paged.loading}>
          Refresh
        </button>
      </div>
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="deliveries" />}
      {items && items.length === 0 && (
        <Empty>Nothing sent to this endpoint yet. A test ping is one way to start.</Empty>
      )}
      {items && items.length > 0 && (
        <TableWrap label="Deliveries">
          <table aria-busy={paged.loading}>
            <caption class="visually-hidden">Deliveries to this endpoint, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Last answer</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => (
                <Fragment key={delivery.id}>
                  <tr>
                    <th scope="row">
                      {delivery.type}
                      <div class="same">
                        <code>{delivery.webhookId}</code>
                      </div>
                    </th>
                    <td>
                      <span class={`status status-${delivery.status}`}>{delivery.status}</span>
                      {delivery.nextAttemptAt && (
                        <div class="when">next {formatTime(delivery.nextAttemptAt)}</div>
                      )}
                    </td>
                    <td class="num">{delivery.attempts}</td>
                    <td>
                      {delivery.lastStatusCode !== null ? `HTTP ${delivery.lastStatusCode}` : '—'}
                      {delivery.lastError && <div class="invalid">{delivery.lastError}</div>}
                    </td>
                    <td>{formatTime(delivery.createdAt)}</td>
                    <td class="actions">
                      <button
                        type="button"
                        aria-expanded={open === delivery.id}
                        aria-label={`Attempts of ${delivery.type} ${delivery.webhookId}`}
                        onClick={() => setOpen(open === delivery.id ? undefined : delivery.id)}
                      >
                        Attempts
                      </button>
                      <button
                        type="button"
                        disabled={!canAdmin}
                        title={canAdmin ? undefined : 'Webhooks need an admin key'}
                        aria-label={`Retry ${delivery.type} ${delivery.webhookId}`}
                        onClick={() => retry(delivery)}
                      >
                        Retry
                      </button>
                    </td>
                  </tr>
                  {open === delivery.id && (
                    <tr>
                      <td colSpan={6}>
                        <Attempts delivery={delivery} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Deliveries" />
    </section>
  );
}

function Attempts(props: { delivery: WebhookDelivery }) {
  const list = props.delivery.attemptList;
  if (list.length === 0) return <Empty>Not attempted yet.</Empty>;
  return (
    <ol class="runs">
      {list.map((attempt) => (
        <li key={attempt.attempt}>
          Attempt {attempt.attempt}, {formatTime(attempt.at)}:{' '}
          <span
            class={`status ${attempt.statusCode !== null && attempt.statusCode < 300 ? 'status-succeeded' : 'status-failed'}`}
          >
            {attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : 'no answer'}
          </span>{' '}
          in {attempt.durationMs} ms
          {attempt.error && <span class="invalid"> · {attempt.error}</span>}
        </li>
      ))}
    </ol>
  );
}
