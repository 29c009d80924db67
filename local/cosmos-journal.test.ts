import { describe, expect, it } from '@jest/globals';
import { effectsOf, fold, type WriteRequest } from './cosmos-journal.js';

const w = (over: Partial<WriteRequest>): WriteRequest => ({ method: 'POST', url: '/', headers: {}, body: Buffer.from(''), status: 200, response: '', ...over });
const doc = (id: string, extra: Record<string, unknown> = {}) => ({ id, cluster: 'c1', ...extra });

describe('cosmos journal: the effects of a request', () => {
  it('records databases, collections and their deletes', () => {
    expect(effectsOf(w({ url: '/dbs', body: Buffer.from('{"id":"d"}'), status: 201 }))).toEqual([{ t: 'db', db: 'd', body: { id: 'd' } }]);
    expect(effectsOf(w({ url: '//dbs/d/colls/', body: Buffer.from('{"id":"s","partitionKey":{"paths":["/cluster"]}}'), status: 201 })))
      .toEqual([{ t: 'coll', db: 'd', coll: 's', body: { id: 's', partitionKey: { paths: ['/cluster'] } } }]);
    expect(effectsOf(w({ method: 'DELETE', url: '/dbs/d/colls/s', status: 204 }))).toEqual([{ t: 'delcoll', db: 'd', coll: 's' }]);
    expect(effectsOf(w({ method: 'DELETE', url: '/dbs/d', status: 204 }))).toEqual([{ t: 'deldb', db: 'd' }]);
  });

  it('records the document the emulator answered, without its system fields, and deletes with their partition key', () => {
    const answered = JSON.stringify({ ...doc('a', { v: 1 }), _rid: 'r', _etag: 'e', _ts: 1, _self: 's' });
    expect(effectsOf(w({ url: '/dbs/d/colls/s/docs', status: 201, response: answered }))).toEqual([{ t: 'put', db: 'd', coll: 's', doc: doc('a', { v: 1 }) }]);
    expect(effectsOf(w({ method: 'PUT', url: '/dbs/d/colls/s/docs/a', status: 200, response: answered }))).toEqual([{ t: 'put', db: 'd', coll: 's', doc: doc('a', { v: 1 }) }]);
    expect(effectsOf(w({ method: 'DELETE', url: '/dbs/d/colls/s/docs/a', headers: { 'x-ms-documentdb-partitionkey': '["c1"]' }, status: 204 })))
      .toEqual([{ t: 'del', db: 'd', coll: 's', id: 'a', pk: '["c1"]' }]);
  });

  it('records nothing for queries, reads and failed writes', () => {
    expect(effectsOf(w({ url: '/dbs/d/colls/s/docs', headers: { 'x-ms-documentdb-isquery': 'True' }, status: 200, response: '{"Documents":[]}' }))).toEqual([]);
    expect(effectsOf(w({ method: 'GET', url: '/dbs/d/colls/s/docs/a', status: 200, response: '{"id":"a"}' }))).toEqual([]);
    expect(effectsOf(w({ method: 'PUT', url: '/dbs/d/colls/s/docs/a', status: 412, response: '{"message":"x"}' }))).toEqual([]);
  });

  it('records the operations of a batch the emulator applied, and only those (it is not atomic)', () => {
    const ops = [
      { operationType: 'Replace', id: 'counter', ifMatch: 'e1', partitionKey: 'c1', resourceBody: doc('counter', { n: 2 }) },
      { operationType: 'Delete', id: 'b', ifMatch: 'e2', partitionKey: 'c1' },
      { operationType: 'Create', resourceBody: doc('log2'), partitionKey: 'c1' },
    ];
    const applied = [{ statusCode: 200, resourceBody: { ...doc('counter', { n: 2 }), _etag: 'e3' } }, { statusCode: 204 }, { statusCode: 201, resourceBody: doc('log2') }];
    const batch = (response: unknown[]) => w({ url: '/dbs/d/colls/s/docs', headers: { 'x-ms-cosmos-is-batch-request': 'True' }, body: Buffer.from(JSON.stringify(ops)), status: 200, response: JSON.stringify(response) });
    expect(effectsOf(batch(applied))).toEqual([
      { t: 'put', db: 'd', coll: 's', doc: doc('counter', { n: 2 }) },
      { t: 'del', db: 'd', coll: 's', id: 'b', pk: '["c1"]' },
      { t: 'put', db: 'd', coll: 's', doc: doc('log2') },
    ]);
    expect(effectsOf(batch([applied[0], { statusCode: 412 }, { statusCode: 424 }]))).toEqual([{ t: 'put', db: 'd', coll: 's', doc: doc('counter', { n: 2 }) }]);
  });
});

describe('cosmos journal: folding to the final state', () => {
  it('keeps the last put of each document per partition, drops deleted ones and whatever a deleted collection held', () => {
    const coll = { t: 'coll' as const, db: 'd', coll: 's', body: { id: 's', partitionKey: { paths: ['/cluster'] } } };
    const state = fold([
      { t: 'db', db: 'd', body: { id: 'd' } }, coll,
      { t: 'put', db: 'd', coll: 's', doc: doc('a', { v: 1 }) },
      { t: 'put', db: 'd', coll: 's', doc: { id: 'a', cluster: 'c2', v: 9 } },
      { t: 'put', db: 'd', coll: 's', doc: doc('a', { v: 2 }) },
      { t: 'put', db: 'd', coll: 's', doc: doc('b') },
      { t: 'del', db: 'd', coll: 's', id: 'b', pk: '["c1"]' },
      { t: 'coll', db: 'd', coll: 'gone', body: { id: 'gone' } },
      { t: 'put', db: 'd', coll: 'gone', doc: doc('z') },
      { t: 'delcoll', db: 'd', coll: 'gone' },
    ]);
    expect(state).toEqual([
      { t: 'db', db: 'd', body: { id: 'd' } }, coll,
      { t: 'put', db: 'd', coll: 's', doc: doc('a', { v: 2 }) },
      { t: 'put', db: 'd', coll: 's', doc: { id: 'a', cluster: 'c2', v: 9 } },
    ]);
  });
});
