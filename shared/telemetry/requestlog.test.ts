import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { createRequestLog, requestIdOf, type RequestLogLine } from './requestlog.js';

const lines: RequestLogLine[] = [];
const log = createRequestLog((line) => lines.push(line));
let h: Harness;
let serve: (request: Request) => Promise<Response>;

beforeAll(async () => {
  h = await startApiServer({ onRequestFacts: log.observe, tokens: new Map([[TOKEN, { username: 'admin', groups: ['system:masters'] }]]) });
  serve = log.wrap(h.handler);
});
afterAll(async () => { await h.close(); });

const send = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => serve(new Request(`https://coracle.test${path}`, {
  method, body: body === undefined ? undefined : JSON.stringify(body),
  headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
}));

describe('request ids and request log lines', () => {
  it('logs each request once with its id, verb, resource, user, status and latency, and answers the id in Audit-Id', async () => {
    lines.length = 0;
    const created = await send('POST', '/api/v1/namespaces/default/configmaps', { 'user-agent': 'kubectl/v1.35.0' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } });
    expect(created.status).toBe(201);
    const missing = await send('GET', '/api/v1/namespaces/default/configmaps/nope');
    expect(missing.status).toBe(404);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ verb: 'create', resource: 'configmaps', namespace: 'default', user: 'admin', status: 201, userAgent: 'kubectl/v1.35.0', uri: '/api/v1/namespaces/default/configmaps' });
    expect(lines[1]).toMatchObject({ verb: 'get', resource: 'configmaps', name: 'nope', status: 404 });
    expect(lines[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(lines[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[1]!.requestId).not.toBe(lines[0]!.requestId);
    expect(created.headers.get('audit-id')).toBe(lines[0]!.requestId);
  });

  it('honours an incoming Audit-Id or X-Request-Id, but never a malformed one', async () => {
    lines.length = 0;
    expect((await send('GET', '/api/v1/namespaces', { 'x-request-id': 'trace-1234' })).headers.get('audit-id')).toBe('trace-1234');
    expect((await send('GET', '/api/v1/namespaces', { 'audit-id': 'audit-9', 'x-request-id': 'trace-1' })).headers.get('audit-id')).toBe('audit-9');
    const long = await send('GET', '/api/v1/namespaces', { 'x-request-id': 'x'.repeat(500) });
    expect(long.headers.get('audit-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.map((l) => l.requestId).slice(0, 2)).toEqual(['trace-1234', 'audit-9']);
    expect(lines[0]).toMatchObject({ verb: 'list', resource: 'namespaces' });
  });

  it('gives one Request one id, however often it is asked (the audit log and this log agree)', () => {
    const request = new Request('https://coracle.test/api');
    expect(requestIdOf(request)).toBe(requestIdOf(request));
    expect(requestIdOf(new Request('https://coracle.test/api'))).not.toBe(requestIdOf(request));
  });
});
