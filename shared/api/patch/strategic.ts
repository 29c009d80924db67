/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), applied as
 * k8s.io/apimachinery/pkg/util/strategicpatch applies it on the server (`StrategicMergeMapPatch`
 * with MergeParallelList and IgnoreUnmatchedNulls): maps merge and `null` deletes; lists whose field
 * declares `patchStrategy: merge` merge (maps by `patchMergeKey`, primitives as a union), other lists
 * are replaced; the directives `$patch` (replace/delete/merge), `$retainKeys`,
 * `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>` are honoured. Element order
 * follows Kubernetes: `$setElementOrder`, then the patch's order, then the live order.
 */
import { ApiError } from '../status.js';
import { assertNoForbiddenKeys, goFormat, patchBadRequest, patchInternal, patchRejected } from './errors.js';
import { childMeta, hasStrategy, type PatchMeta } from './meta.js';

type JsonObject = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

// mergepatch's sentinel errors, with the HTTP classes patch.go gives them.
const errBadPrimitiveList = (): ApiError => patchBadRequest('invalid patch format of primitive list');
const errBadRetainKeys = (): ApiError => patchBadRequest('invalid patch format of retainKeys');
const errBadSetElementOrder = (): ApiError => patchBadRequest('invalid patch format of setElementOrder list');
const errNoListOfLists = (): ApiError => patchRejected('lists of lists are not supported');
const errNoMergeKey = (m: unknown, key: string): ApiError =>
  patchInternal(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadPatchType = (t: unknown, m: unknown): ApiError => patchInternal(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

type Kind = 'map' | 'list' | 'scalar';
function kindOf(value: unknown): Kind {
  if (Array.isArray(value)) return 'list';
  return isObject(value) ? 'map' : 'scalar';
}

/**
 * strategicMergePatch applies `patch` to a copy of `original`, reading merge keys and strategies
 * from `meta` (undefined: every list is replaced). Throws ApiError as Kubernetes classifies failures.
 */
export function strategicMergePatch(original: JsonObject, patch: unknown, meta: PatchMeta | undefined): JsonObject {
  if (!isObject(patch)) throw patchBadRequest('invalid JSON document');
  assertNoForbiddenKeys(patch);
  return mergeMap(structuredClone(original), structuredClone(patch), meta);
}

/** cleanNew strips directives and nulls from a value taken whole from the patch (typed decoding drops them in Kubernetes). */
function cleanNew(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((item) => !(isObject(item) && item[DIRECTIVE] === 'delete')).map(cleanNew);
  }
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null || key.startsWith('$')) continue;
    out[key] = cleanNew(child);
  }
  return out;
}

function mergeMap(original: JsonObject | undefined, patch: JsonObject, meta: PatchMeta | undefined): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return cleanNew(patch) as JsonObject;
    }
    if (directive === 'delete') return {};
    // Kubernetes rejects `$patch: merge` on a map; merging is the default, so it is accepted here as a no-op.
    if (directive !== 'merge') throw errBadPatchType(directive, patch);
    delete patch[DIRECTIVE];
  }
  const target = original ?? {};
  applyRetainKeys(target, patch);
  mergeSetElementOrder(target, patch, meta);
  for (const [rawKey, patchValue] of Object.entries(patch)) {
    let key = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`) || rawKey === DELETE_FROM_PRIMITIVE_LIST) {
      key = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
      if (!Array.isArray(patchValue)) throw errBadPrimitiveList();
    }
    if (patchValue === null) {
      delete target[key];
      continue;
    }
    if (!Object.hasOwn(target, key)) {
      // Deleting from a list that is not there deletes nothing.
      if (!isDeleteList) target[key] = cleanNew(patchValue);
      continue;
    }
    const current = target[key];
    const kind = kindOf(current);
    if (kind !== kindOf(patchValue)) {
      target[key] = cleanNew(patchValue);
      continue;
    }
    const fieldMeta = childMeta(meta, key);
    if (kind === 'map') {
      target[key] = hasStrategy(fieldMeta, 'replace') ? cleanNew(patchValue) : mergeMap(current as JsonObject, patchValue as JsonObject, fieldMeta);
    } else if (kind === 'list') {
      target[key] = mergeListField(current as unknown[], patchValue as unknown[], fieldMeta, isDeleteList);
    } else {
      target[key] = patchValue;
    }
  }
  return target;
}

function mergeListField(original: unknown[], patch: unknown[], meta: PatchMeta | undefined, isDeleteList: boolean): unknown[] {
  if (hasStrategy(meta, 'merge')) return mergeSlice(original, patch, meta?.patchMergeKey ?? '', meta, isDeleteList);
  // Without a merge strategy the patch list replaces the live one; a deletion list still only deletes.
  if (isDeleteList) return original.filter((v) => !patch.some((p) => p === v));
  return cleanNew(patch) as unknown[];
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST ? errBadPrimitiveList() : errBadSetElementOrder();
  }
  return key.slice(slash + 1);
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw errBadRetainKeys();
  const keep = new Set(retain);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`) || key.startsWith(`${SET_ELEMENT_ORDER}/`)) continue;
    if (!keep.has(key)) throw errBadRetainKeys();
  }
  for (const key of Object.keys(original)) {
    if (!keep.has(key)) delete original[key];
  }
}

/** elementKind is the common kind of the elements of `lists` (Kubernetes' sliceElementType). */
function elementKind(...lists: unknown[][]): Kind | undefined {
  let kind: Kind | undefined;
  for (const list of lists) {
    for (const item of list) {
      const k = kindOf(item);
      if (k === 'list') throw errNoListOfLists();
      if (kind && kind !== k) throw patchInternal(`list element types are not identical: ${goFormat(lists)}`);
      kind = k;
    }
  }
  return kind;
}

