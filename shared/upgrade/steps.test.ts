import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { ApiClient } from '../controllers/client.js';
import type { NodeProvider, ProvidedNode } from '../nodes/provider.js';
import { addSurgeNode, type StepDeps } from './steps.js';
import { runStatusOf, UPGRADERUNS } from './run.js';

const A = 'v1.35.0-coracle';
const B = 'v1.35.1-coracle';

/** memoryProvider keeps one pool's machines in a list and counts its adds. */
function memoryProvider(nodes: ProvidedNode[]): NodeProvider & { adds: number } {
  const provider = {
    adds: 0,
    list: async () => nodes.map((n) => ({ ...n })),
    add: async (pool: string, version: string) => {
      provider.adds++;
      const node: ProvidedNode = { name: `${pool}-${nodes.length + 1}`, pool, version, state: 'running', providerId: `memory://${nodes.length + 1}` };
      nodes.push(node);
      return node;
    },
    replace: async () => { throw new Error('not used'); },
    remove: async () => undefined,
    close: async () => undefined,
  };
  return provider;
}

const machine = (name: string, version: string): ProvidedNode => ({ name, pool: 'node', version, state: 'running', providerId: `memory://${name}` });

describe('addSurgeNode', () => {
  let h: Harness;
  let client: ApiClient;
  beforeAll(async () => {
    h = await startApiServer();
    client = new ApiClient(h.handler, { baseUrl: 'https://coracle.test', token: TOKEN });
  });
  afterAll(async () => { await h.close(); });

  it('adopts a node an earlier try made but never recorded, instead of adding a second one', async () => {
    // node-1 was at B before the run began (the plan's upToDate): never taken for a surge node.
    const provider = memoryProvider([machine('node-1', B), machine('node-2', A)]);
    const deps = { ctx: { client, now: () => new Date() }, recorder: { normal: async () => undefined, warning: async () => undefined }, catalog: {}, provider } as unknown as StepDeps;
    const created = await client.create(UPGRADERUNS, { apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name: 'run-1' }, spec: { targetVersion: B } });
    await client.updateStatus(UPGRADERUNS, { ...created, status: { phase: 'Pools', plan: { pools: [{ pool: 'node', upToDate: ['node-1'] }] }, nodes: [{ name: 'node-2', pool: 'node', fromVersion: A, toVersion: B, step: 'Waiting' }] } });

    expect(await addSurgeNode(deps, 'run-1', 'node', B, ['node-2'])).toBe('node-3');
    expect(provider.adds).toBe(1);

    // A crash after the machine was made and before its name was recorded: the retried step adopts it.
    const orphan = await provider.add('node', B);
    expect(await addSurgeNode(deps, 'run-1', 'node', B, ['node-2'])).toBe(orphan.name);
    expect(provider.adds).toBe(2);

    // With every node at B accounted for, the next step adds one.
    expect(await addSurgeNode(deps, 'run-1', 'node', B, ['node-2'])).toBe('node-5');
    expect(provider.adds).toBe(3);
    const status = runStatusOf((await client.getOrUndefined(UPGRADERUNS, { name: 'run-1' }))!);
    expect(status.surgeNodes).toEqual(['node-3', 'node-4', 'node-5']);
    expect(status.nodes?.find((n) => n.name === 'node-2')?.step).toBe('Surging');
  });
});
