/**
 * Small, generic helpers for Kubernetes objects held as plain JSON: typed accessors for
 * `metadata`, deep equality, timestamps and uids. Everything here is pure.
 */
import { randomUUID } from 'node:crypto';

/** KubeObject is an API object as JSON; only `metadata` is assumed to be an object when present. */
export type KubeObject = Record<string, unknown>;

/** ObjectMeta is the part of `metadata` the API server reads and writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Record<string, unknown>[];
  managedFields?: Record<string, unknown>[];
  [field: string]: unknown;
}

/** isRecord tells whether `value` is a non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** metadataOf returns `obj.metadata`, creating an empty one in place when missing or not an object. */
export function metadataOf(obj: KubeObject): ObjectMeta {
  if (!isRecord(obj.metadata)) obj.metadata = {};
  return obj.metadata as ObjectMeta;
}

/** readMetadata returns `obj.metadata` without changing `obj` (an empty object when absent). */
export function readMetadata(obj: Readonly<KubeObject>): Readonly<ObjectMeta> {
  return isRecord(obj.metadata) ? (obj.metadata as ObjectMeta) : {};
}

/** deepEqual compares two JSON values structurally (key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  if (keys.length !== Object.keys(bo).filter((k) => bo[k] !== undefined).length) return false;
  return keys.every((k) => Object.hasOwn(bo, k) && deepEqual(ao[k], bo[k]));
}

/** rfc3339Now is the current time as Kubernetes writes timestamps: RFC 3339, whole seconds, UTC. */
export function rfc3339Now(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** rfc3339MicroNow is the current time with microseconds, as `managedFields`-free MicroTime fields use. */
export function rfc3339MicroNow(now: Date = new Date()): string {
  return now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** newUid returns a random (v4) UUID for `metadata.uid`. */
export function newUid(): string {
  return randomUUID();
}

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** randomNameSuffix returns the 5 characters Kubernetes appends to `generateName` (its alphabet avoids vowels and look-alikes). */
export function randomNameSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
  return out;
}

/** clone deep-copies a JSON value. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
