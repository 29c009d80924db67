/**
 * The OpenAPI definitions of Coracle's own kinds (coracle.io/v1 Cluster and NodePool, see
 * shared/upgrade/objects.ts; UpgradeRun and UpgradePreview, see shared/upgrade/run.ts), written here because no upstream schema holds them. Names follow
 * definitionName (`io.k8s.api.coracle.v1.Cluster`); definitions.ts merges them with the generated ones.
 */
import type { Schema } from './definitions.js';

const P = 'io.k8s.api.coracle.v1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const str = (description: string): Schema => ({ type: 'string', description });
const int = (description: string): Schema => ({ type: 'integer', format: 'int32', description });
const intOrString = (description: string): Schema => ({ $ref: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString', description });

function kind(name: string, description: string): Record<string, Schema> {
  return {
    [`${P}${name}`]: {
      description, type: 'object',
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: { $ref: `${META}ObjectMeta`, description: 'Standard object\'s metadata.' },
        spec: { $ref: `${P}${name}Spec`, description: `The desired state of the ${name}.` },
        status: { $ref: `${P}${name}Status`, description: `The observed state of the ${name}.` },
      },
    },
    [`${P}${name}List`]: {
      description: `${name}List is a list of ${name}s.`, type: 'object', required: ['items'],
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        items: { type: 'array', items: { $ref: `${P}${name}` }, description: `The ${name}s.` },
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: { $ref: `${META}ListMeta`, description: 'Standard list metadata.' },
      },
    },
  };
}

const bool = (description: string): Schema => ({ type: 'boolean', description });
const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
const conditions: Schema = { type: 'array', items: { $ref: `${META}Condition` }, description: 'The latest observations of the object\'s state.', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] };

