/**
 * The portal page: sign-in with a bearer token, or with the cluster's OIDC issuer when the control
 * plane names one (oidc.ts; either token is kept in this tab's sessionStorage), then the overview
 * and the Upgrade panel, live through watches. Every call goes to the same Kubernetes API kubectl
 * uses, with the user's own token.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, describeError, storedToken, storeToken } from './api.js';
import { useLive, type Live } from './live.js';
import { ClusterSummary, DeploymentsTable, EventsList, NodesTable, PoolsTable, Section, warningEvents } from './overview.js';
import { UpgradePanel } from './upgrade.js';
import { beginSignIn, completeSignIn, isCallback, issuerName, loadConfig, type PortalConfig } from './oidc.js';

/**
 * whoAmI asks the API who the token's user is (a SelfSubjectReview, `kubectl auth whoami`): every
 * authenticated user may ask, whatever RBAC grants them else. Throws ApiError (401) when refused.
 */
async function whoAmI(token: string): Promise<string> {
  const review = await new ApiClient(token).request<{ status?: { userInfo?: { username?: string } } }>('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status?.userInfo?.username ?? '';
}

function SignIn(props: { message: string | undefined; config: PortalConfig | undefined; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(props.message);
  const [busy, setBusy] = useState(false);
  const oidc = props.config?.oidc;
  const signInWithIssuer = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await beginSignIn(oidc!); // the browser leaves for the issuer
    } catch (err) {
      setError(`Cannot reach the sign-in issuer ${oidc!.issuerURL}: ${describeError(err)}`);
      setBusy(false);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await whoAmI(token.trim());
      storeToken(token.trim());
      props.onSignedIn(token.trim());
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Coracle</h1>
      {oidc ? (
        <div class="oidc">
          <button type="button" class="primary" data-testid="oidc-signin" disabled={busy} onClick={signInWithIssuer}>Sign in with {issuerName(oidc)}</button>
          <p class="muted">Your organisation's account ({oidc.issuerURL}); the cluster's RBAC decides what you may see and do.</p>
          <p class="muted">Or paste a token:</p>
        </div>
      ) : null}
      <form onSubmit={submit} aria-describedby="signin-help">
        <label for="token">Bearer token</label>
        <input id="token" name="token" type="password" autocomplete="off" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <p id="signin-help" class="muted">The token of your kubeconfig (<code>kubectl config view --raw -o jsonpath='&#123;.users[0].user.token&#125;'</code>). It is kept in this tab only and sent to this API server, as kubectl sends it.</p>
        {error ? <p class="notice" role="alert" data-testid="signin-error">{error}</p> : null}
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>Sign in</button>
      </form>
    </main>
  );
}

/** connectionBanner says which watches are down. */
function ConnectionBanner(props: { live: Live }) {
  const lost = Object.entries(props.live).filter(([, r]) => r.state.kind === 'lost');
  if (lost.length === 0) {
    const reconnected = Math.max(0, ...Object.values(props.live).map((r) => r.reconnectedAt ?? 0));
    return (
      <p class="connection live" role="status" data-testid="connection">
        Live: following changes as they happen{reconnected ? `; reconnected at ${new Date(reconnected).toLocaleTimeString()} after the connection was lost` : ''}
      </p>
    );
  }
  const first = lost[0]![1].state as { since: number; attempt: number; error: string };
  return (
    <p class="connection lost" role="alert" data-testid="connection">
      Connection lost at {new Date(first.since).toLocaleTimeString()} ({first.error}); reconnecting from the last seen version, attempt {first.attempt}…
    </p>
  );
}

function Dashboard(props: { client: ApiClient; onSignOut: (message?: string) => void }) {
  const live = useLive(props.client);
  const [serverVersion, setServerVersion] = useState<string | undefined>();
  const [user, setUser] = useState<string | undefined>();
  useEffect(() => {
    whoAmI(props.client.token).then(setUser, () => setUser(undefined));
  }, [props.client]);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5000); // ages only; data arrives by watch
    return () => clearInterval(timer);
  }, [props.client]);
  // /version again whenever the Cluster records another control plane release (an upgrade moved it).
  const recorded = (live.clusters.list()[0]?.status as { controlPlaneVersion?: string } | undefined)?.controlPlaneVersion;
  useEffect(() => {
    props.client.request<{ gitVersion: string }>('/version').then((v) => setServerVersion(v.gitVersion), () => setServerVersion(undefined));
  }, [props.client, recorded]);
  const refused = Object.values(live).find((r) => r.state.kind === 'refused');
  useEffect(() => {
    if (refused) props.onSignOut('The API no longer accepts this token (401 Unauthorized). Sign in again.');
  }, [refused]);
  return (
    <>
      <header class="top">
        <h1>Coracle <span class="muted">cluster portal</span></h1>
        <ConnectionBanner live={live} />
        {user ? <p class="muted user" data-testid="user">Signed in as <strong>{user}</strong></p> : null}
        <button type="button" onClick={() => props.onSignOut()}>Sign out</button>
      </header>
      <main class="grid">
        <Section id="cluster" title="Cluster" reflector={live.clusters}><ClusterSummary live={live} serverVersion={serverVersion} /></Section>
        <UpgradePanel live={live} client={props.client} now={now} />
        <Section id="pools" title="Node pools" reflector={live.pools}><PoolsTable live={live} /></Section>
        <Section id="nodes" title="Nodes" reflector={live.nodes}><NodesTable live={live} /></Section>
        <Section id="workloads" title="Workloads" reflector={live.deployments}><DeploymentsTable live={live} now={now} /></Section>
        <Section id="events" title="Recent Warning events" reflector={live.events}>
          <EventsList events={warningEvents(live)} now={now} testid="warnings" empty="No Warning events." />
        </Section>
      </main>
    </>
  );
}

function App() {
  const [token, setToken] = useState(storedToken());
  const [message, setMessage] = useState<string | undefined>();
  const [config, setConfig] = useState<PortalConfig | undefined>();
  const [completing, setCompleting] = useState(isCallback());
  const client = useMemo(() => (token ? new ApiClient(token) : undefined), [token]);
  const signOut = (why?: string) => {
    storeToken(undefined);
    setMessage(why);
    setToken(undefined);
  };
  useEffect(() => {
    const signedIn = async (loaded: PortalConfig) => {
      if (!loaded.oidc) throw new Error('This control plane has no OIDC issuer configured: sign in with a token.');
      const idToken = await completeSignIn(loaded.oidc);
      await whoAmI(idToken);
      storeToken(idToken);
      setToken(idToken);
    };
    loadConfig().then(async (loaded) => {
      setConfig(loaded);
      if (isCallback()) await signedIn(loaded);
    }).catch((err: unknown) => setMessage(describeError(err))).finally(() => setCompleting(false));
  }, []);
  if (completing) return <main class="signin"><h1>Coracle</h1><p role="status">Signing in…</p></main>;
  if (!client) return <SignIn message={message} config={config} onSignedIn={(t) => { setMessage(undefined); setToken(t); }} />;
  return <Dashboard client={client} onSignOut={signOut} />;
}



render(<App />, document.getElementById('app')!);
