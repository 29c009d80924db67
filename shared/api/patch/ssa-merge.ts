/**
 * The two object operations server-side apply needs besides field sets: merging an applied
 * configuration into the live object, and removing the fields an applier gave up
 * (structured-merge-diff typed/merge.go and typed/remove.go, restated for decoded JSON).
 */
import { FieldSet, itemPathElement, listKind, ownField } from './fieldset.js';
import { childMeta, type PatchMeta } from './meta.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isEmpty = (v: unknown): boolean => v === undefined || (Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0);

/**
 * mergeApplied merges `config` over `live`: maps merge field by field, list-maps and sets merge by
 * item (keeping live items the config does not name), atomic lists, atomic structs and scalars are
 * replaced. `null` in the config removes the field (a typed decode would drop it too).
 */
export function mergeApplied(live: unknown, config: unknown, meta: PatchMeta | undefined): unknown {
  if (config === undefined) return structuredClone(live);
  if (live === undefined || config === null) return structuredClone(config);
  if (isObject(live) && isObject(config)) {
    if (meta?.mapType === 'atomic' || (isEmpty(live) && isEmpty(config))) return structuredClone(config);
    const out: JsonObject = {};
    for (const key of new Set([...Object.keys(live), ...Object.keys(config)])) {
      const merged = mergeApplied(ownField(live, key), ownField(config, key), childMeta(meta, key));
      if (merged !== undefined && merged !== null) out[key] = merged;
    }
    return out;
  }
  if (Array.isArray(live) && Array.isArray(config) && listKind(meta) !== 'atomic' && !(live.length === 0 && config.length === 0)) {
    return mergeListItems(live, config, meta);
  }
  return structuredClone(config);
}

/**
 * mergeListItems keeps structured-merge-diff's order: live items in their order, with each item the
 * config names merged in place, and the config's new items placed after the shared item they follow.
 */
function mergeListItems(live: unknown[], config: unknown[], meta: PatchMeta | undefined): unknown[] {
  const lPes = live.map((item) => itemPathElement(item, meta));
  const rPes = config.map((item) => itemPathElement(item, meta));
  const lByPe = new Map(lPes.map((pe, i) => [pe, live[i]] as const));
  const rByPe = new Map(rPes.map((pe, i) => [pe, config[i]] as const));
  const sharedOrder = rPes.filter((pe) => lByPe.has(pe));
  let nextShared = sharedOrder.shift();
  const done = new Set<string>();
  const out: unknown[] = [];
  const take = (pe: string): void => {
    done.add(pe);
    out.push(mergeApplied(lByPe.get(pe), rByPe.get(pe), meta));
  };
  let l = 0;
  let r = 0;
  while (l < lPes.length || r < rPes.length) {
    if (l < lPes.length && r < rPes.length && lPes[l] === rPes[r]) {
      if (!done.has(lPes[l]!)) take(lPes[l]!);
      l++;
      r++;
      nextShared = sharedOrder.shift();
      continue;
    }
    if (l < lPes.length) {
      const pe = lPes[l]!;
      if (rByPe.has(pe) && nextShared !== undefined && nextShared !== pe && !done.has(pe)) {
        l++;
        continue;
      }
      if (!rByPe.has(pe)) {
        if (!done.has(pe)) take(pe);
        l++;
        continue;
      }
      if (done.has(pe)) l++;
    }
    if (r < rPes.length) {
      const pe = rPes[r]!;
      if (!done.has(pe)) take(pe);
      r++;
      if (nextShared === pe) nextShared = sharedOrder.shift();
    }
  }
  return out;
}

/** removeFields returns a copy of `value` without every member of `set` (with what lies below it). */
export function removeFields(value: JsonObject, set: FieldSet, meta: PatchMeta | undefined): JsonObject {
  return removeFromMap(value, set, meta);
}

function removeFromMap(value: JsonObject, set: FieldSet, meta: PatchMeta | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    const pe = `f:${key}`;
    if (set.members.has(pe)) continue;
    const sub = set.children.get(pe);
    out[key] = sub ? removeFromValue(child, sub, childMeta(meta, key)) : child;
  }
  return out;
}

function removeFromValue(value: unknown, set: FieldSet, meta: PatchMeta | undefined): unknown {
  if (isObject(value)) return removeFromMap(value, set, meta);
  if (Array.isArray(value) && listKind(meta) !== 'atomic') {
    const out: unknown[] = [];
    for (const item of value) {
      const pe = itemPathElement(item, meta);
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      out.push(sub && isObject(item) ? removeFromMap(item, sub, meta) : item);
    }
    return out;
  }
  return value;
}
