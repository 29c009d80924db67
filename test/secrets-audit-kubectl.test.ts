/**
 * Secrets encrypted at rest and the audit log, end to end: real kubectl against one `coracle up`.
 * A Secret's value (and its base64) is nowhere in the data folder's files (every byte of every
 * file: the store, its WAL, the journal, the audit log), while a ConfigMap's value is (the search
 * can find plaintext) and the KMS v2 prefix is (the Secrets are there, sealed); kubectl reads the
 * Secrets back; `coracle secrets rotate` re-encrypts every one under a new key while the cluster
 * serves, and they stay readable; a key file that cannot unwrap the data keys makes reads fail with
 * a 500 naming the key, never ciphertext as data; the audit log says who did what to which object
 * and the answer's code, without Secret values. Needs dist/.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl as run, type KubectlResult } from './support/kubectl.js';
import { until } from './support/until.js';

jest.setTimeout(240_000);

let cluster: Cluster;
const kubectl = (args: string[], input?: string): Promise<KubectlResult> => run(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs: 60_000 });
// Values no other file could hold by chance.
const values = Array.from({ length: 5 }, (_, i) => `s${i}-${randomBytes(12).toString('hex')}`);
const configValue = `cm-${randomBytes(12).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

/** filesUnder lists every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** filesHolding names the data folder's files whose bytes contain `needle`. */
async function filesHolding(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(cluster.dataDir)) {
    const bytes = await readFile(file).catch(() => undefined); // a file rotated away meanwhile
    if (bytes?.includes(Buffer.from(needle))) found.push(path.relative(cluster.dataDir, file));
  }
  return found;
}

async function secretValue(ns: string, name: string): Promise<string> {
  const res = await kubectl(['get', 'secret', name, '-n', ns, '-o', 'jsonpath={.data.password}']);
  expect(res).toMatchObject({ code: 0, stderr: '' });
  return Buffer.from(res.stdout, 'base64').toString();
}

async function auditEvents(): Promise<Array<Record<string, any>>> {
  const dir = path.join(cluster.dataDir, 'audit');
  const files = (await readdir(dir)).filter((f) => f.startsWith('audit'));
  const lines = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n').split('\n').filter(Boolean);
  return lines.map((l) => JSON.parse(l));
}

const rotate = promisify(execFile);

