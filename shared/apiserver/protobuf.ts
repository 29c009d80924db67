/**
 * Kubernetes' protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's
 * typed clients send for `kubectl create namespace|configmap|secret|serviceaccount`: the
 * `k8s\0` magic, a runtime.Unknown envelope (typeMeta, raw), and the object's message. Only the
 * kinds listed in SCHEMAS are decoded (their field numbers are those of k8s.io/api's
 * generated.proto); any other kind answers 415, which is what a server without protobuf support
 * says. Responses are always JSON (clients accept it).
 */
import { ApiError } from '../api/status.js';

type FieldType = 'string' | 'bytes' | 'int' | 'bool' | 'time' | Schema | { map: 'string' | 'bytes' };
interface FieldSpec { name: string; type: FieldType; repeated?: boolean }
/** Schema maps field numbers to JSON names and types. */
type Schema = Record<number, FieldSpec>;

const OWNER_REFERENCE: Schema = {
  1: { name: 'kind', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' }, 6: { name: 'controller', type: 'bool' }, 7: { name: 'blockOwnerDeletion', type: 'bool' },
};
const OBJECT_META: Schema = {
  1: { name: 'name', type: 'string' }, 2: { name: 'generateName', type: 'string' }, 3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' }, 6: { name: 'resourceVersion', type: 'string' }, 7: { name: 'generation', type: 'int' },
  8: { name: 'creationTimestamp', type: 'time' }, 9: { name: 'deletionTimestamp', type: 'time' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int' },
  11: { name: 'labels', type: { map: 'string' } }, 12: { name: 'annotations', type: { map: 'string' } },
  13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true }, 14: { name: 'finalizers', type: 'string', repeated: true },
};
const OBJECT_REFERENCE: Schema = {
  1: { name: 'kind', type: 'string' }, 2: { name: 'namespace', type: 'string' }, 3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' }, 5: { name: 'apiVersion', type: 'string' },
};
const metadata: FieldSpec = { name: 'metadata', type: OBJECT_META };

/** SCHEMAS are the kinds decoded, by `apiVersion/kind`. */
const SCHEMAS: Record<string, Schema> = {
  'v1/Namespace': { 1: metadata, 2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
  'v1/ConfigMap': { 1: metadata, 2: { name: 'data', type: { map: 'string' } }, 3: { name: 'binaryData', type: { map: 'bytes' } }, 4: { name: 'immutable', type: 'bool' } },
  'v1/Secret': {
    1: metadata, 2: { name: 'data', type: { map: 'bytes' } }, 3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: { map: 'string' } }, 5: { name: 'immutable', type: 'bool' },
  },
  'v1/ServiceAccount': {
    1: metadata, 2: { name: 'secrets', type: OBJECT_REFERENCE, repeated: true },
    3: { name: 'imagePullSecrets', type: { 1: { name: 'name', type: 'string' } }, repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
};

const ENVELOPE: Schema = {
  1: { name: 'typeMeta', type: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } } },
  2: { name: 'raw', type: 'bytes' },
};

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

function malformed(): ApiError {
  return new ApiError(400, 'BadRequest', 'unable to decode protobuf body');
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.end || shift > 63n) throw malformed();
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw malformed();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw malformed();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function decodeTime(bytes: Uint8Array): string | undefined {
  const t = decodeMessage(bytes, { 1: { name: 'seconds', type: 'int' } });
  const seconds = Number(t.seconds ?? 0);
  return seconds === 0 ? undefined : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function decodeValue(r: Reader, wire: number, type: FieldType): unknown {
  if (type === 'int') return Number(BigInt.asIntN(64, r.varint()));
  if (type === 'bool') return r.varint() !== 0n;
  if (wire !== 2) throw malformed();
  const bytes = r.bytes();
  if (type === 'string') return utf8.decode(bytes);
  if (type === 'bytes') return Buffer.from(bytes).toString('base64');
  if (type === 'time') return decodeTime(bytes);
  if ('map' in type) {
    const entry = decodeMessage(bytes, { 1: { name: 'k', type: 'string' }, 2: { name: 'v', type: type.map } });
    return [String(entry.k ?? ''), entry.v ?? ''];
  }
  return decodeMessage(bytes, type);
}

/** decodeMessage decodes one message by its schema; unknown fields are skipped, empty scalars dropped (JSON's omitempty). */
function decodeMessage(buf: Uint8Array, schema: Schema): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = Object.create(null);
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    const field = schema[tag >>> 3];
    const wire = tag & 7;
    if (!field) {
      r.skip(wire);
      continue;
    }
    const value = decodeValue(r, wire, field.type);
    if (typeof field.type === 'object' && 'map' in field.type) {
      const [k, v] = value as [string, unknown];
      const map = (out[field.name] ??= Object.create(null)) as Record<string, unknown>;
      map[k] = v;
    } else if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(value);
    } else if (value !== undefined && value !== '' && value !== 0 && value !== false) out[field.name] = value;
  }
  return { ...out };
}

/** isProtobuf tells whether a media type is Kubernetes' protobuf encoding. */
export function isProtobuf(mediaType: string): boolean {
  return mediaType === 'application/vnd.kubernetes.protobuf';
}

/** decodeProtobufObject turns a protobuf body into the JSON object it encodes (415 for kinds not decoded here). */
export function decodeProtobufObject(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw malformed();
  const envelope = decodeMessage(body.subarray(4), ENVELOPE);
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = SCHEMAS[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!schema) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  const raw = Buffer.from(String(envelope.raw ?? ''), 'base64');
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(raw, schema) };
}
