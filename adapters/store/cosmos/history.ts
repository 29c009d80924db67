/**
 * Reading the past from the log. Each log item embeds the version it replaced, so the state of a
 * key AT revision R is told by its FIRST change AFTER R (that change's replaced version, or
 * "absent" when that change created the key); a key with no change after R is as its current
 * item says. Compaction may therefore delete every log item at or below the compacted revision,
 * and TTL may expire the oldest ones: reads at R need only the log items above R.
 *
 * Readers read current items FIRST and the log AFTER: a write that lands between the two shows
 * up in the log read, so the merge stays consistent without a snapshot.
 */
import type { KeyValue } from '../../../shared/store/store.js';
import { currentToKeyValue, replacedVersion, type CurrentItem, type LogItem } from './items.js';

/** versionAt is a key's version at `revision` from its current item and its first change after `revision`. */
export function versionAt(current: CurrentItem | undefined, firstChangeAfter: LogItem | undefined, revision: number): KeyValue | undefined {
  if (firstChangeAfter) return replacedVersion(firstChangeAfter);
  if (current && current.modRevision <= revision) return currentToKeyValue(current);
  return undefined;
}

/**
 * mergeAt is the set of keys at `revision`, ordered by key, from the current items and the log
 * items above `revision` (in ascending revision order) of the same key range.
 */
export function mergeAt(currents: CurrentItem[], changesAfter: LogItem[], revision: number): KeyValue[] {
  const byKey = new Map<string, KeyValue>();
  for (const item of currents) {
    if (item.modRevision <= revision) byKey.set(item.key, currentToKeyValue(item));
  }
  const decided = new Set<string>();
  for (const change of changesAfter) {
    if (change.abandoned || change.revision <= revision || decided.has(change.key)) continue;
    decided.add(change.key);
    const version = replacedVersion(change);
    if (version) byKey.set(change.key, version);
    else byKey.delete(change.key);
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
