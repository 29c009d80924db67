/**
 * The cluster storage status controller: keeps each Cluster's `status.storage` (the store's
 * backend, its schema version and the migrations applied to it: shared/store/schema.ts) equal to
 * what this process found when it opened the store — so `kubectl describe cluster` and an
 * upgrade's record show the storage changes a release applied. During a control plane move an
 * instance still on the older release reports an older version: it never writes one lower than
 * the recorded one (the newer release's report wins).
 */
import { deepEqual, isRecord, readMetadata } from '../../api/objects.js';
import type { Controller, ControllerContext } from '../controller.js';
import { CLUSTERS } from '../../upgrade/objects.js';

/** reconcileClusterStorage writes Cluster `key`'s status.storage from the context's report when it differs. */
export async function reconcileClusterStorage(key: string, ctx: ControllerContext): Promise<void> {
  if (!ctx.storage) return;
  const cluster = await ctx.client.getOrUndefined(CLUSTERS, { name: key });
  if (!cluster) return;
  const status = isRecord(cluster.status) ? cluster.status : {};
  const recorded = isRecord(status.storage) ? status.storage : undefined;
  if (recorded && deepEqual(recorded, ctx.storage)) return;
  if (recorded && typeof recorded.version === 'number' && recorded.version > ctx.storage.version) return;
  await ctx.client.updateStatus(CLUSTERS, { ...cluster, status: { ...status, storage: ctx.storage } });
}

/** clusterStorageController is the registry entry. */
export const clusterStorageController: Controller = {
  name: 'cluster-storage',
  kinds: ['Cluster'],
  keysFor: (change) => [String(readMetadata(change.value).name)],
  reconcile: reconcileClusterStorage,
  async resync(ctx) {
    return (await ctx.client.listAll(CLUSTERS)).map((c) => String(readMetadata(c).name));
  },
};
