/**
 * Compaction and the compacted revision.
 *
 * `compactLog(C)` first records C in the `compact` item (only ever raised), then deletes every
 * log item at or below C: reads at a revision R >= C need only the log above R (history.ts).
 * Readers check compaction AFTER reading, so a read that raced a compaction answers Gone rather
 * than a state with holes.
 *
 * On Cosmos DB, log items also expire by TTL, oldest first (revisions commit in counter order,
 * so `_ts` grows with the revision). The compacted revision therefore is the larger of the
 * recorded one and "one below the oldest log item still there" (the newest revision when the
 * log is empty: nothing older than now can be read).
 */
import type { Container, OperationInput } from '@azure/cosmos';
import { StoreError } from '../../../shared/store/store.js';
import type { CosmosCalls } from './calls.js';
import { executeBatch } from './batch.js';
import { COMPACT_ID, type CompactItem } from './items.js';

const DELETE_BATCH = 100; // Cosmos DB's limit of operations per batch

/** compactionFloor is the revision below which history is gone (see the file header). */
export async function compactionFloor(calls: CosmosCalls, container: Container, cluster: string, newestRevision: () => Promise<number>): Promise<number> {
  const [recorded, oldest, newest] = await Promise.all([
    calls.run(() => container.item(COMPACT_ID, cluster).read<CompactItem>(), true).then((r) => r.resource?.revision ?? 0),
    calls.queryPage<{ revision: number }>(container, cluster, {
      query: "SELECT TOP 1 c.revision FROM c WHERE c.cluster = @cluster AND c.type = 'log' ORDER BY c.revision",
    }, 1).then((page) => page.items[0]?.revision),
    newestRevision(),
  ]);
  const horizon = oldest === undefined ? newest : oldest - 1;
  return Math.max(recorded, horizon);
}

/** compactLog records `revision` as compacted (if higher) and deletes the log at or below it. */
export async function compactLog(calls: CosmosCalls, container: Container, cluster: string, revision: number): Promise<void> {
  await raiseCompactRecord(calls, container, cluster, revision);
  const ids = await calls.queryAll<{ id: string }>(container, cluster, {
    query: "SELECT c.id FROM c WHERE c.cluster = @cluster AND c.type = 'log' AND c.revision <= @rev",
    parameters: [{ name: '@rev', value: revision }],
  });
  for (let i = 0; i < ids.length; i += DELETE_BATCH) {
    const ops: OperationInput[] = ids.slice(i, i + DELETE_BATCH).map(({ id }) => ({ operationType: 'Delete', id }));
    // Not atomic on purpose-free grounds: a deletion that fails (404: expired or deleted by a
    // concurrent compaction) is fine; the next compaction retries whatever is left.
    await executeBatch(calls, container, cluster, ops);
  }
}

async function raiseCompactRecord(calls: CosmosCalls, container: Container, cluster: string, revision: number): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const { resource } = await calls.run(() => container.item(COMPACT_ID, cluster).read<CompactItem>(), true);
    if (resource && resource.revision >= revision) return;
    const body: CompactItem = { id: COMPACT_ID, cluster, type: 'compact', revision };
    try {
      if (resource?._etag) {
        const etag = resource._etag;
        await calls.run(() => container.item(COMPACT_ID, cluster).replace(body, { accessCondition: { type: 'IfMatch', condition: etag } }));
      } else {
        await calls.run(() => container.items.create(body));
      }
      return;
    } catch (err) {
      const status = (err as { code?: number }).code;
      if (status !== 412 && status !== 409) throw err; // another compactor moved it: look again
    }
  }
  throw new StoreError('Unavailable', 'the compacted revision record stayed contended');
}
