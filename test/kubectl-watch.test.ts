/**
 * `kubectl get -w` against `coracle up`: the initial list as ADDED, then every later change
 * (ADDED, MODIFIED, DELETED) in order, streamed as it happens.
 */
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl, kubectlPath } from './support/kubectl.js';

jest.setTimeout(60_000);

let cluster: Cluster;
const k = (...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath });

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

/** waitFor polls `check` until it holds (or fails after `ms`). */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('get -w --output-watch-events prints every event in order', async () => {
  await k('create', 'namespace', 'watched');
  await k('create', 'configmap', 'before', '-n', 'watched');
  const child = spawn(kubectlPath(), ['get', 'configmaps', '-n', 'watched', '-w', '--output-watch-events',
    '-o', 'jsonpath={.type} {.object.metadata.name} {.object.metadata.labels.step}{"\\n"}'],
  { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    await waitFor(() => out.includes('ADDED before'));
    await k('create', 'configmap', 'w1', '-n', 'watched');
    await k('label', 'configmap', 'w1', 'step=one', '-n', 'watched');
    await k('label', 'configmap', 'w1', 'step=two', '--overwrite', '-n', 'watched');
    await k('delete', 'configmap', 'w1', '-n', 'watched');
    await waitFor(() => out.includes('DELETED w1'));
    expect(out.split('\n').filter(Boolean).filter((l) => !l.includes('kube-root-ca'))).toEqual([
      'ADDED before ', 'ADDED w1 ', 'MODIFIED w1 one', 'MODIFIED w1 two', 'DELETED w1 two',
    ]);
  } finally {
    child.kill('SIGTERM');
  }
});

test('get -w without events prints the table rows as they change', async () => {
  const child = spawn(kubectlPath(), ['get', 'deployments', '-n', 'watched', '-w'],
    { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    await new Promise((r) => setTimeout(r, 1000)); // let the watch open: nothing prints for an empty list
    await k('create', 'deployment', 'tabled', '--image=busybox', '--replicas=2', '-n', 'watched');
    await waitFor(() => /tabled\s+\d\/2/.test(out));
    expect(out.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
  } finally {
    child.kill('SIGTERM');
  }
});
