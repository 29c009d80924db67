/**
 * Reading request bodies: a size limit (413 past 3 MiB), JSON or YAML by content type, 400 on
 * malformed input, keys that could reach an object's prototype refused, and duplicate keys
 * collected for `fieldValidation`.
 */
import { parseDocument } from 'yaml';
import { ApiError, badRequest, requestEntityTooLarge, unsupportedMediaType } from '../api/status.js';
import { isRecord } from '../api/objects.js';
import { decodeProtobufObject, isProtobuf } from './protobuf.js';

/** MAX_BODY_BYTES is Kubernetes' request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/**
 * MAX_NESTING_DEPTH bounds how deeply a body's arrays and objects nest. Go's encoding/json (and so
 * kube-apiserver) stops at 10,000; the recursive walks here (merge, validation, clone) would
 * exhaust the stack well before that, and no API object comes near, so the limit is lower.
 */
export const MAX_NESTING_DEPTH = 1000;
/** MAX_YAML_ALIASES bounds how many times a YAML body may expand an alias (a "billion laughs" body is refused). */
export const MAX_YAML_ALIASES = 100;

/** ParsedBody is a decoded body and the duplicate keys it held (last one wins, as Kubernetes decodes). */
export interface ParsedBody {
  value: unknown;
  duplicates: string[];
}

/** mediaType is the Content-Type without parameters, lower-cased ('' when absent). */
export function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** readText reads the body as UTF-8, refusing more than `limit` bytes with 413. */
export async function readText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  return Buffer.from(await readBytes(request, limit)).toString('utf8');
}

/** readBytes reads the raw body, refusing more than `limit` bytes with 413. */
export async function readBytes(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw requestEntityTooLarge(limit);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw requestEntityTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * assertSafeKeys refuses `__proto__` anywhere, and `constructor`/`prototype` holding an object
 * (the only way they could lead a merge into a prototype); as plain string map keys (a label
 * named `constructor`) they stay allowed.
 */
export function assertSafeKeys(value: unknown, path = ''): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertSafeKeys(v, `${path}[${i}]`));
    return;
  }
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    const child = value[key];
    if (key === '__proto__' || (UNSAFE_KEYS.has(key) && typeof child === 'object' && child !== null)) {
      throw badRequest(`forbidden field name "${path ? `${path}.` : ''}${key}"`);
    }
    assertSafeKeys(child, path ? `${path}.${key}` : key);
  }
}

/** parseJson decodes JSON text (400 when malformed or nested too deeply) and lists duplicate keys. */
export function parseJson(text: string): ParsedBody {
  const duplicates = findDuplicateJsonKeys(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
  return { value, duplicates };
}

/** tooDeep is the 400 for a body nested past MAX_NESTING_DEPTH (Go's scanner words it so). */
function tooDeep(bracket: string): ApiError {
  return badRequest(`couldn't get version/kind; json parse error: invalid character '${bracket}' exceeded max depth`);
}

/** assertDepth refuses a decoded value nested past MAX_NESTING_DEPTH (iteratively: no recursion to overflow). */
export function assertDepth(value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_NESTING_DEPTH) throw tooDeep(Array.isArray(v) ? '[' : '{');
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
}

