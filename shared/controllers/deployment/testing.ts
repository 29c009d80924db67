/**
 * Builders for the Deployment controller's unit tests: Deployments and ReplicaSets as plain
 * objects with just the fields the decisions read.
 */
import type { KubeObject } from '../../api/objects.js';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION } from './util.js';

/** DeploymentFixture are the knobs of fakeDeployment. */
export interface DeploymentFixture {
  replicas?: number;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  strategy?: 'RollingUpdate' | 'Recreate';
  paused?: boolean;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  generation?: number;
  image?: string;
  annotations?: Record<string, string>;
  status?: Record<string, unknown>;
}

/** fakeDeployment builds a Deployment `web` (selector app=web). */
export function fakeDeployment(f: DeploymentFixture = {}): KubeObject {
  const strategy = f.strategy === 'Recreate' ? { type: 'Recreate' }
    : { type: 'RollingUpdate', rollingUpdate: { maxSurge: f.maxSurge ?? '25%', maxUnavailable: f.maxUnavailable ?? '25%' } };
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: f.generation ?? 1, annotations: f.annotations ?? {} },
    spec: {
      replicas: f.replicas ?? 3, selector: { matchLabels: { app: 'web' } }, strategy, paused: f.paused,
      progressDeadlineSeconds: f.progressDeadlineSeconds ?? 600, revisionHistoryLimit: f.revisionHistoryLimit ?? 10,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: f.image ?? 'coracle/web:v1' }] } },
    },
    status: f.status ?? {},
  };
}

/** ReplicaSetFixture are the knobs of fakeReplicaSet. */
export interface ReplicaSetFixture {
  replicas: number;
  /** status.replicas (default: replicas). */
  current?: number;
  ready?: number;
  /** status.availableReplicas (default: ready, else current). */
  available?: number;
  revision?: number;
  /** Seconds after 2026-05-01T10:00:00Z. */
  createdAt?: number;
  desired?: number;
  max?: number;
  image?: string;
  annotations?: Record<string, string>;
  generation?: number;
  observedGeneration?: number;
}

/** fakeReplicaSet builds a ReplicaSet `name` owned by fakeDeployment's Deployment. */
export function fakeReplicaSet(name: string, f: ReplicaSetFixture): KubeObject {
  const annotations: Record<string, string> = { ...f.annotations };
  if (f.revision !== undefined) annotations[REVISION_ANNOTATION] = String(f.revision);
  if (f.desired !== undefined) annotations[DESIRED_REPLICAS_ANNOTATION] = String(f.desired);
  if (f.max !== undefined) annotations[MAX_REPLICAS_ANNOTATION] = String(f.max);
  const current = f.current ?? f.replicas;
  const ready = f.ready ?? current;
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: 'default', uid: `${name}-uid`, generation: f.generation ?? 1, annotations,
      creationTimestamp: new Date(Date.parse('2026-05-01T10:00:00Z') + (f.createdAt ?? 0) * 1000).toISOString().replace('.000Z', 'Z'),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
    },
    spec: {
      replicas: f.replicas, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: f.image ?? 'coracle/web:v1' }] } },
    },
    status: { replicas: current, readyReplicas: ready, availableReplicas: f.available ?? ready, observedGeneration: f.observedGeneration ?? f.generation ?? 1 },
  };
}
