import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, pod, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { createAuditor, type AuditEvent } from './audit.js';
import { parsePolicy } from './policy.js';
import { createAccessControl } from '../rbac/authorizer.js';

// Everything at the highest level: Secrets must still come out at Metadata, without their values.
const EVERYTHING = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n');
const VALUE = 'correct-horse-battery-staple';

let h: Harness;
let events: AuditEvent[];
let send: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

beforeAll(async () => {
  events = [];
  const auditor = createAuditor({ policy: EVERYTHING, sink: { write: (e) => void events.push(e), close: async () => undefined } });
  h = await startApiServer((store) => ({ onRequestFacts: auditor.observe, access: createAccessControl(store) }));
  const handler = auditor.wrap(h.handler);
  send = (method, path, body, headers = {}) => handler(new Request(`https://coracle.test${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'user-agent': 'kubectl/v1.35.0', 'x-forwarded-for': '10.1.2.3', ...headers },
  }));
});
afterAll(() => h.close());

const completed = (verb: string, resource: string) => events.filter((e) => e.stage === 'ResponseComplete' && e.verb === verb && e.objectRef?.resource === resource);

describe('the audit log', () => {
  it('records an impersonated request under the user who sent it, with impersonatedUser', async () => {
    const res = await send('GET', '/api/v1/namespaces/default/configmaps', undefined, { 'impersonate-user': 'jane', 'impersonate-group': 'qa' });
    expect(res.status).toBe(403); // jane holds no role: the request ran as her
    const [event] = completed('list', 'configmaps');
    expect(event.user).toEqual({ username: 'admin', groups: ['system:masters', 'system:authenticated'] });
    expect(event.impersonatedUser).toEqual({ username: 'jane', groups: ['qa', 'system:authenticated'] });
    expect(event.responseStatus?.code).toBe(403);
  });

  it('records who did what with the request and response objects, and answers with the Audit-Id', async () => {
    const res = await send('POST', '/api/v1/namespaces/default/pods', pod('web'), { 'audit-id': 'fixed-audit-id' });
    expect(res.status).toBe(201);
    expect(res.headers.get('audit-id')).toBe('fixed-audit-id');
    const [event] = completed('create', 'pods');
    expect(event).toMatchObject({
      kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'RequestResponse', auditID: 'fixed-audit-id', stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/default/pods', verb: 'create', user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
      sourceIPs: ['10.1.2.3'], userAgent: 'kubectl/v1.35.0', objectRef: { resource: 'pods', namespace: 'default', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 }, requestObject: { kind: 'Pod', metadata: { name: 'web' } },
      responseObject: { kind: 'Pod', metadata: { name: 'web', namespace: 'default' } }, annotations: { 'authorization.k8s.io/decision': 'allow' },
    });
    expect(event!.stageTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(events.filter((e) => e.auditID === 'fixed-audit-id').map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
  });

  it('records failures with their Status', async () => {
    expect((await send('GET', '/api/v1/namespaces/default/pods/missing')).status).toBe(404);
    expect(completed('get', 'pods').at(-1)).toMatchObject({ responseStatus: { code: 404, status: 'Failure', reason: 'NotFound', message: 'pods "missing" not found' }, objectRef: { name: 'missing' } });
    expect((await send('GET', '/api/v1/pods', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(events.at(-1)).toMatchObject({ user: {}, verb: 'get', responseStatus: { code: 401, reason: 'Unauthorized' } });
  });

  it('never records a Secret value, whatever the policy says', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: VALUE } };
    expect((await send('POST', '/api/v1/namespaces/default/secrets', secret)).status).toBe(201);
    expect((await send('GET', '/api/v1/namespaces/default/secrets/db')).status).toBe(200);
    expect((await send('GET', '/api/v1/namespaces/default/secrets')).status).toBe(200);
    expect((await send('PATCH', '/api/v1/namespaces/default/secrets/db', { data: { more: Buffer.from(VALUE).toString('base64') } }, { 'content-type': 'application/merge-patch+json' })).status).toBe(200);
    expect((await send('DELETE', '/api/v1/namespaces/default/secrets/db')).status).toBe(200);
    const secretEvents = events.filter((e) => e.objectRef?.resource === 'secrets');
    expect(secretEvents.filter((e) => e.stage === 'ResponseComplete').map((e) => [e.verb, e.level, e.responseStatus?.code])).toEqual([
      ['create', 'Metadata', 201], ['get', 'Metadata', 200], ['list', 'Metadata', 200], ['patch', 'Metadata', 200], ['delete', 'Metadata', 200],
    ]);
    const all = JSON.stringify(events);
    expect(all).not.toContain(VALUE);
    expect(all).not.toContain(Buffer.from(VALUE).toString('base64'));
  });

  it('records a TokenReview at Metadata only, never the token it reviews nor the user it names', async () => {
    const res = await send('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: TOKEN } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { status: { authenticated: boolean } }).status.authenticated).toBe(true);
    const [event] = completed('create', 'tokenreviews');
    expect([event.level, event.responseStatus?.code, event.requestObject, event.responseObject]).toEqual(['Metadata', 201, undefined, undefined]);
    // The caller's own token is the one reviewed here: it must appear nowhere in the log.
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });
});
