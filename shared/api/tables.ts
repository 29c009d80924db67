/**
 * Server-side printing: the meta.k8s.io/v1 `Table` that `kubectl get` asks for (`Accept:
 * application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns Kubernetes prints for each kind
 * (pkg/printers/internalversion/printers.go). The printers live in `tables/`, one file per area.
 */
import type { ResourceType } from './resources.js';
import { AGE_COLUMN, NAME_COLUMN, age, type ColumnDefinition, type Loose, type Printer } from './tables/format.js';
import { POD_PRINTER } from './tables/pods.js';
import { DEPLOYMENT_PRINTER, PDB_PRINTER, REPLICASET_PRINTER } from './tables/workloads.js';
import { ENDPOINTS_PRINTER, EVENT_PRINTER, NAMESPACE_PRINTER, NODE_PRINTER, SERVICE_PRINTER } from './tables/cluster.js';
import { ENDPOINTSLICE_PRINTER } from './tables/discovery.js';
import { CLUSTER_PRINTER, NODEPOOL_PRINTER, UPGRADEPREVIEW_PRINTER, UPGRADERUN_PRINTER } from './tables/coracle.js';
import { NODEMETRICS_PRINTER, PODMETRICS_PRINTER } from './tables/metrics.js';
import { CONFIGMAP_PRINTER, LEASE_PRINTER, SECRET_PRINTER, SERVICEACCOUNT_PRINTER } from './tables/config.js';
import { BINDING_PRINTER, ROLE_PRINTER } from './tables/rbac.js';

export { humanDuration } from './tables/format.js';
export type { ColumnDefinition } from './tables/format.js';

/** PRINTERS maps `group/plural` (core: `/plural`) to its printer. */
const PRINTERS: Readonly<Record<string, Printer>> = {
  '/pods': POD_PRINTER,
  '/nodes': NODE_PRINTER,
  '/namespaces': NAMESPACE_PRINTER,
  '/services': SERVICE_PRINTER,
  '/endpoints': ENDPOINTS_PRINTER,
  '/events': EVENT_PRINTER,
  '/configmaps': CONFIGMAP_PRINTER,
  '/secrets': SECRET_PRINTER,
  '/serviceaccounts': SERVICEACCOUNT_PRINTER,
  'apps/deployments': DEPLOYMENT_PRINTER,
  'apps/replicasets': REPLICASET_PRINTER,
  'coordination.k8s.io/leases': LEASE_PRINTER,
  'discovery.k8s.io/endpointslices': ENDPOINTSLICE_PRINTER,
  'policy/poddisruptionbudgets': PDB_PRINTER,
  'coracle.io/clusters': CLUSTER_PRINTER,
  'coracle.io/nodepools': NODEPOOL_PRINTER,
  'coracle.io/upgraderuns': UPGRADERUN_PRINTER,
  'coracle.io/upgradepreviews': UPGRADEPREVIEW_PRINTER,
  'metrics.k8s.io/nodes': NODEMETRICS_PRINTER,
  'metrics.k8s.io/pods': PODMETRICS_PRINTER,
  'rbac.authorization.k8s.io/roles': ROLE_PRINTER,
  'rbac.authorization.k8s.io/clusterroles': ROLE_PRINTER,
  'rbac.authorization.k8s.io/rolebindings': BINDING_PRINTER,
  'rbac.authorization.k8s.io/clusterrolebindings': BINDING_PRINTER,
};

/** DEFAULT_PRINTER is what Kubernetes prints for a kind without its own printer: NAME and AGE. */
const DEFAULT_PRINTER: Printer = {
  columns: [NAME_COLUMN, AGE_COLUMN],
  cells: (obj: Loose, ctx) => [obj?.metadata?.name ?? '', age(obj, ctx)],
};

/** printerFor returns the printer of a resource (the NAME/AGE default when it has none). */
export function printerFor(resource: ResourceType): Printer {
  return PRINTERS[`${resource.group}/${resource.plural}`] ?? DEFAULT_PRINTER;
}

/** TableOptions controls a Table. */
export interface TableOptions {
  /**
   * Include priority-1 (wide) columns. Kubernetes' API server always generates them (`Wide: true`)
   * and kubectl hides them unless `-o wide`: the API server should pass `true`.
   */
  wide: boolean;
  /** `includeObject` query parameter: None, Metadata (PartialObjectMetadata, Kubernetes' default) or Object. */
  includeObject: 'None' | 'Metadata' | 'Object';
  /** The list's metadata (resourceVersion, continue, remainingItemCount), copied to the Table. */
  listMeta?: Record<string, unknown>;
  /** The time ages are computed at (ms since the epoch); default: now. */
  now?: number;
}

function rowObject(obj: Record<string, unknown>, includeObject: TableOptions['includeObject']): Record<string, unknown> | undefined {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} };
}

/**
 * toTable renders objects of one resource as a meta.k8s.io/v1 Table: column definitions (without
 * priority columns unless `wide`) and one row per object, in the given order, with cells computed
 * at `options.now` and the object embedded as `includeObject` asks.
 */
export function toTable(resource: ResourceType, objects: readonly Record<string, unknown>[], options: TableOptions): Record<string, unknown> {
  const printer = printerFor(resource);
  const ctx = { now: options.now ?? Date.now() };
  const keep = printer.columns.map((c) => options.wide || c.priority === 0);
  const columnDefinitions: ColumnDefinition[] = printer.columns.filter((_, i) => keep[i]);
  const rows = objects.map((obj) => {
    const cells = printer.cells(obj, ctx).filter((_, i) => keep[i]);
    const conditions = printer.conditions?.(obj);
    const object = rowObject(obj, options.includeObject);
    return { cells, ...(conditions ? { conditions } : {}), ...(object ? { object } : {}) };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: options.listMeta ?? {}, columnDefinitions, rows };
}
