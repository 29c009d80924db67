/**
 * The Cosmos DB store's layout versions (shared/store/schema.ts): what each release needs of the
 * container, applied when a store opens, and recorded in a `schema` item of the cluster's
 * partition (id `schema`: the version and who applied each migration). The container's indexing
 * policy is shared by every cluster in it; replacing it is online (Cosmos DB re-indexes in the
 * background, and queries keep working meanwhile, with full scans where the index is not built yet).
 *
 * On Azure the Bicep (infra/modules/cosmos.bicep) declares the same policy, so a deployment of a
 * new release sets it too; a migration here covers the upgrade that only replaces the app's
 * package. An identity without the right to replace the container (data-plane roles only) gets a
 * clear error naming the path to add.
 */
import type { Container, IndexingPolicy } from '@azure/cosmos';
import { RELEASE_VERSION } from '../../../shared/release/version.js';
import { appliedNow, latestVersion, pendingMigrations, type AppliedMigration, type SchemaMigration, type StorageSchema } from '../../../shared/store/schema.js';
import { StoreError } from '../../../shared/store/store.js';
import { STORE_INDEXING_POLICY } from './container.js';
import { COUNTER_ID, type SystemFields } from './items.js';

/** SCHEMA_ID is the id of the item recording a cluster's store layout. */
export const SCHEMA_ID = 'schema';

/** SchemaItem records the layout version of one cluster's partition and its migrations. */
export interface SchemaItem extends SystemFields {
  id: typeof SCHEMA_ID;
  cluster: string;
  type: 'schema';
  version: number;
  migrations: AppliedMigration[];
}

/** NODE_NAME_PATH is the indexed path of a pod's spec.nodeName (ListOptions.fieldEquals). */
const NODE_NAME_PATH = '/value/spec/nodeName/?';

/**
 * COSMOS_MIGRATIONS are the container's layouts, in order. Version 1 is the container as the first
 * releases created it (ensureStoreContainer makes it when absent, so there is nothing to apply).
 */
export const COSMOS_MIGRATIONS: readonly SchemaMigration<Container>[] = [
  {
    version: 1,
    description: 'items of one cluster in one partition (/cluster); counter, current, log and compact items; indexes on type, key and revision with their composite indexes; TTL on (log items expire)',
    apply: () => undefined,
  },
  {
    version: 2,
    description: `the indexing policy also indexes ${NODE_NAME_PATH}: pods by node are read from the index instead of scanning every pod`,
    apply: (container) => ensureIncludedPath(container, NODE_NAME_PATH),
  },
];

/** ensureIncludedPath adds `path` to the container's indexing policy when it lacks it (keeping the rest). */
async function ensureIncludedPath(container: Container, path: string): Promise<void> {
  const { resource } = await container.read();
  if (!resource) throw new StoreError('Unavailable', `container ${container.id} could not be read`);
  const policy: IndexingPolicy = resource.indexingPolicy ?? STORE_INDEXING_POLICY;
  if ((policy.includedPaths ?? []).some((p) => p.path === path)) return;
  const indexingPolicy = { ...policy, includedPaths: [...(policy.includedPaths ?? []), { path }] };
  try {
    await container.replace({ id: resource.id, partitionKey: resource.partitionKey, defaultTtl: resource.defaultTtl, indexingPolicy });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 403) {
      throw new StoreError('Unavailable', `this release needs ${path} in container ${container.id}'s indexing policy and its identity may not change it: redeploy the Bicep (infra/modules/cosmos.bicep) or add the path, then start again`);
    }
    throw err;
  }
}

/**
 * migrateCosmosSchema brings the container to this release's layout for `cluster` and returns the
 * layout as recorded. Two instances opening at once both apply the (idempotent) migrations; the
 * record is written with its etag, and the loser re-reads it. A partition recorded at a newer
 * version is refused (StorageSchemaError), before anything is changed.
 */
export async function migrateCosmosSchema(container: Container, cluster: string, migrations = COSMOS_MIGRATIONS): Promise<StorageSchema> {
  for (let attempt = 1; ; attempt++) {
    const { resource: item, etag } = await container.item(SCHEMA_ID, cluster).read<SchemaItem>();
    const current = item?.version ?? (await hasItems(container, cluster) ? 1 : 0);
    const pending = pendingMigrations(migrations, current, `the Cosmos DB store of cluster ${cluster}`);
    if (item && pending.length === 0) return reportOf(item);
    for (const m of pending) await m.apply(container);
    const next: SchemaItem = { id: SCHEMA_ID, cluster, type: 'schema', version: latestVersion(migrations),
      migrations: [...(item?.migrations ?? []), ...pending.map((m) => appliedNow(m, RELEASE_VERSION))] };
    try {
      if (item && etag) await container.item(SCHEMA_ID, cluster).replace(next, { accessCondition: { type: 'IfMatch', condition: etag } });
      else await container.items.create(next);
      return reportOf(next);
    } catch (err) {
      const code = (err as { code?: number }).code;
      // Another instance recorded first (412: changed since read; 409: created meanwhile): read again.
      if ((code === 412 || code === 409) && attempt < 5) continue;
      throw err;
    }
  }
}

/** hasItems tells whether the cluster's store was ever written (its revision counter exists): one from before schema records is at version 1. */
async function hasItems(container: Container, cluster: string): Promise<boolean> {
  const { resource } = await container.item(COUNTER_ID, cluster).read();
  return resource !== undefined;
}

function reportOf(item: SchemaItem): StorageSchema {
  return { backend: 'cosmos', version: item.version, migrations: item.migrations };
}
