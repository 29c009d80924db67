/**
 * Issue 15's repros (items 3–5) through the real handler: each request of the hardening corpus
 * gets Kubernetes' 4xx and message, never a 5xx; and a watch with a huge timeoutSeconds keeps
 * streaming (capped) instead of ending at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';
import { CORPUS_SETUP, HARDENING_CORPUS, type CorpusCase } from '../../test/support/hardening-corpus.js';

let h: Harness;
beforeAll(async () => {
  h = await startApiServer();
  for (const c of CORPUS_SETUP) expect((await send(c)).status).toBe(c.status);
});
afterAll(async () => { await h.close(); });

async function send(c: CorpusCase): Promise<{ status: number; body: any }> {
  return h.json(c.method, c.path, c.body, c.contentType ? { 'content-type': c.contentType } : {});
}

describe('the hardening corpus', () => {
  it.each(HARDENING_CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await send(c);
    expect({ status: res.status, message: c.message === undefined ? undefined : res.body?.message })
      .toEqual({ status: c.status, message: c.message instanceof RegExp ? expect.stringMatching(c.message) : c.message });
    if (c.status >= 400) expect(res.body).toMatchObject({ kind: 'Status', code: c.status });
  });

  it('left the stored ConfigMap a ConfigMap with its data', async () => {
    const cm = await h.json('GET', '/api/v1/namespaces/default/configmaps/c1');
    expect(cm.body).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', data: { a: 'b' } });
    const namespaces = await h.json('GET', '/api/v1/namespaces');
    expect(namespaces.body.items.map((n: any) => n.kind ?? 'Namespace')).not.toContain('ConfigMap');
  });
});

describe('watch timeoutSeconds', () => {
  it('caps a timeout past what a timer holds instead of ending the watch at once', async () => {
    const res = await h.call('GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2147484');
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const ended = (async () => { for (;;) if ((await reader.read()).done) return 'ended'; })();
    const outcome = await Promise.race([ended, new Promise((r) => setTimeout(() => r('streaming'), 1500))]);
    expect(outcome).toBe('streaming');
    await reader.cancel();
  });

  it('refuses a fractional timeout with 400', async () => {
    expect((await h.json('GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1.5')).status).toBe(400);
  });
});
