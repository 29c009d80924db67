/**
 * Node identities end to end, with real kubectl against `coracle up` (no local nodes): an admin
 * creates a bootstrap token with `coracle token create`, an agent started by hand joins with it
 * (`coracle agent --bootstrap-token`) and gets a credential of its own; that credential cannot
 * read another node's pods or a Secret it does not run (403); the bootstrap token itself may do
 * nothing but join (403); the joined node takes its work from the embedded queue with its own
 * credential; `coracle node revoke` gets the node 401 at once; an expired bootstrap
 * token gets 401. Needs dist/ (npm test builds it first).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(120_000);

let cluster: Cluster;
let agent: ChildProcess | undefined;
let agentErr = '';
const credentialFile = () => path.join(cluster.dataDir, 'joined', 'node-credential');

const admin = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
/** as runs kubectl with another bearer token (the admin kubeconfig's server and CA). */
const as = (token: string, ...args: string[]): Promise<KubectlResult> => kubectl([`--token=${token}`, ...args], { kubeconfig: cluster.kubeconfigPath });

/** coracle runs the built CLI and resolves with its exit code and output. */
function coracle(...args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** startJoiningAgent runs `coracle agent --bootstrap-token` and resolves on its ready line (rejects if it exits first). */
function startJoiningAgent(bootstrapToken: string, node: string, file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'agent', '--node-name', node, '--server', cluster.url, '--ca-file', path.join(cluster.dataDir, 'ca.crt'),
    '--runtime', 'simulated', '--bootstrap-token', bootstrapToken, '--credential-file', file, '--queue-url', cluster.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (agentErr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(': ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`agent exited ${code}: ${agentErr}`)));
  });
}

const pod = (name: string, nodeName: string, secret?: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: {
    nodeName, containers: [{ name: 'c', image: 'coracle/busybox', command: ['sleep', '3600'], ...(secret ? { env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] } : {}) }],
  },
});

beforeAll(async () => {
  cluster = await startCluster({ nodes: 0 });
});

afterAll(async () => {
  agent?.kill('SIGTERM');
  await cluster?.destroy();
});

