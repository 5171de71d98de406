import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ok, type Session } from '../api';
import { ErrorMessage, type FormEvent } from '../ui';

/**
 * The key is sent once and forgotten: the server answers with an HttpOnly session cookie, and the
 * field is cleared. Nothing is written to storage.
 */
export function SignIn(props: { reason?: string | undefined; onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Sync Manager';
    input.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { data } = await ok(api.POST('/v1/session', { body: { key: key.trim() } }));
      setKey('');
      props.onSignedIn(data);
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sync Manager console</h1>
        {props.reason && (
          <p class="notice" role="status">
            {props.reason}
          </p>
        )}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          placeholder="smk_…"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <p class="hint">
          The key is exchanged for a session cookie and is not kept in this browser. A read key can look at
          everything and change nothing.
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error !== undefined && <ErrorMessage error={error} />}
      </form>
    </main>
  );
}
