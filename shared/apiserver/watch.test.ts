import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, pod, type Harness } from '../../test/support/apiserver.js';

let h: Harness;
beforeAll(async () => { h = await startApiServer(); });
afterAll(async () => { await h.close(); });

/** reader yields watch events from a streaming response, one JSON line at a time. */
function reader(res: Response) {
  const r = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  return {
    async next(): Promise<any> {
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return JSON.parse(line);
        }
        const { done, value } = await r.read();
        if (done) return undefined;
        buf += decoder.decode(value);
      }
    },
    cancel: () => r.cancel(),
  };
}

describe('watch', () => {
  it('sends the current state as ADDED, then changes, ending at timeoutSeconds', async () => {
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('w0'));
    const res = await h.call('GET', '/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=2');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const events = reader(res);
    expect(await events.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w0' } } });
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('w1'));
    await h.json('PATCH', '/api/v1/namespaces/default/pods/w1', { metadata: { labels: { x: '1' } } }, { 'content-type': 'application/merge-patch+json' });
    const del = await h.json('DELETE', '/api/v1/namespaces/default/pods/w1');
    expect((await events.next()).type).toBe('ADDED');
    const mod = await events.next();
    expect(mod).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'w1', labels: { x: '1' } } } });
    const deleted = await events.next();
    expect(deleted.type).toBe('DELETED');
    expect(Number(deleted.object.metadata.resourceVersion)).toBeGreaterThan(Number(mod.object.metadata.resourceVersion));
    expect(del.status).toBe(200);
    const started = Date.now();
    expect(await events.next()).toBeUndefined(); // the server ends the stream at timeoutSeconds
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('resumes from a resourceVersion with only later changes', async () => {
    const a = await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } });
    const events = reader(await h.call('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${a.body.metadata.resourceVersion}&timeoutSeconds=5`));
    expect(await events.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'b' } } });
    await events.cancel();
  });

  it('turns selector transitions into ADDED/DELETED as the watch cache does', async () => {
    await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sel', labels: { on: 'no' } } });
    const events = reader(await h.call('GET', '/api/v1/namespaces/default/configmaps?watch=1&labelSelector=on%3Dyes&timeoutSeconds=5'));
    const patch = (v: string) => h.json('PATCH', '/api/v1/namespaces/default/configmaps/sel', { metadata: { labels: { on: v } } }, { 'content-type': 'application/merge-patch+json' });
    await patch('yes');
    expect(await events.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'sel' } } });
    await patch('no');
    const gone = await events.next();
    expect(gone.type).toBe('DELETED');
    await events.cancel();
  });

  it('sends an ERROR event with 410 Expired when the version is compacted', async () => {
    const old = await h.store.currentRevision();
    await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } });
    await h.json('DELETE', '/api/v1/namespaces/default/configmaps/c1');
    await h.store.compact(await h.store.currentRevision());
    const events = reader(await h.call('GET', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old - 1}`));
    const err = await events.next();
    expect(err).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(await events.next()).toBeUndefined();
  });

  it('sends the initial-events-end bookmark with sendInitialEvents', async () => {
    const events = reader(await h.call('GET', '/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=5'));
    let e = await events.next();
    while (e.type === 'ADDED') e = await events.next();
    expect(e).toMatchObject({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    await events.cancel();
  });
});
