import { useState } from 'preact/hooks';
import { type ApiKey, api, ok } from '../api';
import {
  ConfirmDialog,
  Empty,
  ErrorMessage,
  type FormEvent,
  formatTime,
  Loading,
  Notice,
  Page,
  Pager,
  TableWrap,
  usePaged,
  useSession,
} from '../ui';

type Scope = 'read' | 'write' | 'admin';

/** API keys (admins): list, create (the secret shown once), revoke. */
export function Keys() {
  const { session } = useSession();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(['read']));
  const [created, setCreated] = useState<{ name: string; key: string }>();
  const [revoking, setRevoking] = useState<ApiKey>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const paged = usePaged(
    async (cursor) =>
      (await ok(api.GET('/v1/api-keys', { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })))
        .data,
    [],
  );
  const items = paged.data?.items;

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    try {
      const { data } = await ok(
        api.POST('/v1/api-keys', { body: { name: name.trim(), scopes: [...scopes] } as never }),
      );
      const key = data as { name: string; key: string };
      setCreated({ name: key.name, key: key.key });
      setName('');
      paged.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  const revoke = async () => {
    const key = revoking;
    setRevoking(undefined);
    if (!key) return;
    setFailure(undefined);
    try {
      await ok(api.DELETE('/v1/api-keys/{keyId}', { params: { path: { keyId: key.id } } }));
      setNotice(`Revoked "${key.name}": it stopped working, and its console sessions ended.`);
      paged.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  const toggle = (scope: Scope) =>
    setScopes((old) => {
      const next = new Set(old);
      if (next.has(scope)) next.delete(scope);
      else next.add(scope);
      return next;
    });

  return (
    <Page title="API keys">
      <form class="card" onSubmit={create} aria-labelledby="new-key-title">
        <h2 id="new-key-title">New key</h2>
        <label for="key-name">Name</label>
        <input
          id="key-name"
          required
          maxLength={200}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <fieldset>
          <legend>Scopes</legend>
          {(['read', 'write', 'admin'] as Scope[]).map((scope) => (
            <label key={scope}>
              <input type="checkbox" checked={scopes.has(scope)} onChange={() => toggle(scope)} /> {scope}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={scopes.size === 0}>
          Create key
        </button>
      </form>
      {created && (
        <div class="card secret" role="status">
          <p>
            The key <strong>{created.name}</strong> is shown this once. Copy it now:
          </p>
          <p>
            <code class="secret-value">{created.key}</code>
          </p>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      )}
      <Notice message={notice} />
      {failure !== undefined && <ErrorMessage error={failure} />}
      {paged.error !== undefined && <ErrorMessage error={paged.error} onRetry={paged.reload} />}
      {paged.loading && !items && <Loading what="keys" />}
      {items && items.length === 0 && <Empty>No keys.</Empty>}
      {items && items.length > 0 && (
        <TableWrap label="API keys">
          <table>
            <caption class="visually-hidden">API keys of this tenant</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((key) => (
                <tr key={key.id}>
                  <th scope="row">
                    {key.name}
                    {key.id === session.key.id && <span class="badge quiet">this session</span>}
                  </th>
                  <td>
                    <code>{key.hint}</code>
                  </td>
                  <td>{key.scopes.join(', ')}</td>
                  <td>{formatTime(key.createdAt)}</td>
                  <td>
                    {key.revokedAt ? `revoked ${formatTime(key.revokedAt)}` : formatTime(key.lastUsedAt)}
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      disabled={key.revokedAt !== null}
                      aria-label={`Revoke the key ${key.name}`}
                      onClick={() => setRevoking(key)}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager paged={paged} label="API keys" />
      <ConfirmDialog
        open={revoking !== undefined}
        title="Revoke this key?"
        confirmLabel="Revoke"
        onCancel={() => setRevoking(undefined)}
        onConfirm={revoke}
      >
        <p>
          <strong>{revoking?.name}</strong> stops working at once, and every console session opened with it
          ends
          {revoking?.id === session.key.id ? ' — including this one' : ''}.
        </p>
      </ConfirmDialog>
    </Page>
  );
}
