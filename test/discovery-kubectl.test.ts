/**
 * Real kubectl v1.35 against the discovery and OpenAPI handlers, served over HTTPS by a tiny server
 * made here. Only discovery/OpenAPI are the code under test; the pod list is a fake that lives in
 * this file (answered as a server-side Table through toTable).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { serveDiscovery } from '../shared/apiserver/discovery.js';
import { RESOURCES, groupVersion } from '../shared/api/resources.js';
import { toTable } from '../shared/api/tables.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

const TOKEN = 'discovery-test-token';

function selfSigned(): { key: string; cert: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: 'commonName', value: 'coracle-discovery-test' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

const pods = [{
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', uid: 'u1', creationTimestamp: new Date(Date.now() - 3_600_000).toISOString() },
  spec: { nodeName: 'node-a', containers: [{ name: 'web', image: 'busybox' }] },
  status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }] },
}];

/** fakeRest answers `GET /api/v1/namespaces/default/pods` only: enough for `kubectl get pods`. */
function fakeRest(url: URL, accept: string): Response {
  if (url.pathname === '/api/v1/namespaces/default/pods') {
    if (accept.includes('as=Table')) {
      const table = toTable(RESOURCES.find((r) => r.plural === 'pods')!, pods, { wide: true, includeObject: 'Metadata', listMeta: { resourceVersion: '7' } });
      return Response.json(table, { headers: { 'Content-Type': 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    }
    return Response.json({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: pods });
  }
  return Response.json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }, { status: 404 });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  let response: Response;
  if (headers.get('authorization') !== `Bearer ${TOKEN}`) {
    response = Response.json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }, { status: 401 });
  } else {
    const request = new Request(url, { method: req.method, headers });
    response = (await serveDiscovery(request, url)) ?? fakeRest(url, headers.get('accept') ?? '');
  }
  const out: Record<string, string> = {};
  response.headers.forEach((value, key) => (out[key] = value));
  res.writeHead(response.status, out);
  res.end(Buffer.from(await response.arrayBuffer()));
}

let server: Server;
let dir: string;
let kubeconfig: string;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig });

beforeAll(async () => {
  const { key, cert } = selfSigned();
  server = createServer({ key, cert }, (req, res) => void handle(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'coracle-discovery-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', '- name: test', '  cluster:', `    server: https://127.0.0.1:${port}`,
    `    certificate-authority-data: ${Buffer.from(cert).toString('base64')}`,
    'users:', '- name: admin', '  user:', `    token: ${TOKEN}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: admin', '    namespace: default', '',
  ].join('\n'));
}, 60_000);

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against discovery', () => {
  test('api-resources lists every served kind with its short names and scope', async () => {
    const r = await run('api-resources', '--no-headers=false');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/);
    for (const res of RESOURCES) {
      const line = lines.find((l) => l.split(/\s+/)[0] === res.plural && l.includes(groupVersion(res)));
      expect(line).toBeDefined();
      const cells = line!.trim().split(/\s+/);
      if (res.shortNames.length > 0) expect(cells[1]).toBe(res.shortNames.join(','));
      expect(cells).toContain(String(res.namespaced));
      expect(cells.at(-1)).toBe(res.kind);
    }
    expect(lines.length - 1).toBe(RESOURCES.length);
  }, 60_000);

  test('api-versions lists each served group version', async () => {
    const r = await run('api-versions');
    expect(r.code).toBe(0);
    const expected = [...new Set(RESOURCES.map(groupVersion))].sort();
    expect(r.stdout.trim().split('\n').sort()).toEqual(expected);
  }, 60_000);

  test('version reports the server as v1.35', async () => {
    const r = await run('version', '-o', 'json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    expect(info.serverVersion).toMatchObject({ major: '1', minor: '35', gitVersion: 'v1.35.0-coracle' });
    expect(r.stderr).not.toMatch(/WARNING/);
  }, 60_000);

  test('explain prints descriptions from the OpenAPI v3 documents', async () => {
    const containers = await run('explain', 'pods.spec.containers');
    expect(containers.stderr).toBe('');
    expect(containers.code).toBe(0);
    expect(containers.stdout).toMatch(/KIND:\s+Pod/);
    expect(containers.stdout).toMatch(/FIELD:\s+containers <\[\]Container>/);
    expect(containers.stdout).toContain('List of containers belonging to the pod.');
    expect(containers.stdout).toMatch(/image\s+<string>/);

    const strategy = await run('explain', 'deployment.spec.strategy');
    expect(strategy.code).toBe(0);
    expect(strategy.stdout).toMatch(/GROUP:\s+apps/);
    expect(strategy.stdout).toContain('The deployment strategy to use to replace existing pods with new ones.');
    expect(strategy.stdout).toMatch(/type\s+<string>/);
    expect(strategy.stdout).toContain('Recreate');

    const surge = await run('explain', 'deployment.spec.strategy.rollingUpdate.maxSurge');
    expect(surge.stdout).toMatch(/FIELD:\s+maxSurge <IntOrString>/);
    const limits = await run('explain', 'pods.spec.containers.resources.limits');
    expect(limits.stdout).toMatch(/FIELD:\s+limits <map\[string\]Quantity>/);
    const created = await run('explain', 'pods.metadata.creationTimestamp');
    expect(created.stdout).toMatch(/FIELD:\s+creationTimestamp <string>/);
  }, 60_000);

  test('explain knows every served kind', async () => {
    for (const res of RESOURCES) {
      const r = await run('explain', res.plural, '--api-version', groupVersion(res));
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`KIND:\\s+${res.kind}\\n`));
      expect(r.stdout).toMatch(/metadata\s+<ObjectMeta>/);
    }
  }, 120_000);

  test('create --validate=strict learns from OpenAPI v3 that the server validates fields', async () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: c\n    image: busybox\n    bogus: 1\n';
    const r = await kubectl(['create', '-f', '-', '--dry-run=client', '--validate=strict', '-o', 'name', '-v=6', `--cache-dir=${join(dir, 'validate-cache')}`],
      { kubeconfig, input: pod });
    expect(r.stderr).toMatch(/url="https:\/\/127\.0\.0\.1:\d+\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+[^"]*" status="200 OK"/);
    // kubectl leaves strict validation to a server whose PATCH takes fieldValidation, so it does not fail here.
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('pod/x');
  }, 60_000);

  test('get pods uses aggregated discovery and the server-side table', async () => {
    const wide = await run('get', 'pods', '-o', 'wide');
    expect(wide.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    expect(wide.stdout).toMatch(/web-1\s+1\/1\s+Running\s+0\s+60m\s+10\.0\.0\.5\s+node-a\s+<none>\s+<none>/);
    // A fresh discovery cache, so kubectl really discovers.
    const r = await run('get', 'pods', '-v=8', `--cache-dir=${join(dir, 'fresh-cache')}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(r.stdout).toMatch(/web-1\s+1\/1\s+Running\s+0\s+60m/);
    expect(r.stderr).toMatch(/verb="GET" url="https:\/\/127\.0\.0\.1:\d+\/api(\?[^"]*)?"/);
    expect(r.stderr).toContain('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(r.stderr).not.toMatch(/fall(ing)? ?back|failed to|couldn't get|unable to/i);
    // With aggregated discovery, kubectl never asks the per-group-version lists.
    expect(r.stderr).toMatch(/verb="GET" url="https:\/\/127\.0\.0\.1:\d+\/apis(\?[^"]*)?"/);
    expect(r.stderr).not.toMatch(/url="https:\/\/127\.0\.0\.1:\d+\/apis\/apps\/v1(\?[^"]*)?"/);
  }, 60_000);
});
