import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import { nodePoolKeys, poolStatusFrom } from './index.js';

const node = (name: string, version: string, ready = true): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { nodeInfo: { kubeletVersion: version }, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('node pool status', () => {
  it('counts nodes, Ready ones and versions; version only when they agree', () => {
    expect(poolStatusFrom([node('node-1', 'v1.35.0-coracle'), node('node-2', 'v1.35.0-coracle', false)])).toEqual({ nodes: 2, readyNodes: 1, nodeVersions: { 'v1.35.0-coracle': 2 }, version: 'v1.35.0-coracle' });
    expect(poolStatusFrom([node('node-1', 'v1.35.0-coracle'), node('node-4', 'v1.35.1-coracle')])).toEqual({ nodes: 2, readyNodes: 2, nodeVersions: { 'v1.35.0-coracle': 1, 'v1.35.1-coracle': 1 } });
    expect(poolStatusFrom([])).toEqual({ nodes: 0, readyNodes: 0, nodeVersions: {} });
  });

  it('maps a Node change to its pool by name', () => {
    const change = (name: string) => ({ key: '', type: 'put' as const, value: node(name, ''), revision: 1 });
    expect(nodePoolKeys(change('node-3'))).toEqual(['node']);
    expect(nodePoolKeys(change('gpu2-10'))).toEqual(['gpu2']);
    expect(nodePoolKeys(change('worker'))).toEqual([]);
  });

  it('maps a labelled Node (an Azure scale set\'s `<pool><suffix>`) to its label, and a relabelled one to both pools', () => {
    const labelled = (name: string, pool: string): KubeObject => ({ ...node(name, ''), metadata: { name, labels: { 'coracle.io/nodepool': pool } } });
    expect(nodePoolKeys({ key: '', type: 'put', value: labelled('gpu00000a', 'gpu'), revision: 1 })).toEqual(['gpu']);
    expect(nodePoolKeys({ key: '', type: 'put', value: labelled('node-3', 'big'), revision: 2 })).toEqual(['big']);
    expect(nodePoolKeys({ key: '', type: 'put', value: labelled('node-3', 'big'), prevValue: node('node-3', ''), revision: 3 })).toEqual(['big', 'node']);
  });
});
