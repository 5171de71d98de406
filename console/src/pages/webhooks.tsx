import { useState } from 'preact/hooks';
import { api, ok, type Webhook } from '../api';
import { segment } from '../router';
import {
  Empty,
  ErrorMessage,
  formatTime,
  Link,
  Loading,
  Notice,
  Page,
  Pager,
  TableWrap,
  usePaged,
  useSession,
} from '../ui';
import { SecretOnce, type WebhookFields, WebhookForm } from './webhook-form';

/** The tenant's webhook endpoints (admins): list, create (the secret shown once), enable or disable. */
export function Webhooks() {
  const { canAdmin } = useSession();
  const [created, setCreated] = useState<{ url: string; secret: string; id: string }>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const [formKey, setFormKey] = useState(0);
  const paged = usePaged(
    async (cursor) =>
      (await ok(api.GET('/v1/webhooks', { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })))
        .data,
    [],
  );
  const items = paged.data?.items;
  const adminTitle = canAdmin ? undefined : 'Webhooks need an admin key';

  const create = async (fields: WebhookFields) => {
    setFailure(undefined);
    setNotice(undefined);
    try {
      const { data } = await ok(api.POST('/v1/webhooks', { body: { ...fields, enabled: true } }));
      setCreated({ url: data.url, secret: data.secret, id: data.id });
      setFormKey((k) => k + 1);
      paged.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  const setEnabled = async (hook: Webhook, enabled: boolean) => {
    setFailure(undefined);
    try {
      await ok(
        api.PATCH('/v1/webhooks/{webhookId}', {
          params: { path: { webhookId: hook.id } },
          body: { enabled },
        }),
      );
      setNotice(`${hook.url} ${enabled ? 'enabled: deliveries resume' : 'disabled: nothing is sent to it'}.`);
      paged.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  return (
    <Page title="Webhooks">
      <p class="hint">
        Endpoints the service calls when something changes, signed per Standard Webhooks (docs/changes.md).
      </p>
      <details class="filters-box" open={items !== undefined && items.length === 0}>
        <summary>New endpoint</summary>
        <WebhookForm
          key={formKey}
          id="new-webhook"
          submitLabel="Create endpoint"
          disabledTitle={adminTitle}
          onSubmit={create}
        />
      </details>
      {created && (
        <>
          <SecretOnce what={created.url} secret={created.secret} onDone={() => setCreated(undefined)} />
          <p>
            <Link to={`/webhooks/${segment(created.id)}`}>Open {created.url} to send it a test ping</Link>
          </p>
        </>
      )}
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="webhooks" />}
      {items && items.length === 0 && <Empty>No webhook endpoint yet: nothing is told of changes.</Empty>}
      {items && items.length > 0 && (
        <TableWrap label="Webhook endpoints">
          <table aria-busy={paged.loading}>
            <caption class="visually-hidden">Webhook endpoints of this tenant</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Events</th>
                <th scope="col">Collections</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((hook) => (
                <tr key={hook.id}>
                  <th scope="row" class="url">
                    <Link to={`/webhooks/${segment(hook.id)}`}>{hook.url}</Link>
                    {hook.description && <div class="same">{hook.description}</div>}
                  </th>
                  <td>{hook.events.join(', ')}</td>
                  <td>{hook.collections ? hook.collections.join(', ') : 'all'}</td>
                  <td>
                    <WebhookState hook={hook} />
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      disabled={!canAdmin}
                      title={adminTitle}
                      aria-label={`${hook.enabled ? 'Disable' : 'Enable'} ${hook.url}`}
                      onClick={() => setEnabled(hook, !hook.enabled)}
                    >
                      {hook.enabled ? 'Disable' : 'Enable'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="Webhooks" />
    </Page>
  );
}

/** Enabled or disabled (and why), and since when it has been failing. */
export function WebhookState(props: { hook: Webhook }) {
  const { hook } = props;
  return (
    <>
      <span class={`status ${hook.enabled ? 'status-succeeded' : 'status-failed'}`}>
        {hook.enabled ? 'enabled' : 'disabled'}
      </span>
      {hook.disabledReason && <div class="invalid">{hook.disabledReason}</div>}
      {hook.failingSince && <div class="invalid">failing since {formatTime(hook.failingSince)}</div>}
    </>
  );
}
