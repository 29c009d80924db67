import { describe, expect, it } from '@jest/globals';
import { applyDefaults, imagePullPolicyFor, qosClass } from './defaults.js';

describe('defaults', () => {
  it('pick imagePullPolicy from the tag', () => {
    expect(imagePullPolicyFor('nginx')).toBe('Always');
    expect(imagePullPolicyFor('nginx:latest')).toBe('Always');
    expect(imagePullPolicyFor('nginx:1.27')).toBe('IfNotPresent');
    expect(imagePullPolicyFor('registry:5000/nginx')).toBe('Always');
    expect(imagePullPolicyFor('nginx@sha256:abc')).toBe('IfNotPresent');
  });
  it('compute the QoS class', () => {
    expect(qosClass({ containers: [{}] })).toBe('BestEffort');
    expect(qosClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] })).toBe('Guaranteed');
    expect(qosClass({ containers: [{ resources: { requests: { cpu: '1' } } }] })).toBe('Burstable');
  });
  it('are idempotent', () => {
    const svc: Record<string, unknown> = { spec: { ports: [{ port: 80 }] } };
    applyDefaults('Service', svc);
    const once = structuredClone(svc);
    applyDefaults('Service', svc);
    expect(svc).toEqual(once);
    expect((svc.spec as any).ports[0]).toEqual({ port: 80, protocol: 'TCP', targetPort: 80 });
  });
  it('turn Secret stringData into base64 data', () => {
    const s: Record<string, unknown> = { stringData: { a: 'hi' } };
    applyDefaults('Secret', s);
    expect(s).toEqual({ type: 'Opaque', data: { a: 'aGk=' } });
  });
  it('label namespaces with their name and add the kubernetes finalizer', () => {
    const ns: Record<string, unknown> = { metadata: { name: 'x' } };
    applyDefaults('Namespace', ns);
    expect(ns).toEqual({ metadata: { name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  });
});
