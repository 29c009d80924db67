import { describe, expect, it } from '@jest/globals';
import { chainPrefix } from '../../proxy/rules.js';
import { sandboxConfig } from './containers.js';
import {
  masqueradeChain, masqueradeRules, NO_MASQUERADE, POD_NETWORK_NAME, podNetworkAction, podNetworkCreateOptions, podNetworkSpec,
} from './podnet.js';

describe('podNetworkSpec', () => {
  it('is a bridge of the pod CIDR with its first address as gateway, the CIDR made canonical', () => {
    expect(podNetworkSpec('10.244.3.0/24')).toEqual({ name: POD_NETWORK_NAME, subnet: '10.244.3.0/24', gateway: '10.244.3.1' });
    expect(podNetworkSpec('10.244.3.77/26')).toEqual({ name: POD_NETWORK_NAME, subnet: '10.244.3.64/26', gateway: '10.244.3.65' });
  });

  it('refuses what is not an IPv4 CIDR with room for pods', () => {
    expect(() => podNetworkSpec('fd00::/64')).toThrow('pod CIDR fd00::/64: expected an IPv4 CIDR of at most /30');
    expect(() => podNetworkSpec('10.244.3.0/31')).toThrow('at most /30');
  });

  it('creates the network with Docker\'s masquerading off', () => {
    const options = podNetworkCreateOptions(podNetworkSpec('10.244.3.0/24'));
    expect(options).toMatchObject({
      Name: 'coracle-pods', Driver: 'bridge',
      IPAM: { Config: [{ Subnet: '10.244.3.0/24', Gateway: '10.244.3.1' }] },
      Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
    });
  });
});

describe('podNetworkAction', () => {
  const want = podNetworkSpec('10.244.3.0/24');
  const noMasq = { [NO_MASQUERADE]: 'false' };
  it('creates a missing network, keeps a matching one', () => {
    expect(podNetworkAction(undefined, want)).toBe('create');
    expect(podNetworkAction({ subnets: ['10.244.3.0/24'], options: noMasq }, want)).toBe('keep');
  });

  it('recreates one of another subnet, or one Docker masquerades on', () => {
    expect(podNetworkAction({ subnets: ['10.244.9.0/24'], options: noMasq }, want)).toBe('recreate');
    expect(podNetworkAction({ subnets: ['10.244.3.0/24', '10.244.4.0/24'], options: noMasq }, want)).toBe('recreate');
    expect(podNetworkAction({ subnets: ['10.244.3.0/24'], options: {} }, want)).toBe('recreate');
    expect(podNetworkAction({ subnets: ['10.244.3.0/24'], options: { [NO_MASQUERADE]: 'true' } }, want)).toBe('recreate');
  });
});

describe('masqueradeRules', () => {
  it('masquerades only pod traffic leaving the cluster CIDR, in a chain of its own', () => {
    const chain = masqueradeChain('https://cluster.example:6443');
    expect(chain).toMatch(/^CRN-[0-9a-f]{6}-MASQ$/);
    expect(masqueradeRules(chain, '10.244.3.0/24', '10.244.0.0/16').split('\n')).toEqual([
      '*nat',
      `:${chain} - [0:0]`,
      `-A ${chain} -s 10.244.3.0/24 ! -d 10.244.0.0/16 -m comment --comment "pods leaving the cluster CIDR" -j MASQUERADE`,
      'COMMIT',
      '',
    ]);
    expect(() => masqueradeRules(chain, '10.244.3.0/24', 'ten')).toThrow('cluster CIDR ten: expected an IPv4 CIDR');
  });

  it('is never one of the node proxy\'s chains (the proxy deletes undeclared chains of its prefix)', () => {
    const cluster = 'https://cluster.example:6443';
    expect(masqueradeChain(cluster).startsWith(chainPrefix(cluster))).toBe(false);
    expect(masqueradeChain(cluster).slice(4, 10)).toBe(chainPrefix(cluster).slice(4, 10));
  });
});

describe('sandboxConfig network', () => {
  const pod = { apiVersion: 'v1' as const, kind: 'Pod' as const, metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };
  it('joins the pod network when given one, and leaves the engine default otherwise', () => {
    expect(sandboxConfig('n1', pod, 'img', undefined, 'coracle-pods').HostConfig?.NetworkMode).toBe('coracle-pods');
    expect(sandboxConfig('n1', pod, 'img').HostConfig).not.toHaveProperty('NetworkMode');
  });
});
