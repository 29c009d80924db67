import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, pod, deployment, type Harness } from '../../test/support/apiserver.js';

let h: Harness;
beforeAll(async () => { h = await startApiServer(); });
afterAll(async () => { await h.close(); });

describe('create', () => {
  it('creates a pod with system metadata and defaults, 201', async () => {
    const { status, body } = await h.json('POST', '/api/v1/namespaces/default/pods', pod('web-1'));
    expect(status).toBe(201);
    expect(body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.metadata.namespace).toBe('default');
    expect(Number(body.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(body.metadata.generation).toBe(1);
    expect(body.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler', serviceAccountName: 'default', enableServiceLinks: true, priority: 0, securityContext: {} });
    expect(body.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    expect(body.spec.tolerations).toHaveLength(2);
    expect(body.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(body.metadata.managedFields?.[0]).toMatchObject({ manager: 'kubectl', operation: 'Update' });
  });

  it('answers 409 AlreadyExists for a duplicate name', async () => {
    const { status, body } = await h.json('POST', '/api/v1/namespaces/default/pods', pod('web-1'));
    expect(status).toBe(409);
    expect(body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', message: 'pods "web-1" already exists', details: { name: 'web-1', kind: 'pods' } });
  });

  it('generates a name from generateName', async () => {
    const p = pod('');
    (p.metadata as any) = { generateName: 'web-' };
    const { status, body } = await h.json('POST', '/api/v1/namespaces/default/pods', p);
    expect(status).toBe(201);
    expect(body.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('refuses invalid names, labels and missing images with 422 causes', async () => {
    const bad = pod('Bad_Name', { metadata: { name: 'Bad_Name', labels: { 'a b': 'x'.repeat(64) } } });
    (bad.spec as any).containers = [{ name: 'c' }];
    const { status, body } = await h.json('POST', '/api/v1/namespaces/default/pods', bad);
    expect(status).toBe(422);
    expect(body.reason).toBe('Invalid');
    const fields = body.details.causes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['metadata.name', 'metadata.labels', 'spec.containers[0].image']));
    expect(body.message).toMatch(/^Pod "Bad_Name" is invalid: \[/);
  });

  it('answers 404 for a missing namespace', async () => {
    const { status, body } = await h.json('POST', '/api/v1/namespaces/nope/pods', pod('x'));
    expect(status).toBe(404);
    expect(body).toMatchObject({ reason: 'NotFound', message: 'namespaces "nope" not found' });
  });

  it('defaults a deployment and checks its selector', async () => {
    const { status, body } = await h.json('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('api'));
    expect(status).toBe(201);
    expect(body.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
    expect(body.spec.template.spec.containers[0].imagePullPolicy).toBe('Always');
    const bad = deployment('api2');
    (bad.spec as any).template.metadata.labels = { app: 'other' };
    const res = await h.json('POST', '/apis/apps/v1/namespaces/default/deployments', bad);
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0]).toMatchObject({ field: 'spec.template.metadata.labels' });
  });

  it('dryRun=All answers the object without storing it', async () => {
    const { status, body } = await h.json('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' }, data: { a: 'b' } });
    expect(status).toBe(201);
    expect(body.metadata.uid).toBeDefined();
    expect((await h.call('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
  });

  it('fieldValidation Strict refuses unknown and duplicate fields; Warn answers Warning headers', async () => {
    const text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv","name":"fv"},"data":{},"foo":1}';
    const strict = await h.json('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', text);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('strict decoding error: unknown field "foo", duplicate field "name"');
    const warn = await h.json('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', text);
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toContain('299 - "unknown field \\"foo\\""');
    expect(warn.body.foo).toBeUndefined();
  });

  it('refuses malformed JSON (400), huge bodies (413), unknown media types (415), __proto__ (400)', async () => {
    expect((await h.json('POST', '/api/v1/namespaces/default/configmaps', '{"a":')).status).toBe(400);
    const huge = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 1) } };
    const big = await h.json('POST', '/api/v1/namespaces/default/configmaps', huge);
    expect(big.status).toBe(413);
    expect(big.body.reason).toBe('RequestEntityTooLarge');
    const cbor = await h.json('POST', '/api/v1/namespaces/default/configmaps', 'x', { 'content-type': 'application/cbor' });
    expect(cbor.status).toBe(415);
    expect(cbor.body.reason).toBe('UnsupportedMediaType');
    const polluted = await h.json('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p","__proto__":{"polluted":1}}}');
    expect(polluted.status).toBe(400);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('accepts YAML bodies', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n';
    const res = await h.json('POST', '/api/v1/namespaces/default/configmaps', yaml, { 'content-type': 'application/yaml' });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({ k: 'v' });
  });
});
