import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import type { WorkQueue } from '../../workqueue/queue.js';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { nodeQueuesController } from './index.js';

const node = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
const change = (type: Change['type'], value: KubeObject, prevValue?: KubeObject): Change => ({ key: 'k', type, value, prevValue, revision: 3 });

let f: ControllerFixture;
const calls: string[] = [];
// Records the queue lifecycle calls the controller makes (the adapters' own behaviour is the contract suites').
const queue = { createQueue: async (q: string) => void calls.push(`create ${q}`), deleteQueue: async (q: string) => void calls.push(`delete ${q}`) } as unknown as WorkQueue;
const controller = nodeQueuesController(async () => queue);

beforeAll(async () => {
  f = await startControllerFixture();
});
afterAll(async () => {
  await f.close();
});

describe('nodeQueuesController', () => {
  it('keys a Node\'s creation and deletion, not its status updates', () => {
    expect(controller.keysFor(change('put', node('n1')))).toEqual(['n1']);
    expect(controller.keysFor(change('delete', node('n1'), node('n1')))).toEqual(['n1']);
    expect(controller.keysFor(change('put', node('n1'), node('n1')))).toEqual([]);
  });

  it('creates the queue of an existing Node and deletes that of a gone one', async () => {
    await f.seed(['/api/v1/nodes', node('present')]);
    await controller.reconcile('present', f.ctx);
    await controller.reconcile('absent', f.ctx);
    expect(calls.splice(0)).toEqual(['create present', 'delete absent']);
    expect(f.takeWrites()).toEqual([]);
  });

  it('resyncs every Node', async () => {
    expect(await controller.resync(f.ctx)).toContain('present');
  });

  it('does nothing with a queue that has no lifecycle (the embedded queue)', async () => {
    await expect(nodeQueuesController(async () => ({}) as WorkQueue).reconcile('present', f.ctx)).resolves.toBeUndefined();
  });
});