/** parseYaml decodes one YAML document (400 when malformed) and lists duplicate keys. */
export function parseYaml(text: string): ParsedBody {
  assertYamlDepth(text);
  // The core schema, as sigs.k8s.io/yaml converts YAML to JSON: no YAML 1.1 types (!!binary as
  // bytes, !!set, !!timestamp), which have no JSON form; any such value left is refused below.
  const doc = parseDocument(text, { uniqueKeys: true, merge: false, schema: 'core' });
  const duplicates: string[] = [];
  for (const e of doc.errors) {
    if (e.code !== 'DUPLICATE_KEY') throw badRequest(`error converting YAML to JSON: yaml: ${e.message.split('\n')[0]}`);
    duplicates.push(e.message.split('\n')[0]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // The yaml library throws a ReferenceError past maxAliasCount (and for an alias to nothing).
    if (/alias/i.test((err as Error).message)) throw badRequest('error converting YAML to JSON: yaml: document contains excessive aliasing');
    throw badRequest(`error converting YAML to JSON: yaml: ${(err as Error).message.split('\n')[0]}`);
  }
  assertDepth(value);
  assertJsonLike(value);
  return { value: value ?? {}, duplicates };
}

/** assertJsonLike refuses a decoded YAML value holding anything JSON cannot (bytes, maps with object keys, sets, dates): 400. */
function assertJsonLike(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') throw badRequest(`error converting YAML to JSON: yaml: unsupported value of type ${typeof v}`);
      continue;
    }
    if (!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      throw badRequest(`error converting YAML to JSON: yaml: unsupported value of type ${(v as object).constructor?.name ?? 'object'}`);
    }
    stack.push(...(Array.isArray(v) ? v : Object.values(v)));
  }
}

/**
 * assertYamlDepth refuses flow collections (`[[[...`, `{a: {a: ...`) nested past
 * MAX_NESTING_DEPTH before the parser, which recurses per level, sees them. Block nesting costs a
 * line per level, so MAX_BODY_BYTES bounds it; the decoded value is checked again (assertDepth).
 */
function assertYamlDepth(text: string): void {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"') i++;
    } else if (ch === '"' || (ch === "'" && depth > 0)) quote = ch;
    else if (ch === '[' || ch === '{') {
      if (++depth > MAX_NESTING_DEPTH) throw tooDeep(ch);
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
    else if (ch === '\n' && depth === 0) quote = '';
  }
}

const JSON_TYPES = new Set(['', 'application/json', '*/*', 'text/plain']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'application/apply-patch+yaml']);
const PATCH_TYPES = new Set(['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);

/** SUPPORTED_BODY_TYPES are the media types the server decodes. */
export const SUPPORTED_BODY_TYPES = ['application/json', 'application/yaml'];

/**
 * readBody reads and decodes a request body by its Content-Type (JSON, YAML, or a JSON patch
 * type); protobuf or anything else is 415. Bodies are checked with `assertSafeKeys`.
 */
export async function readBody(request: Request): Promise<ParsedBody> {
  const type = mediaType(request);
  if (isProtobuf(type)) return { value: decodeProtobufObject(await readBytes(request)), duplicates: [] };
  const isJson = JSON_TYPES.has(type) || PATCH_TYPES.has(type);
  if (!isJson && !YAML_TYPES.has(type)) throw unsupportedMediaType(type, SUPPORTED_BODY_TYPES);
  const text = await readText(request);
  if (text.trim() === '') throw badRequest('the body of the request was empty');
  const parsed = isJson ? parseJson(text) : parseYaml(text);
  assertSafeKeys(parsed.value);
  return parsed;
}

/**
 * findDuplicateJsonKeys scans JSON text and returns each key that appears twice in the same
 * object, named as Kubernetes' strict decoder names it; nesting past MAX_NESTING_DEPTH is 400. On
 * malformed text it returns what it found (JSON.parse then reports the syntax error).
 */
export function findDuplicateJsonKeys(text: string): string[] {
  const dupes: string[] = [];
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  // The structural scan runs before JSON.parse so that depth is refused before anything recurses.
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = jsonString(text.slice(i, j + 1));
        if (key !== undefined && top.has(key)) dupes.push(key);
        if (key !== undefined) top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      stack.push(new Set());
      if (stack.length > MAX_NESTING_DEPTH) throw tooDeep(ch);
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
      if (stack.length > MAX_NESTING_DEPTH) throw tooDeep(ch);
    }
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',') expectKey = stack[stack.length - 1] !== null;
  }
  return dupes;
}

/** jsonString decodes one JSON string literal, or undefined when it is malformed (JSON.parse reports that). */
function jsonString(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}
