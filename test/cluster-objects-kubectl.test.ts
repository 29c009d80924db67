/**
 * coracle.io/v1 Cluster and NodePool with real kubectl on `coracle up --nodes 2 --runtime
 * simulated` whose data folder already holds release B in its catalog: discovery, printer
 * columns, describe, watch, defaulted upgrade settings, and the skew rules refused with 422.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';
import { packedRelease } from './support/releases.js';
import { RELEASE_VERSION } from '../shared/release/version.js';

const runFile = promisify(execFile);
const B = 'v1.35.1-coracle';
let cluster: Cluster;

const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs: 60_000 });

beforeAll(async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-clusterobj-'));
  const packed = await packedRelease(B);
  await runFile(process.execPath, [CLI, 'release', 'add', packed, '--data-dir', dataDir]);
  cluster = await startCluster({ nodes: 2, extraArgs: ['--runtime', 'simulated'], dataDir, timeoutMs: 90_000 });
}, 180_000);
afterAll(async () => cluster?.destroy(), 60_000);

describe('Cluster and NodePool', () => {
  it('are discoverable and print their versions, available upgrades and pool state', async () => {
    const resources = await k(['api-resources', '--api-group=coracle.io', '--no-headers']);
    expect(resources.stdout).toMatch(/^clusters\s+coracle\.io\/v1\s+false\s+Cluster$/m);
    expect(resources.stdout).toMatch(/^nodepools\s+np\s+coracle\.io\/v1\s+false\s+NodePool$/m);
    const got = await k(['get', 'clusters,nodepools']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toMatch(/NAME\s+VERSION\s+CONTROL PLANE\s+UPGRADES\s+STATE\s+AGE/);
    expect(got.stdout).toMatch(new RegExp(`cluster\\.coracle\\.io/local\\s+${RELEASE_VERSION}\\s+${RELEASE_VERSION}\\s+${B}\\s+Idle`));
    expect(got.stdout).toMatch(/NAME\s+NODES\s+READY\s+VERSION\s+NODE VERSIONS\s+MAX SURGE\s+AGE/);
    expect(got.stdout).toMatch(new RegExp(`nodepool\\.coracle\\.io/node\\s+2\\s+2\\s+${RELEASE_VERSION}\\s+${RELEASE_VERSION}=2\\s+10%`));
  }, 60_000);

  it('describe shows the defaulted upgrade settings', async () => {
    const described = await k(['describe', 'nodepool', 'node']);
    expect(described.stderr).toBe('');
    for (const line of [/Max Surge:\s+10%/, /Max Unavailable:\s+0/, /Drain Timeout:\s+30m/, /Node Soak Duration:\s+0s/, /Undrainable Node Behavior:\s+Cordon/]) {
      expect(described.stdout).toMatch(line);
    }
  }, 60_000);

  it('refuses skew with 422: a pool newer than the control plane, a pool three minors behind, a control plane skipping a minor or leaving a pool behind', async () => {
    const newer = await k(['patch', 'nodepool', 'node', '--type=merge', '-p', '{"spec":{"version":"v1.36.0-coracle"}}']);
    expect(newer.code).not.toBe(0);
    expect(newer.stderr).toContain(`The NodePool "node" is invalid: spec.version: Invalid value: "v1.36.0-coracle": a node pool cannot be newer than the control plane (v1.36.0-coracle > ${RELEASE_VERSION})`);
    const old = await k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'NodePool', metadata: { name: 'old' }, spec: { version: 'v1.32.0-coracle' } }));
    expect(old.stderr).toContain(`"old" is invalid: spec.version: Invalid value: "v1.32.0-coracle": a node pool may be at most 2 minor versions behind the control plane (v1.32.0-coracle is 3 behind ${RELEASE_VERSION})`);
    const skip = await k(['patch', 'cluster', 'local', '--type=merge', '-p', '{"spec":{"version":"v1.37.0-coracle"}}']);
    expect(skip.stderr).toContain(`"local" is invalid: spec.version: Invalid value: "v1.37.0-coracle": the control plane moves one minor version at a time: ${RELEASE_VERSION} to v1.37.0-coracle skips 1 minor version(s)`);
    const lagging = await k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'NodePool', metadata: { name: 'lag' }, spec: { version: 'v1.33.0-coracle' } }));
    expect(lagging.code).toBe(0);
    const leaves = await k(['patch', 'cluster', 'local', '--type=merge', '-p', '{"spec":{"version":"v1.36.0-coracle"}}']);
    expect(leaves.stderr).toContain('"local" is invalid: spec.version: Invalid value: "v1.36.0-coracle": node pool lag would be left behind: a node pool may be at most 2 minor versions behind the control plane (v1.33.0-coracle is 3 behind v1.36.0-coracle); upgrade the pool first');
    expect((await k(['delete', 'nodepool', 'lag'])).code).toBe(0);
    expect((await k(['patch', 'cluster', 'local', '--type=merge', '-p', '{"spec":{"version":"v1.36.0-coracle"}}'])).code).toBe(0);
    const verbose = await k(['patch', 'cluster', 'local', '--type=merge', '-p', '{"spec":{"version":"v1.38.0-coracle"}}', '-v=8']);
    expect(verbose.stderr).toMatch(/"Response" status="422 Unprocessable Entity"/);
  }, 60_000);

  it('refuses bad upgrade settings, naming each field', async () => {
    const bad = await k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'NodePool', metadata: { name: 'bad' },
      spec: { version: RELEASE_VERSION, upgradeSettings: { maxSurge: 0, maxUnavailable: 0, drainTimeout: 'soon', undrainableNodeBehavior: 'Ignore' } } }));
    expect(bad.stderr).toContain('spec.upgradeSettings.maxSurge: Invalid value: 0: may not be 0 when maxUnavailable is 0');
    expect(bad.stderr).toContain('spec.upgradeSettings.drainTimeout: Invalid value: "soon": must be a duration such as 30m, 1h or 90s');
    expect(bad.stderr).toContain('spec.upgradeSettings.undrainableNodeBehavior: Unsupported value: "Ignore": supported values: "Cordon", "Schedule"');
  }, 60_000);

  it('can be watched', async () => {
    const watching = k(['get', 'nodepools', '-w', '--output-watch-events', '--request-timeout=6s']);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await k(['patch', 'nodepool', 'node', '--type=merge', '-p', '{"spec":{"upgradeSettings":{"maxSurge":"33%"}}}'])).code).toBe(0);
    const watched = await watching;
    expect(watched.stdout).toMatch(/^ADDED\s+node\s+2\s+2\s+\S+\s+\S+\s+10%/m);
    expect(watched.stdout).toMatch(/^MODIFIED\s+node\s+2\s+2\s+\S+\s+\S+\s+33%/m);
  }, 60_000);
});
