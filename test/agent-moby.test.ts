/**
 * The agent with the moby runtime end to end: `coracle up --nodes 1 --runtime moby` on a private
 * dockerd. After `kill -9` of the agent, a restarted agent (same node name) adopts the running
 * containers (no duplicates, no restarts) and finishes the delete of a pod deleted while it was
 * down. Restarted as a VM node (`--cluster-cidr`), the agent puts new pods on a bridge of the
 * Node's spec.podCIDR. Skipped, saying why, when no private dockerd can run here.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';
import { dockerUnavailable, startTestDocker, type DockerEnv } from './support/docker.js';
import { POD_NETWORK_NAME } from '../agent/runtime/moby/podnet.js';

jest.setTimeout(180_000);

const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`agent-moby: skipped: ${why}`);

const CLUSTER_CIDR = '10.244.0.0/16';
let docker: DockerEnv;
let cluster: Cluster;
let restarted: ChildProcess | undefined;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function agentPid(node: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.includes('agent') && args.includes(node) && args.includes(cluster.url)) return Number(entry);
  }
  throw new Error(`no agent process for ${node}`);
}

/** containersOf lists the engine's container ids of a pod (running or not). */
async function containersOf(pod: string): Promise<string[]> {
  const list = await docker.docker.listContainers({ all: true, filters: { label: [`io.coracle.pod.name=${pod}`, 'io.coracle.node=node-1'] } });
  return list.map((c) => c.Id).sort();
}

function applyPod(name: string): Promise<KubectlResult> {
  const manifest = JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'coracle/busybox:latest', imagePullPolicy: 'Never', command: ['sh', '-c', 'while true; do sleep 1; done'] }] },
  });
  return kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: manifest });
}

const running = (name: string) => until(`${name} Running`, async () => {
  const p = await json('get', 'pod', name);
  return p.status?.phase === 'Running' && p;
}, 60_000);

beforeAll(async () => {
  if (why) return;
  docker = await startTestDocker();
  cluster = await startCluster({ nodes: 1, extraArgs: ['--runtime', 'moby', '--cluster-cidr', CLUSTER_CIDR], env: { DOCKER_HOST: `unix://${docker.socketPath}` }, timeoutMs: 90_000 });
});

afterAll(async () => {
  if (why) return;
  if (cluster) {
    await run('delete', 'pods', '--all', '--timeout=60s').catch(() => undefined);
    restarted?.kill('SIGTERM');
    if (restarted && restarted.exitCode === null) await new Promise((r) => restarted!.once('exit', r));
    await cluster.destroy();
  }
  await docker?.docker.getNetwork(POD_NETWORK_NAME).remove().catch(() => undefined);
  await docker?.stop();
});

suite('agent on moby', () => {
  it('runs a bound pod as containers, and a restarted agent adopts them and finishes a delete made while it was down', async () => {
    expect((await applyPod('keep')).code).toBe(0);
    expect((await applyPod('drop')).code).toBe(0);
    const keep = await running('keep');
    await running('drop');
    expect(keep.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const keepContainers = await containersOf('keep');
    expect(keepContainers.length).toBeGreaterThanOrEqual(2); // sandbox + main

    process.kill(await agentPid('node-1'), 'SIGKILL');
    // While the agent is down: a graceful delete waits for the node to confirm.
    expect((await run('delete', 'pod', 'drop', '--wait=false')).code).toBe(0);
    expect((await json('get', 'pod', 'drop')).metadata.deletionTimestamp).toBeDefined();

    const token = (await readFile(path.join(cluster.dataDir, 'tokens.csv'), 'utf8')).split('\n').find((l) => l.split(',')[1] === 'system:node:node-1')!.split(',')[0];
    restarted = spawn(process.execPath, [CLI, 'agent', '--node-name', 'node-1', '--server', cluster.url, '--ca-file', path.join(cluster.dataDir, 'ca.crt'), '--runtime', 'moby', '--docker-host', `unix://${docker.socketPath}`,
      // Restarted as a VM node would run: new sandboxes join a bridge of the Node's pod CIDR.
      '--cluster-cidr', CLUSTER_CIDR], {
      env: { ...process.env, CORACLE_AGENT_TOKEN: token }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      restarted!.stdout!.on('data', (d: Buffer) => (out += d.toString()).includes('ready') && resolve());
      restarted!.once('exit', (code) => reject(new Error(`the restarted agent exited ${code}`)));
    });

    await until('drop confirmed deleted', async () => (await run('get', 'pod', 'drop')).code !== 0);
    await until('drop containers removed', async () => (await containersOf('drop')).length === 0);
    // Adopted: the same containers, not restarted, pod still Running.
    expect(await containersOf('keep')).toEqual(keepContainers);
    const after = await json('get', 'pod', 'keep');
    expect(after.status.phase).toBe('Running');
    expect(after.status.containerStatuses[0].restartCount).toBe(0);
    expect(after.metadata.uid).toBe(keep.metadata.uid);
  });

  it('as a VM node (--cluster-cidr), gives a new pod an address from the Node\'s pod CIDR, and cluster DNS answers it', async () => {
    expect(restarted).toBeDefined(); // the agent the previous case restarted with --cluster-cidr
    const podCIDR = (await json('get', 'node', 'node-1')).spec.podCIDR as string;
    expect(podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
    expect((await applyPod('vm')).code).toBe(0);
    const vm = await running('vm');
    expect(vm.status.podIP.split('.').slice(0, 3).join('.')).toBe(podCIDR.split('.').slice(0, 3).join('.'));
    expect(vm.status.podIP).not.toBe(podCIDR.replace('.0/24', '.1')); // the gateway is the node's
    // The node's cluster DNS (on the engine's default bridge) still answers pods on the pod CIDR's bridge.
    const lookup = await until('cluster DNS from the pod CIDR', async () => {
      const r = await run('exec', 'vm', '--', 'nslookup', 'kubernetes.default.svc.cluster.local');
      return r.code === 0 && r.stdout;
    });
    expect(lookup).toMatch(/Address:?\s+\d+\.\d+\.\d+\.\d+/);
  });
});
