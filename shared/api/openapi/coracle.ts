/**
 * The OpenAPI definitions of Coracle's own kinds (coracle.io/v1 Cluster and NodePool; see
 * shared/upgrade/objects.ts), written here because no upstream schema holds them. Names follow
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

const conditions: Schema = { type: 'array', items: { $ref: `${META}Condition` }, description: 'The latest observations of the object\'s state.', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] };

/** CORACLE_DEFINITIONS are the schemas of coracle.io/v1. */
export const CORACLE_DEFINITIONS: Record<string, Schema> = {
  ...kind('Cluster', 'Cluster is the cluster itself: its control plane\'s version, the releases it can move to, and its upgrade history.'),
  ...kind('NodePool', 'NodePool is a group of nodes run at one release, with the settings of their upgrade.'),
  [`${P}ClusterSpec`]: { type: 'object', required: ['version'], properties: {
    version: str('The release the control plane should run (e.g. v1.35.0-coracle); it moves one minor version at a time.'),
  } },
  [`${P}ClusterStatus`]: { type: 'object', properties: {
    controlPlaneVersion: str('The release the control plane runs.'),
    availableUpgrades: { type: 'array', items: { type: 'string' }, description: 'Releases of the catalog the control plane may move to next.' },
    conditions,
    upgradeHistory: { type: 'array', items: { $ref: `${P}UpgradeRun` }, description: 'Each upgrade run and its outcome, newest last.' },
  } },
  [`${P}UpgradeRun`]: { type: 'object', properties: {
    fromVersion: str('The version upgraded from.'), toVersion: str('The version upgraded to.'), scope: str('ControlPlane, a pool name, or All.'),
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
    nodes: int('Nodes of the pool now.'), readyNodes: int('Ready nodes of the pool.'),
    nodeVersions: { type: 'object', additionalProperties: { type: 'integer', format: 'int32' }, description: 'How many nodes report each release (kubeletVersion).' },
    conditions,
  } },
};
