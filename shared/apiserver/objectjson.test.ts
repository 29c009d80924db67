import type { KeyValue, StoredValue } from '../store/store.js';
import { decode } from './storage.js';
import { listJson, objectJson, withResourceVersionJson } from './objectjson.js';

/** A KeyValue whose store kept the value's text, as the SQLite adapter's lists do. */
function stored(value: StoredValue, modRevision = 42): KeyValue {
  const kv: KeyValue = { key: '/k', value, modRevision, createRevision: 1 };
  Object.defineProperty(kv, 'json', { value: JSON.stringify(value), enumerable: false });
  return kv;
}

const VALUES: StoredValue[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', labels: { x: 'y' } }, spec: { containers: [{ name: 'c' }] } },
  { metadata: {} },
  { kind: 'X', metadata: { name: 'q"uo}te{', annotations: { 'a\\"b': '}]"\\', '{': '[' } }, status: { n: 1.5e-7, t: true, f: null } },
  { metadata: { managedFields: [{ fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } } } }], name: 'm' }, spec: [] },
  { spec: { metadata: { nested: true } }, metadata: { name: 'after-spec' }, z: 'é漢\u2028' },
  { metadata: { name: 'uni\u0000code\n' }, data: { 'k': 'v' } },
];

describe('objectJson', () => {
  it.each(VALUES.map((v, i) => [i, v] as const))('renders value %i exactly as JSON.stringify(decode(kv))', (_i, value) => {
    const kv = stored(value);
    expect(objectJson(kv)).toBe(JSON.stringify(decode(kv)));
    expect(withResourceVersionJson(kv.json!, kv.modRevision)).toBeDefined();
  });

  it('falls back to decoding when the text is not plainly an object with a metadata object', () => {
    const shapes: StoredValue[] = [
      { kind: 'NoMetadata' },
      { metadata: 'text' },
      { metadata: { resourceVersion: '7', name: 'kept in place' } },
      { metadata: { name: 'n' }, ['meta\\data']: 1 },
    ];
    for (const value of shapes) {
      const kv = stored(value);
      expect(withResourceVersionJson(kv.json!, kv.modRevision)).toBeUndefined();
      expect(objectJson(kv)).toBe(JSON.stringify(decode(kv)));
    }
  });

  it('refuses malformed text instead of guessing', () => {
    expect(withResourceVersionJson('{"metadata":{"name":"x"}', 1)).toBeUndefined();
    expect(withResourceVersionJson('[1]', 1)).toBeUndefined();
    expect(withResourceVersionJson('{"metadata":{"name":"x}}', 1)).toBeUndefined();
  });

  it('uses the decoded value when the store kept no text', () => {
    const kv: KeyValue = { key: '/k', value: { metadata: { name: 'n' } }, modRevision: 3, createRevision: 3 };
    expect(objectJson(kv)).toBe('{"metadata":{"name":"n","resourceVersion":"3"}}');
  });
});

describe('listJson', () => {
  it('renders the list as JSON.stringify of the decoded list, with and without items', () => {
    const kvs = VALUES.map((v, i) => stored(v, 100 + i));
    const head = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '200', continue: 'abc' } };
    expect(listJson(head, kvs)).toBe(JSON.stringify({ ...head, items: kvs.map(decode) }));
    expect(listJson(head, [])).toBe(JSON.stringify({ ...head, items: [] }));
  });
});
