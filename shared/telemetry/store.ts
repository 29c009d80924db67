/**
 * Store metrics, named as kube-apiserver names its storage metrics
 * (k8s.io/apiserver/pkg/storage/etcd3/metrics): `etcd_requests_total` and
 * `etcd_request_duration_seconds` by operation and type (the resource, `pods` or
 * `deployments.apps`), `etcd_request_errors_total` for the failures that are not answers
 * (NotFound, AlreadyExists and Conflict are answers: upstream's etcd client sees no error for
 * them), and `apiserver_storage_objects` by resource, counted when scraped.
 *
 * They are taken at the Store port by a decorator (as shared/encryption decorates the Store), so
 * SQLite and Cosmos DB are counted the same way, whatever the adapter. The names keep upstream's
 * `etcd_` prefix although no etcd is behind them: dashboards and alerts written for
 * kube-apiserver read them unchanged.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { RESOURCES, storageKey } from '../api/resources.js';
import { isStoreError, type Store } from '../store/store.js';
import { LATENCY_BUCKETS, perRegistry, secondsSince } from './registry.js';
import { withRequestId } from './requestlog.js';

/** StoreOperation is the `operation` label: the Store method called. */
export type StoreOperation = 'get' | 'list' | 'count' | 'create' | 'update' | 'delete' | 'watch' | 'compact';

/** ANSWERS are the StoreError reasons that are answers, not failures of the store. */
const ANSWERS = new Set(['NotFound', 'AlreadyExists', 'Conflict']);

/** StoreMetrics are one registry's store metrics. */
export class StoreMetrics {
  private readonly requests: Counter<'operation' | 'type'>;
  private readonly errors: Counter<'operation' | 'type'>;
  private readonly durations: Histogram<'operation' | 'type'>;
  /** The store `apiserver_storage_objects` counts in (the newest measured one). */
  counted: Store | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['operation', 'type'] as const;
    this.requests = new Counter({ name: 'etcd_requests_total', help: 'Etcd request counts for each operation and object type.', labelNames, registers });
    this.errors = new Counter({ name: 'etcd_request_errors_total', help: 'Etcd failed request counts for each operation and object type.', labelNames, registers });
    this.durations = new Histogram({ name: 'etcd_request_duration_seconds', help: 'Etcd request latency in seconds for each operation and object type.', labelNames, buckets: LATENCY_BUCKETS, registers });
    const counted = () => this.counted;
    new Gauge({
      name: 'apiserver_storage_objects', help: 'Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.',
      labelNames: ['resource'], registers,
      async collect() {
        const store = counted();
        if (!store) return;
        await Promise.all(STORED.map(async ({ key, resource }) => this.set({ resource }, await store.count(key).catch(() => -1))));
      },
    });
  }

  /** measure runs one store call, counting it under `operation` and the type of `key`. */
  async measure<T>(operation: StoreOperation, key: string, call: () => Promise<T>): Promise<T> {
    const labels = { operation, type: typeOfKey(key) };
    const started = performance.now();
    try {
      return await call();
    } catch (err) {
      if (!isStoreError(err) || !ANSWERS.has(err.reason)) this.errors.inc(labels);
      throw err;
    } finally {
      this.requests.inc(labels);
      this.durations.observe(labels, secondsSince(started));
    }
  }
}

/** The stored resources and their key prefixes, in the resource label's spelling. */
const STORED = RESOURCES.filter((r) => r.verbs.includes('create')).map((r) => ({ key: storageKey(r), resource: r.group ? `${r.plural}.${r.group}` : r.plural }));

const STORED_GROUPS = new Set(RESOURCES.map((r) => r.group || 'core'));

/**
 * typeOfKey is the `type` label of a key: the resource as upstream spells a group resource
 * (`pods`, `deployments.apps`); keys outside the resource layout (`/registry/ipaddresses/…`) by
 * their first segment; the whole registry (`/registry/`) as "".
 */
export function typeOfKey(key: string): string {
  const [, , group, plural] = key.split('/');
  if (!group) return '';
  if (plural === undefined || !STORED_GROUPS.has(group)) return group;
  return group === 'core' ? plural : `${plural}.${group}`;
}

/** storeMetrics are the store metrics of `registry` (default: the process's), built once per registry. */
export const storeMetrics = perRegistry((registry) => new StoreMetrics(registry));

/**
 * measuredStore wraps `inner` so every call is counted in `metrics` (see the file comment); a
 * watch is counted once, when it is opened. Writes made while an API request is handled record
 * its id (shared/telemetry/requestlog.ts). The wrapper keeps `inner`'s other methods (an
 * EncryptingStore's `plain` and `reencrypt`) callable as they are.
 */
export function measuredStore<S extends Store>(inner: S, metrics: StoreMetrics = storeMetrics()): S {
  metrics.counted = inner;
  const measured: Store = {
    currentRevision: () => inner.currentRevision(),
    compactedRevision: () => inner.compactedRevision(),
    get: (key, options) => metrics.measure('get', key, () => inner.get(key, options)),
    list: (prefix, options) => metrics.measure('list', prefix, () => inner.list(prefix, options)),
    count: (prefix) => metrics.measure('count', prefix, () => inner.count(prefix)),
    create: (key, value, options) => metrics.measure('create', key, () => inner.create(key, value, withRequestId(options))),
    update: (key, value, expected, options) => metrics.measure('update', key, () => inner.update(key, value, expected, withRequestId(options))),
    delete: (key, expected, options) => metrics.measure('delete', key, () => inner.delete(key, expected, withRequestId(options))),
    watch(prefix, fromRevision, options) {
      void metrics.measure('watch', prefix, async () => undefined);
      return inner.watch(prefix, fromRevision, options);
    },
    compact: (revision) => metrics.measure('compact', '/registry/', () => inner.compact(revision)),
    close: () => inner.close(),
  };
  return Object.assign(Object.create(inner) as S, measured);
}
