import { describe, expect, it } from '@jest/globals';
import { chainPrefix, renderRules, servicePortRules } from './rules.js';

const svc = (name: string, spec: Record<string, unknown>) => ({ metadata: { namespace: 'ns', name }, spec });
const slice = (service: string, endpoints: unknown[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]) => ({
  metadata: { namespace: 'ns', name: `${service}-x`, labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', endpoints, ports,
});
const ep = (ip: string, conditions: Record<string, boolean>) => ({ addresses: [ip], conditions });

describe('servicePortRules', () => {
  it('sends to ready endpoints only, by port name, and falls back to serving terminating ones when none is ready', () => {
    const services = [svc('web', { type: 'NodePort', clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })];
    const rules = servicePortRules(services, [slice('web', [ep('10.0.0.3', { ready: true }), ep('10.0.0.2', { ready: false, serving: false }), ep('10.0.0.4', { ready: false, serving: true, terminating: true })])]);
    expect(rules).toEqual([{ name: 'ns/web:http', clusterIP: '10.96.0.9', port: 80, nodePort: 30080, protocol: 'tcp', backends: [{ ip: '10.0.0.3', port: 8080 }] }]);
    const draining = servicePortRules(services, [slice('web', [ep('10.0.0.4', { ready: false, serving: true, terminating: true }), ep('10.0.0.5', { ready: false, serving: false, terminating: true })])]);
    expect(draining[0]!.backends).toEqual([{ ip: '10.0.0.4', port: 8080 }]);
  });

  it('gives headless and ExternalName Services no rules', () => {
    expect(servicePortRules([svc('db', { clusterIP: 'None', ports: [{ port: 5432 }] }), svc('ext', { type: 'ExternalName', externalName: 'x.example' })], [])).toEqual([]);
  });
});

describe('renderRules', () => {
  it('spreads over the backends with decreasing probabilities and deletes chains no longer used', () => {
    const prefix = chainPrefix('https://127.0.0.1:6443');
    expect(prefix).toMatch(/^CRC-[0-9a-f]{6}-$/);
    const rules = [{ name: 'ns/web:http', clusterIP: '10.96.0.9', port: 80, nodePort: 30080, protocol: 'tcp' as const, backends: [{ ip: '10.0.0.2', port: 8080 }, { ip: '10.0.0.3', port: 8080 }, { ip: '10.0.0.4', port: 8080 }] }];
    const { text, chains } = renderRules(prefix, rules, [`${prefix}SOLD`]);
    const lines = text.split('\n');
    expect(lines.filter((l) => l.includes('--probability')).map((l) => /--probability (\S+)/.exec(l)![1])).toEqual(['0.3333333333', '0.5000000000']);
    expect(lines.filter((l) => l.includes('DNAT')).map((l) => l.split('--to-destination ')[1])).toEqual(['10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.4:8080']);
    expect(lines).toContain(`-A ${prefix}SVC -d 10.96.0.9/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/web:http" -j ${lines.find((l) => l.includes('--dport 80'))!.split(' -j ')[1]}`);
    expect(lines.some((l) => l.startsWith(`-A ${prefix}NP -p tcp -m tcp --dport 30080`))).toBe(true);
    expect(lines).toContain(`-X ${prefix}SOLD`);
    expect(chains.every((c) => c.startsWith(prefix) && c.length <= 28)).toBe(true);
  });
});
