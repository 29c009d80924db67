/**
 * TokenReview through the real API server handler: every authenticator of the chain (static,
 * store-kept node credentials, ServiceAccount tokens, OIDC from a running test issuer), audiences
 * as upstream (the intersection; audience-agnostic authenticators only for the API server's own),
 * upstream's status and errors, and who may ask (create tokenreviews: system:auth-delegator).
 */
import { startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { startOidcIssuer, type TestIssuer } from '../../test/support/oidc-issuer.js';
import { oidcAuthenticator } from '../apiserver/oidc.js';
import { issueNodeCredential, storeTokenAuthenticator } from '../apiserver/tokens.js';
import { createAccessControl } from './authorizer.js';
import { DEFAULT_ISSUER, ServiceAccountTokens } from './satokens.js';

const ALICE = 'alice-token';
const REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
let h: Harness;
let issuer: TestIssuer;
let clock = new Date('2026-12-01T00:00:00Z');
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const post = (spec: Record<string, unknown>, headers: Record<string, string> = {}) =>
  h.json('POST', REVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec }, headers);
const review = async (token: string, audiences?: string[]) => {
  const res = await post({ token, ...(audiences ? { audiences } : {}) });
  expect(res.status).toBe(201);
  return res.body.status;
};
const saToken = async (spec: Record<string, unknown> = {}) =>
  (await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec })).body.status.token as string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  h = await startApiServer((store) => {
    const saTokens = new ServiceAccountTokens(store, { now: () => clock });
    return {
      tokens: new Map([[TOKEN, { username: 'admin', groups: ['system:masters'] }], [ALICE, { username: 'alice', groups: ['devs'] }]]),
      tokenAuthenticators: [storeTokenAuthenticator(store), oidcAuthenticator({ issuerURL: issuer.url, clientId: 'api', groupsClaim: 'groups' }), saTokens.authenticator()],
      tokenIssuer: saTokens, access: createAccessControl(store), now: () => clock,
    };
  });
  expect((await h.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })).status).toBe(201);
  expect((await h.json('POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'robot' } })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await h.close();
  await issuer.stop();
});

test('a ServiceAccount token is answered with its user, the system:authenticated group, its extra and the API server audience', async () => {
  const res = await post({ token: await saToken() });
  expect(res.status).toBe(201);
  const uid = (await h.json('GET', '/api/v1/namespaces/team/serviceaccounts/robot')).body.metadata.uid;
  expect(res.body).toMatchObject({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null } });
  expect(res.body.status).toEqual({
    authenticated: true,
    user: {
      username: 'system:serviceaccount:team:robot', uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [expect.stringMatching(/^JTI=[0-9a-f-]{36}$/)] },
    },
    audiences: [DEFAULT_ISSUER],
  });
});

test('spec.audiences: a ServiceAccount token is good for the audiences it shares with them, else refused with upstream\'s reason', async () => {
  const token = await saToken({ audiences: ['vault', 'minio'] });
  expect(await review(token, ['minio', 'other'])).toMatchObject({ authenticated: true, audiences: ['minio'] });
  expect(await review(token, ['other'])).toEqual({ user: {}, error: '[invalid bearer token, token audiences ["vault" "minio"] is invalid for the target audiences ["other"]]' });
  // No spec.audiences: the API server's own, which this token was not issued for (and so it cannot call the API either).
  expect((await review(token)).error).toBe(`[invalid bearer token, token audiences ["vault" "minio"] is invalid for the target audiences ["${DEFAULT_ISSUER}"]]`);
  expect((await h.call('GET', '/apis', undefined, as(token))).status).toBe(401);
});

test('audience-agnostic tokens (static, node credential, OIDC) are good only for the API server audience', async () => {
  const node = await issueNodeCredential(h.store, 'worker-1', 'test', clock);
  const oidc = await issuer.sign({ sub: 'ann', groups: ['dev'] }, { aud: 'api' });
  for (const [token, username] of [[ALICE, 'alice'], [node, 'system:node:worker-1'], [oidc, `${issuer.url}#ann`]] as const) {
    expect(await review(token)).toMatchObject({ authenticated: true, user: { username }, audiences: [DEFAULT_ISSUER] });
    expect(await review(token, ['vault', DEFAULT_ISSUER])).toMatchObject({ authenticated: true, audiences: [DEFAULT_ISSUER] });
    expect(await review(token, ['vault'])).toEqual({ user: {}, error: 'invalid bearer token' });
  }
  expect((await review(ALICE)).user).toEqual({ username: 'alice', groups: ['devs', 'system:authenticated'] });
  expect((await review(oidc)).user.groups).toEqual(['dev', 'system:authenticated']);
});