describe('bootstrap tokens and node credentials', () => {
  let bootstrap = '';
  let credential = '';

  it('coracle token create prints a kubeadm-style token, stored hashed and listed', async () => {
    const created = await coracle('token', 'create', '--ttl', '1h', '--description', 'e2e');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    bootstrap = created.stdout.trim();
    expect(bootstrap).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const [id, secret] = bootstrap.split('.') as [string, string];
    const stored = await admin('get', 'secret', '-n', 'kube-system', `bootstrap-token-${id}`, '-o', 'json');
    expect(stored.code).toBe(0);
    const obj = JSON.parse(stored.stdout) as { type: string; data: Record<string, string> };
    expect(obj.type).toBe('bootstrap.kubernetes.io/token');
    const decoded = Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(decoded['token-secret']).toBeUndefined();
    expect(decoded['token-secret-hash']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(decoded)).not.toContain(secret);
    const listed = await coracle('token', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${id}.<hidden>`);
    expect(listed.stdout).toContain('e2e');
  });

  it('the bootstrap token may only join: everything else is 403', async () => {
    for (const args of [['get', 'pods', '-A'], ['get', 'nodes'], ['get', 'secrets', '-n', 'kube-system']]) {
      const r = await as(bootstrap, ...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Forbidden|forbidden/);
      expect(r.stderr).toContain(`system:bootstrap:${bootstrap.slice(0, 6)}`);
    }
  });

  it('an agent started by hand joins with it and keeps a credential of its own', async () => {
    agent = await startJoiningAgent(bootstrap, 'joined', credentialFile());
    credential = (await readFile(credentialFile(), 'utf8')).trim();
    expect(credential).toMatch(/^node:joined:/);
    expect((await stat(credentialFile())).mode & 0o777).toBe(0o600);
    const node = await admin('get', 'node', 'joined', '-o', 'json');
    expect(node.code).toBe(0);
    const self = await as(credential, 'get', 'node', 'joined', '-o', 'jsonpath={.metadata.name}');
    expect(self).toMatchObject({ code: 0, stdout: 'joined' });
    // The credential Secret holds a hash only.
    const stored = JSON.parse((await admin('get', 'secret', '-n', 'kube-system', 'node-credential-joined', '-o', 'json')).stdout) as { data: Record<string, string> };
    expect(Buffer.from(stored.data['token-hash']!, 'base64').toString()).toMatch(/^sha256:/);
    expect(JSON.stringify(stored)).not.toContain(credential.split(':')[2]);
  });

  it('the joined node cannot read another node\'s pods or a Secret it does not run (403)', async () => {
    expect((await admin('create', 'secret', 'generic', 'mine', '--from-literal=k=v')).code).toBe(0);
    expect((await admin('create', 'secret', 'generic', 'theirs', '--from-literal=k=v')).code).toBe(0);
    for (const [name, node, secret] of [['on-joined', 'joined', 'mine'], ['on-other', 'other', 'theirs']] as const) {
      const r = await kubectl(['create', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: pod(name, node, secret) });
      expect(r.stderr).toBe('');
    }
    expect((await as(credential, 'get', 'pod', 'on-joined', '-o', 'name')).stdout.trim()).toBe('pod/on-joined');
    // The joined node takes its work from the embedded queue with its own credential, and runs the pod.
    const deadline = Date.now() + 30_000;
    let phase = '';
    while (phase !== 'Running' && Date.now() < deadline) {
      phase = (await admin('get', 'pod', 'on-joined', '-o', 'jsonpath={.status.phase}')).stdout;
      if (phase !== 'Running') await new Promise((r) => setTimeout(r, 250));
    }
    expect(phase).toBe('Running');
    expect((await as(credential, 'get', 'secret', 'mine', '-o', 'name')).stdout.trim()).toBe('secret/mine');
    for (const args of [['get', 'pod', 'on-other'], ['get', 'secret', 'theirs'], ['get', 'pods', '-A'], ['get', 'secret', '-n', 'kube-system', 'node-credential-joined']]) {
      const r = await as(credential, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Forbidden');
      expect(r.stderr).toContain('User "system:node:joined"');
    }
  });

  it('a joining node may not take a Ready node\'s name (409)', async () => {
    const other = await coracle('token', 'create', '--ttl', '10m');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'agent', '--node-name', 'joined', '--server', cluster.url, '--ca-file', path.join(cluster.dataDir, 'ca.crt'),
        '--runtime', 'simulated', '--bootstrap-token', other.stdout.trim(), '--credential-file', path.join(cluster.dataDir, 'impostor', 'cred')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a Node with name "joined" and status "Ready" already exists');
    expect((await as(credential, 'get', 'node', 'joined', '-o', 'name')).code).toBe(0);
  });

  it('coracle node revoke gets the node 401 at once', async () => {
    const revoked = await coracle('node', 'revoke', 'joined');
    expect(revoked).toMatchObject({ code: 0 });
    const r = await as(credential, 'get', 'node', 'joined');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Unauthorized');
  });

  it('an expired bootstrap token gets 401, and a deleted one too', async () => {
    const short = (await coracle('token', 'create', '--ttl', '1s')).stdout.trim();
    expect(short).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await as(short, 'get', '--raw', '/api');
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain('Unauthorized');
    const deleted = await coracle('token', 'delete', bootstrap);
    expect(deleted.code).toBe(0);
    const gone = await as(bootstrap, 'get', '--raw', '/api');
    expect(gone.stderr).toContain('Unauthorized');
    expect((await coracle('token', 'list')).stdout).not.toContain(`${bootstrap.slice(0, 6)}.<hidden>`);
  });
});