/** CORACLE_DEFINITIONS are the schemas of coracle.io/v1. */
export const CORACLE_DEFINITIONS: Record<string, Schema> = {
  ...kind('Cluster', 'Cluster is the cluster itself: its control plane\'s version, the releases it can move to, and its upgrade history.'),
  ...kind('NodePool', 'NodePool is a group of nodes run at one release, with the settings of their upgrade.'),
  [`${P}ClusterSpec`]: { type: 'object', required: ['version'], properties: {
    version: str('The release the control plane should run (e.g. v1.35.0-coracle); it moves one minor version at a time.'),
    autoUpgrade: { $ref: `${P}AutoUpgrade`, description: 'The cluster upgrades itself, in its maintenance window, to the release its channel picks from the catalog.' },
  } },
  [`${P}AutoUpgrade`]: { type: 'object', properties: {
    channel: { type: 'string', enum: ['none', 'patch', 'stable'], description: 'none (the default); patch: the newest release of the control plane\'s minor; stable: the newest patch of minor N-1, N being the newest minor in the catalog (one minor at a time).' },
    maintenanceWindow: { $ref: `${P}MaintenanceWindow`, description: 'When auto-upgrades may start; absent: at any time.' },
  } },
  [`${P}MaintenanceWindow`]: { type: 'object', required: ['startTime', 'durationHours'], properties: {
    days: { type: 'array', items: { type: 'string', enum: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] }, description: 'Days of the week it opens; absent or empty: every day.' },
    startTime: str('The local time it opens, HH:MM.'),
    durationHours: { type: 'integer', format: 'int32', description: 'How long it stays open, 1 to 24 hours.' },
    utcOffset: str('The offset of startTime from UTC, +HH:MM or -HH:MM (default +00:00).'),
  } },
  [`${P}ClusterStatus`]: { type: 'object', properties: {
    version: str('The release the control plane runs (the same as controlPlaneVersion).'),
    controlPlaneVersion: str('The release the control plane runs.'),
    availableUpgrades: { type: 'array', items: { type: 'string' }, description: 'Releases of the catalog the control plane may move to next.' },
    conditions,
    upgradeHistory: { type: 'array', items: { $ref: `${P}UpgradeHistoryEntry` }, description: 'Each upgrade run and its outcome, newest last (the UpgradeRun objects hold the details).' },
    storage: { $ref: `${P}ClusterStorage`, description: 'The store\'s layout: its backend, schema version and the migrations releases applied to it.' },
  } },
  [`${P}ClusterStorage`]: { type: 'object', properties: {
    backend: str('sqlite or cosmos.'), version: int('The store\'s schema version.'),
    migrations: { type: 'array', items: { $ref: `${P}StorageMigration` }, description: 'The schema migrations applied to the store, oldest first.' },
  } },
  [`${P}StorageMigration`]: { type: 'object', properties: {
    version: int('The schema version it brought the store to.'), description: str('What it changed.'),
    appliedAt: { type: 'string', format: 'date-time', description: 'When it was applied.' }, release: str('The release that applied it.'),
  } },
  [`${P}UpgradeHistoryEntry`]: { type: 'object', properties: {
    name: str('The UpgradeRun.'),
    fromVersion: str('The version upgraded from.'), toVersion: str('The version upgraded to.'), scope: str('Cluster, ControlPlane, or Pool (with the pool\'s name).'),
    startTime: { type: 'string', format: 'date-time', description: 'When the run started.' },
    completionTime: { type: 'string', format: 'date-time', description: 'When the run ended.' },
    outcome: str('Succeeded, Failed, Cancelled, or Running.'), message: str('What happened, in a sentence.'),
  } },
  [`${P}NodePoolSpec`]: { type: 'object', required: ['version'], properties: {
    version: str('The release the pool\'s nodes should run; never newer than the control plane, at most two minor versions behind it.'),
    count: int('How many nodes the pool has outside an upgrade.'),
    upgradeSettings: { $ref: `${P}UpgradeSettings`, description: 'How the pool upgrades.' },
  } },
  [`${P}UpgradeSettings`]: { type: 'object', properties: {
    maxSurge: intOrString('Nodes added per batch: a number or a percentage of the pool, rounded up (default 10%).'),
    maxUnavailable: intOrString('Old nodes that may be unavailable beyond the surge (default 0).'),
    drainTimeout: str('How long a drain may wait on PodDisruptionBudgets, as a duration (default 30m).'),
    nodeSoakDuration: str('How long to wait after a batch is Ready before removing its old nodes (default 0s).'),
    undrainableNodeBehavior: { type: 'string', enum: ['Cordon', 'Schedule'], description: 'A node that cannot be drained in time: Cordon (leave it cordoned, go on) or Schedule (stop and report).' },
  } },
  [`${P}NodePoolStatus`]: { type: 'object', properties: {
    version: str('The release every node of the pool runs, once they all run the same one.'),
    nodes: int('Nodes of the pool now.'), readyNodes: int('Ready nodes of the pool.'),
    nodeVersions: { type: 'object', additionalProperties: { type: 'integer', format: 'int32' }, description: 'How many nodes report each release (kubeletVersion).' },
    conditions,
  } },
  ...kind('UpgradeRun', 'UpgradeRun is one upgrade of the cluster: the control plane first, then the node pools node by node. Create it to start; patch spec.paused or spec.cancel to pause, resume or cancel.'),
  [`${P}UpgradeRunSpec`]: { type: 'object', required: ['targetVersion'], properties: {
    targetVersion: str('The release to move to (it must be in the catalog).'),
    scope: { type: 'string', enum: ['Cluster', 'ControlPlane', 'Pool'], description: 'What to upgrade: Cluster (the control plane, then every pool; the default), ControlPlane, or Pool (the pool named in pool).' },
    pool: str('The node pool to upgrade; required when scope is Pool.'),
    force: bool('Start even though a PodDisruptionBudget blocks a drain (the node is then handled by the pool\'s undrainableNodeBehavior).'),
    paused: bool('Hold the run at the next step boundary; set back to false to resume.'),
    cancel: bool('Stop the run at the next step boundary; once true it cannot be set back.'),
  } },
  [`${P}UpgradeRunNode`]: { type: 'object', required: ['name', 'step'], properties: {
    name: str('The old node.'), pool: str('Its node pool.'),
    fromVersion: str('The release it ran.'), toVersion: str('The release its replacement runs.'),
    step: { type: 'string', enum: ['Waiting', 'Surging', 'Draining', 'Drained', 'Replaced', 'Ready', 'Undrainable'], description: 'Where its replacement is.' },
    message: str('What happened to it last, in a sentence.'),
  } },
  [`${P}UpgradeRunControlPlane`]: { type: 'object', properties: {
    fromVersion: str('The release the control plane ran.'), toVersion: str('The release it moves to.'),
    step: { type: 'string', enum: ['Waiting', 'Upgrading', 'Upgraded', 'Skipped'], description: 'Where the control plane\'s step is.' },
    storage: { type: 'object', description: 'Once Upgraded: the store\'s schema version under the new release and the migrations it applied.', properties: {
      version: int('The store\'s schema version.'), migrationsApplied: { type: 'array', items: { type: 'string' }, description: 'The migrations the new release applied, as "version: description".' },
    } },
  } },
  [`${P}UpgradeRunProgress`]: { type: 'object', properties: { done: int('Old nodes replaced.'), total: int('Old nodes to replace.') } },
  [`${P}UpgradeRunStatus`]: { type: 'object', properties: {
    phase: { type: 'string', enum: ['Pending', 'ControlPlane', 'Pools', 'Paused', 'Succeeded', 'Failed', 'Cancelled'], description: 'Where the run is; Succeeded, Failed and Cancelled are final.' },
    plan: { type: 'object', description: 'The preview computed when the run started (as an UpgradePreview answers).' },
    nodes: { type: 'array', items: { $ref: `${P}UpgradeRunNode` }, description: 'Each old node and its step.' },
    progress: { $ref: `${P}UpgradeRunProgress`, description: 'Old nodes replaced so far.' },
    controlPlane: { $ref: `${P}UpgradeRunControlPlane`, description: 'The control plane\'s step.' },
    surgeNodes: { type: 'array', items: { type: 'string' }, description: 'The nodes this run added at the target version, in order (a retried add adopts a node it made but did not record).' },
    startTime: time('When the run started.'), completionTime: time('When the run ended.'),
    message: str('What the run is doing or why it ended, in a sentence.'),
    conditions,
  } },
  ...kind('UpgradePreview', 'UpgradePreview asks for the plan of an upgrade without starting it: create it (it is never stored) and read status.plan.'),
  [`${P}UpgradePreviewSpec`]: { $ref: `${P}UpgradeRunSpec`, description: 'The run to preview.' },
  [`${P}UpgradePreviewStatus`]: { type: 'object', properties: {
    plan: { type: 'object', description: 'The plan: control plane step, each pool\'s batches and evictions, budgets, problems, canStart, estimateSeconds.' },
  } },
};
