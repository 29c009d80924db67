/**
 * Tokens bound to a Pod, a Secret or a Node through the real API server handler: the claims, the
 * checks on the bound object, the token dying with it (TokenReview says why), and what a node may
 * ask for (node authorizer and NodeRestriction).
 */
import { pod, startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { createAccessControl } from './authorizer.js';
import { ServiceAccountTokens } from './satokens.js';

const NODE_A = 'node-a-token';
const NODE_B = 'node-b-token';
let h: Harness;
let clock = new Date('2026-12-01T00:00:00Z');
let saTokens: ServiceAccountTokens;
const SA = '/api/v1/namespaces/team/serviceaccounts';
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
const request = (sa: string, ref?: Record<string, unknown>, headers: Record<string, string> = {}) =>
  h.json('POST', `${SA}/${sa}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: ref ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', ...ref } } : {} }, headers);
const review = async (token: string) =>
  (await h.json('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } })).body.status;
const uidOf = async (path: string) => (await h.json('GET', path)).body.metadata.uid as string;

beforeAll(async () => {
  h = await startApiServer((store) => {
    saTokens = new ServiceAccountTokens(store, { now: () => clock });
    return {
      tokens: new Map([
        [TOKEN, { username: 'admin', groups: ['system:masters'] }],
        [NODE_A, { username: 'system:node:a', groups: ['system:nodes'] }],
        [NODE_B, { username: 'system:node:b', groups: ['system:nodes'] }],
      ]),
      tokenAuthenticators: [saTokens.authenticator()], tokenIssuer: saTokens, access: createAccessControl(store), now: () => clock,
    };
  });
  expect((await h.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })).status).toBe(201);
  for (const name of ['a', 'n1']) expect((await h.json('POST', '/api/v1/nodes', { metadata: { name } })).status).toBe(201);
  for (const name of ['s1', 's2']) expect((await h.json('POST', '/api/v1/namespaces/team/secrets', { metadata: { name }, stringData: { k: 'v' } })).status).toBe(201);
  for (const name of ['robot', 'other']) expect((await h.json('POST', SA, { metadata: { name } })).status).toBe(201);
  const onNode = (name: string, nodeName: string, serviceAccountName = 'robot') =>
    pod(name, { spec: { serviceAccountName, nodeName, containers: [{ name: 'c', image: 'x' }] } });
  for (const p of [onNode('p1', 'a'), onNode('p2', 'b'), onNode('p3', 'a', 'other')]) {
    expect((await h.json('POST', '/api/v1/namespaces/team/pods', p)).status).toBe(201);
  }
});
afterAll(() => h.close());

test('a token bound to a pod names it, authenticates while the pod lives, and is refused once it is gone', async () => {
  const p1 = (await h.json('GET', '/api/v1/namespaces/team/pods/p1')).body;
  const issued = await request('robot', { name: 'p1', uid: p1.metadata.uid });
  expect(issued.status).toBe(201);
  const claims = claimsOf(issued.body.status.token);
  expect(claims['kubernetes.io']).toMatchObject({ namespace: 'team', pod: { name: 'p1', uid: p1.metadata.uid }, serviceaccount: { name: 'robot' } });
  const who = await h.json('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {}, as(issued.body.status.token));
  expect(who.status).toBe(201);
  expect(who.body.status.userInfo).toMatchObject({ username: 'system:serviceaccount:team:robot', extra: { 'authentication.kubernetes.io/pod-name': ['p1'], 'authentication.kubernetes.io/pod-uid': [p1.metadata.uid] } });
  // Graceful deletion: good until the grace period runs out.
  expect((await h.json('DELETE', '/api/v1/namespaces/team/pods/p1', { gracePeriodSeconds: 30 })).status).toBe(200);
  expect((await h.call('GET', '/apis', undefined, as(issued.body.status.token))).status).toBe(200);
  clock = new Date(clock.getTime() + 31_000);
  expect((await h.call('GET', '/apis', undefined, as(issued.body.status.token))).status).toBe(401);
  expect((await h.json('DELETE', '/api/v1/namespaces/team/pods/p1', { gracePeriodSeconds: 0 })).status).toBe(200);
  expect((await h.call('GET', '/apis', undefined, as(issued.body.status.token))).status).toBe(401);
  // Recreated under the same name, the pod has another uid: the old token stays dead.
  expect((await h.json('POST', '/api/v1/namespaces/team/pods', pod('p1', { spec: { serviceAccountName: 'robot', nodeName: 'a', containers: [{ name: 'c', image: 'x' }] } }))).status).toBe(201);
  expect((await h.call('GET', '/apis', undefined, as(issued.body.status.token))).status).toBe(401);
});

test('binding checks the pod as upstream: missing 404, another uid 409, another ServiceAccount 400', async () => {
  const missing = await request('robot', { name: 'nope' });
  expect([missing.status, missing.body.message]).toEqual([404, 'pods "nope" not found']);
  const stale = await request('robot', { name: 'p2', uid: 'not-its-uid' });
  expect(stale.status).toBe(409);
  expect(stale.body.message).toContain('the UID in the bound object reference (not-its-uid) does not match the UID in record');
  const wrongSa = await request('robot', { name: 'p3' });
  expect([wrongSa.status, wrongSa.body.message]).toEqual([400, 'cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.']);
});

test('a node gets tokens only for ServiceAccounts of its pods, bound to its pods (403 otherwise)', async () => {
  const ok = await request('robot', { name: 'p1' }, as(NODE_A));
  expect(ok.status).toBe(201);
  expect(claimsOf(ok.body.status.token)['kubernetes.io'].pod.name).toBe('p1');
  const unbound = await request('robot', undefined, as(NODE_A));
  expect([unbound.status, unbound.body.message]).toEqual([403, 'serviceaccounts "robot" is forbidden: node requested token not bound to a pod']);
  const elsewhere = await request('robot', { name: 'p2' }, as(NODE_A));
  expect([elsewhere.status, elsewhere.body.message]).toEqual([403, 'serviceaccounts "robot" is forbidden: node requested token bound to a pod scheduled on a different node']);
  const noRelation = await request('other', { name: 'p3' }, as(NODE_B));
  expect(noRelation.status).toBe(403);
  expect(noRelation.body.message).toBe('serviceaccounts "other" is forbidden: User "system:node:b" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team": no relationship found between node \'b\' and this object');
  expect((await h.json('GET', `${SA}/robot`, undefined, as(NODE_A))).status).toBe(200);
});

test('a token bound to a pod also names the node of the pod (with its uid when the Node exists), unchecked', async () => {
  const p2 = await request('robot', { name: 'p2' }); // on node b, which has no Node object
  expect(claimsOf(p2.body.status.token)['kubernetes.io'].node).toEqual({ name: 'b' });
  const p1 = await request('robot', { name: 'p1' });
  const nodeA = await uidOf('/api/v1/nodes/a');
  expect(claimsOf(p1.body.status.token)['kubernetes.io'].node).toEqual({ name: 'a', uid: nodeA });
  expect((await review(p1.body.status.token)).user.extra).toMatchObject({
    'authentication.kubernetes.io/pod-name': ['p1'], 'authentication.kubernetes.io/node-name': ['a'], 'authentication.kubernetes.io/node-uid': [nodeA],
  });
  expect((await review(p2.body.status.token)).user.extra).not.toHaveProperty('authentication.kubernetes.io/node-uid');
});

test('a token bound to a Secret authenticates until the Secret is deleted, and stays dead when it is recreated', async () => {
  const uid = await uidOf('/api/v1/namespaces/team/secrets/s1');
  const issued = await request('robot', { kind: 'Secret', name: 's1', uid });
  expect(issued.status).toBe(201);
  const token = issued.body.status.token;
  expect(claimsOf(token)['kubernetes.io']).toMatchObject({ namespace: 'team', secret: { name: 's1', uid }, serviceaccount: { name: 'robot' } });
  expect(claimsOf(token)['kubernetes.io']).not.toHaveProperty('pod');
  const alive = await review(token);
  expect(alive).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:team:robot' } });
  expect(Object.keys(alive.user.extra)).toEqual(['authentication.kubernetes.io/credential-id']);
  expect((await h.call('GET', '/apis', undefined, as(token))).status).toBe(200);
  expect((await h.json('DELETE', '/api/v1/namespaces/team/secrets/s1')).status).toBe(200);
  expect((await h.call('GET', '/apis', undefined, as(token))).status).toBe(401);
  expect(await review(token)).toEqual({ user: {}, error: '[invalid bearer token, service account token has been invalidated]' });
  expect((await h.json('POST', '/api/v1/namespaces/team/secrets', { metadata: { name: 's1' } })).status).toBe(201);
  const again = await uidOf('/api/v1/namespaces/team/secrets/s1');
  expect((await h.call('GET', '/apis', undefined, as(token))).status).toBe(401);
  expect((await review(token)).error).toBe(`[invalid bearer token, secret UID (${again}) does not match service account secret ref claim (${uid})]`);
});

test('a token bound to a Node authenticates as the ServiceAccount with the node in its extra, until the Node is deleted or recreated', async () => {
  const uid = await uidOf('/api/v1/nodes/n1');
  const issued = await request('robot', { kind: 'Node', name: 'n1' });
  expect(issued.status).toBe(201);
  const token = issued.body.status.token;
  expect(claimsOf(token)['kubernetes.io'].node).toEqual({ name: 'n1', uid });
  expect((await review(token)).user.extra).toMatchObject({ 'authentication.kubernetes.io/node-name': ['n1'], 'authentication.kubernetes.io/node-uid': [uid] });
  expect((await h.json('DELETE', '/api/v1/nodes/n1')).status).toBe(200);
  expect((await h.call('GET', '/apis', undefined, as(token))).status).toBe(401);
  expect((await review(token)).error).toBe('[invalid bearer token, service account token has been invalidated]');
  expect((await h.json('POST', '/api/v1/nodes', { metadata: { name: 'n1' } })).status).toBe(201);
  const again = await uidOf('/api/v1/nodes/n1');
  expect((await review(token)).error).toBe(`[invalid bearer token, node UID (${again}) does not match service account node ref claim (${uid})]`);
});

test('binding to a Secret or Node checks it as upstream: missing 404, another uid 409, other kinds 400, nodes only pod-bound (403)', async () => {
  const missingSecret = await request('robot', { kind: 'Secret', name: 'nope' });
  expect([missingSecret.status, missingSecret.body.message]).toEqual([404, 'secrets "nope" not found']);
  const missingNode = await request('robot', { kind: 'Node', name: 'nope' });
  expect([missingNode.status, missingNode.body.message]).toEqual([404, 'nodes "nope" not found']);
  const stale = await request('robot', { kind: 'Secret', name: 's2', uid: 'not-its-uid' });
  expect(stale.status).toBe(409);
  expect(stale.body.message).toBe('Operation cannot be fulfilled on Secret "s2": the UID in the bound object reference (not-its-uid) does not match the UID in record. The object might have been deleted and then recreated');
  const staleNode = await request('robot', { kind: 'Node', name: 'a', uid: 'not-its-uid' });
  expect([staleNode.status, staleNode.body.details.kind]).toEqual([409, 'Node']);
  const configMap = await request('robot', { kind: 'ConfigMap', name: 'x' });
  expect([configMap.status, configMap.body.message]).toEqual([400, 'cannot bind token to object of type /v1, Kind=ConfigMap']);
  const appsPod = await request('robot', { apiVersion: 'apps/v1', name: 'p1' });
  expect([appsPod.status, appsPod.body.message]).toEqual([400, 'cannot bind token to object of type apps/v1, Kind=Pod']);
  const nodeAsksSecret = await request('robot', { kind: 'Secret', name: 's2' }, as(NODE_A));
  expect([nodeAsksSecret.status, nodeAsksSecret.body.message]).toEqual([403, 'serviceaccounts "robot" is forbidden: node requested token not bound to a pod']);
});
