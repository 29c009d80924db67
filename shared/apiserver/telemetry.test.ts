import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pod, startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { ApiServerMetrics, requestLabels, withRequestMetrics } from './telemetry.js';
import { withInflightLimit } from './inflight.js';
import { counterValue, parseExposition } from '../../test/support/prometheus.js';

const NODE = 'node-token';
let h: Harness;
let metrics: ApiServerMetrics;
let serve: (request: Request) => Promise<Response>;

beforeAll(async () => {
  metrics = new ApiServerMetrics({ processMetrics: true });
  h = await startApiServer({
    metrics,
    tokens: new Map([[TOKEN, { username: 'admin', groups: ['system:masters'] }], [NODE, { username: 'system:node:n1', groups: ['system:nodes'] }]]),
  });
  // As the composition root wires it: the handler counted, the max-in-flight filter in front reporting its 429s.
  serve = withInflightLimit(withRequestMetrics(h.handler, metrics), undefined, (request) => metrics.refused(request));
});
afterAll(async () => { await h.close(); });

const send = (method: string, path: string, token: string | null = TOKEN, body?: unknown, headers: Record<string, string> = {}) => serve(new Request(`https://coracle.test${path}`, {
  method, body: body === undefined ? undefined : JSON.stringify(body),
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
}));

/** sample reads one sample of the exposition through the registry's own parser-free API (the values prom-client holds). */
async function sample(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  const found = metric.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return found?.value ?? 0;
}

describe('request labels as upstream names them', () => {
  const labels = (method: string, path: string, headers: Record<string, string> = {}) => requestLabels(new Request(`https://x${path}`, { method, headers }), new URL(`https://x${path}`));
  it('splits GET into GET, LIST and WATCH, reports apply patches as APPLY, and names the scope', () => {
    expect(labels('GET', '/api/v1/namespaces/default/pods/p')).toMatchObject({ verb: 'GET', group: '', version: 'v1', resource: 'pods', scope: 'resource' });
    expect(labels('GET', '/api/v1/namespaces/default/pods')).toMatchObject({ verb: 'LIST', scope: 'namespace' });
    expect(labels('GET', '/api/v1/pods?watch=true')).toMatchObject({ verb: 'WATCH', scope: 'cluster' });
    expect(labels('PATCH', '/apis/apps/v1/namespaces/d/deployments/x', { 'content-type': 'application/apply-patch+yaml' })).toMatchObject({ verb: 'APPLY', group: 'apps' });
    expect(labels('PUT', '/api/v1/namespaces/d/pods/p/status')).toMatchObject({ verb: 'PUT', subresource: 'status' });
    expect(labels('DELETE', '/api/v1/namespaces/d/pods')).toMatchObject({ verb: 'DELETECOLLECTION' });
    expect(labels('GET', '/apis')).toMatchObject({ verb: 'GET', resource: '', scope: '' });
    expect(labels('GET', '/no/such/path%ZZ')).toMatchObject({ verb: 'GET', resource: '' });
  });

  it('keeps dry_run to upstream\'s three values, whatever the client sends', () => {
    expect(labels('POST', '/api/v1/namespaces/d/pods?dryRun=All').dry_run).toBe('All');
    expect(labels('POST', '/api/v1/namespaces/d/pods').dry_run).toBe('');
    expect(labels('POST', '/api/v1/namespaces/d/pods?dryRun=anything-at-all').dry_run).toBe('invalid');
  });
});

describe('/metrics', () => {
  it('is 401 without credentials and 403 for a node, as other endpoints', async () => {
    const anonymous = await send('GET', '/metrics', null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
    const node = await send('GET', '/metrics', NODE);
    expect(node.status).toBe(403);
    expect(await node.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
  });

  it('counts requests by verb, resource and code, and times them', async () => {
    const missing = { verb: 'GET', resource: 'configmaps', code: '404' };
    const before = await sample('apiserver_request_total', missing);
    for (let i = 0; i < 3; i++) expect((await send('GET', '/api/v1/namespaces/default/configmaps/none')).status).toBe(404);
    expect((await send('POST', '/api/v1/namespaces/default/pods', TOKEN, pod('p1'))).status).toBe(201);
    expect(await sample('apiserver_request_total', missing)).toBe(before + 3);
    expect(await sample('apiserver_request_total', { verb: 'POST', resource: 'pods', scope: 'namespace', code: '201' })).toBe(1);
    expect(await sample('apiserver_request_duration_seconds', { verb: 'GET', resource: 'configmaps', le: '+Inf' })).toBe(before + 3);
    const scraped = await send('GET', '/metrics');
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await scraped.text());
    expect(families.find((f) => f.name === 'apiserver_request_total')?.type).toBe('COUNTER');
    expect(families.find((f) => f.name === 'apiserver_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(counterValue(families, 'apiserver_request_total', missing)).toBe(before + 3);
    expect(counterValue(families, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('counts the 429s of the max-in-flight filter', async () => {
    const full = withInflightLimit(withRequestMetrics(h.handler, metrics), { readOnly: 0, mutating: 0, nodeHeartbeat: 0, heavyLists: 0, retryAfterSeconds: 1 }, (request) => metrics.refused(request));
    const shed = { verb: 'GET', resource: 'secrets', code: '429' };
    const before = await sample('apiserver_request_total', shed);
    const refused = await full(new Request('https://coracle.test/api/v1/namespaces/default/secrets/s', { headers: { authorization: `Bearer ${TOKEN}` } }));
    expect(refused.status).toBe(429);
    expect(await sample('apiserver_request_total', shed)).toBe(before + 1);
  });

  it('counts an open watch in apiserver_longrunning_requests until it ends', async () => {
    const watching = { verb: 'WATCH', resource: 'pods' };
    const abort = new AbortController();
    const response = await serve(new Request('https://coracle.test/api/v1/namespaces/default/pods?watch=true', { headers: { authorization: `Bearer ${TOKEN}` }, signal: abort.signal }));
    expect(response.status).toBe(200);
    expect(await sample('apiserver_longrunning_requests', watching)).toBe(1);
    await response.body!.cancel();
    abort.abort();
    expect(await sample('apiserver_longrunning_requests', watching)).toBe(0);
  });
});
