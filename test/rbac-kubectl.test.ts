/**
 * RBAC, the access reviews, impersonation and ServiceAccount tokens against `coracle up`, with
 * real kubectl on one shared cluster: a ServiceAccount bound to `view` in one namespace, another
 * bound to `admin`; `kubectl auth can-i` checked against the real request over a table of cases;
 * escalation refused; `--as` guarded; a token from `kubectl create token` revoked with its
 * ServiceAccount, and tokens bound to a Secret or a Node revoked with it (TokenReview through
 * `kubectl create -f -` saying who, then why not). (A token's expiry is shown by shared/rbac/authorizer.test.ts with a clock: the
 * shortest token upstream issues lives 10 minutes.) The cluster also signs users in with a test
 * OIDC issuer's tokens (test/support/oidc-issuer.ts, as kube-apiserver's `--oidc-*` flags): their
 * user and groups, 401 for an expired or wrong-audience token.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, clusterRequest, startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';
import { until } from './support/until.js';
import { startOidcIssuer, type TestIssuer } from './support/oidc-issuer.js';
import { renderKubeconfig } from '../cli/kubeconfig.js';

jest.setTimeout(240_000);

let cluster: Cluster;
let issuer: TestIssuer;
/** The API's client id: the audience OIDC tokens must carry. */
const API_AUDIENCE = 'coracle-api';
const tokens: Record<string, string> = {};
const k = (...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const as = (who: string, ...args: string[]) => k(`--token=${tokens[who]}`, ...args);

async function ok(...args: string[]): Promise<string> {
  const r = await k(...args);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}

beforeAll(async () => {
  issuer = await startOidcIssuer({ 'ci-robot': { secret: 'robot-secret', claims: { sub: 'robot', groups: ['team-readers'], tid: 'test-tenant' } } });
  cluster = await startCluster({ extraArgs: [
    `--oidc-issuer-url=${issuer.url}`, `--oidc-client-id=${API_AUDIENCE}`, '--oidc-groups-claim=groups', '--oidc-groups-prefix=oidc:', '--oidc-required-claim=tid=test-tenant',
  ] });
  // The same kubectl commands as one after the other, those that do not depend on each other at once.
  await Promise.all([ok('create', 'namespace', 'team'), ok('create', 'namespace', 'other')]);
  await Promise.all(['reader', 'lead'].map((sa) => ok('create', 'serviceaccount', sa, '-n', 'team')));
  await Promise.all([
    ok('create', 'rolebinding', 'reader-view', '--clusterrole=view', '--serviceaccount=team:reader', '-n', 'team'),
    ok('create', 'rolebinding', 'lead-admin', '--clusterrole=admin', '--serviceaccount=team:lead', '-n', 'team'),
    ...['reader', 'lead'].map(async (sa) => (tokens[sa] = (await ok('create', 'token', sa, '-n', 'team', '--duration=1h')).trim())),
  ]);
});
afterAll(async () => {
  await cluster?.destroy();
  await issuer?.stop();
});

test('the default roles and bindings exist; kubectl get/describe/create print roles and bindings', async () => {
  const roles = await ok('get', 'clusterroles');
  for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:node', 'system:auth-delegator']) {
    expect(roles).toMatch(new RegExp(`^${name}\\s+\\d{4}-\\d\\d-\\d\\dT`, 'm'));
  }
  expect(await ok('get', 'clusterrolebinding', 'cluster-admin', '-o', 'wide')).toMatch(/cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters/);
  const view = await ok('describe', 'clusterrole', 'view');
  expect(view).toMatch(/pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
  expect(view).not.toMatch(/^\s+secrets\s/m);
  expect(await ok('describe', 'clusterrole', 'edit')).toMatch(/^\s+secrets\s+\[\]\s+\[\]\s+\[.*create.*\]/m);
  // kubectl's own generators (protobuf bodies), stored as they print them.
  await ok('create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps', '--resource-name=settings', '-n', 'team');
  const role = JSON.parse(await ok('get', 'role', 'cm-reader', '-n', 'team', '-o', 'json'));
  expect(role.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'], verbs: ['get', 'list'] }]);
  await ok('create', 'clusterrole', 'aggregated-reader', '--aggregation-rule=team.example/read=true');
  await ok('create', 'clusterrolebinding', 'reader-aggregated', '--clusterrole=aggregated-reader', '--serviceaccount=team:reader');
  expect(await ok('get', 'clusterrolebinding', 'reader-aggregated', '-o', 'wide')).toMatch(/ClusterRole\/aggregated-reader\s+\S+\s+\s+team\/reader/);
  expect(await ok('get', 'rolebindings', '-n', 'team')).toMatch(/reader-view\s+ClusterRole\/view/);
});

test('a ServiceAccount bound to view: lists pods in its namespace, cannot read Secrets or touch another namespace', async () => {
  const pods = await as('reader', 'get', 'pods', '-n', 'team');
  expect(pods).toMatchObject({ code: 0, stderr: 'No resources found in team namespace.\n' });
  const secrets = await as('reader', 'get', 'secrets', '-n', 'team');
  expect(secrets.code).toBe(1);
  expect(secrets.stderr).toBe('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:team:reader" cannot list resource "secrets" in API group "" in the namespace "team"\n');
  const other = await as('reader', 'get', 'pods', '-n', 'other');
  expect(other.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "other"\n');
  const create = await as('reader', 'create', 'configmap', 'x', '-n', 'team');
  expect(create.stderr).toContain('configmaps is forbidden: User "system:serviceaccount:team:reader" cannot create resource "configmaps" in API group "" in the namespace "team"');
  const whoami = await as('reader', 'auth', 'whoami');
  expect(whoami.stdout).toMatch(/Username\s+system:serviceaccount:team:reader\n/);
  expect(whoami.stdout).toMatch(/Groups\s+\[system:serviceaccounts system:serviceaccounts:team system:authenticated\]/);
  // A role labelled to aggregate into aggregated-reader grants at once (aggregation at read time).
  expect((await as('reader', 'get', 'nodes')).code).toBe(1);
  await ok('create', 'clusterrole', 'node-lister', '--verb=list', '--resource=nodes');
  await ok('label', 'clusterrole', 'node-lister', 'team.example/read=true');
  expect(await as('reader', 'get', 'nodes')).toMatchObject({ code: 0, stderr: 'No resources found\n' });
});

type Case = [who: 'reader' | 'lead', verb: string, resource: string, namespace: string | undefined, subresource?: string];

const VERBS = ['get', 'list', 'watch', 'create', 'delete'];
const CASES: Case[] = [
  ...['pods', 'secrets', 'configmaps', 'deployments.apps', 'rolebindings.rbac.authorization.k8s.io'].flatMap((resource) =>
    VERBS.flatMap((verb) => (['team', 'other'] as const).map((ns): Case => ['reader', verb, resource, ns]))),
  ...['pods', 'secrets', 'roles.rbac.authorization.k8s.io'].flatMap((resource) =>
    ['get', 'create', 'update', 'patch', 'deletecollection'].map((verb): Case => ['lead', verb, resource, 'team'])),
  ['reader', 'get', 'pods', 'team', 'log'], ['reader', 'get', 'pods', 'other', 'log'], ['reader', 'create', 'pods', 'team', 'eviction'],
  ['lead', 'create', 'pods', 'team', 'eviction'], ['reader', 'update', 'deployments.apps', 'team', 'scale'], ['lead', 'update', 'deployments.apps', 'team', 'scale'],
  ['reader', 'get', 'deployments.apps', 'team', 'scale'], ['reader', 'list', 'nodes', undefined], ['lead', 'list', 'nodes', undefined],
  ['lead', 'create', 'serviceaccounts', 'team', 'token'], ['reader', 'create', 'serviceaccounts', 'team', 'token'], ['lead', 'list', 'clusterroles.rbac.authorization.k8s.io', undefined],
];

const GROUP_PATHS: Record<string, string> = { '': '/api/v1', apps: '/apis/apps/v1', 'rbac.authorization.k8s.io': '/apis/rbac.authorization.k8s.io/v1' };

/** realRequest makes the request a case asks about (dry run where it writes) and returns its status. */
async function realRequest(who: string, verb: string, resource: string, namespace: string | undefined, subresource?: string): Promise<number> {
  const [plural, ...group] = resource.split('.');
  const base = `${GROUP_PATHS[group.join('.')]}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
  const named = `${base}/probe${subresource ? `/${subresource}` : ''}`;
  const json = { 'content-type': 'application/json' };
  const [method, path, headers, body] = ({
    get: ['GET', named, {}, undefined],
    list: ['GET', base, {}, undefined],
    watch: ['GET', `${base}?watch=1&timeoutSeconds=1`, {}, undefined],
    create: ['POST', `${subresource ? named : base}?dryRun=All`, json, '{}'],
    update: ['PUT', `${named}?dryRun=All`, json, '{"metadata":{"name":"probe"}}'],
    patch: ['PATCH', `${named}?dryRun=All`, { 'content-type': 'application/merge-patch+json' }, '{}'],
    delete: ['DELETE', `${named}?dryRun=All`, {}, undefined],
    deletecollection: ['DELETE', `${base}?dryRun=All`, {}, undefined],
  } as Record<string, [string, string, Record<string, string>, string | undefined]>)[verb]!;
  return (await clusterRequest(cluster, path, { method, headers, body, token: tokens[who] })).status;
}

test(`kubectl auth can-i agrees with what the server then does, over ${CASES.length} cases`, async () => {
  expect(CASES.length).toBeGreaterThanOrEqual(50);
  const results: string[] = [];
  const run = async ([who, verb, resource, namespace, subresource]: Case) => {
    const args = ['auth', 'can-i', verb, resource, ...(namespace ? ['-n', namespace] : []), ...(subresource ? [`--subresource=${subresource}`] : [])];
    const canI = await as(who, ...args);
    // kubectl warns (only) that a cluster-scoped resource ignores its context's namespace.
    const stderr = canI.stderr.replace(/^Warning: resource '\S+' is not namespace scoped( in group '\S+')?\n\n?/, '');
    expect({ args, code: canI.code, stderr }).toEqual({ args, code: canI.stdout === 'yes\n' ? 0 : 1, stderr: '' });
    const status = await realRequest(who, verb, resource, namespace, subresource);
    const says = canI.stdout.trim();
    results.push(`${who} ${args.slice(2).join(' ')}: can-i ${says}, server ${status}`);
    return { says, status };
  };
  const outcomes: { says: string; status: number }[] = [];
  for (let i = 0; i < CASES.length; i += 4) outcomes.push(...(await Promise.all(CASES.slice(i, i + 4).map(run))));
  const disagreements = results.filter((_, i) => (outcomes[i]!.says === 'yes') !== (outcomes[i]!.status !== 403));
  expect(disagreements).toEqual([]);
  // Both answers occur, and the table is not all one way.
  expect(outcomes.filter((o) => o.says === 'yes').length).toBeGreaterThan(15);
  expect(outcomes.filter((o) => o.says === 'no').length).toBeGreaterThan(15);
  const list = await as('reader', 'auth', 'can-i', '--list', '-n', 'team');
  expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  expect(list.stdout).toMatch(/^\s+\[\/api\/\*\]\s+\[\]\s+\[get\]$/m);
  expect(list.stdout).not.toMatch(/^secrets\s/m);
  expect(await as('reader', 'auth', 'can-i', 'get', '/healthz')).toMatchObject({ stdout: 'yes\n' });
  expect(await as('reader', 'auth', 'can-i', 'get', '/metrics')).toMatchObject({ stdout: 'no\n' });
});

test('a Role cannot grant more than its author holds; a binding cannot bind a bigger role', async () => {
  await ok('--token', tokens.lead!, 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', '-n', 'team');
  const role = await as('lead', 'create', 'role', 'node-reader', '--verb=get', '--resource=nodes', '-n', 'team');
  expect(role.stderr).toBe('Error from server (Forbidden): roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "system:serviceaccount:team:lead" (groups=["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}\n');
  const binding = await as('lead', 'create', 'rolebinding', 'grab', '--clusterrole=cluster-admin', '--serviceaccount=team:lead', '-n', 'team');
  expect(binding.stderr).toContain('rolebindings.rbac.authorization.k8s.io "grab" is forbidden: user "system:serviceaccount:team:lead"');
  expect(binding.stderr).toContain('is attempting to grant RBAC permissions not currently held');
  // What the lead holds, it may hand on.
  await ok('--token', tokens.lead!, 'create', 'rolebinding', 'reader-pods', '--role=pod-reader', '--serviceaccount=team:reader', '-n', 'team');
  // An update that widens a Role is refused as a create would be.
  const patch = await as('lead', 'patch', 'role', 'pod-reader', '-n', 'team', '--type=json', '-p', '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["nodes"],"verbs":["list"]}}]');
  expect(patch.stderr).toContain('is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}');
});

test('--as is refused unless the caller may impersonate; then the request runs as the impersonated user', async () => {
  const refused = await as('reader', 'get', 'pods', '-n', 'team', '--as=alice');
  expect(refused.stderr).toBe('Error from server (Forbidden): users "alice" is forbidden: User "system:serviceaccount:team:reader" cannot impersonate resource "users" in API group "" at the cluster scope\n');
  const group = await as('reader', 'get', 'pods', '-n', 'team', '--as=system:serviceaccount:team:reader', '--as-group=system:masters');
  expect(group.stderr).toContain('cannot impersonate resource');
  // The admin may impersonate; the impersonated user's rights apply.
  expect(await ok('auth', 'can-i', 'list', 'pods', '-n', 'team', '--as=system:serviceaccount:team:reader')).toBe('yes\n');
  const secrets = await k('get', 'secrets', '-n', 'team', '--as=system:serviceaccount:team:reader');
  expect(secrets.stderr).toContain('secrets is forbidden: User "system:serviceaccount:team:reader" cannot list resource "secrets"');
  await ok('create', 'clusterrole', 'impersonate-alice', '--verb=impersonate', '--resource=users', '--resource-name=alice');
  await ok('create', 'clusterrolebinding', 'reader-impersonates', '--clusterrole=impersonate-alice', '--serviceaccount=team:reader');
  const asAlice = await as('reader', 'get', 'pods', '-n', 'team', '--as=alice');
  expect(asAlice.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"\n');
  expect((await as('reader', 'auth', 'whoami', '--as=alice')).stdout).toMatch(/Username\s+alice\n/);
  expect((await as('reader', 'get', 'pods', '-n', 'team', '--as=bob')).stderr).toContain('users "bob" is forbidden');
});

test('every namespace gets a default ServiceAccount; a token works until its ServiceAccount is deleted', async () => {
  await ok('create', 'namespace', 'fresh');
  await until('the default ServiceAccount in fresh', async () => (await k('get', 'serviceaccount', 'default', '-n', 'fresh')).code === 0, 60_000);
  await ok('create', 'serviceaccount', 'short-lived', '-n', 'team');
  await ok('create', 'rolebinding', 'short-lived-view', '--clusterrole=view', '--serviceaccount=team:short-lived', '-n', 'team');
  tokens.short = (await ok('create', 'token', 'short-lived', '-n', 'team', '--duration=10m', '--audience=https://kubernetes.default.svc.cluster.local')).trim();
  const payload = JSON.parse(Buffer.from(tokens.short.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number; aud: string[]; sub: string };
  expect(payload).toMatchObject({ sub: 'system:serviceaccount:team:short-lived', aud: ['https://kubernetes.default.svc.cluster.local'] });
  expect(payload.exp - payload.iat).toBe(600);
  expect((await as('short', 'get', 'pods', '-n', 'team')).code).toBe(0);
  const tooShort = await k('create', 'token', 'short-lived', '-n', 'team', '--duration=5m');
  expect(tooShort.stderr).toContain('may not specify a duration less than 10 minutes');
  // A token for another audience is not accepted by the API server.
  tokens.vault = (await ok('create', 'token', 'short-lived', '-n', 'team', '--audience=vault')).trim();
  expect((await as('vault', 'get', 'pods', '-n', 'team')).stderr).toContain('Unauthorized');
  await ok('delete', 'serviceaccount', 'short-lived', '-n', 'team');
  const revoked = await as('short', 'get', 'pods', '-n', 'team');
  expect(revoked.code).toBe(1);
  expect(revoked.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  // Recreated under the same name, it is another ServiceAccount (uid): the old token stays dead.
  await ok('create', 'serviceaccount', 'short-lived', '-n', 'team');
  expect((await as('short', 'get', 'pods', '-n', 'team')).stderr).toContain('Unauthorized');
});

test('kubectl create token --bound-object-kind Secret|Node: the token works until that object is deleted; a TokenReview shows its user, then why not', async () => {
  const review = async (token: string) => {
    const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    // --validate=false: kubectl validates create-only kinds against the protobuf OpenAPI v2 document, which is not served (README).
    const r = await kubectl(['create', '-f', '-', '-o', 'json', '--validate=false'], { kubeconfig: cluster.kubeconfigPath, input: body });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(r.stdout).status as Record<string, unknown>;
  };
  await ok('create', 'serviceaccount', 'bound', '-n', 'team');
  await ok('create', 'rolebinding', 'bound-view', '--clusterrole=view', '--serviceaccount=team:bound', '-n', 'team');
  await ok('create', 'secret', 'generic', 'anchor', '-n', 'team', '--from-literal=k=v');
  tokens.secretBound = (await ok('create', 'token', 'bound', '-n', 'team', '--bound-object-kind', 'Secret', '--bound-object-name', 'anchor')).trim();
  expect((await as('secretBound', 'get', 'pods', '-n', 'team')).code).toBe(0);
  expect(await review(tokens.secretBound)).toMatchObject({
    authenticated: true, audiences: ['https://kubernetes.default.svc.cluster.local'],
    user: { username: 'system:serviceaccount:team:bound', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] },
  });
  await ok('delete', 'secret', 'anchor', '-n', 'team');
  expect((await as('secretBound', 'get', 'pods', '-n', 'team')).stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  expect(await review(tokens.secretBound)).toEqual({ user: {}, error: '[invalid bearer token, service account token has been invalidated]' });
  // A Node: its name and uid travel in the token and come back in the user's extra.
  const node = await kubectl(['create', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'bound-node' } }) });
  expect(node.code).toBe(0);
  tokens.nodeBound = (await ok('create', 'token', 'bound', '-n', 'team', '--bound-object-kind', 'Node', '--bound-object-name', 'bound-node')).trim();
  const whoami = JSON.parse((await as('nodeBound', 'auth', 'whoami', '-o', 'json')).stdout);
  expect(whoami.status.userInfo.extra).toMatchObject({ 'authentication.kubernetes.io/node-name': ['bound-node'], 'authentication.kubernetes.io/node-uid': [expect.any(String)] });
  await ok('delete', 'node', 'bound-node');
  expect((await as('nodeBound', 'get', 'pods', '-n', 'team')).stderr).toContain('Unauthorized');
});

test('an OIDC token from the issuer maps to its user and prefixed groups, authorized by RBAC; expired, wrong-audience, wrong-tenant, other-issuer and forged ones get 401', async () => {
  await ok('create', 'rolebinding', 'oidc-readers-view', '--clusterrole=view', '--group=oidc:team-readers', '-n', 'team');
  tokens.ann = await issuer.sign({ sub: 'ann', groups: ['team-readers', 'staff'], tid: 'test-tenant' }, { aud: API_AUDIENCE });
  const user = `${issuer.url}#ann`;
  const whoami = await as('ann', 'auth', 'whoami');
  expect(whoami.stdout).toMatch(new RegExp(`Username\\s+${user.replace(/[.]/g, '\\.')}\n`));
  expect(whoami.stdout).toMatch(/Groups\s+\[oidc:team-readers oidc:staff system:authenticated\]/);
  expect(await as('ann', 'get', 'pods', '-n', 'team')).toMatchObject({ code: 0, stderr: 'No resources found in team namespace.\n' });
  expect((await as('ann', 'get', 'pods', '-n', 'other')).stderr).toBe(`Error from server (Forbidden): pods is forbidden: User "${user}" cannot list resource "pods" in API group "" in the namespace "other"\n`);
  tokens.expired = await issuer.sign({ sub: 'ann', groups: ['team-readers'], tid: 'test-tenant' }, { aud: API_AUDIENCE, ttlSeconds: -60 });
  tokens.otherAudience = await issuer.sign({ sub: 'ann', groups: ['team-readers'], tid: 'test-tenant' }, { aud: 'some-other-api' });
  tokens.otherTenant = await issuer.sign({ sub: 'ann', groups: ['team-readers'], tid: 'elsewhere' }, { aud: API_AUDIENCE });
  const stranger = await startOidcIssuer();
  tokens.otherIssuer = await stranger.sign({ sub: 'ann', groups: ['team-readers'], tid: 'test-tenant' }, { aud: API_AUDIENCE });
  await stranger.stop();
  // The payload of a good token with more groups, under its original signature.
  const [header, payload, signature] = tokens.ann.split('.');
  const widened = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), groups: ['platform-admins'] };
  tokens.forged = `${header}.${Buffer.from(JSON.stringify(widened)).toString('base64url')}.${signature}`;
  for (const who of ['expired', 'otherAudience', 'otherTenant', 'otherIssuer', 'forged']) {
    expect({ who, ...(await as(who, 'get', 'pods', '-n', 'team')) }).toMatchObject({ who, code: 1, stderr: 'error: You must be logged in to the server (Unauthorized)\n' });
    const res = await clusterRequest(cluster, '/api/v1/namespaces/team/pods', { token: tokens[who] });
    expect({ who, status: res.status, body: JSON.parse(res.body) }).toMatchObject({ who, status: 401, body: { kind: 'Status', status: 'Failure', reason: 'Unauthorized', message: 'Unauthorized', code: 401 } });
  }
});

