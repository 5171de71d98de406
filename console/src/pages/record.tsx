import { useEffect, useState } from 'preact/hooks';
import { api, ok, Problem, type RecordMeta } from '../api';
import {
  diffPatch,
  equal,
  fieldChanges,
  type JsonObject,
  leaves,
  type PatchOperation,
  within,
} from '../json';
import { segment } from '../router';
import {
  ConfirmDialog,
  ErrorMessage,
  type FormEvent,
  formatTime,
  JsonValue,
  Link,
  Loading,
  Notice,
  Page,
  readOnlyTitle,
  TableWrap,
  useAsync,
  useSession,
} from '../ui';
import { CollectionTabs } from './collection-tabs';
import { Blame } from './record-blame';
import { History } from './record-history';

interface Loaded {
  meta: RecordMeta;
  etag: string;
}

/** What the server had when an edit was refused with 412, to show the person what changed. */
interface Stale {
  mine: PatchOperation[];
  changes: { path: string; from: unknown; to: unknown }[];
}

/**
 * One record: the effective value field by field, each overridden field marked with the source value
 * beside it; edit a field or the whole JSON (PATCH with If-Match), revert one override or all, and the
 * history. Blame, when it lands, is a section after the history.
 */
export function RecordPage(props: { collection: string; id: string }) {
  const { collection, id } = props;
  const { canWrite } = useSession();
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const [stale, setStale] = useState<Stale>();
  const [historyTick, setHistoryTick] = useState(0);
  const record = useAsync(async (): Promise<Loaded> => {
    const { data, response } = await ok(
      api.GET('/v1/collections/{collection}/records/{id}', {
        params: { path: { collection, id }, query: { meta: true } },
      }),
    );
    return { meta: data as RecordMeta, etag: response.headers.get('etag') ?? '' };
  }, [collection, id]);

  // The message of an action waits for the record it changed, so that what it says is on the page.
  const [pending, setPending] = useState<{ message: string; shown: Loaded | undefined }>();
  useEffect(() => {
    if (pending && record.data !== pending.shown && !record.loading) {
      setNotice(pending.message);
      setPending(undefined);
    }
  }, [pending, record.data, record.loading]);

  const done = (message: string) => {
    setNotice(undefined);
    setPending({ message, shown: record.data });
    setActionError(undefined);
    setStale(undefined);
    record.reload();
    setHistoryTick((tick) => tick + 1);
  };

  /** PATCH with If-Match; a 412 shows what changed since the version the person looked at. */
  const patch = async (ops: PatchOperation[], message: string): Promise<boolean> => {
    if (!record.data || ops.length === 0) return false;
    const before = record.data.meta.data;
    try {
      await ok(
        api.PATCH('/v1/collections/{collection}/records/{id}', {
          params: { path: { collection, id } },
          body: ops as never,
          headers: { 'content-type': 'application/json-patch+json', 'if-match': record.data.etag },
        }),
      );
      done(message);
      return true;
    } catch (error) {
      if (error instanceof Problem && error.status === 412) {
        const fresh = await ok(
          api.GET('/v1/collections/{collection}/records/{id}', {
            params: { path: { collection, id }, query: { meta: true } },
          }),
        ).catch(() => undefined);
        const now = (fresh?.data as RecordMeta | undefined)?.data ?? null;
        setStale({ mine: ops, changes: fieldChanges(before, now) });
        setActionError(undefined);
        setNotice(undefined);
      } else {
        setActionError(error);
      }
      return false;
    }
  };

  const revert = async (path?: string) => {
    try {
      await ok(
        api.DELETE('/v1/collections/{collection}/records/{id}/overrides', {
          params: { path: { collection, id }, query: path ? { path } : {} },
        }),
      );
      done(path ? `Reverted ${path} to the source value.` : 'Reverted every manual change.');
    } catch (error) {
      setActionError(error);
    }
  };

  const reapply = async () => {
    if (!stale) return;
    const ops = stale.mine;
    setStale(undefined);
    const fresh = await ok(
      api.GET('/v1/collections/{collection}/records/{id}', {
        params: { path: { collection, id }, query: { meta: true } },
      }),
    ).catch((error) => {
      setActionError(error);
      return undefined;
    });
    if (!fresh || !record.data) return;
    record.data.etag = fresh.response.headers.get('etag') ?? '';
    record.data.meta = fresh.data as RecordMeta;
    await patch(ops, 'Your change was applied on top of the newer version.');
  };

  return (
    <Page title={`Record ${id}`}>
      <CollectionTabs collection={collection} current="/record" />
      <p>
        <Link to={`/c/${segment(collection)}`}>Back to the records of {collection}</Link>
      </p>
      <Notice message={notice} />
      {actionError !== undefined && <ErrorMessage error={actionError} />}
      {stale && (
        <div class="error" role="alert">
          <p>
            <strong>The record changed since you opened it</strong>, so your change was not saved. What
            changed meanwhile:
          </p>
          <ChangeList changes={stale.changes} empty="(no field changed: only its version moved on)" />
          <div class="row">
            <button type="button" class="primary" onClick={reapply}>
              Apply my change to the new version
            </button>
            <button
              type="button"
              onClick={() => {
                setStale(undefined);
                record.reload();
              }}
            >
              Discard my change
            </button>
          </div>
        </div>
      )}
      {record.loading && !record.data && <Loading what="the record" />}
      {record.error !== undefined && <ErrorMessage error={record.error} onRetry={record.reload} />}
      {record.data && (
        <RecordBody
          key={record.data.etag}
          loaded={record.data}
          canWrite={canWrite}
          onPatch={patch}
          onRevert={revert}
        />
      )}
      {record.error === undefined && <History collection={collection} id={id} tick={historyTick} />}
      {record.error === undefined && <Blame collection={collection} id={id} tick={historyTick} />}
    </Page>
  );
}

