/**
 * Rendering stored objects as JSON without decoding them, for lists: a store that keeps each
 * value's JSON text (`KeyValue.json`) lets a list of 10,000 pods skip 10,000 JSON.parse calls and
 * one large JSON.stringify. The bytes are exactly those of `JSON.stringify(decode(kv))`: the
 * stored text with `"resourceVersion":"<modRevision>"` appended to its metadata object, which is
 * where decode's `{ ...metadata, resourceVersion }` puts it. Any text that is not plainly of that
 * shape (no metadata object, a resourceVersion already there, escaped keys) takes the decoding
 * path instead.
 */
import type { KeyValue } from '../store/store.js';
import { decode } from './storage.js';

const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

/** endOfString returns the index after the string that starts (with its quote) at `i`. */
function endOfString(json: string, i: number): number {
  for (let j = i + 1; ; ) {
    const q = json.indexOf('"', j);
    if (q < 0) return -1;
    // The quote ends the string unless an odd number of backslashes precede it.
    let slashes = 0;
    for (let k = q - 1; json.charCodeAt(k) === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** endOfValue returns the index after the JSON value that starts at `i` (compact JSON, no whitespace). */
function endOfValue(json: string, i: number): number {
  const c = json.charCodeAt(i);
  if (c === QUOTE) return endOfString(json, i);
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    let j = i;
    for (let d = json.charCodeAt(j); d !== COMMA && d !== CLOSE_BRACE && d !== CLOSE_BRACKET && j < json.length; d = json.charCodeAt(++j));
    return j;
  }
  let depth = 0;
  for (let j = i; j < json.length; ) {
    const d = json.charCodeAt(j);
    if (d === QUOTE) {
      j = endOfString(json, j);
      if (j < 0) return -1;
      continue;
    }
    if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
    else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return j + 1;
    j++;
  }
  return -1;
}

/**
 * forEachMember walks the members of the object starting at `i` (its `{`), calling `visit` with
 * each raw key (quotes stripped) and the start of its value; `visit` answers false to stop.
 * Returns the index of the object's closing brace, or -1 when the text is not as expected.
 */
function forEachMember(json: string, i: number, visit: (key: string, valueAt: number) => boolean): number {
  let j = i + 1;
  if (json.charCodeAt(j) === CLOSE_BRACE) return j;
  for (;;) {
    if (json.charCodeAt(j) !== QUOTE) return -1;
    const keyEnd = endOfString(json, j);
    if (keyEnd < 0 || json.charCodeAt(keyEnd) !== COLON) return -1;
    if (!visit(json.slice(j + 1, keyEnd - 1), keyEnd + 1)) return -1;
    const valueEnd = endOfValue(json, keyEnd + 1);
    if (valueEnd < 0) return -1;
    const next = json.charCodeAt(valueEnd);
    if (next === CLOSE_BRACE) return valueEnd;
    if (next !== COMMA) return -1;
    j = valueEnd + 1;
  }
}

/**
 * withResourceVersionJson returns `json` (an object's compact JSON) with
 * `"resourceVersion":"<revision>"` appended to its metadata object, or undefined when the text is
 * not plainly of that shape (the caller then decodes).
 */
export function withResourceVersionJson(json: string, revision: number): string | undefined {
  if (json.charCodeAt(0) !== OPEN_BRACE) return undefined;
  let metadataEnd = -1;
  let plain = true;
  const end = forEachMember(json, 0, (key, valueAt) => {
    if (key.includes('\\')) return (plain = false);
    if (key !== 'metadata') return true;
    if (json.charCodeAt(valueAt) !== OPEN_BRACE || metadataEnd >= 0) return (plain = false);
    metadataEnd = forEachMember(json, valueAt, (metaKey) => !metaKey.includes('\\') && metaKey !== 'resourceVersion');
    return metadataEnd >= 0;
  });
  if (!plain || end !== json.length - 1 || metadataEnd < 0) return undefined;
  const empty = json.charCodeAt(metadataEnd - 1) === OPEN_BRACE;
  return `${json.slice(0, metadataEnd)}${empty ? '' : ','}"resourceVersion":${JSON.stringify(String(revision))}${json.slice(metadataEnd)}`;
}

/** objectJson is `JSON.stringify(decode(kv))`, from the stored text when the store kept it. */
export function objectJson(kv: KeyValue): string {
  const spliced = kv.json === undefined ? undefined : withResourceVersionJson(kv.json, kv.modRevision);
  return spliced ?? JSON.stringify(decode(kv));
}

/**
 * listJson is `JSON.stringify({ kind, apiVersion, metadata, items })` for the stored versions
 * `kvs`, each rendered by objectJson: one string built from the parts.
 */
export function listJson(head: { kind: string; apiVersion: string; metadata: Record<string, unknown> }, kvs: readonly KeyValue[]): string {
  const start = JSON.stringify({ kind: head.kind, apiVersion: head.apiVersion, metadata: head.metadata });
  return `${start.slice(0, -1)},"items":[${kvs.map(objectJson).join(',')}]}`;
}