test('an unknown, forged, expired (ServiceAccount or OIDC), wrong-audience OIDC or deleted-ServiceAccount token is not authenticated, and says why', async () => {
  expect(await review('not-a-token')).toEqual({ user: {}, error: 'invalid bearer token' });
  const expiredOidc = await issuer.sign({ sub: 'ann' }, { aud: 'api', ttlSeconds: -30 });
  expect((await review(expiredOidc)).error).toMatch(/^\[invalid bearer token, oidc: verify token: oidc: token is expired \(Token Expiry: .+ \+0000 UTC\)\]$/);
  expect((await review(await issuer.sign({ sub: 'ann' }, { aud: 'other-client' }))).error).toBe('[invalid bearer token, oidc: verify token: oidc: expected audience "api" got ["other-client"]]');
  const token = await saToken({ expirationSeconds: 600 });
  const [header, payload] = token.split('.');
  expect(await review(`${header}.${payload}.${Buffer.from('forged').toString('base64url')}`)).toEqual({ user: {}, error: '[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]' });
  clock = new Date(clock.getTime() + 601_000);
  expect(await review(token)).toEqual({ user: {}, error: '[invalid bearer token, service account token has expired]' });
  const fresh = await saToken();
  expect((await h.json('DELETE', '/api/v1/namespaces/team/serviceaccounts/robot')).status).toBe(200);
  expect(await review(fresh)).toEqual({ user: {}, error: '[invalid bearer token, serviceaccounts "robot" not found]' });
  expect((await h.json('POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'robot' } })).status).toBe(201);
  const recreated = (await h.json('GET', '/api/v1/namespaces/team/serviceaccounts/robot')).body.metadata.uid;
  expect((await review(fresh)).error).toMatch(new RegExp(`^\\[invalid bearer token, service account UID \\(${recreated}\\) does not match claim \\([0-9a-f-]{36}\\)\\]$`));
});

test('an empty token is a bad request; the kind must be TokenReview', async () => {
  const empty = await post({ token: '' });
  expect([empty.status, empty.body.reason, empty.body.message]).toEqual([400, 'BadRequest', 'token is required for TokenReview in authentication']);
  const wrongKind = await h.json('POST', REVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', spec: { token: ALICE } });
  expect(wrongKind.status).toBe(400);
});

test('only who may create tokenreviews may ask: system:auth-delegator grants it', async () => {
  const refused = await post({ token: TOKEN }, as(ALICE));
  expect([refused.status, refused.body.message]).toEqual([403, 'tokenreviews.authentication.k8s.io is forbidden: User "alice" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope']);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'alice-delegates' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
  };
  expect((await h.json('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding)).status).toBe(201);
  const allowed = await post({ token: TOKEN }, as(ALICE));
  expect([allowed.status, allowed.body.status.user.username]).toEqual([201, 'admin']);
  const sar = await h.json('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'bob', resourceAttributes: { verb: 'get', resource: 'pods' } },
  }, as(ALICE));
  expect(sar.status).toBe(201);
});

test('tokenreviews is in discovery (create only, cluster-scoped) and in OpenAPI', async () => {
  const group = await h.json('GET', '/apis/authentication.k8s.io/v1');
  expect(group.body.resources).toContainEqual(expect.objectContaining({ name: 'tokenreviews', kind: 'TokenReview', namespaced: false, verbs: ['create'] }));
  const v3 = await h.json('GET', '/openapi/v3/apis/authentication.k8s.io/v1');
  expect(Object.keys(v3.body.components.schemas)).toEqual(expect.arrayContaining(['io.k8s.api.authentication.v1.TokenReview', 'io.k8s.api.authentication.v1.TokenReviewStatus']));
  expect(v3.body.paths).toHaveProperty(['/apis/authentication.k8s.io/v1/tokenreviews', 'post', 'operationId'], 'createTokenReview');
});
