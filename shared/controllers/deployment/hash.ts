/**
 * The pod-template hash, as Kubernetes' controller.ComputeHash computes it: FNV-32a over the
 * template's serialization (plus the Deployment's collisionCount as 8 little-endian bytes when
 * set), the decimal digits of the sum rendered with rand.SafeEncodeString's alphabet (no vowels,
 * no confusable digits). Kubernetes serializes with go-spew; here the serialization is JSON with
 * keys sorted at every level, so the hash is stable whatever the key order, and any change of the
 * template changes it (not byte-equal with upstream, which nothing depends on).
 */
import { clone, deepEqual, isRecord, type KubeObject } from '../../api/objects.js';
import { POD_TEMPLATE_HASH_LABEL } from './util.js';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** canonicalJson serializes a JSON value with object keys sorted (undefined members dropped). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** fnv32a is the 32-bit FNV-1a hash of `bytes`. */
export function fnv32a(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** safeEncode is rand.SafeEncodeString: each character mapped into the safe alphabet by its code. */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** podTemplateHash is the hash of `template` (a PodTemplateSpec) for `collisionCount` (see the file comment). */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncode(String(h));
}

/** templateWithoutHash copies a template without its pod-template-hash label (dropping labels when it was the only one). */
export function templateWithoutHash(template: unknown): KubeObject {
  const copy = clone(isRecord(template) ? template : {});
  const meta = isRecord(copy.metadata) ? copy.metadata : undefined;
  if (meta && isRecord(meta.labels)) {
    delete meta.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(meta.labels).length === 0) delete meta.labels;
  }
  return copy;
}

/** equalIgnoreHash is EqualIgnoreHash: two templates are equal but for the pod-template-hash label. */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return deepEqual(normalizeEmpty(templateWithoutHash(a)), normalizeEmpty(templateWithoutHash(b)));
}

// An empty labels/annotations map and an absent one are the same template (Go's nil vs empty map).
function normalizeEmpty(template: KubeObject): KubeObject {
  const meta = isRecord(template.metadata) ? template.metadata : undefined;
  if (!meta) return template;
  for (const k of ['labels', 'annotations']) if (isRecord(meta[k]) && Object.keys(meta[k]).length === 0) delete meta[k];
  if (Object.keys(meta).length === 0) delete template.metadata;
  return template;
}
