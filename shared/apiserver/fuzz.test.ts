/**
 * Property-based fuzzing of what the API server decodes (issue 15): request bodies (JSON, YAML,
 * protobuf), patches (JSON patch, merge, strategic merge, apply), label and field selectors and
 * list/watch/write query options, through the real handler on SQLite. The property: never a 5xx
 * (but upstream's 504 ResourceVersionTooLarge for a resourceVersion ahead of the store, which a
 * client retries), every error is a Kubernetes Status with its own code, and the parsers throw nothing but ApiError.
 * Seeds: the hardening corpus (test/support/hardening-corpus.ts), which grows with each bug found;
 * a counterexample fast-check reports goes there, with the answer Kubernetes gives.
 * Runs in well under a minute (FUZZ_RUNS scales it: `FUZZ_RUNS=5000` for a longer hunt).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { startApiServer, pod, deployment, type Harness } from '../../test/support/apiserver.js';
import { CORPUS_SETUP, HARDENING_CORPUS } from '../../test/support/hardening-corpus.js';
import { isApiError } from '../api/status.js';
import { parseFieldSelector, parseLabelSelector } from '../api/selectors.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
// A property runs a fixed number of cases, not against the clock: on a loaded CI machine one can take a while.
jest.setTimeout(300_000);
let h: Harness;
beforeAll(async () => {
  h = await startApiServer();
  for (const c of CORPUS_SETUP) await h.json(c.method, c.path, c.body, c.contentType ? { 'content-type': c.contentType } : {});
  await h.json('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('fz'));
});
afterAll(async () => { await h.close(); });

/** answer sends a request and checks the property; it returns the status for the caller's own checks. */
async function answer(method: string, path: string, body: string | Uint8Array | undefined, contentType?: string): Promise<number> {
  const res = await h.call(method, path, body, contentType ? { 'content-type': contentType } : {});
  const text = res.headers.get('content-type')?.includes('json') && !path.includes('watch=') ? await res.text() : (await res.body?.cancel(), '');
  if (res.status >= 500 && process.env.DEBUG_500) console.error('FAILING BODY', method, path, typeof body === 'string' ? body.slice(0, 2000) : body);
  // Upstream's one deliberate 5xx for a read: a resourceVersion ahead of the store (504, retry).
  const aheadOfStore = res.status === 504 && text.includes('"ResourceVersionTooLarge"');
  if (res.status >= 500 && !aheadOfStore) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}\nbody: ${String(typeof body === 'string' ? body.slice(0, 300) : body?.length)}`);
  if (res.status >= 400 && text) {
    const status = JSON.parse(text) as { kind?: string; code?: number };
    if (status.kind !== 'Status' || status.code !== res.status) throw new Error(`${method} ${path}: ${res.status} without a matching Status: ${text.slice(0, 200)}`);
  }
  return res.status;
}

// Vocabulary that reaches deep into the kinds' schemas, so random trees hit typed fields.
const KEYS = ['apiVersion', 'kind', 'metadata', 'name', 'namespace', 'labels', 'annotations', 'finalizers', 'ownerReferences', 'uid', 'resourceVersion',
  'managedFields', 'spec', 'status', 'data', 'binaryData', 'stringData', 'containers', 'image', 'resources', 'limits', 'requests', 'cpu', 'memory',
  'replicas', 'selector', 'matchLabels', 'template', 'ports', 'containerPort', 'port', 'clusterIP', 'clusterIPs', 'tolerations', 'nodeName',
  'terminationGracePeriodSeconds', 'env', 'value', 'valueFrom', 'volumes', '$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers',
  '__proto__', 'constructor', 'prototype', '0', ''];
const key = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 }));
const scalar = fc.oneof(fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 31, 1e308, -0, '', '1e999999', '-1', 'None', '10.0.0.1', 'v1', 'ConfigMap', 'Pod', 'delete', 'replace', 'merge'),
  fc.string({ maxLength: 12 }), fc.integer(), fc.double());
const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 5 })),
})).node;

/** mutate sets the value at a random path of a valid object (creating what is missing). */
function mutate(base: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  // Own properties only (defineProperty): a key named __proto__ must become a key, not a prototype.
  const own = (o: Record<string, unknown>, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  const root = structuredClone(base);
  let cur: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) {
    const next = Object.hasOwn(cur, k) ? cur[k] : undefined;
    if (typeof next !== 'object' || next === null) own(cur, k, {});
    cur = Object.getOwnPropertyDescriptor(cur, k)!.value as Record<string, unknown>;
  }
  if (path.length > 0) own(cur, path[path.length - 1], value);
  return root;
}
const VALID: Record<string, Record<string, unknown>> = {
  '/api/v1/namespaces/default/pods': pod('fz-pod'),
  '/apis/apps/v1/namespaces/default/deployments': deployment('fz-deploy'),
  '/api/v1/namespaces/default/configmaps': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fz-cm' }, data: { a: 'b' } },
  '/api/v1/namespaces/default/services': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fz-svc' }, spec: { ports: [{ port: 80 }] } },
};
const collection = fc.constantFrom(...Object.keys(VALID));
const mutated = fc.tuple(collection, fc.array(key, { minLength: 1, maxLength: 5 }), tree).map(([c, path, value]) => [c, JSON.stringify(mutate(VALID[c], path, value))] as const);

const YAML_BITS = ['a: ', 'b:', '&x ', '*x', '[', ']', '{', '}', '\n', '  ', '- ', 'metadata', 'name', ':', '"', "'", '!!str ', '!!binary ', '<<: ', '? ', ',', '|', '>', '#', '%YAML 1.2\n', '---\n', '...\n', '1e9', 'null', '~', '\t', '\\'];
const yaml = fc.array(fc.constantFrom(...YAML_BITS), { maxLength: 40 }).map((bits) => bits.join(''));

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return out;
}
const field = (num: number, bytes: Uint8Array | number[]) => [(num << 3) | 2, ...varint(bytes.length), ...bytes];
const protobuf = fc.tuple(fc.constantFrom(['v1', 'ConfigMap'], ['v1', 'Pod'], ['apps/v1', 'Deployment'], ['v1', 'Nope']), fc.uint8Array({ maxLength: 64 }), fc.boolean())
  .map(([[apiVersion, kind], raw, envelope]) => new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...(envelope
    ? [...field(1, [...field(1, Buffer.from(apiVersion)), ...field(2, Buffer.from(kind))]), ...field(2, raw)]
    : raw)]));

describe('request decoding never answers 5xx', () => {
  it('JSON bodies: random trees, and valid objects with one field set to anything', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.tuple(collection, tree.map((t) => JSON.stringify(t) ?? 'null')), mutated), async ([path, body]) => {
      await answer('POST', path, body, 'application/json');
    }), { numRuns: RUNS * 2 });
  });

  it('YAML bodies, aliases and anchors included', async () => {
    await fc.assert(fc.asyncProperty(collection, yaml, async (path, body) => {
      await answer('POST', path, body || 'a', 'application/yaml');
    }), { numRuns: RUNS });
  });

  it('protobuf bodies', async () => {
    await fc.assert(fc.asyncProperty(collection, protobuf, async (path, body) => {
      await answer('POST', path, body, 'application/vnd.kubernetes.protobuf');
    }), { numRuns: RUNS });
  });

  it('PUT of anything over an existing object', async () => {
    await fc.assert(fc.asyncProperty(mutated, async ([c, body]) => {
      const name = (VALID[c].metadata as { name: string }).name;
      await answer('POST', c, JSON.stringify(VALID[c]), 'application/json');
      await answer('PUT', `${c}/${name}`, body, 'application/json');
    }), { numRuns: RUNS });
  });
});

describe('patches never answer 5xx', () => {
  const target = fc.constantFrom('/api/v1/namespaces/default/pods/p1', '/api/v1/namespaces/default/configmaps/c1', '/apis/apps/v1/namespaces/default/deployments/fz',
    '/apis/apps/v1/namespaces/default/deployments/fz/scale', '/api/v1/namespaces/default/pods/p1/status');
  const pointer = fc.array(key, { maxLength: 4 }).map((keys) => keys.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''));
  const jsonPatch = fc.array(fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'), path: pointer, from: pointer, value: tree }, { requiredKeys: ['op'] }), { maxLength: 4 });

  it('merge and strategic merge patches of random trees', async () => {
    await fc.assert(fc.asyncProperty(target, fc.constantFrom('application/merge-patch+json', 'application/strategic-merge-patch+json'), tree, async (path, type, patch) => {
      await answer('PATCH', path, JSON.stringify(patch) ?? 'null', type);
    }), { numRuns: RUNS * 2 });
  });

  it('JSON patches of random operations', async () => {
    await fc.assert(fc.asyncProperty(target, jsonPatch, async (path, ops) => {
      await answer('PATCH', path, JSON.stringify(ops), 'application/json-patch+json');
    }), { numRuns: RUNS });
  });

  it('server-side apply of mutated objects, with random managers and force', async () => {
    const manager = fc.oneof(fc.constantFrom('kubectl', '', 'x'.repeat(129), 'a\u0001b', 'é'), fc.string({ maxLength: 10 }));
    await fc.assert(fc.asyncProperty(mutated, manager, fc.constantFrom('true', 'false', 'maybe', '1', ''), async ([c, body], fm, force) => {
      const name = (VALID[c].metadata as { name: string }).name;
      await answer('PATCH', `${c}/${name}?fieldManager=${encodeURIComponent(fm)}&force=${force}`, body, 'application/apply-patch+yaml');
    }), { numRuns: RUNS });
  });
});

describe('selectors and query options never answer 5xx', () => {
  const SELECTOR_BITS = ['a', 'b', 'app', '=', '==', '!=', ',', '(', ')', ' in ', ' notin ', '!', '>', '<', '1', '-1', '.', '/', 'x/y', 'metadata.name', 'metadata.namespace',
    'spec.nodeName', 'status.phase', ' ', '%', '\u0000', 'é', '\\', 'example.com/', ''];
  const selector = fc.array(fc.constantFrom(...SELECTOR_BITS), { maxLength: 12 }).map((bits) => bits.join(''));

  it('label and field selector parsers throw only ApiError', () => {
    fc.assert(fc.property(selector, fc.constantFrom('Pod', 'Node', 'Secret', 'Event', 'ConfigMap'), (text, kind) => {
      for (const parse of [() => parseLabelSelector(text), () => parseFieldSelector(kind, text)]) {
        try {
          parse();
        } catch (err) {
          if (!isApiError(err) || err.code !== 400) throw err;
        }
      }
    }), { numRuns: RUNS * 10 });
  });

  it('lists with random selectors and options', async () => {
    const option = fc.oneof(fc.constantFrom('0', '1', '-1', '1e30', '1.5', 'abc', '9223372036854775807', '99999999999999999999', '', '%ZZ'), fc.string({ maxLength: 6 }));
    await fc.assert(fc.asyncProperty(selector, selector, option, option, option, async (labels, fields, limit, rv, cont) => {
      const q = new URLSearchParams({ labelSelector: labels, fieldSelector: fields, limit, resourceVersion: rv, continue: cont });
      await answer('GET', `/api/v1/pods?${q}`, undefined);
    }), { numRuns: RUNS * 2 });
  });

  it('watches with random selectors and timeouts start or are refused, never 5xx', async () => {
    const timeout = fc.constantFrom('0', '1', '-1', '1.5', '2147484', '1e400', 'x');
    await fc.assert(fc.asyncProperty(selector, timeout, async (labels, t) => {
      const q = new URLSearchParams({ watch: '1', labelSelector: labels, timeoutSeconds: t });
      await answer('GET', `/api/v1/namespaces/default/configmaps?${q}`, undefined);
    }), { numRuns: RUNS });
  });

  it('random paths and escapes', async () => {
    const segment = fc.oneof(fc.constantFrom('api', 'v1', 'apis', 'apps', 'namespaces', 'default', 'pods', 'p1', 'status', 'scale', 'log', 'watch', '%ZZ', '%', '%2F', '..', ''), fc.string({ maxLength: 5 }).map(encodeURIComponent));
    await fc.assert(fc.asyncProperty(fc.array(segment, { maxLength: 7 }), fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), async (parts, method) => {
      await answer(method, `/${parts.join('/')}`, method === 'GET' || method === 'DELETE' ? undefined : '{}', method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    }), { numRuns: RUNS * 2 });
  });
});

describe('the hardening corpus as seeds', () => {
  it('every corpus request, and every corpus body sent to every collection, answers below 500', async () => {
    for (const c of HARDENING_CORPUS) {
      await answer(c.method, c.path, c.body, c.contentType);
      if (c.body !== undefined) for (const path of Object.keys(VALID)) await answer('POST', path, c.body, c.contentType && !c.contentType.includes('patch') ? c.contentType : 'application/json');
    }
    expect(HARDENING_CORPUS.length).toBeGreaterThan(30);
  });
});
