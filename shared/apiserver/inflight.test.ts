import { describe, expect, it } from '@jest/globals';
import { classifyRequest, isUnpagedList, withInflightLimit, type InflightLimits } from './inflight.js';

const LIMITS: InflightLimits = { readOnly: 2, mutating: 1, nodeHeartbeat: 1, heavyLists: 1, retryAfterSeconds: 1 };
const u = (p: string) => new URL(p, 'https://coracle.test');

/** A handler whose responses the test releases one by one, with a body that streams until released. */
function gatedHandler() {
  const gates: Array<() => void> = [];
  const handler = (request: Request) => new Promise<Response>((resolve) => {
    gates.push(() => resolve(new Response(`ok ${request.method} ${new URL(request.url).pathname}`)));
  });
  return { handler, gates };
}

describe('max-in-flight filter (issue 15)', () => {
  it('classifies as kube-apiserver does: watches and followed logs are long-running; node Leases and Node status are heartbeats', () => {
    expect(classifyRequest('GET', u('/api/v1/pods?watch=1'))).toBe('long-running');
    expect(classifyRequest('GET', u('/api/v1/watch/pods'))).toBe('long-running');
    expect(classifyRequest('GET', u('/api/v1/namespaces/d/pods/p/log?follow=true'))).toBe('long-running');
    expect(classifyRequest('PUT', u('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1'))).toBe('node-heartbeat');
    expect(classifyRequest('PATCH', u('/api/v1/nodes/node-1/status'))).toBe('node-heartbeat');
    expect(classifyRequest('PUT', u('/apis/coordination.k8s.io/v1/namespaces/default/leases/x'))).toBe('mutating');
    expect(classifyRequest('DELETE', u('/api/v1/namespaces/d/pods/p'))).toBe('mutating');
    expect(classifyRequest('GET', u('/api/v1/namespaces/d/pods/p'))).toBe('read-only');
    expect(isUnpagedList('GET', u('/api/v1/pods'))).toBe(true);
    expect(isUnpagedList('GET', u('/api/v1/namespaces/d/configmaps'))).toBe(true);
    expect(isUnpagedList('GET', u('/apis/apps/v1/namespaces/d/deployments?limit=500'))).toBe(false);
    expect(isUnpagedList('GET', u('/api/v1/pods?fieldSelector=spec.nodeName%3Dn1'))).toBe(false);
    expect(isUnpagedList('GET', u('/api/v1/namespaces/d/pods/p'))).toBe(false);
  });

  it('answers 429 TooManyRequests with Retry-After once a pool is full, read-only and mutating apart, and frees the slot when the body is read', async () => {
    const { handler, gates } = gatedHandler();
    const limited = withInflightLimit(handler, LIMITS);
    const reads = [limited(new Request(u('/api/v1/namespaces/d/pods/a'))), limited(new Request(u('/api/v1/namespaces/d/pods/b')))];
    const write = limited(new Request(u('/api/v1/namespaces/d/configmaps'), { method: 'POST', body: '{}' }));
    const refused = await limited(new Request(u('/api/v1/namespaces/d/pods/c')));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Too many requests, please try again later.',
      reason: 'TooManyRequests', details: { retryAfterSeconds: 1 }, code: 429,
    });
    expect((await limited(new Request(u('/api/v1/namespaces/d/pods/p'), { method: 'DELETE' }))).status).toBe(429);
    // Node heartbeats have their own pool: a renewal goes through while the others are full.
    const renewal = limited(new Request(u('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1'), { method: 'PUT', body: '{}' }));
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(4);
    gates[3]!();
    const renewed = await renewal;
    expect(renewed.status).toBe(200);
    expect(limited.counts()).toMatchObject({ readOnly: 2, mutating: 1, nodeHeartbeat: 1, refused: 2 });
    await renewed.text();
    // A response holds its slot until its body has been read.
    gates[0]!();
    const first = await reads[0]!;
    expect(limited.counts().readOnly).toBe(2);
    expect(await first.text()).toBe('ok GET /api/v1/namespaces/d/pods/a');
    expect(limited.counts()).toMatchObject({ readOnly: 1, nodeHeartbeat: 0 });
    gates[1]!();
    gates[2]!();
    await (await reads[1]!).text();
    await (await write).text();
    expect(limited.counts()).toMatchObject({ readOnly: 0, mutating: 0, nodeHeartbeat: 0, heavyLists: 0 });
  });

  it('never counts watches, and bounds unpaged lists apart (a cancelled body frees its slot)', async () => {
    const { handler, gates } = gatedHandler();
    const limited = withInflightLimit(handler, LIMITS);
    const watches = Array.from({ length: 5 }, () => limited(new Request(u('/api/v1/pods?watch=true'))));
    const list = limited(new Request(u('/api/v1/pods')));
    expect((await limited(new Request(u('/api/v1/configmaps')))).status).toBe(429);
    // A paged list is an ordinary read.
    const paged = limited(new Request(u('/api/v1/configmaps?limit=500')));
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(7);
    for (const open of gates) open();
    await Promise.all([...watches, paged]);
    expect(limited.counts()).toMatchObject({ heavyLists: 1, readOnly: 2 });
    await (await list).body!.cancel();
    expect(limited.counts()).toMatchObject({ heavyLists: 0, readOnly: 1 });
  });
});
