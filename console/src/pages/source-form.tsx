import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type NamedSource, ok } from '../api';
import { ErrorMessage, type FormEvent } from '../ui';

/**
 * Define a named source or replace one (PUT: every setting is sent; what is left out takes its default).
 * Header values are never shown back, so saving a fetched source sends its headers only if typed again.
 */
export function SourceForm(props: {
  collection: string;
  source?: NamedSource;
  onSaved: (name: string, created: boolean) => void;
  onCancel: () => void;
}) {
  const initial = props.source;
  const [name, setName] = useState(initial?.name ?? '');
  const [fields, setFields] = useState((initial?.fields ?? ['/']).join('\n'));
  const [priority, setPriority] = useState(String(initial?.priority ?? 0));
  const [ignoreEmpty, setIgnoreEmpty] = useState(initial?.ignoreEmpty ?? false);
  const [fetched, setFetched] = useState(Boolean(initial?.url));
  const [url, setUrl] = useState(initial?.url ?? '');
  const [schedule, setSchedule] = useState(initial?.schedule ?? '@hourly');
  const [mode, setMode] = useState(initial?.mode === 'partial' ? 'partial' : 'full');
  const [headers, setHeaders] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const title = initial ? `Edit source ${initial.name}` : 'New source';
  // The form opens above the table: its heading takes the focus, so the keyboard lands in it.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [initial?.name]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const parsed = parseHeaders(headers);
      const { response } = await ok(
        api.PUT('/v1/collections/{collection}/sources/{name}', {
          params: { path: { collection: props.collection, name: name.trim() } },
          body: {
            fields: lines(fields),
            priority: Number(priority),
            ignoreEmpty,
            ...(fetched
              ? {
                  url: url.trim(),
                  schedule: schedule.trim(),
                  mode: mode as 'full' | 'partial',
                  ...(Object.keys(parsed).length > 0 ? { headers: parsed } : {}),
                }
              : {}),
          },
        }),
      );
      props.onSaved(name.trim(), response.status === 201);
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={submit} aria-label={title}>
      <h2 class="small-title" tabIndex={-1} ref={heading}>
        {title}
      </h2>
      {!initial && (
        <>
          <label for="source-name">Name (letters, digits, _ and -)</label>
          <input
            id="source-name"
            required
            pattern="[A-Za-z0-9][A-Za-z0-9_\-]{0,63}"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </>
      )}
      <label for="source-fields">Fields owned (JSON Pointers, one a line; / is every field)</label>
      <textarea
        id="source-fields"
        rows={3}
        class="wide"
        required
        value={fields}
        onInput={(e) => setFields(e.currentTarget.value)}
      />
      <label for="source-priority">Priority (the higher wins where two sources own a field)</label>
      <input
        id="source-priority"
        type="number"
        step={1}
        required
        value={priority}
        onInput={(e) => setPriority(e.currentTarget.value)}
      />
      <label class="check">
        <input
          type="checkbox"
          checked={ignoreEmpty}
          onChange={(e) => setIgnoreEmpty(e.currentTarget.checked)}
        />{' '}
        Ignore empty values (a null or "" from this source does not count as a value)
      </label>
      <label class="check">
        <input type="checkbox" checked={fetched} onChange={(e) => setFetched(e.currentTarget.checked)} />{' '}
        Fetch a feed URL on a schedule (else the source is fed by pushed syncs)
      </label>
      {fetched && (
        <fieldset>
          <legend>Schedule</legend>
          <label for="source-url">Feed URL</label>
          <input
            id="source-url"
            type="url"
            class="wide"
            required
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <label for="source-schedule">Schedule (cron, or @hourly, @daily…)</label>
          <input
            id="source-schedule"
            required
            value={schedule}
            onInput={(e) => setSchedule(e.currentTarget.value)}
          />
          <label for="source-mode">Mode</label>
          <select id="source-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
            <option value="full">full (records missing from the feed lose this source)</option>
            <option value="partial">partial (only upserts)</option>
          </select>
          <label for="source-headers">Request headers (one "Name: value" a line; never shown again)</label>
          <textarea
            id="source-headers"
            rows={2}
            class="wide"
            value={headers}
            onInput={(e) => setHeaders(e.currentTarget.value)}
          />
          {initial && initial.headerNames.length > 0 && (
            <p class="hint">
              It sends {initial.headerNames.join(', ')} now. Saving replaces the headers: type them again to
              keep them.
            </p>
          )}
        </fieldset>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {initial ? 'Save source' : 'Define source'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`A header line needs "Name: value": ${line.trim()}`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}
