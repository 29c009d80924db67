import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../test/support/controller-fixture.js';
import { findResourceByKind } from '../api/resources.js';
import { Informer } from './informer.js';

const PODS = findResourceByKind('v1', 'Pod')!;
const pod = (name: string, app = 'web') => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

let f: ControllerFixture;
let informer: Informer | undefined;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await f.close();
});

describe('Informer', () => {
  it('lists, then follows creates, updates and deletes; a consistent read sees every earlier write', async () => {
    await f.seed(['/api/v1/namespaces/default/pods', pod('a')]);
    informer = new Informer(f.ctx.client, PODS).start();
    await informer.synced();
    expect(informer.get('default/a')).toBeDefined();
    const b = await f.ctx.client.create(PODS, { ...pod('b'), metadata: { ...pod('b').metadata, namespace: 'default' } });
    await f.ctx.client.patch(PODS, { namespace: 'default', name: 'a' }, { metadata: { labels: { app: 'db' } } }, 'merge');
    await f.ctx.client.delete(PODS, { namespace: 'default', name: 'b' });
    expect(await informer.waitForRevision(Number((b.metadata as { resourceVersion: string }).resourceVersion), 5000)).toBe(true);
    // After the delete: either the watch caught up, or the caller reads through the API.
    for (let i = 0; i < 40 && informer.get('default/b'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(informer.get('default/b')).toBeUndefined();
    expect([...informer.inNamespace('default')].map((p) => (p.metadata as { name: string }).name)).toEqual(['a']);
    expect((informer.get('default/a')!.metadata as { labels: Record<string, string> }).labels).toEqual({ app: 'db' });
  });
});
