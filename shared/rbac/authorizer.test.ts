/**
 * The authorization chain through the real API server handler: bootstrap roles, RBAC decisions and
 * their 403 wording, the reviews, impersonation, escalation checks and ServiceAccount tokens.
 */
import { startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { createAccessControl } from './authorizer.js';
import { admitRbacEscalation } from './escalation.js';
import { rotateSigningKey, ServiceAccountTokens } from './satokens.js';

const USERS = { alice: 'alice-token', bob: 'bob-token' } as const;
let h: Harness;
let clock = new Date('2026-12-01T00:00:00Z');
let saTokens: ServiceAccountTokens;

const as = (user: keyof typeof USERS, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${USERS[user]}`, ...extra });
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

beforeAll(async () => {
  h = await startApiServer((store) => {
    saTokens = new ServiceAccountTokens(store, { now: () => clock });
    return {
      tokens: new Map([[TOKEN, { username: 'admin', groups: ['system:masters'] }], [USERS.alice, { username: 'alice', groups: [] }], [USERS.bob, { username: 'bob', groups: ['devs'] }]]),
      tokenAuthenticators: [saTokens.authenticator()], tokenIssuer: saTokens,
      access: createAccessControl(store), admit: admitRbacEscalation, now: () => clock,
    };
  });
  for (const ns of ['team', 'other']) expect((await h.json('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
});
afterAll(() => h.close());

test('the default roles are reconciled at start, aggregated roles filled in', async () => {
  const view = await h.json('GET', `${RBAC}/clusterroles/view`);
  expect(view.status).toBe(200);
  expect(view.body.aggregationRule.clusterRoleSelectors[0].matchLabels).toEqual({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
  expect(view.body.rules).toContainEqual(expect.objectContaining({ apiGroups: [''], resources: expect.arrayContaining(['pods']) }));
  const binding = await h.json('GET', `${RBAC}/clusterrolebindings/system:basic-user`);
  expect(binding.body.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }]);
});

test('a user without bindings is refused with upstream\'s message; a RoleBinding to view opens one namespace', async () => {
  const denied = await h.json('GET', '/api/v1/namespaces/team/pods', undefined, as('alice'));
  expect(denied.status).toBe(403);
  expect(denied.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"' });
  const rb = { metadata: { name: 'alice-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }] };
  expect((await h.json('POST', `${RBAC}/namespaces/team/rolebindings`, rb)).status).toBe(201);
  expect((await h.json('GET', '/api/v1/namespaces/team/pods', undefined, as('alice'))).status).toBe(200);
  expect((await h.json('GET', '/api/v1/namespaces/team', undefined, as('alice'))).status).toBe(200);
  const secret = await h.json('GET', '/api/v1/namespaces/team/secrets/s1', undefined, as('alice'));
  expect(secret.body.message).toBe('secrets "s1" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "team"');
  const other = await h.json('GET', '/api/v1/namespaces/other/pods', undefined, as('alice'));
  expect(other.body.message).toBe('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "other"');
  const nodes = await h.json('GET', '/api/v1/nodes', undefined, as('alice'));
  expect(nodes.body.message).toBe('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
  const invalid = await h.json('POST', `${RBAC}/namespaces/team/rolebindings`, { ...rb, metadata: { name: 'x' }, roleRef: { ...rb.roleRef, kind: 'Nope' } });
  expect(invalid.status).toBe(422);
  expect(invalid.body.message).toBe('RoleBinding.rbac.authorization.k8s.io "x" is invalid: roleRef.kind: Unsupported value: "Nope": supported values: "Role", "ClusterRole"');
});

test('reviews: SelfSubjectAccessReview, SubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview', async () => {
  const ssar = (verb: string, resource: string, namespace?: string, subresource?: string) => h.json('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, namespace, subresource } } }, as('alice'));
  const yes = await ssar('list', 'pods', 'team');
  expect(yes.status).toBe(201);
  expect(yes.body.status).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-view/team" of ClusterRole "view" to User "alice"' });
  expect((await ssar('get', 'pods', 'team', 'log')).body.status.allowed).toBe(true);
  expect((await ssar('list', 'secrets', 'team')).body.status).toEqual({ allowed: false });
  const sar = await h.json('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'alice', resourceAttributes: { verb: 'watch', resource: 'configmaps', namespace: 'team' } } });
  expect(sar.body.status.allowed).toBe(true);
  const sarOther = await h.json('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'alice', resourceAttributes: { verb: 'watch', resource: 'configmaps', namespace: 'other' } } });
  expect(sarOther.body.status.allowed).toBe(false);
  // Alice may not ask about others: SubjectAccessReview is not in system:basic-user.
  expect((await h.json('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'x', resourceAttributes: { verb: 'get', resource: 'pods' } } }, as('alice'))).status).toBe(403);
  const rules = await h.json('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'team' } }, as('alice'));
  expect(rules.body.status.incomplete).toBe(false);
  expect(rules.body.status.resourceRules).toContainEqual(expect.objectContaining({ verbs: ['get', 'list', 'watch'], resources: expect.arrayContaining(['pods']) }));
  expect(rules.body.status.nonResourceRules).toContainEqual(expect.objectContaining({ nonResourceURLs: expect.arrayContaining(['/api', '/apis/*']) }));
  const who = await h.json('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, as('bob'));
  expect(who.body.status.userInfo).toEqual({ username: 'bob', groups: ['devs', 'system:authenticated'] });
});

test('impersonation needs the impersonate verb; the request then runs as the impersonated user', async () => {
  const refused = await h.json('GET', '/api/v1/namespaces/team/pods', undefined, as('bob', { 'impersonate-user': 'alice' }));
  expect(refused.status).toBe(403);
  expect(refused.body.message).toBe('users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
  const asAlice = await h.json('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {}, { 'impersonate-user': 'alice', 'impersonate-group': 'qa' });
  expect(asAlice.body.status.userInfo).toEqual({ username: 'alice', groups: ['qa', 'system:authenticated'] });
  expect((await h.json('GET', '/api/v1/namespaces/other/pods', undefined, { 'impersonate-user': 'alice' })).status).toBe(403);
  const role = { metadata: { name: 'impersonate-alice' }, rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['alice'] }] };
  expect((await h.json('POST', `${RBAC}/clusterroles`, role)).status).toBe(201);
  const crb = { metadata: { name: 'bob-impersonates' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-alice' }, subjects: [{ kind: 'Group', name: 'devs' }] };
  expect((await h.json('POST', `${RBAC}/clusterrolebindings`, crb)).status).toBe(201);
  expect((await h.json('GET', '/api/v1/namespaces/team/pods', undefined, as('bob', { 'impersonate-user': 'alice' }))).status).toBe(200);
  const group = await h.json('GET', '/api/v1/namespaces/team/pods', undefined, as('bob', { 'impersonate-user': 'alice', 'impersonate-group': 'system:masters' }));
  expect(group.body.message).toBe('groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope');
});

test('escalation: a Role or binding may grant only what its author holds, unless escalate/bind', async () => {
  const rb = { metadata: { name: 'bob-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'bob' }] };
  expect((await h.json('POST', `${RBAC}/namespaces/team/rolebindings`, rb)).status).toBe(201);
  const ok = { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] };
  expect((await h.json('POST', `${RBAC}/namespaces/team/roles`, ok, as('bob'))).status).toBe(201);
  const tooMuch = { metadata: { name: 'node-reader' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] };
  const refused = await h.json('POST', `${RBAC}/namespaces/team/roles`, tooMuch, as('bob'));
  expect(refused.status).toBe(403);
  expect(refused.body.message).toBe('roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "bob" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
  const bindAdmin = { metadata: { name: 'alice-cluster-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'alice' }] };
  expect((await h.json('POST', `${RBAC}/namespaces/team/rolebindings`, bindAdmin, as('bob'))).status).toBe(403);
  // bob may bind what he holds (view ⊂ admin) ...
  const bindView = { ...bindAdmin, metadata: { name: 'alice-view2' }, roleRef: { ...bindAdmin.roleRef, name: 'view' } };
  expect((await h.json('POST', `${RBAC}/namespaces/team/rolebindings`, bindView, as('bob'))).status).toBe(201);
  // ... and, given `escalate` on roles, anything in a Role.
  const escalate = { metadata: { name: 'escalate-roles' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }] };
  expect((await h.json('POST', `${RBAC}/namespaces/team/roles`, escalate)).status).toBe(201);
  const rb2 = { metadata: { name: 'bob-escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'escalate-roles' }, subjects: [{ kind: 'User', name: 'bob' }] };
  expect((await h.json('POST', `${RBAC}/namespaces/team/rolebindings`, rb2)).status).toBe(201);
  expect((await h.json('POST', `${RBAC}/namespaces/team/roles`, tooMuch, as('bob'))).status).toBe(201);
});

test('ServiceAccount tokens: bound, audience-checked, expiring, surviving a key rotation, revoked with their ServiceAccount', async () => {
  const sa = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'robot' } });
  expect(sa.status).toBe(201);
  const short = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { spec: { expirationSeconds: 60 } });
  expect(short.status).toBe(422);
  expect(short.body.message).toBe('TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
  expect((await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/nobody/token', {})).status).toBe(404);
  const bound = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { spec: { boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'p' } } });
  expect([bound.status, bound.body.message]).toEqual([400, 'cannot bind token to object of type /v1, Kind=ConfigMap']);
  const issued = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { spec: { expirationSeconds: 600 } });
  expect(issued.status).toBe(201);
  expect(issued.body.status.expirationTimestamp).toBe('2026-12-01T00:10:00Z');
  const bearer = { authorization: `Bearer ${issued.body.status.token}` };
  const who = await h.json('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {}, bearer);
  expect(who.body.status.userInfo).toMatchObject({ username: 'system:serviceaccount:team:robot', uid: sa.body.metadata.uid, groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] });
  const wrongAudience = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { spec: { audiences: ['vault'] } });
  expect((await h.call('GET', '/api/v1/namespaces/team/pods', undefined, { authorization: `Bearer ${wrongAudience.body.status.token}` })).status).toBe(401);
  const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
  await rotateSigningKey(h.store, clock);
  // Issuing re-reads the keys, so the server now holds the new key and the previous one.
  const afterRotation = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', {});
  expect(kidOf(afterRotation.body.status.token)).not.toBe(kidOf(issued.body.status.token));
  expect((await h.call('GET', '/apis', undefined, { authorization: `Bearer ${afterRotation.body.status.token}` })).status).toBe(200);
  expect((await h.call('GET', '/apis', undefined, bearer)).status).toBe(200);
  // A verifier that never saw the old key set (another instance) accepts both too.
  const fresh = new ServiceAccountTokens(h.store, { now: () => clock }).authenticator();
  expect((await fresh.authenticate(issued.body.status.token, []))?.user.username).toBe('system:serviceaccount:team:robot');
  // Two rotations later the first key is gone, and so is its token.
  await rotateSigningKey(h.store, clock);
  expect(await new ServiceAccountTokens(h.store, { now: () => clock }).authenticator().authenticate(issued.body.status.token, [])).toBeUndefined();
  // Expiry, with the signing key still kept: good a second before `exp`, refused after it.
  const tenMinutes = { authorization: `Bearer ${(await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { spec: { expirationSeconds: 600 } })).body.status.token}` };
  clock = new Date('2026-12-01T00:09:59Z');
  expect((await h.call('GET', '/apis', undefined, tenMinutes)).status).toBe(200);
  clock = new Date('2026-12-01T00:10:01Z');
  expect((await h.call('GET', '/apis', undefined, tenMinutes)).status).toBe(401);
  const stillKept = await h.json('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', {});
  expect((await h.call('GET', '/apis', undefined, { authorization: `Bearer ${stillKept.body.status.token}` })).status).toBe(200);
  expect((await h.json('DELETE', '/api/v1/namespaces/team/serviceaccounts/robot')).status).toBe(200);
  expect((await h.call('GET', '/apis', undefined, { authorization: `Bearer ${stillKept.body.status.token}` })).status).toBe(401);
});
