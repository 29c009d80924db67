/**
 * The NodeProvider contract on the local adapter: real `coracle agent` processes (simulated
 * runtime) joining a real local cluster (`coracle up --nodes 0`), and each added node registered
 * as a Node the API serves.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { LocalNodeProvider, readNodeState } from '../../adapters/nodes/local.js';
import { describeNodeProviderContract, expectReason } from '../../shared/nodes/contract.js';
import { CLI, clusterRequest, startCluster, type Cluster } from '../support/cluster.js';

describe('local NodeProvider', () => {
  let cluster: Cluster;
  // Test agents sign in as the admin (the token file's node identities are fixed at `coracle up`).
  const newProvider = (stateFile?: string) => new LocalNodeProvider({
    server: cluster.url, caFile: path.join(cluster.dataDir, 'ca.crt'), tokenFor: () => cluster.token,
    runtime: 'simulated', useQueue: false, readyTimeoutMs: 30_000, agentCli: CLI, stateFile,
  });
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 0 });
  }, 60_000);
  afterAll(async () => cluster?.destroy(), 60_000);

  it('registers every node it adds as a Node in the API, and replace keeps that Node', async () => {
    const provider = newProvider();
    try {
      const node = await provider.add('reg', '1.0.0');
      const nodeOf = async () => clusterRequest(cluster, `/api/v1/nodes/${node.name}`, { token: cluster.token });
      const got = await nodeOf();
      expect(got.status).toBe(200);
      expect((JSON.parse(got.body) as { metadata: { name: string } }).metadata.name).toBe('reg-1');
      await provider.replace('reg', node.name, '1.1.0');
      expect((await nodeOf()).status).toBe(200);
    } finally {
      await provider.close();
    }
  }, 60_000);

  // An upgrade step still running in a stopping `coracle up` once its agents were stopped used to
  // get "removed" for a node that nodes.json then brought back, at its old release, at the restart.
  it('once closed refuses every call (Unavailable) and keeps its nodes in the state file for the next start', async () => {
    const stateFile = path.join(cluster.dataDir, 'closed-provider-nodes.json');
    const provider = newProvider(stateFile);
    const node = await provider.add('shut', '1.0.0');
    await provider.close();
    await expectReason(provider.remove('shut', node.name), 'Unavailable');
    await expectReason(provider.replace('shut', node.name, '1.1.0'), 'Unavailable');
    await expectReason(provider.add('shut', '1.1.0'), 'Unavailable');
    await expectReason(provider.list('shut'), 'Unavailable');
    expect(readNodeState(stateFile)).toEqual([{ name: node.name, pool: 'shut', version: '1.0.0' }]);
  }, 60_000);

  describeNodeProviderContract('local', async () => {
    const provider = newProvider();
    return { provider, destroy: () => provider.close() };
  }, { timeoutMs: 90_000 });
});
