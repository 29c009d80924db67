import { describe, expect, it } from '@jest/globals';
import { DEFAULT_POLICY, decide, parsePolicy, type AuditAttributes } from './policy.js';

const admin = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
const res = (verb: string, group: string, resource: string, extra: Partial<NonNullable<AuditAttributes['resource']>> = {}, user = admin): AuditAttributes =>
  ({ user, verb, path: '/x', resource: { group, resource, namespace: 'default', ...extra } });
const nonResource = (path: string, verb = 'get'): AuditAttributes => ({ user: admin, verb, path });

describe('the default policy', () => {
  it.each([
    ['health', nonResource('/healthz'), 'None'],
    ['readyz with a check', nonResource('/readyz/ping'), 'None'],
    ['discovery', nonResource('/apis/apps/v1'), 'None'],
    ['an unknown non-resource path', nonResource('/logs'), 'Request'],
    ['a watch', res('watch', '', 'pods'), 'None'],
    ['a node Lease renewal', res('update', 'coordination.k8s.io', 'leases'), 'None'],
    ['an Event', res('create', '', 'events'), 'None'],
    ['a Secret read', res('get', '', 'secrets'), 'Metadata'],
    ['a Secret create', res('create', '', 'secrets'), 'Metadata'],
    ['a ConfigMap update', res('update', '', 'configmaps'), 'Metadata'],
    ['a token request', res('create', '', 'serviceaccounts', { subresource: 'token' }), 'Metadata'],
    ['a TokenReview', res('create', 'authentication.k8s.io', 'tokenreviews', { namespace: undefined }), 'Metadata'],
    ['a pod list', res('list', '', 'pods'), 'Request'],
    ['a controller reading pods', res('list', '', 'pods', {}, { username: 'system:controller', groups: ['system:masters'] }), 'None'],
    ['a node reading its pods', res('list', '', 'pods', {}, { username: 'system:node:n1', groups: ['system:nodes'] }), 'None'],
    ['a node writing pod status', res('update', '', 'pods', { subresource: 'status' }, { username: 'system:node:n1', groups: ['system:nodes'] }), 'Metadata'],
    ['a Deployment create', res('create', 'apps', 'deployments'), 'RequestResponse'],
    ['a pod delete', res('delete', '', 'pods'), 'RequestResponse'],
  ])('%s', (_name, attributes, level) => {
    expect(decide(DEFAULT_POLICY, attributes).level).toBe(level);
  });

  it('omits RequestReceived everywhere', () => {
    expect(decide(DEFAULT_POLICY, res('create', 'apps', 'deployments')).omitStages).toEqual(['RequestReceived']);
  });
});

describe('policy rules', () => {
  const policy = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: [bob]
  - level: RequestResponse
    userGroups: [auditors]
    omitStages: [ResponseStarted]
  - level: Request
    resources: [{ group: "", resources: ["pods/*"] }]
  - level: Metadata
    resources: [{ group: apps, resources: ["*/scale"] }]
  - level: Request
    resources: [{ group: "", resources: [configmaps], resourceNames: [settings] }]
  - level: Metadata
    namespaces: [kube-system]
  - level: Request
    nonResourceURLs: ["/logs/*"]
`);

  it('matches users and groups before anything else, first rule wins', () => {
    expect(decide(policy, res('get', '', 'pods', { subresource: 'log' }, { username: 'bob', groups: ['auditors'] })).level).toBe('None');
    expect(decide(policy, res('get', '', 'nodes', {}, { username: 'eve', groups: ['auditors'] }))).toEqual({ level: 'RequestResponse', omitStages: ['RequestReceived', 'ResponseStarted'] });
  });

  it('matches resources with subresource wildcards and resource names', () => {
    expect(decide(policy, res('get', '', 'pods', { subresource: 'log' })).level).toBe('Request');
    expect(decide(policy, res('get', '', 'pods')).level).toBe('None'); // "pods/*" is subresources only; nothing else matches
    expect(decide(policy, res('update', 'apps', 'deployments', { subresource: 'scale' })).level).toBe('Metadata');
    expect(decide(policy, res('update', '', 'replicationcontrollers', { subresource: 'scale' })).level).toBe('None'); // other group
    expect(decide(policy, res('get', '', 'configmaps', { name: 'settings' })).level).toBe('Request');
    expect(decide(policy, res('get', '', 'configmaps', { name: 'other' })).level).toBe('None');
  });

  it('matches namespaces only for resource requests, nonResourceURLs only for the others', () => {
    expect(decide(policy, res('get', '', 'services', { namespace: 'kube-system' })).level).toBe('Metadata');
    expect(decide(policy, nonResource('/logs/kube.log')).level).toBe('Request');
    expect(decide(policy, nonResource('/logsx')).level).toBe('None');
    expect(decide(policy, { ...res('get', '', 'services'), path: '/logs/a' }).level).toBe('None');
  });

  it('refuses malformed policies, naming the field', () => {
    expect(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n')).toThrow(/rules\[0\]\.level: "Everything" is not one of None, Metadata, Request, RequestResponse/);
    expect(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    nonResourceURLs: [/x]\n    namespaces: [a]\n')).toThrow(/both regular resources and non-resource URLs/);
    expect(() => parsePolicy('apiVersion: v1\nkind: Policy\nrules: []\n')).toThrow(/audit.k8s.io\/v1/);
    expect(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Later]\nrules: []\n')).toThrow(/unknown stage "Later"/);
    expect(parsePolicy('{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"Metadata"}]}').rules).toEqual([expect.objectContaining({ level: 'Metadata' })]);
  });
});