test('Secrets are stored encrypted and read back in plain through kubectl', async () => {
  expect((await kubectl(['create', 'namespace', 'vault'])).code).toBe(0);
  expect((await kubectl(['create', 'secret', 'generic', 'db', '-n', 'default', `--from-literal=password=${values[0]}`])).code).toBe(0);
  expect((await kubectl(['create', 'secret', 'generic', 'api', '-n', 'vault', `--from-literal=password=${values[1]}`])).code).toBe(0);
  // apply: the last-applied annotation holds the value too.
  const applied = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied', namespace: 'vault' }, stringData: { password: values[2] } };
  expect((await kubectl(['apply', '-f', '-'], JSON.stringify(applied))).code).toBe(0);
  expect((await kubectl(['create', 'configmap', 'plain', '-n', 'default', `--from-literal=value=${configValue}`])).code).toBe(0);

  expect(await secretValue('default', 'db')).toBe(values[0]);
  expect(await secretValue('vault', 'api')).toBe(values[1]);
  expect(await secretValue('vault', 'applied')).toBe(values[2]);
  const listed = JSON.parse((await kubectl(['get', 'secrets', '-A', '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string }; data?: Record<string, string> }> };
  expect(listed.items.filter((s) => ['db', 'api', 'applied'].includes(s.metadata.name)).map((s) => Buffer.from(s.data!.password!, 'base64').toString()).sort())
    .toEqual([values[0], values[1], values[2]].sort());

  // A watch from before a create carries the new Secret in plain (the watch ends by itself: timeoutSeconds).
  const rv = (await kubectl(['get', 'secrets', '-n', 'vault', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
  expect((await kubectl(['create', 'secret', 'generic', 'watched', '-n', 'vault', `--from-literal=password=${values[4]}`])).code).toBe(0);
  const watched = await kubectl(['get', '--raw', `/api/v1/namespaces/vault/secrets?watch=1&resourceVersion=${rv}&timeoutSeconds=3`]);
  const events = watched.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string }; data?: Record<string, string> } });
  expect(events.filter((e) => e.object.metadata.name === 'watched').map((e) => [e.type, e.object.data?.password])).toEqual([['ADDED', b64(values[4]!)]]);

  // The search finds plaintext where there is some (the ConfigMap, once its write is on disk), and the sealed Secrets.
  await until('the ConfigMap in the data folder', async () => (await filesHolding(configValue)).length > 0, 60_000);
  expect((await filesHolding('k8s:enc:kms:v2:local:')).length).toBeGreaterThan(0);
  for (const v of [...values.slice(0, 3), values[4]!]) {
    expect(await filesHolding(v)).toEqual([]);
    expect(await filesHolding(b64(v))).toEqual([]);
  }
});

test('coracle secrets rotate re-encrypts every Secret under a new key while the cluster serves', async () => {
  const dataDir = ['--data-dir', cluster.dataDir];
  const first = await rotate(process.execPath, [CLI, 'secrets', 'rotate', ...dataDir]);
  const count = Number(/(\d+) Secrets re-encrypted, 0 already under the primary key/.exec(first.stdout)?.[1]);
  expect(first.stdout).toMatch(/^new primary key key-2; /);
  expect(count).toBeGreaterThanOrEqual(3); // ours, and the cluster's own (bootstrap tokens, node credentials)
  for (const [ns, name, v] of [['default', 'db', values[0]], ['vault', 'api', values[1]], ['vault', 'applied', values[2]]] as const) expect(await secretValue(ns, name)).toBe(v);
  // The server wraps new data keys with the new key at once.
  expect((await kubectl(['create', 'secret', 'generic', 'late', '-n', 'vault', `--from-literal=password=${values[3]}`])).code).toBe(0);
  const second = await rotate(process.execPath, [CLI, 'secrets', 'rotate', ...dataDir]);
  expect(second.stdout).toBe(`new primary key key-3; ${count + 1} Secrets re-encrypted, 0 already under the primary key\n`);
  expect(await secretValue('vault', 'late')).toBe(values[3]);
  expect(await secretValue('default', 'db')).toBe(values[0]);
  expect(await filesHolding(values[3])).toEqual([]);
  expect(await filesHolding(b64(values[3]))).toEqual([]);
});

test('a server whose key file cannot unwrap the data keys fails reads loudly, never with ciphertext', async () => {
  const keyFile = path.join(cluster.dataDir, 'encryption-keys.json');
  const saved = `${keyFile}.saved`;
  await copyFile(keyFile, saved);
  // Another cluster's key file: the same key names, other keys. A server keeps the data keys it
  // unwrapped (as KMS v2 does), so it is a server started with this file that meets them.
  const other = { primary: 'key-1', keys: [1, 2, 3].map((n) => ({ id: `key-${n}`, key: randomBytes(32).toString('base64'), created: new Date().toISOString() })) };
  await writeFile(`${keyFile}.other`, JSON.stringify(other), { mode: 0o600 });
  await rename(`${keyFile}.other`, keyFile);
  try {
    await cluster.restart();
    const res = await kubectl(['get', 'secret', 'db', '-n', 'default', '-o', 'json']);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/Error from server \(InternalError\): Internal error occurred: unable to transform key "\/registry\/core\/secrets\/default\/db": the local KMS cannot unwrap its data key with key-encryption key "key-\d"/);
    expect(res.stderr).not.toContain('k8s:enc');
    const listed = await kubectl(['get', 'secrets', '-n', 'vault']);
    expect(listed.stderr).toMatch(/InternalError.*unable to transform key/);
    // A watch (its initial state) ends with an ERROR event carrying the same Status, never the sealed value.
    const watched = await kubectl(['get', '--raw', '/api/v1/namespaces/vault/secrets?watch=1&timeoutSeconds=2']);
    const events = watched.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: Record<string, unknown> });
    expect(events.at(-1)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 500, reason: 'InternalError', message: expect.stringMatching(/^Internal error occurred: unable to transform key "\/registry\/core\/secrets\/vault\//) } });
    expect(events.filter((e) => e.type !== 'ERROR')).toEqual([]);
    expect(watched.stdout).not.toContain('k8s:enc');
  } finally {
    await rename(saved, keyFile);
  }
  // The right file again: the same server reads them (it re-reads a changed key file).
  expect(await secretValue('default', 'db')).toBe(values[0]);
});

test('the audit log records who did what, with the response code, and no Secret value', async () => {
  expect((await kubectl(['get', 'secret', 'missing', '-n', 'default'])).stderr).toContain('NotFound');
  expect((await kubectl(['delete', 'configmap', 'plain', '-n', 'default'])).code).toBe(0);
  const find = (events: Array<Record<string, any>>, verb: string, resource: string, name: string, code: number) =>
    events.find((e) => e.stage === 'ResponseComplete' && e.verb === verb && e.objectRef?.resource === resource && e.objectRef?.name === name && e.responseStatus?.code === code);
  const events = await until('the audit events of this test', async () => {
    const all = await auditEvents();
    return find(all, 'delete', 'configmaps', 'plain', 200) && find(all, 'get', 'secrets', 'missing', 404) ? all : undefined;
  }, 60_000);
  const created = events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'secrets' && e.objectRef?.namespace === 'default' && e.responseStatus?.code === 201);
  expect(created).toMatchObject({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', stage: 'ResponseComplete', verb: 'create',
    requestURI: expect.stringMatching(/^\/api\/v1\/namespaces\/default\/secrets/), user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
    sourceIPs: expect.arrayContaining(['127.0.0.1']), userAgent: expect.stringMatching(/^kubectl\//),
    objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' }, responseStatus: { code: 201 },
  });
  expect(created!.requestObject).toBeUndefined();
  expect(created!.responseObject).toBeUndefined();
  expect(find(events, 'get', 'secrets', 'missing', 404)).toMatchObject({ responseStatus: { reason: 'NotFound', message: 'secrets "missing" not found' }, user: { username: 'admin' } });
  expect(find(events, 'delete', 'configmaps', 'plain', 200)).toMatchObject({ level: 'Metadata', user: { username: 'admin' } });
  expect(events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'namespaces')).toMatchObject({ level: 'RequestResponse', requestObject: { kind: 'Namespace' }, responseObject: { kind: 'Namespace', metadata: { name: 'vault' } } });
  // The default policy leaves out health checks and watches.
  expect(events.filter((e) => e.verb === 'watch' || /^\/(healthz|readyz|livez)/.test(e.requestURI))).toEqual([]);
  const text = JSON.stringify(events);
  for (const v of values) {
    expect(text).not.toContain(v);
    expect(text).not.toContain(b64(v));
  }
});
