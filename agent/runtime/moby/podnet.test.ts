import { describe, expect, it } from '@jest/globals';
import { chainPrefix } from '../../proxy/rules.js';
import { sandboxConfig } from './containers.js';
import {
  NO_MASQUERADE, podChainJumps, podChainRules, podChains, POD_NETWORK_NAME, podNetworkAction, podNetworkCreateOptions, podNetworkSpec,
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
  it('masquerades only pod traffic leaving the cluster CIDR and lets the cluster\'s traffic into the pods, in chains of their own', () => {
    const chains = podChains('https://cluster.example:6443');
    expect(chains.masquerade).toMatch(/^CRN-[0-9a-f]{6}-MASQ$/);
    expect(chains.forward).toBe(chains.masquerade.replace('MASQ', 'FWD'));
    expect(podChainRules(chains, '10.244.3.0/24', '10.244.0.0/16').split('\n')).toEqual([
      '*nat',
      `:${chains.masquerade} - [0:0]`,
      `-A ${chains.masquerade} -s 10.244.3.0/24 ! -d 10.244.0.0/16 -m comment --comment "pods leaving the cluster CIDR" -j MASQUERADE`,
      'COMMIT',
      '*filter',
      `:${chains.forward} - [0:0]`,
      `-A ${chains.forward} -s 10.244.0.0/16 -d 10.244.3.0/24 -m comment --comment "cluster traffic into the pod CIDR" -j ACCEPT`,
      'COMMIT',
      '',
    ]);
    expect(podChainJumps(chains)).toEqual([['nat', 'POSTROUTING', chains.masquerade], ['filter', 'FORWARD', chains.forward]]);
    expect(() => podChainRules(chains, '10.244.3.0/24', 'ten')).toThrow('cluster CIDR ten: expected an IPv4 CIDR');
  });

  it('are never the node proxy\'s chains (the proxy deletes undeclared chains of its prefix)', () => {
    const cluster = 'https://cluster.example:6443';
    for (const chain of Object.values(podChains(cluster))) {
      expect(chain.startsWith(chainPrefix(cluster))).toBe(false);
      expect(chain.slice(4, 10)).toBe(chainPrefix(cluster).slice(4, 10));
    }
  });
});

describe('sandboxConfig network', () => {
  const pod = { apiVersion: 'v1' as const, kind: 'Pod' as const, metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };
  it('joins the pod network when given one, and leaves the engine default otherwise', () => {
    expect(sandboxConfig('n1', pod, 'img', undefined, 'coracle-pods').HostConfig?.NetworkMode).toBe('coracle-pods');
    expect(sandboxConfig('n1', pod, 'img').HostConfig).not.toHaveProperty('NetworkMode');
  });
});
