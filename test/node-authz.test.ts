/**
 * Node authorization through the real API handler on SQLite: a node identity may write its own
 * Node, Lease and the status of pods bound to it, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, TOKEN, pod, type Harness } from './support/apiserver.js';
import { createNodeAuthorizer, nodeNameOf } from '../shared/apiserver/authorize.js';
import { createNodeRestriction } from '../shared/apiserver/noderestriction.js';
import type { Store } from '../shared/store/store.js';

const NODE1 = 'token-node-1';
const NODE2 = 'token-node-2';
const IMPOSTOR = 'token-impostor';

let h: Harness;
let store: Store | undefined;

const as = (token: string) => ({ authorization: `Bearer ${token}` });

function lease(name: string): Record<string, unknown> {
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
  };
}

function node(name: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } };
}

beforeAll(async () => {
  h = await startApiServer({
    tokens: new Map([
      [TOKEN, { username: 'admin', groups: ['system:masters'] }],
      [NODE1, { username: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] }],
      [NODE2, { username: 'system:node:node-2', groups: ['system:nodes'] }],
      [IMPOSTOR, { username: 'system:node:node-2', groups: [] }],
    ]),
    authorize: (user, info, attributes) => createNodeAuthorizer(store!)(user, info, attributes),
    admit: createNodeRestriction(),
  });
  store = h.store;
  for (const n of ['node-1', 'node-2']) expect((await h.json('POST', '/api/v1/nodes', node(n))).status).toBe(201);
  expect((await h.json('POST', '/api/v1/namespaces/default/pods', pod('on-1', { spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] } }))).status).toBe(201);
  expect((await h.json('POST', '/api/v1/namespaces/default/pods', pod('on-2', { spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'busybox' }] } }))).status).toBe(201);
});

afterAll(async () => {
  await h.close();
});

describe('nodeNameOf', () => {
  it('needs both the username prefix and the system:nodes group', () => {
    expect(nodeNameOf({ username: 'system:node:a', groups: ['system:nodes'] })).toBe('a');
    expect(nodeNameOf({ username: 'system:node:a', groups: [] })).toBeUndefined();
    expect(nodeNameOf({ username: 'alice', groups: ['system:nodes'] })).toBeUndefined();
    expect(nodeNameOf({ username: 'system:node:', groups: ['system:nodes'] })).toBeUndefined();
  });
});

describe('a node identity', () => {
  it('may patch its own Node and its status', async () => {
    const res = await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { a: 'b' } } }, { ...as(NODE1), 'content-type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    const st = await h.json('PATCH', '/api/v1/nodes/node-1/status', { status: { phase: 'Running' } }, { ...as(NODE1), 'content-type': 'application/merge-patch+json' });
    expect(st.status).toBe(200);
  });

  it("is refused another node's Node with Kubernetes' wording", async () => {
    const res = await h.json('PATCH', '/api/v1/nodes/node-2', { metadata: { labels: { a: 'b' } } }, { ...as(NODE1), 'content-type': 'application/merge-patch+json' });
    expect(res.status).toBe(403);
    expect(res.body.reason).toBe('Forbidden');
    expect(res.body.message).toMatch(/^nodes "node-2" is forbidden: User "system:node:node-1" cannot patch resource "nodes" in API group "" at the cluster scope: /);
    const st = await h.json('PUT', '/api/v1/nodes/node-2/status', node('node-2'), as(NODE1));
    expect(st.status).toBe(403);
    expect(st.body.message).toContain('cannot update resource "nodes/status"');
    expect((await h.json('DELETE', '/api/v1/nodes/node-2', undefined, as(NODE1))).status).toBe(403);
  });

  it('may read nodes', async () => {
    expect((await h.json('GET', '/api/v1/nodes/node-2', undefined, as(NODE1))).status).toBe(200);
    expect((await h.json('GET', '/api/v1/nodes', undefined, as(NODE1))).status).toBe(200);
  });

  it('may create and renew only its own Lease', async () => {
    expect((await h.json('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('node-1'), as(NODE1))).status).toBe(201);
    const got = await h.json('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', undefined, as(NODE1));
    expect(got.status).toBe(200);
    expect((await h.json('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', got.body, as(NODE1))).status).toBe(200);
    const other = await h.json('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', got.body, as(NODE2));
    expect(other.status).toBe(403);
    expect(other.body.message).toContain('in the namespace "kube-node-lease"');
    expect((await h.json('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease('node-1'), as(NODE1))).status).toBe(403);
  });

  it('may write the status of pods bound to it, not of others', async () => {
    const mine = await h.json('PATCH', '/api/v1/namespaces/default/pods/on-1/status', { status: { phase: 'Running' } }, { ...as(NODE1), 'content-type': 'application/merge-patch+json' });
    expect(mine.status).toBe(200);
    const theirs = await h.json('PATCH', '/api/v1/namespaces/default/pods/on-2/status', { status: { phase: 'Failed' } }, { ...as(NODE1), 'content-type': 'application/merge-patch+json' });
    expect(theirs.status).toBe(403);
    expect(theirs.body.message).toBe(`pods "on-2" is forbidden: User "system:node:node-1" cannot patch resource "pods/status" in API group "" in the namespace "default": no relationship found between node 'node-1' and this object`);
  });

  it('may not change pod specs nor create pods', async () => {
    const spec = await h.json('PATCH', '/api/v1/namespaces/default/pods/on-1', { metadata: { labels: { x: 'y' } } }, { ...as(NODE1), 'content-type': 'application/merge-patch+json' });
    expect(spec.status).toBe(403);
    const create = await h.json('POST', '/api/v1/namespaces/default/pods', pod('sneaky'), as(NODE1));
    expect(create.status).toBe(403);
    expect(create.body.message).toContain('cannot create resource "pods"');
  });

  it('reads only pods bound to it by name; may list', async () => {
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/on-1', undefined, as(NODE1))).status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/on-2', undefined, as(NODE1))).status).toBe(403);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/absent', undefined, as(NODE1))).status).toBe(404);
    expect((await h.json('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1', undefined, as(NODE1))).status).toBe(200);
  });

  it('may not write configmaps', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } };
    expect((await h.json('POST', '/api/v1/namespaces/default/configmaps', cm, as(NODE1))).status).toBe(403);
  });

  it("deletes only its own pods, and another node's delete is refused", async () => {
    const theirs = await h.json('DELETE', '/api/v1/namespaces/default/pods/on-2', { gracePeriodSeconds: 0 }, as(NODE1));
    expect(theirs.status).toBe(403);
    const mine = await h.json('DELETE', '/api/v1/namespaces/default/pods/on-1', { gracePeriodSeconds: 0 }, as(NODE1));
    expect(mine.status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/on-1')).status).toBe(404);
  });

  it('without the system:nodes group is not treated as a node', async () => {
    // No RBAC is built: a non-node user passes this hook.
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/on-2', undefined, as(IMPOSTOR))).status).toBe(200);
  });

  it('leaves the admin alone', async () => {
    expect((await h.json('PATCH', '/api/v1/nodes/node-2', { metadata: { labels: { a: 'c' } } }, { 'content-type': 'application/merge-patch+json' })).status).toBe(200);
  });
});

describe("a node identity, within upstream's Node authorizer and NodeRestriction (issue 15)", () => {
  const MERGE = { 'content-type': 'application/merge-patch+json' };
  const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { k: 'dg==' } });
  const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });

  beforeAll(async () => {
    for (const s of ['used-by-1', 'used-by-2', 'unused']) expect((await h.json('POST', '/api/v1/namespaces/default/secrets', secret(s))).status).toBe(201);
    expect((await h.json('POST', '/api/v1/namespaces/default/configmaps', configMap('env-of-1'))).status).toBe(201);
    const withRefs = (name: string, nodeName: string, secretName: string) => pod(name, { spec: {
      nodeName, volumes: [{ name: 'v', secret: { secretName } }],
      containers: [{ name: 'c', image: 'busybox', envFrom: nodeName === 'node-1' ? [{ configMapRef: { name: 'env-of-1' } }] : [] }],
    } });
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', withRefs('refs-1', 'node-1', 'used-by-1'))).status).toBe(201);
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', withRefs('refs-2', 'node-2', 'used-by-2'))).status).toBe(201);
  });

  it('may not list or watch secrets, in a namespace or across all', async () => {
    for (const path of ['/api/v1/secrets', '/api/v1/namespaces/default/secrets', '/api/v1/namespaces/default/secrets?watch=1', '/api/v1/namespaces/default/configmaps']) {
      const res = await h.json('GET', path, undefined, as(NODE1));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    }
    const res = await h.json('GET', '/api/v1/namespaces/default/secrets', undefined, as(NODE1));
    expect(res.body.message).toBe('secrets is forbidden: User "system:node:node-1" cannot list resource "secrets" in API group "" in the namespace "default": can only get individual resources of this type');
  });

  it('gets only the Secrets and ConfigMaps a pod bound to it references', async () => {
    expect((await h.json('GET', '/api/v1/namespaces/default/secrets/used-by-1', undefined, as(NODE1))).status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/configmaps/env-of-1', undefined, as(NODE1))).status).toBe(200);
    const theirs = await h.json('GET', '/api/v1/namespaces/default/secrets/used-by-2', undefined, as(NODE1));
    expect(theirs.status).toBe(403);
    expect(theirs.body.message).toBe(`secrets "used-by-2" is forbidden: User "system:node:node-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'node-1' and this object`);
    expect((await h.json('GET', '/api/v1/namespaces/default/secrets/unused', undefined, as(NODE1))).status).toBe(403);
    expect((await h.json('GET', '/api/v1/namespaces/default/secrets/used-by-2', undefined, as(NODE2))).status).toBe(200);
    // One referenced object by field selector (the kubelet's watch of a single Secret).
    expect((await h.json('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dused-by-1', undefined, as(NODE1))).status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dunused', undefined, as(NODE1))).status).toBe(403);
  });

  it('lists and watches pods only with spec.nodeName=<itself>', async () => {
    const all = await h.json('GET', '/api/v1/pods', undefined, as(NODE1));
    expect(all.status).toBe(403);
    expect(all.body.message).toBe('pods is forbidden: User "system:node:node-1" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector');
    expect((await h.json('GET', '/api/v1/pods?watch=1', undefined, as(NODE1))).status).toBe(403);
    expect((await h.json('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2', undefined, as(NODE1))).status).toBe(403);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dnode-1', undefined, as(NODE1))).status).toBe(200);
    const watch = await h.call('GET', '/api/v1/pods?watch=1&timeoutSeconds=1&fieldSelector=spec.nodeName%3Dnode-1', undefined, as(NODE1));
    expect(watch.status).toBe(200);
    await watch.body?.cancel();
  });

  it('creates only its own Node and Lease', async () => {
    const other = await h.json('POST', '/api/v1/nodes', node('node-9'), as(NODE1));
    expect(other.status).toBe(403);
    expect(other.body.message).toBe('nodes "node-9" is forbidden: node "node-1" is not allowed to modify node "node-9"');
    const lease9 = await h.json('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('node-9'), as(NODE1));
    expect(lease9.status).toBe(403);
    expect(lease9.body.message).toBe('leases.coordination.k8s.io "node-9" is forbidden: can only access node lease with the same name as the requesting node');
    expect((await h.json('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-9')).status).toBe(404);
    expect((await h.json('GET', '/api/v1/nodes/node-9')).status).toBe(404);
  });

  it('may not label its Node with a role, a restricted label, or another node\'s hostname', async () => {
    const role = await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } }, { ...as(NODE1), ...MERGE });
    expect(role.status).toBe(403);
    expect(role.body.message).toBe('nodes "node-1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane');
    const restricted = await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { 'node-restriction.kubernetes.io/trusted': 'yes' } } }, { ...as(NODE1), ...MERGE });
    expect(restricted.status).toBe(403);
    const hostname = await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { 'kubernetes.io/hostname': 'node-2' } } }, { ...as(NODE1), ...MERGE });
    expect(hostname.status).toBe(403);
    expect(hostname.body.message).toContain('kubernetes.io/hostname');
    const taints = await h.json('PATCH', '/api/v1/nodes/node-1', { spec: { unschedulable: false } }, { ...as(NODE1), ...MERGE });
    expect(taints.status).toBe(200);
    // The kubelet's own labels, and labels outside kubernetes.io, are fine.
    const fine = await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { 'topology.kubernetes.io/zone': 'z1', 'node.kubernetes.io/pool': 'p', 'example.com/team': 'a' } } }, { ...as(NODE1), ...MERGE });
    expect(fine.status).toBe(200);
    const created = await h.json('GET', '/api/v1/nodes/node-1');
    expect(created.body.metadata.labels['node-role.kubernetes.io/control-plane']).toBeUndefined();
    // An admin may set a role label, and the node's later writes that leave it alone pass.
    expect((await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { 'node-role.kubernetes.io/worker': '' } } }, MERGE)).status).toBe(200);
    expect((await h.json('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { a: 'z' } } }, { ...as(NODE1), ...MERGE })).status).toBe(200);
  });

  it('may not change the taints the control plane put on its Node', async () => {
    expect((await h.json('PATCH', '/api/v1/nodes/node-2', { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }, MERGE)).status).toBe(200);
    const res = await h.json('PATCH', '/api/v1/nodes/node-2', { spec: { taints: null } }, { ...as(NODE2), ...MERGE });
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('nodes "node-2" is forbidden: node "node-2" is not allowed to modify taints');
  });
});
