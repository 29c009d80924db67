/**
 * Kubernetes' protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's
 * typed clients send for its generators (`kubectl create deployment|service|secret|…`, `expose`,
 * `run`): the `k8s\0` magic, a runtime.Unknown envelope (typeMeta, raw), and the object's message.
 * One generic decoder walks the message by the wire layout in protobuf-schema.ts and yields the
 * JSON Kubernetes itself would print for the same Go object: zero scalars of non-pointer fields
 * left out (JSON's omitempty), pointer fields kept even when zero, structs always present, times
 * as RFC 3339, quantities and int-or-strings in their JSON forms, bytes as base64. Kinds outside
 * the table answer 415. Responses are always JSON (clients list it in Accept).
 */
import { RESOURCES, groupVersion } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { PROTOBUF_MESSAGES } from './protobuf-schema.js';

/** FieldSpec is one parsed field of a message. */
interface FieldSpec {
  json: string;
  /** The element type: a scalar, a well-known leaf or a message name. */
  type: string;
  pointer: boolean;
  repeated: boolean;
  map: boolean;
  inline: boolean;
}
type Schema = Map<number, FieldSpec>;

const schemas = new Map<string, Schema>();

/** schemaOf parses a message's field list once and caches it. */
function schemaOf(message: string): Schema {
  let schema = schemas.get(message);
  if (schema) return schema;
  const text = PROTOBUF_MESSAGES[message];
  if (text === undefined) throw new Error(`protobuf-schema has no message ${message}`);
  schema = new Map();
  for (const entry of text.split(';')) {
    const [num, json, rawType] = entry.trim().split(' ') as [string, string, string];
    let type = rawType;
    const spec = { json, pointer: false, repeated: false, map: false, inline: json === '~' };
    if (type.startsWith('*')) [spec.pointer, type] = [true, type.slice(1)];
    else if (type.startsWith('[]')) [spec.repeated, type] = [true, type.slice(2)];
    else if (type.startsWith('map<')) [spec.map, type] = [true, type.slice(4, -1)];
    schema.set(Number(num), { ...spec, type });
  }
  schemas.set(message, schema);
  return schema;
}

function malformed(): ApiError {
  return new ApiError(400, 'BadRequest', 'unable to decode protobuf body');
}

