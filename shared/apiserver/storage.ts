/**
 * How objects meet the Store: storage keys from a RequestInfo, and the resourceVersion, which is
 * never stored but always read from the store's modRevision (etcd3 store's versioner does the same).
 */
import { storageKey, type ResourceType } from '../api/resources.js';
import { badRequest, notFound } from '../api/status.js';
import { isRecord, type KubeObject } from '../api/objects.js';
import type { KeyValue, Store, StoredValue } from '../store/store.js';
import type { HandlerContext } from './context.js';

/** keyOf is the storage key of the named object of the request's resource (and namespace). */
export function keyOf(resource: ResourceType, namespace: string | undefined, name: string): string {
  return storageKey(resource, namespace, name);
}

/** decode renders a stored version as an API object, with metadata.resourceVersion = its modRevision. Shallow: never mutates the store's value. */
export function decode(kv: KeyValue): KubeObject {
  const meta = isRecord(kv.value.metadata) ? kv.value.metadata : {};
  return { ...kv.value, metadata: { ...meta, resourceVersion: String(kv.modRevision) } };
}

/** withResourceVersion sets metadata.resourceVersion on a copy of `obj`. */
export function withResourceVersion(obj: KubeObject, revision: number): KubeObject {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  return { ...obj, metadata: { ...meta, resourceVersion: String(revision) } };
}

/** encode prepares an API object for storage: resourceVersion removed (the store assigns revisions). */
export function encode(obj: KubeObject): StoredValue {
  const meta = isRecord(obj.metadata) ? { ...obj.metadata } : {};
  delete meta.resourceVersion;
  return { ...obj, metadata: meta };
}

/** loadObject reads the request's named object, or throws 404 NotFound. */
export async function loadObject(ctx: HandlerContext, name = ctx.info.name ?? ''): Promise<KeyValue> {
  const { resource, namespace } = ctx.info;
  const kv = await ctx.store.get(keyOf(resource, namespace, name));
  if (!kv) throw notFound(resource.group, resource.plural, name);
  return kv;
}

/** parseResourceVersion reads a resourceVersion string as a store revision (400 when not a non-negative integer). */
export function parseResourceVersion(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: "${rv}"`);
  return Number(rv);
}

/** listStored reads every object under `prefix`, page by page, all as of one revision (the first page's). */
export async function listStored(store: Store, prefix: string): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  let startAfter: string | undefined;
  let revision: number | undefined;
  for (;;) {
    const page = await store.list(prefix, { limit: 500, startAfter, revision, countRemaining: false });
    revision = page.revision;
    out.push(...page.items.map(decode));
    if (!page.more || page.items.length === 0) return out;
    startAfter = page.items[page.items.length - 1].key;
  }
}