test('kubectl with an exec-plugin kubeconfig (coracle kubeconfig oidc → coracle get-token, client credentials) signs in; the token is cached until near expiry', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-oidc-'));
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await promisify(execFile)(process.execPath, [CLI, 'kubeconfig', 'oidc', '--kubeconfig', cluster.kubeconfigPath, '-o', kubeconfig,
      `--issuer-url=${issuer.url}`, '--client-id=ci-robot', '--client-secret=robot-secret', `--scope=${API_AUDIENCE}/.default`, `--token-cache-dir=${path.join(dir, 'cache')}`]);
    const robot = (...args: string[]) => kubectl(args, { kubeconfig });
    const before = issuer.issued();
    const whoami = await robot('auth', 'whoami');
    expect(whoami).toMatchObject({ code: 0, stderr: '' });
    expect(whoami.stdout).toContain(`${issuer.url}#robot`);
    expect(whoami.stdout).toMatch(/Groups\s+\[oidc:team-readers system:authenticated\]/);
    expect(await robot('get', 'pods', '-n', 'team')).toMatchObject({ code: 0, stderr: 'No resources found in team namespace.\n' });
    // Two kubectl runs, one token from the issuer: the plugin's cache served the second.
    expect(issuer.issued() - before).toBe(1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the admin token is break-glass: rotate refuses the old one at once (every instance), disable refuses it, and an OIDC cluster-admin enables it again', async () => {
  const coracle = async (...args: string[]) => (await promisify(execFile)(process.execPath, [CLI, ...args])).stdout;
  const status = async (token: string) => (await clusterRequest(cluster, '/api/v1/namespaces', { token })).status;
  // A way in besides the admin token: an OIDC group bound to cluster-admin.
  await ok('create', 'clusterrolebinding', 'oidc-platform-admins', '--clusterrole=cluster-admin', '--group=oidc:platform-admins');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-admin-'));
  try {
    const oidcAdmin = path.join(dir, 'kubeconfig');
    const rootToken = await issuer.sign({ sub: 'root', groups: ['platform-admins'], tid: 'test-tenant' }, { aud: API_AUDIENCE });
    await writeFile(oidcAdmin, renderKubeconfig({ server: cluster.url, caPem: cluster.caPem, token: rootToken, user: 'root' }));

    const old = cluster.token;
    const rotated = (await coracle('admin-token', 'rotate', '--kubeconfig', cluster.kubeconfigPath, '--data-dir', cluster.dataDir)).trim();
    expect(rotated).toMatch(/^admin:[A-Za-z0-9_-]{43}$/);
    // Several requests, so that in the Azure-shaped mode every HTTP instance behind the front answers some.
    for (let i = 0; i < 6; i++) expect({ i, old: await status(old), rotated: await status(rotated) }).toEqual({ i, old: 401, rotated: 200 });
    expect((await k(`--token=${old}`, 'get', 'namespaces')).stderr).toBe('error: You must be logged in to the server (Unauthorized)\n');
    // --data-dir rewrote the data folder's kubeconfig: it works with the new token.
    expect(await ok('auth', 'whoami')).toMatch(/Username\s+admin\n/);

    expect(await coracle('admin-token', 'disable', '--kubeconfig', cluster.kubeconfigPath)).toBe('admin token disabled\n');
    for (let i = 0; i < 6; i++) expect({ i, rotated: await status(rotated) }).toEqual({ i, rotated: 401 });
    expect((await k('get', 'namespaces')).stderr).toBe('error: You must be logged in to the server (Unauthorized)\n');
    expect(await coracle('admin-token', 'enable', '--kubeconfig', oidcAdmin)).toBe('admin token enabled\n');
    expect(await status(rotated)).toBe(200);
    expect(await status(old)).toBe(401);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
