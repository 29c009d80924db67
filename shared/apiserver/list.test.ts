import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, pod, type Harness } from '../../test/support/apiserver.js';

let h: Harness;
beforeAll(async () => {
  h = await startApiServer();
  await h.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  for (let i = 0; i < 7; i++) {
    const p = pod(`p${i}`, { metadata: { name: `p${i}`, labels: { app: i % 2 ? 'odd' : 'even', tier: `t${i}` } } });
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', p)).status).toBe(201);
  }
  await h.json('POST', '/api/v1/namespaces/other/pods', pod('q0'));
});
afterAll(async () => { await h.close(); });

const names = (list: any) => list.items.map((i: any) => i.metadata.name);

describe('list', () => {
  it('lists a namespace with the list revision and kind', async () => {
    const { status, body } = await h.json('GET', '/api/v1/namespaces/default/pods');
    expect(status).toBe(200);
    expect(body.kind).toBe('PodList');
    expect(names(body)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(Number(body.metadata.resourceVersion)).toBe(await h.store.currentRevision());
  });

  it('lists across namespaces', async () => {
    const { body } = await h.json('GET', '/api/v1/pods');
    expect(names(body)).toContain('q0');
    expect(body.items).toHaveLength(8);
  });

  it('applies label selectors (=, !=, in, notin, exists, !)', async () => {
    const q = async (sel: string) => names((await h.json('GET', `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(sel)}`)).body);
    expect(await q('app=odd')).toEqual(['p1', 'p3', 'p5']);
    expect(await q('app==odd,tier!=t1')).toEqual(['p3', 'p5']);
    expect(await q('tier in (t0,t6)')).toEqual(['p0', 'p6']);
    expect(await q('tier notin (t0,t1,t2,t3,t4)')).toEqual(['p5', 'p6']);
    expect(await q('app')).toHaveLength(7);
    expect(await q('!app')).toEqual([]);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods?labelSelector=a%20in%20b')).status).toBe(400);
  });

  it('applies field selectors and refuses unknown fields with 400', async () => {
    const { body } = await h.json('GET', '/api/v1/pods?fieldSelector=metadata.name=p2');
    expect(names(body)).toEqual(['p2']);
    const ns = await h.json('GET', '/api/v1/pods?fieldSelector=metadata.namespace!=default,status.phase=Pending');
    expect(names(ns.body)).toEqual(['q0']);
    const bad = await h.json('GET', '/api/v1/pods?fieldSelector=spec.foo=bar');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.foo');
  });

  it('selects a node\'s pods by spec.nodeName, paged and unpaged, with other fields that mention the name left out', async () => {
    const bound = (name: string, nodeName: string, extra: Record<string, unknown> = {}) =>
      pod(name, { metadata: { name, namespace: 'other', annotations: { note: `"nodeName":"${nodeName}"` } }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] }, ...extra });
    for (const [name, node] of [['n1a', 'node-1'], ['n2a', 'node-2'], ['n1b', 'node-1'], ['n10', 'node-10']]) {
      expect((await h.json('POST', '/api/v1/namespaces/other/pods', bound(name, node))).status).toBe(201);
    }
    // node-2's pod names node-1 in an annotation only (escaped in the stored text): not selected.
    await h.json('POST', '/api/v1/namespaces/other/pods', pod('decoy', { metadata: { name: 'decoy', namespace: 'other', annotations: { x: '"nodeName":"node-1"' } } }));
    const q = async (extra = '') => names((await h.json('GET', `/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1${extra}`)).body);
    expect(await q()).toEqual(['n1a', 'n1b']);
    const first = await h.json('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=1');
    expect(names(first.body)).toEqual(['n1a']);
    const second = await h.json('GET', `/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=1&continue=${first.body.metadata.continue}`);
    expect(names(second.body)).toEqual(['n1b']);
    expect(await q(',metadata.name!=n1a')).toEqual(['n1b']);
    for (const name of ['n1a', 'n2a', 'n1b', 'n10', 'decoy']) await h.json('DELETE', `/api/v1/namespaces/other/pods/${name}?gracePeriodSeconds=0`);
  });

  it('pages with limit/continue at one revision, with remainingItemCount', async () => {
    const first = await h.json('GET', '/api/v1/namespaces/default/pods?limit=3');
    expect(names(first.body)).toEqual(['p0', 'p1', 'p2']);
    expect(first.body.metadata.remainingItemCount).toBe(4);
    // A write between pages does not show up in later pages (consistent snapshot).
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('p7'));
    const second = await h.json('GET', `/api/v1/namespaces/default/pods?limit=3&continue=${first.body.metadata.continue}`);
    expect(names(second.body)).toEqual(['p3', 'p4', 'p5']);
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    const third = await h.json('GET', `/api/v1/namespaces/default/pods?limit=3&continue=${second.body.metadata.continue}`);
    expect(names(third.body)).toEqual(['p6']);
    expect(third.body.metadata.continue).toBeUndefined();
  });

  it('pages with a selector, never returning more than limit', async () => {
    const seen: string[] = [];
    let cont = '';
    for (let i = 0; i < 10; i++) {
      const res = await h.json('GET', `/api/v1/namespaces/default/pods?limit=2&labelSelector=app%3Deven${cont ? `&continue=${cont}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...names(res.body));
      cont = res.body.metadata.continue ?? '';
      if (!cont) break;
    }
    expect(seen).toEqual(['p0', 'p2', 'p4', 'p6']);
  });

  it('answers 410 Expired for a compacted continue token, 400 for a garbled one', async () => {
    const first = await h.json('GET', '/api/v1/namespaces/default/pods?limit=2');
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('p8'));
    await h.store.compact(await h.store.currentRevision());
    const res = await h.json('GET', `/api/v1/namespaces/default/pods?limit=2&continue=${first.body.metadata.continue}`);
    expect(res.status).toBe(410);
    expect(res.body.reason).toBe('Expired');
    expect((await h.json('GET', '/api/v1/namespaces/default/pods?continue=garbage')).status).toBe(400);
  });

  it('honours resourceVersion semantics', async () => {
    const rv = await h.store.currentRevision();
    expect((await h.json('GET', `/api/v1/namespaces/default/pods?resourceVersion=${rv + 100}`)).status).toBe(504);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods?resourceVersionMatch=Exact')).status).toBe(400);
    const exact = await h.json('GET', `/api/v1/namespaces/default/pods?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(200);
    expect(exact.body.metadata.resourceVersion).toBe(String(rv));
  });

  it('answers a Table for kubectl get', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const { body } = await h.json('GET', '/api/v1/namespaces/default/pods?limit=500', undefined, { accept });
    expect(body.kind).toBe('Table');
    expect(body.columnDefinitions.map((c: any) => c.name)).toContain('Name');
    expect(body.rows[0].object.kind).toBe('PartialObjectMetadata');
  });

  it('routes unknown resources to 404 and unsupported verbs to 405', async () => {
    const unknown = await h.json('GET', '/api/v1/namespaces/default/widgets');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    const put = await h.json('PUT', '/api/v1/namespaces/default/pods', {});
    expect(put.status).toBe(405);
    expect(put.body.reason).toBe('MethodNotAllowed');
    expect((await h.json('DELETE', '/api/v1/namespaces')).status).toBe(405);
  });

  it('answers 401 without a valid token', async () => {
    const res = await h.handler(new Request('https://coracle.test/api/v1/pods', { headers: { authorization: 'Bearer wrong' } }));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await h.handler(new Request('https://coracle.test/api/v1/pods'))).status).toBe(401);
  });

  it('has the system namespaces', async () => {
    const { body } = await h.json('GET', '/api/v1/namespaces');
    expect(names(body)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
  });
});

describe('unpaged list streaming (issue 15, item 7)', () => {
  it('streams a list past one page chunk by chunk at one revision; writes made meanwhile are not in it', async () => {
    const s = await startApiServer();
    try {
      for (let i = 0; i < 1100; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, k) => s.json('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `cm-${String(i + k).padStart(4, '0')}` }, data: { v: 'x'.repeat(100) } })));
      }
      const revision = await s.store.currentRevision();
      const res = await s.handler(new Request('https://coracle.test/api/v1/namespaces/default/configmaps', { headers: { authorization: 'Bearer test-admin-token' } }));
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      // A write after the list started: not part of its snapshot.
      expect((await s.json('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm-late' } })).status).toBe(201);
      const chunks = [first.value!];
      for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThan(Buffer.concat(chunks).byteLength / 2);
      const list = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      expect(list.kind).toBe('ConfigMapList');
      expect(list.metadata).toEqual({ resourceVersion: String(revision) });
      expect(list.items).toHaveLength(1100);
      expect(list.items[1099]).toMatchObject({ metadata: { name: 'cm-1099', resourceVersion: expect.any(String) }, data: { v: 'x'.repeat(100) } });
      // Selectors filter every page.
      const selected = await s.json('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dcm-0777');
      expect(selected.body.items.map((i: any) => i.metadata.name)).toEqual(['cm-0777']);
    } finally {
      await s.close();
    }
  }, 60_000);
});