/** Reader walks protobuf wire data. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.buf.length || shift > 63n) throw malformed();
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  }
  fixed(size: 4 | 8): DataView {
    if (this.pos + size > this.buf.length) throw malformed();
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, size);
    this.pos += size;
    return view;
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw malformed();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.fixed(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.fixed(4);
    else throw malformed();
  }
}

const utf8 = new TextDecoder('utf-8');
const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'double']);
const NUMERIC = new Set(['bool', 'int32', 'int64', 'double']);

/** readNumeric reads one varint or fixed64 scalar in its JSON form. */
function readNumeric(r: Reader, type: string, wire: number): number | boolean {
  if (type === 'double') {
    if (wire !== 1) throw malformed();
    return r.fixed(8).getFloat64(0, true);
  }
  if (wire !== 0) throw malformed();
  const v = r.varint();
  if (type === 'bool') return v !== 0n;
  return Number(type === 'int32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));
}

/** isZero tells whether a decoded value is what Go's omitempty leaves out. */
function isZero(value: unknown): boolean {
  return value === undefined || value === '' || value === 0 || value === false;
}

function formatTime(seconds: number, nanos: number, micro: boolean): string | undefined {
  if (seconds === 0 && nanos === 0) return undefined; // Go's zero time prints as null
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** formatDuration prints nanoseconds as Go's time.Duration.String does ("1h0m0s", "1.5s", "0s"). */
function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let rest = Math.abs(ns);
  if (rest < 1e9) {
    const [unit, size] = rest < 1e3 ? ['ns', 1] : rest < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${rest / size}${unit}`;
  }
  const h = Math.floor(rest / 3.6e12);
  rest -= h * 3.6e12;
  const m = Math.floor(rest / 6e10);
  const s = (rest - m * 6e10) / 1e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** decodeLeaf decodes a well-known message type into its JSON form (undefined for a zero time). */
function decodeLeaf(type: string, bytes: Uint8Array): unknown {
  const f = decodeFields(bytes, (num) => (num === 1 && type !== 'IntOrString' ? LEAF_FIRST[type] : LEAF_OTHER[num]));
  switch (type) {
    case 'Time':
    case 'MicroTime':
      return formatTime(Number(f[1] ?? 0), Number(f[2] ?? 0), type === 'MicroTime');
    case 'Duration':
      return formatDuration(Number(f[1] ?? 0));
    case 'Quantity':
      return f[1] ?? '0';
    case 'IntOrString':
      return f[1] === 1 ? (f[3] ?? '') : (f[2] ?? 0);
    case 'FieldsV1':
    case 'RawExtension':
      return f[1] === undefined ? {} : parseEmbeddedJson(f[1] as Uint8Array);
    default:
      return undefined;
  }
}
/** Wire types of the well-known leaves' fields: field 1 varies, 2 and 3 are int32 / string. */
const LEAF_FIRST: Record<string, string> = {
  Time: 'int64', MicroTime: 'int64', Duration: 'int64', Quantity: 'string', FieldsV1: 'raw', RawExtension: 'raw',
};
const LEAF_OTHER: Record<number, string> = { 1: 'int64', 2: 'int32', 3: 'string' };

function parseEmbeddedJson(raw: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(raw));
  } catch {
    throw new ApiError(400, 'BadRequest', 'unable to decode protobuf body: an embedded object is not JSON');
  }
}

/** decodeFields reads a leaf's fields by number, with their types from `typeOf`. */
function decodeFields(bytes: Uint8Array, typeOf: (num: number) => string | undefined): Record<number, unknown> {
  const r = new Reader(bytes);
  const out: Record<number, unknown> = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const type = typeOf(tag >>> 3);
    const wire = tag & 7;
    if (type === undefined) r.skip(wire);
    else if (type === 'string') out[tag >>> 3] = utf8.decode(r.bytes());
    else if (type === 'raw') out[tag >>> 3] = r.bytes();
    else out[tag >>> 3] = readNumeric(r, type, wire);
  }
  return out;
}

/** decodeElement reads one value of `type` (a length-delimited one unless numeric). */
function decodeElement(r: Reader, wire: number, type: string): unknown {
  if (NUMERIC.has(type)) return readNumeric(r, type, wire);
  if (wire !== 2) throw malformed();
  const bytes = r.bytes();
  if (type === 'string') return utf8.decode(bytes);
  if (type === 'bytes') return Buffer.from(bytes).toString('base64');
  if (PROTOBUF_MESSAGES[type] !== undefined) return decodeMessage(bytes, type);
  return decodeLeaf(type, bytes);
}

/** decodeMapEntry reads a map entry message (key = 1, value = 2). */
function decodeMapEntry(r: Reader, wire: number, valueType: string): [string, unknown] {
  if (wire !== 2) throw malformed();
  const entry = new Reader(r.bytes());
  let key = '';
  let value: unknown;
  while (!entry.done) {
    const tag = Number(entry.varint());
    if (tag >>> 3 === 1) key = String(decodeElement(entry, tag & 7, 'string'));
    else if (tag >>> 3 === 2) value = decodeElement(entry, tag & 7, valueType);
    else entry.skip(tag & 7);
  }
  // A map value always prints: an absent one is its type's zero value.
  return [key, value ?? (valueType === 'Quantity' ? '0' : valueType === 'string' || valueType === 'bytes' ? '' : {})];
}

/** readField reads one occurrence of a field into `out`. */
function readField(r: Reader, wire: number, field: FieldSpec, out: Record<string, unknown>): void {
  if (field.map) {
    const [key, value] = decodeMapEntry(r, wire, field.type);
    ((out[field.json] ??= {}) as Record<string, unknown>)[key] = value;
  } else if (field.repeated) {
    const list = (out[field.json] ??= []) as unknown[];
    if (wire === 2 && NUMERIC.has(field.type)) {
      const packed = new Reader(r.bytes());
      while (!packed.done) list.push(readNumeric(packed, field.type, field.type === 'double' ? 1 : 0));
    } else list.push(decodeElement(r, wire, field.type));
  } else {
    const value = decodeElement(r, wire, field.type);
    if (field.inline) Object.assign(out, value);
    else if (value === undefined || (!field.pointer && SCALARS.has(field.type) && isZero(value))) delete out[field.json];
    else if (!field.pointer && field.type === 'IntOrString' && value === 0) delete out[field.json];
    else out[field.json] = value;
  }
}

/** decodeMessage decodes one message of the table into its JSON object; unknown fields are skipped. */
function decodeMessage(buf: Uint8Array, message: string): Record<string, unknown> {
  const schema = schemaOf(message);
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const field = schema.get(tag >>> 3);
    if (field) readField(r, tag & 7, field, out);
    else r.skip(tag & 7);
  }
  return out;
}

/** ROOT_MESSAGES maps each request body's `apiVersion/kind` to its message. */
const ROOT_MESSAGES = new Map<string, string>(
  [...RESOURCES.flatMap((r) => [r, ...r.subresources]).map((k) => [`${groupVersion(k)}/${k.kind}`, k.kind] as const),
    ...['v1', 'meta.k8s.io/v1', 'apps/v1', 'policy/v1'].map((v) => [`${v}/DeleteOptions`, 'DeleteOptions'] as const)]
    .filter(([, message]) => PROTOBUF_MESSAGES[message] !== undefined),
);

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** isProtobuf tells whether a media type is Kubernetes' protobuf encoding. */
export function isProtobuf(mediaType: string): boolean {
  return mediaType === 'application/vnd.kubernetes.protobuf';
}

/**
 * decodeProtobufObject turns a protobuf body into the JSON object it encodes. A body that is not
 * Kubernetes protobuf is 400; a kind the table does not hold is 415.
 */
export function decodeProtobufObject(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw malformed();
  const envelope = new Reader(body.subarray(4));
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  while (!envelope.done) {
    const tag = Number(envelope.varint());
    if (tag === ((1 << 3) | 2)) {
      const typeMeta = decodeFields(envelope.bytes(), (num) => (num <= 2 ? 'string' : undefined));
      [apiVersion, kind] = [String(typeMeta[1] ?? ''), String(typeMeta[2] ?? '')];
    } else if (tag === ((2 << 3) | 2)) raw = envelope.bytes();
    else envelope.skip(tag & 7);
  }
  const message = ROOT_MESSAGES.get(`${apiVersion}/${kind}`);
  if (!message) {
    throw new ApiError(415, 'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  return { apiVersion, kind, ...decodeMessage(raw, message) };
}
