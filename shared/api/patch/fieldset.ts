/**
 * Field sets as structured-merge-diff (sigs.k8s.io/structured-merge-diff) models them for
 * server-side apply: a tree of path elements, each one spelled as FieldsV1 spells it —
 * `f:<field>`, `k:{"name":"web"}` (list-map item by its keys), `v:"value"` (set item), `i:<n>` —
 * where a node is a member of the set (`.` in FieldsV1) or only a parent of members.
 */
import { childMeta, type PatchMeta } from './meta.js';

type JsonObject = Record<string, unknown>;

/** FieldSet is a set of field paths, stored as a tree keyed by FieldsV1 path elements. */
export class FieldSet {
  readonly members = new Set<string>();
  readonly children = new Map<string, FieldSet>();

  /** insert adds `path` (a non-empty list of path elements). */
  insert(path: readonly string[]): void {
    const parent = path.slice(0, -1).reduce<FieldSet>((node, pe) => node.child(pe), this);
    parent.members.add(path[path.length - 1]!);
  }

  /** has tells whether `path` is a member. */
  has(path: readonly string[]): boolean {
    const parent = path.slice(0, -1).reduce<FieldSet | undefined>((node, pe) => node?.children.get(pe), this);
    return parent?.members.has(path[path.length - 1]!) ?? false;
  }

  /** child returns (creating it) the subtree under `pe`. */
  child(pe: string): FieldSet {
    let c = this.children.get(pe);
    if (!c) this.children.set(pe, (c = new FieldSet()));
    return c;
  }

  get empty(): boolean {
    return this.members.size === 0 && [...this.children.values()].every((c) => c.empty);
  }

  /** paths lists every member, as structured-merge-diff iterates them: members, then children, each sorted. */
  paths(prefix: string[] = []): string[][] {
    const out = [...this.members].sort(comparePathElements).map((pe) => [...prefix, pe]);
    for (const pe of [...this.children.keys()].sort(comparePathElements)) out.push(...this.children.get(pe)!.paths([...prefix, pe]));
    return out;
  }

