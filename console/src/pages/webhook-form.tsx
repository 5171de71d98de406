import { useState } from 'preact/hooks';
import type { Webhook, WebhookEvent } from '../api';
import type { FormEvent } from '../ui';

/**
 * Every event an endpoint can subscribe to, said for a person. Keyed by the API's own list, so an
 * event added to the API fails the console's build until it is described here.
 */
export const EVENTS: Record<WebhookEvent, string> = {
  'records.changed': 'records changed (a batch per commit)',
  'sync.succeeded': 'a sync succeeded',
  'sync.failed': 'a sync failed',
  'conflict.opened': 'a conflict opened',
  'conflict.resolved': 'a conflict was resolved',
  'snapshot.restored': 'a snapshot was restored',
};

export interface WebhookFields {
  url: string;
  events: WebhookEvent[];
  /** null: every collection. */
  collections: string[] | null;
  description: string | null;
}

/** The fields of an endpoint, to create one or change one. */
export function WebhookForm(props: {
  id: string;
  initial?: Webhook;
  submitLabel: string;
  disabledTitle: string | undefined;
  onSubmit: (fields: WebhookFields) => Promise<void>;
  onCancel?: () => void;
}) {
  const { id, initial } = props;
  const [url, setUrl] = useState(initial?.url ?? '');
  const [events, setEvents] = useState<Set<WebhookEvent>>(
    new Set((initial?.events ?? ['records.changed']) as WebhookEvent[]),
  );
  const [collections, setCollections] = useState((initial?.collections ?? []).join(', '));
  const [description, setDescription] = useState(initial?.description ?? '');
  const [busy, setBusy] = useState(false);
  const disabled = props.disabledTitle !== undefined;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const names = collections
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    setBusy(true);
    try {
      await props.onSubmit({
        url: url.trim(),
        events: [...events],
        collections: names.length > 0 ? names : null,
        description: description.trim() || null,
      });
    } finally {
      setBusy(false);
    }
  };
  const toggle = (name: WebhookEvent) =>
    setEvents((old) => {
      const next = new Set(old);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  return (
    <form class="card" onSubmit={submit} aria-label={props.submitLabel}>
      <label for={`${id}-url`}>Endpoint URL</label>
      <input
        id={`${id}-url`}
        type="url"
        required
        class="wide"
        placeholder="https://example.com/hooks/sync-manager"
        value={url}
        disabled={disabled}
        onInput={(e) => setUrl(e.currentTarget.value)}
      />
      <fieldset disabled={disabled}>
        <legend>Events</legend>
        {(Object.keys(EVENTS) as WebhookEvent[]).map((name) => (
          <label key={name}>
            <input type="checkbox" checked={events.has(name)} onChange={() => toggle(name)} />{' '}
            <code>{name}</code>: {EVENTS[name]}
          </label>
        ))}
      </fieldset>
      <label for={`${id}-collections`}>Only these collections (comma-separated; empty: all)</label>
      <input
        id={`${id}-collections`}
        class="wide"
        value={collections}
        disabled={disabled}
        onInput={(e) => setCollections(e.currentTarget.value)}
      />
      <label for={`${id}-description`}>Description</label>
      <input
        id={`${id}-description`}
        class="wide"
        maxLength={500}
        value={description}
        disabled={disabled}
        onInput={(e) => setDescription(e.currentTarget.value)}
      />
      <div class="row">
        <button
          type="submit"
          class="primary"
          disabled={disabled || busy || events.size === 0}
          title={props.disabledTitle ?? (events.size === 0 ? 'Choose at least one event' : undefined)}
        >
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** A signing secret, shown this once, with a button that copies it. */
export function SecretOnce(props: { what: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied('Copied.');
    } catch {
      setCopied('The browser refused to copy: select the secret and copy it.');
    }
  };
  return (
    <div class="card secret" role="status">
      <p>
        The signing secret of <strong>{props.what}</strong> is shown this once. Copy it into the receiving
        site now:
      </p>
      <p>
        <code class="secret-value">{props.secret}</code>
      </p>
      <div class="row">
        <button type="button" class="primary" onClick={copy}>
          Copy the secret
        </button>
        <button type="button" onClick={props.onDone}>
          I have copied it
        </button>
        <span aria-live="polite">{copied ?? ''}</span>
      </div>
    </div>
  );
}