function RecordBody(props: {
  loaded: Loaded;
  canWrite: boolean;
  onPatch: (ops: PatchOperation[], message: string) => Promise<boolean>;
  onRevert: (path?: string) => Promise<void>;
}) {
  const { meta } = props.loaded;
  const [editing, setEditing] = useState<string>();
  const [jsonOpen, setJsonOpen] = useState(false);
  const [confirmRevertAll, setConfirmRevertAll] = useState(false);
  const effective = leaves(meta.data ?? {});
  const source = leaves(meta.source ?? {});
  const paths = [
    ...new Set([...effective.keys(), ...source.keys(), ...meta.overrides.map((o) => o.path)]),
  ].sort();
  const overrideOf = (path: string) => meta.overrides.find((o) => within(path, o.path));
  const hasChanges = meta.overrides.length > 0 || meta.manualDelete !== null;

  return (
    <>
      <dl class="facts">
        <dt>Version</dt>
        <dd>{meta.version}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(meta.updatedAt)}</dd>
        <dt>Manual changes</dt>
        <dd>{meta.overrides.length}</dd>
        {meta.manualDelete && (
          <>
            <dt>Deleted by hand</dt>
            <dd>{formatTime(meta.manualDelete.at)}</dd>
          </>
        )}
        {meta.upstreamGone && (
          <>
            <dt>Upstream</dt>
            <dd>gone from the feed</dd>
          </>
        )}
      </dl>
      <div class="row">
        <button
          type="button"
          onClick={() => setJsonOpen(!jsonOpen)}
          aria-expanded={jsonOpen}
          disabled={!props.canWrite || meta.data === null}
          title={readOnlyTitle(props.canWrite)}
        >
          Edit as JSON
        </button>
        <button
          type="button"
          onClick={() => setConfirmRevertAll(true)}
          disabled={!props.canWrite || !hasChanges || meta.source === null}
          title={readOnlyTitle(props.canWrite)}
        >
          Revert all manual changes
        </button>
      </div>
      {jsonOpen && meta.data && (
        <JsonEditor
          data={meta.data}
          onCancel={() => setJsonOpen(false)}
          onSave={(ops) => props.onPatch(ops, `Saved ${ops.length} change(s).`)}
        />
      )}
      <ConfirmDialog
        open={confirmRevertAll}
        title="Revert every manual change?"
        confirmLabel="Revert all"
        onCancel={() => setConfirmRevertAll(false)}
        onConfirm={() => {
          setConfirmRevertAll(false);
          void props.onRevert();
        }}
      >
        <p>These fields go back to the source value:</p>
        <ul>
          {meta.overrides.map((o) => (
            <li key={o.path}>
              <code>{o.path}</code>
            </li>
          ))}
          {meta.manualDelete && <li>the manual delete (the record comes back)</li>}
        </ul>
      </ConfirmDialog>
      <h2>Fields</h2>
      {paths.length === 0 ? (
        <p class="empty">This record has no fields.</p>
      ) : (
        <TableWrap label="Fields">
          <table class="fields">
            <caption class="visually-hidden">
              Fields of the record: the value the site sees, and the value from the source
            </caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Value</th>
                <th scope="col">Source value</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {paths.map((path) => {
                const override = overrideOf(path);
                const value = effective.get(path);
                return (
                  <tr key={path} class={override ? 'overridden' : undefined}>
                    <th scope="row">
                      <code>{path}</code>
                      {override && (
                        <span class="badge" title={`changed by hand ${formatTime(override.at)}`}>
                          overridden
                        </span>
                      )}
                    </th>
                    <td>
                      {editing === path ? (
                        <FieldEditor
                          path={path}
                          value={value}
                          onCancel={() => setEditing(undefined)}
                          onSave={async (newValue) => {
                            const saved = await props.onPatch(
                              [{ op: 'add', path, value: newValue }],
                              `Saved ${path}.`,
                            );
                            if (saved) setEditing(undefined);
                          }}
                        />
                      ) : (
                        <JsonValue value={value} missing="(removed)" />
                      )}
                    </td>
                    <td>
                      {override || !equal(source.get(path), value) ? (
                        <JsonValue value={source.get(path)} missing="(none)" />
                      ) : (
                        <span class="same">same</span>
                      )}
                    </td>
                    <td class="actions">
                      <button
                        type="button"
                        onClick={() => setEditing(path)}
                        disabled={!props.canWrite || editing === path || meta.data === null}
                        title={readOnlyTitle(props.canWrite)}
                        aria-label={`Edit ${path}`}
                      >
                        Edit
                      </button>
                      {override && (
                        <button
                          type="button"
                          onClick={() => props.onRevert(override.path)}
                          disabled={!props.canWrite || meta.source === null}
                          title={readOnlyTitle(props.canWrite)}
                          aria-label={`Revert ${override.path} to the source value`}
                        >
                          Revert
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </>
  );
}

/** A string is edited as text; any other value as JSON. */
function FieldEditor(props: {
  path: string;
  value: unknown;
  onSave: (value: unknown) => Promise<void>;
  onCancel: () => void;
}) {
  const asText = typeof props.value === 'string' || props.value === undefined;
  const [text, setText] = useState(asText ? String(props.value ?? '') : JSON.stringify(props.value));
  const [invalid, setInvalid] = useState<string>();
  const [busy, setBusy] = useState(false);
  const id = `edit-${props.path}`;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let value: unknown = text;
    if (!asText) {
      try {
        value = JSON.parse(text);
      } catch (error) {
        setInvalid(`Not valid JSON: ${(error as Error).message}`);
        return;
      }
    }
    setBusy(true);
    await props.onSave(value);
    setBusy(false);
  };
  return (
    <form class="field-editor" onSubmit={submit}>
      <label for={id} class="visually-hidden">
        New value of {props.path} {asText ? '(text)' : '(JSON)'}
      </label>
      <input
        id={id}
        value={text}
        // biome-ignore lint/a11y/noAutofocus: the person just asked to edit this field
        autoFocus
        aria-invalid={invalid !== undefined}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => event.key === 'Escape' && props.onCancel()}
      />
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      {invalid && (
        <p id={`${id}-error`} class="invalid">
          {invalid}
        </p>
      )}
    </form>
  );
}

function JsonEditor(props: {
  data: JsonObject;
  onSave: (ops: PatchOperation[]) => Promise<boolean>;
  onCancel: () => void;
}) {
  const [text, setText] = useState(JSON.stringify(props.data, null, 2));
  const [invalid, setInvalid] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      setInvalid(`Not valid JSON: ${(error as Error).message}`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      setInvalid('A record is a JSON object');
      return;
    }
    const ops = diffPatch(props.data, value as JsonObject);
    if (ops.length === 0) {
      setInvalid('Nothing changed');
      return;
    }
    setInvalid(undefined);
    if (await props.onSave(ops)) props.onCancel();
  };
  return (
    <form class="json-editor" onSubmit={submit}>
      <label for="record-json">The record as JSON (saved as a JSON Patch of the fields you change)</label>
      <textarea
        id="record-json"
        rows={Math.min(24, text.split('\n').length + 1)}
        spellcheck={false}
        value={text}
        aria-invalid={invalid !== undefined}
        onInput={(event) => setText(event.currentTarget.value)}
      />
      {invalid && <p class="invalid">{invalid}</p>}
      <div class="row">
        <button type="submit" class="primary">
          Save JSON
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ChangeList(props: {
  changes: { path: string; from?: unknown; to?: unknown; op?: string }[];
  empty?: string;
}) {
  if (props.changes.length === 0) return <p class="empty">{props.empty ?? 'No field changed.'}</p>;
  return (
    <ul class="changes">
      {props.changes.map((change) => (
        <li key={change.path}>
          <code>{change.path || '(the record)'}</code>: <JsonValue value={change.from} missing="(none)" /> →{' '}
          <JsonValue value={change.to} missing="(removed)" />
        </li>
      ))}
    </ul>
  );
}