  static of(paths: Iterable<readonly string[]>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  // The set operations walk both trees at once (they used to flatten both into sorted path lists
  // and rebuild a tree: most of the cost of tracking managedFields on every write). Results never
  // hold empty subtrees, as a tree built from paths does not.

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const m of other.members) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      out.adopt(pe, o ? c.union(o) : c.copy());
    }
    for (const [pe, c] of other.children) if (!this.children.has(pe)) out.adopt(pe, c.copy());
    return out;
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      out.adopt(pe, o ? c.difference(o) : c.copy());
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (o) out.adopt(pe, c.intersection(o));
    }
    return out;
  }

  /** copy is a deep copy without empty subtrees. */
  copy(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, c] of this.children) out.adopt(pe, c.copy());
    return out;
  }

  /** adopt makes `child` the subtree under `pe`, unless it is empty. */
  private adopt(pe: string, child: FieldSet): void {
    if (!child.empty) this.children.set(pe, child);
  }

  /** withNamedFields adds every `f:` parent as a member too (structured-merge-diff's EnsureNamedFieldsAreMembers). */
  withNamedFields(): FieldSet {
    const out = FieldSet.of(this.paths());
    const visit = (node: FieldSet, prefix: string[]): void => {
      for (const [pe, c] of node.children) {
        if (pe.startsWith('f:')) out.insert([...prefix, pe]);
        visit(c, [...prefix, pe]);
      }
    };
    visit(this, []);
    return out;
  }

  /** toFieldsV1 renders the set as Kubernetes' `fieldsV1` object, keys in structured-merge-diff's order. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    const keys = new Set([...this.members, ...this.children.keys()]);
    for (const pe of [...keys].sort(comparePathElements)) {
      const c = this.children.get(pe);
      if (!c || c.empty) {
        out[pe] = {};
        continue;
      }
      const inner = c.toFieldsV1();
      out[pe] = this.members.has(pe) ? { '.': {}, ...inner } : inner;
    }
    return out;
  }

  /** fromFieldsV1 parses a `fieldsV1` object. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const s = new FieldSet();
    const visit = (node: unknown, prefix: string[]): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [pe, child] of Object.entries(node)) {
        if (pe === '.') {
          if (prefix.length > 0) s.insert(prefix);
          continue;
        }
        const isLeaf = child === null || typeof child !== 'object' || Object.keys(child).length === 0;
        if (isLeaf) s.insert([...prefix, pe]);
        else visit(child, [...prefix, pe]);
      }
    };
    visit(fields, []);
    return s;
  }
}

const KIND_ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** comparePathElements orders path elements as structured-merge-diff does: fields, keys, values, indexes. */
export function comparePathElements(a: string, b: string): number {
  const ka = KIND_ORDER[a[0]!] ?? 4;
  const kb = KIND_ORDER[b[0]!] ?? 4;
  if (ka !== kb) return ka - kb;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** pathString renders a path as Kubernetes prints it in conflicts: `.spec.containers[name="web"].image`. */
export function pathString(path: readonly string[]): string {
  return path.map((pe) => {
    const body = pe.slice(2);
    switch (pe[0]) {
      case 'f': return `.${body}`;
      case 'k': {
        const key = JSON.parse(body) as JsonObject;
        return `[${Object.keys(key).map((k) => `${k}=${JSON.stringify(key[k])}`).join(',')}]`;
      }
      case 'v': return `[=${body}]`;
      default: return `[${body}]`;
    }
  }).join('');
}

/**
 * ownField reads `obj[key]` only when it is the object's own field: a key such as `toString` or
 * `constructor` that one side of a merge lacks must read as absent, not as Object.prototype's function.
 */
export function ownField(obj: JsonObject | undefined, key: string): unknown {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** listKind is how apply treats a list: by key (`map`), as a set of scalars, or whole (`atomic`). */
export function listKind(meta: PatchMeta | undefined): 'map' | 'set' | 'atomic' {
  if (meta?.listType === 'map' || meta?.listType === 'set') return meta.listType;
  return 'atomic';
}

/** itemPathElement names a list item: `k:{...}` for a list-map (keys sorted, defaults filled in), `v:` for a set. */
export function itemPathElement(item: unknown, meta: PatchMeta | undefined): string {
  if (listKind(meta) === 'set') return `v:${JSON.stringify(item)}`;
  const keys = [...(meta?.listMapKeys ?? (meta?.patchMergeKey ? [meta.patchMergeKey] : []))].sort();
  const key: JsonObject = {};
  for (const k of keys) {
    const v = isObject(item) && Object.hasOwn(item, k) ? item[k] : meta?.keyDefaults?.[k];
    if (v !== undefined) key[k] = v;
  }
  return `k:${JSON.stringify(key)}`;
}

const isAtomicMap = (meta: PatchMeta | undefined): boolean => meta?.mapType === 'atomic';
const isEmpty = (v: unknown): boolean => v === undefined || (Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0);

/** toFieldSet lists the fields `value` sets (structured-merge-diff ToFieldSet): what an applier owns. */
export function toFieldSet(value: JsonObject, meta: PatchMeta | undefined): FieldSet {
  const set = new FieldSet();
  const walk = (v: unknown, m: PatchMeta | undefined, path: string[]): void => {
    if (Array.isArray(v)) {
      if (listKind(m) === 'atomic') {
        set.insert(path);
        return;
      }
      for (const item of v) {
        const pe = itemPathElement(item, m);
        if (isObject(item)) walkMap(item, m, [...path, pe]);
        set.insert([...path, pe]);
      }
    } else if (isObject(v) && !isAtomicMap(m)) {
      walkMap(v, m, path);
    } else {
      set.insert(path);
    }
  };
  const walkMap = (v: JsonObject, m: PatchMeta | undefined, path: string[]): void => {
    for (const [key, child] of Object.entries(v)) {
      const cm = childMeta(m, key);
      const p = [...path, `f:${key}`];
      walk(child, cm, p);
      // Entries of maps with open keys (and of schema-less maps) are owned as units.
      if (child === null || (isObject(child) && Object.keys(child).length === 0) || m === undefined || m.openKeys) set.insert(p);
    }
  };
  walkMap(value, meta, []);
  return set;
}

/** Comparison is what changed between two objects, as field sets. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** compareObjects diffs `lhs` (before) and `rhs` (after) as structured-merge-diff's Compare does. */
export function compareObjects(lhs: JsonObject, rhs: JsonObject, meta: PatchMeta | undefined): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (l: unknown, r: unknown, path: string[]): void => {
    if (l === undefined) out.added.insert(path);
    else if (r === undefined) out.removed.insert(path);
    else if (!deepEqual(l, r)) out.modified.insert(path);
  };
  const node = (l: unknown, r: unknown, m: PatchMeta | undefined, path: string[]): void => {
    const sample = r === undefined ? l : r;
    const bothEmpty = isEmpty(l) && isEmpty(r);
    const sameShape = l === undefined || r === undefined || Array.isArray(l) === Array.isArray(r) && isObject(l) === isObject(r);
    if (!sameShape || bothEmpty) return leaf(l, r, path);
    if (Array.isArray(sample)) {
      if (listKind(m) === 'atomic') return leaf(l, r, path);
      items(l as unknown[] | undefined, r as unknown[] | undefined, m, path);
    } else if (isObject(sample)) {
      if (isAtomicMap(m)) return leaf(l, r, path);
      fields(l as JsonObject | undefined, r as JsonObject | undefined, m, path);
    } else {
      return leaf(l, r, path);
    }
    if (l === undefined) out.added.insert(path);
    else if (r === undefined) out.removed.insert(path);
  };
  const fields = (l: JsonObject | undefined, r: JsonObject | undefined, m: PatchMeta | undefined, path: string[]): void => {
    const keys = new Set([...Object.keys(l ?? {}), ...Object.keys(r ?? {})]);
    for (const key of keys) node(ownField(l, key), ownField(r, key), childMeta(m, key), [...path, `f:${key}`]);
  };
  const items = (l: unknown[] | undefined, r: unknown[] | undefined, m: PatchMeta | undefined, path: string[]): void => {
    const byPe = (list: unknown[] | undefined): Map<string, unknown> => {
      const map = new Map<string, unknown>();
      for (const item of list ?? []) {
        const pe = itemPathElement(item, m);
        if (!map.has(pe)) map.set(pe, item);
      }
      return map;
    };
    const lm = byPe(l);
    const rm = byPe(r);
    for (const pe of new Set([...lm.keys(), ...rm.keys()])) node(lm.get(pe), rm.get(pe), m, [...path, pe]);
  };
  fields(lhs, rhs, meta, []);
  return out;
}

/** deepEqual compares decoded JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
