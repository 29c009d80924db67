/**
 * OpenTelemetry export to Azure Monitor, for real: the Azure Monitor distro and its exporter send
 * to a connection string whose IngestionEndpoint is an HTTPS server in this test (the exporter
 * only speaks HTTPS; the process trusts the test's CA through NODE_EXTRA_CA_CERTS), which keeps
 * the Application Insights envelopes it receives. The exporting side runs in a child Node process
 * built from `dist/` (the OpenTelemetry SDK registers process globals that jest's module sandbox
 * does not share), with the API server, the request log and the exporter wired as the host wires
 * them. No cluster: a few seconds of CI time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createCertificateAuthority, createServingCertificate } from '../cli/pki.js';

interface Envelope {
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: { name?: string; responseCode?: string; properties?: Record<string, string> } };
}

const REPO = path.resolve(import.meta.dirname, '..');
const received: Envelope[] = [];
let ingestion: Server;
let dir: string;
let caFile: string;

/** The exporting process: one API request through the request log, with the exporter started first, then a clean shutdown (which flushes). */
const CHILD = `
const dist = (p) => import(${JSON.stringify(path.join(REPO, 'dist'))} + '/' + p);
const { startAzureMonitor } = await dist('adapters/telemetry/azuremonitor.js');
const telemetry = await startAzureMonitor(process.env.APPLICATIONINSIGHTS_CONNECTION_STRING, { tracesPerSecond: 0 });
const { openSqliteStore } = await dist('adapters/store/sqlite/index.js');
const { createApiServer } = await dist('shared/apiserver/index.js');
const { createRequestLog } = await dist('shared/telemetry/requestlog.js');
const store = await openSqliteStore({ path: ':memory:' });
const log = createRequestLog(() => undefined);
const serve = log.wrap(createApiServer({ store, tokens: new Map([['t', { username: 'admin', groups: ['system:masters'] }]]), onRequestFacts: log.observe }));
const response = await serve(new Request('https://coracle.test/api/v1/namespaces/default/configmaps', {
  method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json', 'x-request-id': 'trace-me-1' },
  body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exported' } }),
}));
console.log('status', response.status, response.headers.get('audit-id'));
await telemetry.shutdown();
await store.close();
`;

function runChild(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-appinsights-'));
  const ca = createCertificateAuthority('ingestion-test-ca');
  caFile = path.join(dir, 'ca.crt');
  await writeFile(caFile, ca.cert);
  ingestion = createServer(createServingCertificate(ca, ['127.0.0.1'], 'ingestion'), (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      if (req.method === 'POST' && (req.url ?? '').endsWith('/track')) {
        const body = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8').trim();
        received.push(...(text.startsWith('[') ? JSON.parse(text) as Envelope[] : text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Envelope)));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => ingestion?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('OpenTelemetry export to Azure Monitor (Application Insights)', () => {
  it('sends each API request as an Application Insights request named as Kubernetes names it, with its request id', async () => {
    const port = (ingestion.address() as AddressInfo).port;
    const { code, out } = await runChild({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://127.0.0.1:${port}/`,
      NODE_EXTRA_CA_CERTS: caFile,
      // No statsbeat to Microsoft's own hosts (unreachable here): only what the customer's resource receives.
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
    });
    expect([code, out]).toEqual([0, expect.stringContaining('status 201 trace-me-1')]);
    const requests = received.filter((e) => e.data?.baseType === 'RequestData');
    const request = requests.find((e) => e.data?.baseData?.properties?.['coracle.request_id'] === 'trace-me-1');
    expect(request?.data?.baseData).toMatchObject({ name: 'create configmaps', responseCode: '201' });
    expect(request?.data?.baseData?.properties).toMatchObject({ 'k8s.namespace.name': 'default', 'k8s.resource': 'configmaps' });
    // The user (OpenTelemetry's enduser.id) becomes the envelope's authenticated user tag.
    expect(request?.tags).toMatchObject({ 'ai.user.authUserId': 'admin' });
    // The distro's standard metrics go out too.
    expect(received.some((e) => e.data?.baseType === 'MetricData')).toBe(true);
  }, 120_000);
});
