import { useEffect, useState } from 'preact/hooks';
import { api, ok, onUnauthorized, type Session } from './api';
import { routes, sections } from './pages/registry';
import { SignIn } from './pages/sign-in';
import { match, navigate, useLocation } from './router';
import { ErrorMessage, Link, Loading, Page, SessionContext } from './ui';

type State = { kind: 'loading' } | { kind: 'signed-out'; reason?: string } | { kind: 'in'; session: Session };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const location = useLocation();

  useEffect(() => {
    ok(api.GET('/v1/session')).then(
      ({ data }) => setState({ kind: 'in', session: data }),
      () => setState({ kind: 'signed-out' }),
    );
    return onUnauthorized(() =>
      setState({
        kind: 'signed-out',
        reason: 'Your session has ended (signed out, expired or key revoked).',
      }),
    );
  }, []);

  if (state.kind === 'loading') return <Loading what="the console" />;
  if (state.kind === 'signed-out') {
    return (
      <SignIn
        reason={state.reason}
        onSignedIn={(session) => {
          setState({ kind: 'in', session });
          if (location.path === '/signin') navigate('/', true);
        }}
      />
    );
  }

  const scopes = state.session.key.scopes;
  const sessionState = {
    session: state.session,
    canWrite: scopes.includes('write') || scopes.includes('admin'),
    canAdmin: scopes.includes('admin'),
  };
  const signOut = async () => {
    await api.DELETE('/v1/session').catch(() => undefined);
    setState({ kind: 'signed-out', reason: 'You are signed out.' });
  };

  let content = null;
  for (const route of routes) {
    const params = match(route.path, location.path);
    if (params) {
      content = route.admin && !sessionState.canAdmin ? <AdminOnly /> : route.render(params, location.query);
      break;
    }
  }

  return (
    <SessionContext.Provider value={sessionState}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link to="/" class="brand">
          Sync Manager
        </Link>
        <nav aria-label="Main">
          <ul>
            {sections
              .filter((section) => !section.admin || sessionState.canAdmin)
              .map((section) => (
                <li key={section.path}>
                  <Link to={section.path} current={section.matches(location.path)}>
                    {section.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {state.session.tenant.name || state.session.tenant.slug} · {state.session.key.name} (
            {scopes.join(', ')})
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">{content ?? <NotFound path={location.path} />}</main>
    </SessionContext.Provider>
  );
}

function NotFound(props: { path: string }) {
  return (
    <Page title="Page not found">
      <ErrorMessage
        error={new Error(`The console has no page at ${props.path}.`)}
        onRetry={() => navigate('/')}
      />
    </Page>
  );
}

function AdminOnly() {
  return (
    <Page title="Admins only">
      <p>This page needs an API key with the admin scope.</p>
    </Page>
  );
}
