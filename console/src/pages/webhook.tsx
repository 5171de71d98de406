import { useState } from 'preact/hooks';
import { api, ok } from '../api';
import { navigate } from '../router';
import {
  ConfirmDialog,
  ErrorMessage,
  formatTime,
  Link,
  Loading,
  Notice,
  Page,
  useAsync,
  useSession,
} from '../ui';
import { WebhookDeliveries } from './webhook-deliveries';
import { SecretOnce, type WebhookFields, WebhookForm } from './webhook-form';
import { WebhookState } from './webhooks';

type Confirming = 'rotate' | 'delete' | undefined;

/** One endpoint: what it gets, edit, enable or disable, rotate its secret, ping it, delete it; its deliveries. */
export function WebhookPage(props: { id: string }) {
  const { canAdmin } = useSession();
  const webhookId = props.id;
  const hook = useAsync(
    async () => (await ok(api.GET('/v1/webhooks/{webhookId}', { params: { path: { webhookId } } }))).data,
    [webhookId],
  );
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState<Confirming>();
  const [secret, setSecret] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const [deliveriesTick, setDeliveriesTick] = useState(0);
  const adminTitle = canAdmin ? undefined : 'Webhooks need an admin key';
  const path = { params: { path: { webhookId } } };

  const act = async (what: () => Promise<string>) => {
    setFailure(undefined);
    setNotice(undefined);
    try {
      setNotice(await what());
    } catch (error) {
      setFailure(error);
    }
  };
  const save = (fields: WebhookFields) =>
    act(async () => {
      await ok(api.PATCH('/v1/webhooks/{webhookId}', { ...path, body: fields }));
      setEditing(false);
      hook.reload();
      return 'Saved.';
    });
  const setEnabled = (enabled: boolean) =>
    act(async () => {
      await ok(api.PATCH('/v1/webhooks/{webhookId}', { ...path, body: { enabled } }));
      hook.reload();
      return enabled ? 'Enabled: deliveries resume.' : 'Disabled: nothing is sent to it.';
    });
  const ping = () =>
    act(async () => {
      await ok(api.POST('/v1/webhooks/{webhookId}/test', path));
      setDeliveriesTick((t) => t + 1);
      return 'Test ping queued: its delivery is below.';
    });
  const rotate = () =>
    act(async () => {
      setConfirming(undefined);
      const { data } = await ok(api.POST('/v1/webhooks/{webhookId}/rotate-secret', { ...path, body: {} }));
      setSecret(data.secret);
      hook.reload();
      return 'New secret made; the old one keeps signing until the time shown.';
    });
  const remove = () =>
    act(async () => {
      setConfirming(undefined);
      await ok(api.DELETE('/v1/webhooks/{webhookId}', path));
      navigate('/webhooks');
      return 'Deleted.';
    });

  const data = hook.data;
  return (
    <Page title={data ? `Webhook ${data.url}` : 'Webhook'}>
      <nav class="tabs" aria-label="Webhook">
        <Link to="/webhooks">All webhooks</Link>
      </nav>
      {hook.error !== undefined && <ErrorMessage error={hook.error} onRetry={hook.reload} />}
      {hook.loading && !data && <Loading what="the endpoint" />}
      {data && (
        <>
          <dl class="facts">
            <dt>URL</dt>
            <dd>{data.url}</dd>
            <dt>State</dt>
            <dd>
              <WebhookState hook={data} />
            </dd>
            <dt>Events</dt>
            <dd>{data.events.join(', ')}</dd>
            <dt>Collections</dt>
            <dd>{data.collections ? data.collections.join(', ') : 'all'}</dd>
            <dt>Description</dt>
            <dd>{data.description ?? '—'}</dd>
            <dt>Created</dt>
            <dd>{formatTime(data.createdAt)}</dd>
            {data.previousSecretExpiresAt && (
              <>
                <dt>Old secret signs until</dt>
                <dd>{formatTime(data.previousSecretExpiresAt)}</dd>
              </>
            )}
          </dl>
          <div class="row">
            <button type="button" class="primary" disabled={!canAdmin} title={adminTitle} onClick={ping}>
              Send a test ping
            </button>
            <button
              type="button"
              disabled={!canAdmin}
              title={adminTitle}
              onClick={() => setEditing(!editing)}
            >
              Edit
            </button>
            <button
              type="button"
              disabled={!canAdmin}
              title={adminTitle}
              onClick={() => setEnabled(!data.enabled)}
            >
              {data.enabled ? 'Disable' : 'Enable'}
            </button>
            <button
              type="button"
              disabled={!canAdmin}
              title={adminTitle}
              onClick={() => setConfirming('rotate')}
            >
              Rotate the secret…
            </button>
            <button
              type="button"
              class="danger"
              disabled={!canAdmin}
              title={adminTitle}
              onClick={() => setConfirming('delete')}
            >
              Delete…
            </button>
          </div>
          {editing && (
            <WebhookForm
              id="edit-webhook"
              initial={data}
              submitLabel="Save changes"
              disabledTitle={adminTitle}
              onSubmit={save}
              onCancel={() => setEditing(false)}
            />
          )}
          {secret && <SecretOnce what={data.url} secret={secret} onDone={() => setSecret(undefined)} />}
        </>
      )}
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {data && <WebhookDeliveries webhookId={webhookId} tick={deliveriesTick} />}
      <ConfirmDialog
        open={confirming === 'rotate'}
        title="Rotate the signing secret?"
        confirmLabel="Rotate"
        onCancel={() => setConfirming(undefined)}
        onConfirm={rotate}
      >
        <p>
          A new secret is made and shown once. For 24 hours every delivery is signed with both, so the
          receiving site can switch over; after that only the new one signs.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === 'delete'}
        title="Delete this endpoint?"
        confirmLabel="Delete"
        onCancel={() => setConfirming(undefined)}
        onConfirm={remove}
      >
        <p>
          <strong>{data?.url}</strong> gets no more events, and its deliveries are deleted with it. A delivery
          in flight may still arrive once.
        </p>
      </ConfirmDialog>
    </Page>
  );
}
