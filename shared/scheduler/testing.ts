/**
 * Builders of Nodes and Pods for scheduler tests and benches: small valid objects with the
 * fields scheduling reads, overridable field by field.
 */
import type { KubeObject } from '../api/objects.js';

/** NodeSpecOptions shape a test node. */
export interface TestNodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  zone?: string;
  ready?: boolean;
  unschedulable?: boolean;
  taints?: Array<{ key: string; value?: string; effect: string }>;
}

/** testNode builds a Ready node `name` (default 4 cpu, 8Gi, 110 pods) with the hostname label. */
export function testNode(name: string, o: TestNodeOptions = {}): KubeObject {
  const allocatable = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {}), ...o.labels } },
    spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

/** TestPodOptions shape a test pod. */
export interface TestPodOptions {
  namespace?: string;
  uid?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  /** The uid of a controller owner (a ReplicaSet). */
  owner?: string;
  phase?: string;
  creationTimestamp?: string;
  /** Merged into spec. */
  spec?: Record<string, unknown>;
}

/** testPod builds a one-container pod `name` requesting `cpu`/`memory` when given. */
export function testPod(name: string, o: TestPodOptions = {}): KubeObject {
  const requests = { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-${name}`, labels: o.labels ?? {},
      creationTimestamp: o.creationTimestamp ?? '2026-01-01T00:00:00Z',
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${o.owner}`, uid: o.owner, controller: true }] } : {}),
    },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
      ...o.spec,
    },
    status: { phase: o.phase ?? 'Pending' },
  };
}
