import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';
import { watchTimeoutMs } from './watch.js';

let h: Harness;
beforeAll(async () => { h = await startApiServer({ watchLimits: { minRequestTimeoutSeconds: 1, keepAliveMs: 150 } }); });
afterAll(async () => { await h.close(); });

/** readAll reads a watch body to its end, with the time it took. */
async function readAll(res: Response): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  const text = await res.text();
  return { text, ms: Date.now() - started };
}

describe('watchTimeoutMs', () => {
  it('picks a time in [min, 2×min] unless the client asks for less', () => {
    expect(watchTimeoutMs(0, 240, 0)).toBe(240_000);
    expect(watchTimeoutMs(0, 240, 0.999999)).toBeLessThan(480_000);
    expect(watchTimeoutMs(0, 240, 0.5)).toBe(360_000);
    expect(watchTimeoutMs(30, 240, 0.5)).toBe(30_000);
    expect(watchTimeoutMs(3600, 240, 0.5)).toBe(360_000);
  });
});

describe('watch limits', () => {
  it('a watch without timeoutSeconds ends by itself within [min, 2×min]', async () => {
    const { ms } = await readAll(await h.call('GET', '/api/v1/namespaces/default/configmaps?watch=1'));
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2600);
  });

  it('a quiet watch without bookmarks gets newlines between (no) events', async () => {
    const { text } = await readAll(await h.call('GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1'));
    expect(text).toMatch(/^\n{3,}$/);
  });

  it('a quiet watch with bookmarks gets BOOKMARKs at its position, and events still arrive', async () => {
    const created = await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'k1' } });
    const rv = created.body.metadata.resourceVersion as string;
    const res = await h.call('GET', `/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=1`);
    setTimeout(() => void h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'k2' } }), 400);
    const events = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThanOrEqual(2);
    expect(Number(bookmarks[0].object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(rv));
    expect(events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name)).toEqual(['k2']);
    // Bookmarks never run ahead of an event not yet sent.
    const added = events.findIndex((e) => e.type === 'ADDED');
    for (const b of events.slice(0, added).filter((e) => e.type === 'BOOKMARK')) {
      expect(Number(b.object.metadata.resourceVersion)).toBeLessThan(Number(events[added].object.metadata.resourceVersion));
    }
  });

  it('the request signal ends the watch at once', async () => {
    const client = new AbortController();
    const res = await h.handler(new Request('https://coracle.test/api/v1/namespaces/default/configmaps?watch=1', {
      headers: { authorization: 'Bearer test-admin-token' }, signal: client.signal,
    }));
    const reader = res.body!.getReader();
    setTimeout(() => client.abort(), 100);
    const started = Date.now();
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('a client that watches again from its last resourceVersion outlives three watch timeouts without missing or repeating an event', async () => {
    const first = await h.json('GET', '/api/v1/namespaces/default/secrets');
    let rv = first.body.metadata.resourceVersion as string;
    const created: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await h.json('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${i}` } });
        created.push(`s${i}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const seen: string[] = [];
    let watches = 0;
    const started = Date.now();
    while (Date.now() - started < 4500 || seen.length < created.length) {
      if (Date.now() - started > 4500) writing = false;
      watches++;
      const text = await (await h.call('GET', `/api/v1/namespaces/default/secrets?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`)).text();
      for (const event of text.split('\n').filter(Boolean).map((l) => JSON.parse(l))) {
        rv = event.object.metadata.resourceVersion;
        if (event.type === 'ADDED') seen.push(event.object.metadata.name);
      }
    }
    writing = false;
    await writer;
    expect(watches).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(created);
  }, 15_000);
});
