/**
 * Printers for apps/v1 and policy/v1: deployments, replicasets, poddisruptionbudgets, as Kubernetes'
 * printDeployment, printReplicaSet and printPodDisruptionBudget print them.
 */
import {
  AGE_COLUMN, NAME_COLUMN, age, column, containersAndImages, formatSelector, int, intOrString,
  type Loose, type PrintContext, type Printer,
} from './format.js';

const APPS = 'io.k8s.api.apps.v1.';

/** Replicas defaults to 1 when unset, as the API server's defaulting would have set it. */
function desired(obj: Loose): number {
  return typeof obj.spec?.replicas === 'number' ? obj.spec.replicas : 1;
}

const templateColumns = (selectorDoc: readonly [string, string]) => [
  column('Containers', 'string', 'Names of each container in the template.', { priority: 1 }),
  column('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 }),
  column('Selector', 'string', selectorDoc, { priority: 1 }),
];

/** DEPLOYMENT_PRINTER: NAME READY UP-TO-DATE AVAILABLE AGE (+ CONTAINERS IMAGES SELECTOR). */
export const DEPLOYMENT_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'integer', [`${APPS}DeploymentStatus`, 'updatedReplicas']),
    column('Available', 'integer', [`${APPS}DeploymentStatus`, 'availableReplicas']),
    AGE_COLUMN,
    ...templateColumns([`${APPS}DeploymentSpec`, 'selector']),
  ],
  cells(d: Loose, ctx: PrintContext): unknown[] {
    const status = d.status ?? {};
    return [
      d.metadata?.name ?? '', `${int(status.readyReplicas)}/${desired(d)}`, int(status.updatedReplicas), int(status.availableReplicas),
      age(d, ctx), ...containersAndImages(d.spec?.template?.spec), formatSelector(d.spec?.selector),
    ];
  },
};

/** REPLICASET_PRINTER: NAME DESIRED CURRENT READY AGE (+ CONTAINERS IMAGES SELECTOR). */
export const REPLICASET_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', [`${APPS}ReplicaSetSpec`, 'replicas']),
    column('Current', 'integer', [`${APPS}ReplicaSetStatus`, 'replicas']),
    column('Ready', 'integer', [`${APPS}ReplicaSetStatus`, 'readyReplicas']),
    AGE_COLUMN,
    ...templateColumns([`${APPS}ReplicaSetSpec`, 'selector']),
  ],
  cells(rs: Loose, ctx: PrintContext): unknown[] {
    return [
      rs.metadata?.name ?? '', desired(rs), int(rs.status?.replicas), int(rs.status?.readyReplicas),
      age(rs, ctx), ...containersAndImages(rs.spec?.template?.spec), formatSelector(rs.spec?.selector),
    ];
  },
};

const PDB_SPEC = 'io.k8s.api.policy.v1.PodDisruptionBudgetSpec';

/** PDB_PRINTER: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE. */
export const PDB_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Min Available', 'string', [PDB_SPEC, 'minAvailable']),
    column('Max Unavailable', 'string', [PDB_SPEC, 'maxUnavailable']),
    column('Allowed Disruptions', 'integer', ['io.k8s.api.policy.v1.PodDisruptionBudgetStatus', 'disruptionsAllowed']),
    AGE_COLUMN,
  ],
  cells(pdb: Loose, ctx: PrintContext): unknown[] {
    const spec = pdb.spec ?? {};
    return [
      pdb.metadata?.name ?? '',
      spec.minAvailable === undefined || spec.minAvailable === null ? 'N/A' : intOrString(spec.minAvailable),
      spec.maxUnavailable === undefined || spec.maxUnavailable === null ? 'N/A' : intOrString(spec.maxUnavailable),
      int(pdb.status?.disruptionsAllowed), age(pdb, ctx),
    ];
  },
};
