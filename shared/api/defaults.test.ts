import { describe, expect, it } from '@jest/globals';
import { applyDefaults, DEFAULT_TOLERATION_SECONDS, imagePullPolicyFor, qosClass, setDefaultTolerationSeconds } from './defaults.js';

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

describe('DefaultTolerationSeconds', () => {
  const tolerationsOf = () => {
    const pod: Record<string, any> = { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }] } };
    applyDefaults('Pod', pod);
    return pod.spec.tolerations;
  };
  it('adds the unreachable toleration for the configured seconds, keeping a pod\'s own', () => {
    try {
      setDefaultTolerationSeconds(15);
      expect(tolerationsOf()).toEqual([
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 15 },
      ]);
      expect(() => setDefaultTolerationSeconds(-1)).toThrow(RangeError);
    } finally {
      setDefaultTolerationSeconds(DEFAULT_TOLERATION_SECONDS);
    }
    expect(tolerationsOf()[1].tolerationSeconds).toBe(300);
  });
});