function keyOf(item: unknown, mergeKey: string, kind: Kind): unknown {
  return kind === 'map' ? (item as JsonObject)[mergeKey] : item;
}

function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: Kind): number {
  const wanted = keyOf(item, mergeKey, kind);
  return list.findIndex((v) => (kind === 'map' && !isObject(v) ? undefined : keyOf(v, mergeKey, kind)) === wanted);
}

function mergeSlice(original: unknown[], patch: unknown[], mergeKey: string, meta: PatchMeta | undefined, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch)!;
  let merged: unknown[];
  let live = original;
  let patchItems = patch;
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.includes(v));
    merged = [...new Set([...original, ...patch])];
  } else {
    if (mergeKey === '') throw patchInternal('cannot merge lists without merge key for type map');
    const special = applySpecialElements(original, patch, mergeKey);
    if (special.replace) return special.patch.map(cleanNew);
    live = special.original;
    patchItems = special.patch;
    merged = [...live];
    for (const item of patchItems) {
      const obj = item as JsonObject;
      if (!Object.hasOwn(obj, mergeKey)) throw errNoMergeKey(obj, mergeKey);
      const at = indexIn(merged, obj, mergeKey, kind);
      merged = at >= 0
        ? merged.map((v, i) => (i === at ? mergeMap(v as JsonObject, obj, meta) : v))
        : [...merged, cleanNew(obj)];
    }
  }
  const inPatch = merged.filter((v) => indexIn(patchItems, v, mergeKey, kind) >= 0);
  const serverOnly = merged.filter((v) => indexIn(patchItems, v, mergeKey, kind) < 0);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, live, mergeKey, kind);
}

function applySpecialElements(original: unknown[], patch: unknown[], mergeKey: string): { original: unknown[]; patch: unknown[]; replace: boolean } {
  let live = original;
  const plain: unknown[] = [];
  let replace = false;
  for (const item of patch) {
    const obj = item as JsonObject;
    if (!Object.hasOwn(obj, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = obj[DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.hasOwn(obj, mergeKey)) throw errNoMergeKey(obj, mergeKey);
      live = live.filter((v) => !isObject(v) || v[mergeKey] !== obj[mergeKey]);
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw patchInternal('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, obj);
    }
  }
  return { original: live, patch: plain, replace };
}

/** normalizeElementOrder sorts patch items by `patchOrder`, server-only items by `serverOrder`, then interleaves them. */
function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind): unknown[] {
  if (kind === 'map') {
    for (const item of [...patchItems, ...serverOnly, ...patchOrder]) {
      if (!isObject(item) || !Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
  const sortBy = (items: unknown[], order: unknown[]): unknown[] => {
    const positioned = items.map((item, i) => ({ item, i, at: indexIn(order, item, mergeKey, kind) }));
    positioned.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i));
    return positioned.map((p) => p.item);
  };
  const left = sortBy(serverOnly, serverOrder);
  const right = sortBy(patchItems, patchOrder);
  // mergeSortedSlice: a server-only item goes before a patch item only when both are live and it was first.
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function mergeSetElementOrder(original: JsonObject, patch: JsonObject, meta: PatchMeta | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    const field = extractKey(key, SET_ELEMENT_ORDER);
    if (!Array.isArray(order)) throw errBadSetElementOrder();
    const hasLive = Object.hasOwn(original, field);
    const hasPatch = Object.hasOwn(patch, field);
    const live = hasLive ? original[field] : [];
    const patched = hasPatch ? patch[field] : [];
    if (!Array.isArray(live) || !Array.isArray(patched)) throw errBadSetElementOrder();
    const fieldMeta = childMeta(meta, field);
    const mergeKey = fieldMeta?.patchMergeKey ?? '';
    validateSetElementOrder(patched, order, mergeKey);
    let merged: unknown[];
    if (hasLive && hasPatch) merged = mergeListField(live, patched, fieldMeta, false);
    else if (hasPatch) merged = cleanNew(patched) as unknown[];
    else if (hasLive) merged = live;
    else continue;
    const kind = elementKind(live, patched) ?? 'scalar';
    const inOrder = merged.filter((v) => indexIn(order, v, mergeKey, kind) >= 0);
    const serverOnly = merged.filter((v) => indexIn(order, v, mergeKey, kind) < 0);
    original[field] = normalizeElementOrder(inOrder, serverOnly, order, live, mergeKey, kind);
    delete patch[field];
  }
}

/** validateSetElementOrder checks that the patch list's items appear in `$setElementOrder` in the same relative order. */
function validateSetElementOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const kind: Kind = mergeKey ? 'map' : 'scalar';
  const items = kind === 'map' ? patchList.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    if (isObject(items[p]) && Object.hasOwn(items[p] as JsonObject, DIRECTIVE)) {
      p++;
      continue;
    }
    if (kind === 'map') {
      if (!isObject(items[p]) || !Object.hasOwn(items[p] as JsonObject, mergeKey)) throw errNoMergeKey(items[p], mergeKey);
      if (!isObject(order[o]) || !Object.hasOwn(order[o] as JsonObject, mergeKey)) throw errNoMergeKey(order[o], mergeKey);
    }
    if (keyOf(items[p], mergeKey, kind) === keyOf(order[o], mergeKey, kind)) p++;
    o++;
  }
  if (p < items.length) {
    throw patchInternal(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`);
  }
}
