/**
 * recordClusterObjects: what `coracle up` writes of the cluster itself once it serves. The
 * Cluster `local` (spec.version, created at this release if absent; status: the release the
 * control plane runs and the catalog's releases it may step to) and, with local nodes, the
 * NodePool `node` (created if absent; status: its nodes' count, readiness and releases as they
 * were at start — the nodepool-status controller keeps them current afterwards).
 */
import type { KubeObject } from '../shared/api/objects.js';
import { isRecord, readMetadata } from '../shared/api/objects.js';
import { ApiError } from '../shared/api/status.js';
import { findResourceByKind } from '../shared/api/resources.js';
import type { ApiClient } from '../shared/controllers/client.js';
import { updateWithRetry } from '../shared/controllers/update.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { CLUSTERS, NODEPOOLS } from '../shared/upgrade/objects.js';
import { availableUpgrades, poolNodes } from '../shared/upgrade/preview.js';

/** CLUSTER_NAME is the local cluster's Cluster object. */
export const CLUSTER_NAME = 'local';

async function createIfAbsent(client: ApiClient, r: typeof CLUSTERS, obj: KubeObject): Promise<KubeObject> {
  // Read first: a create of an object that exists may be refused by admission (422: the version
  // skew against pools an upgrade moved) before the store could answer 409.
  const existing = await client.getOrUndefined(r, { name: String(readMetadata(obj).name) });
  if (existing) return existing;
  try {
    return await client.create(r, obj);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 409) throw err;
    return (await client.getOrUndefined(r, { name: String(readMetadata(obj).name) }))!;
  }
}

/** recordClusterObjects writes the Cluster and the local NodePool (see the file comment). */
export async function recordClusterObjects(client: ApiClient, catalog: readonly string[], pool?: { name: string; count: number }): Promise<void> {
  const cluster = await createIfAbsent(client, CLUSTERS, { apiVersion: 'coracle.io/v1', kind: 'Cluster', metadata: { name: CLUSTER_NAME }, spec: { version: RELEASE_VERSION } });
  // Re-read on a conflict: the cluster-storage controller writes the same status as soon as the Cluster exists.
  await updateWithRetry(client, CLUSTERS, { name: String(readMetadata(cluster).name) }, (c) => {
    c.status = { ...(isRecord(c.status) ? c.status : {}), controlPlaneVersion: RELEASE_VERSION, availableUpgrades: availableUpgrades(catalog, RELEASE_VERSION) };
    return true;
  }, 'status');
  if (!pool) return;
  const np = await createIfAbsent(client, NODEPOOLS, { apiVersion: 'coracle.io/v1', kind: 'NodePool', metadata: { name: pool.name }, spec: { version: RELEASE_VERSION, count: pool.count } });
  const nodes = poolNodes(await client.listAll(findResourceByKind('v1', 'Node')!), pool.name);
  const nodeVersions: Record<string, number> = {};
  let readyNodes = 0;
  for (const n of nodes) {
    const status = (isRecord(n.status) ? n.status : {}) as { nodeInfo?: { kubeletVersion?: string }; conditions?: { type: string; status: string }[] };
    const v = status.nodeInfo?.kubeletVersion ?? 'unknown';
    nodeVersions[v] = (nodeVersions[v] ?? 0) + 1;
    if (status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyNodes++;
  }
  // The nodepool-status controller writes the same status on Node changes: re-read on a conflict.
  let current = np;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.updateStatus(NODEPOOLS, { ...current, status: { ...(isRecord(current.status) ? current.status : {}), nodes: nodes.length, readyNodes, nodeVersions } });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409 && attempt < 5)) throw err;
      current = (await client.getOrUndefined(NODEPOOLS, { name: pool.name })) ?? current;
    }
  }
}
