/**
 * The OpenAPI definitions of the Metrics API's kinds (metrics.k8s.io/v1beta1 NodeMetrics and
 * PodMetrics, as k8s.io/metrics defines them), written here because the generated data holds no
 * metrics.k8s.io schema. Names follow definitionName; definitions.ts merges them in.
 */
import type { Schema } from './definitions.js';

const P = 'io.k8s.api.metrics.v1beta1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const str = (description: string): Schema => ({ type: 'string', description });
const usage: Schema = { type: 'object', additionalProperties: { $ref: QUANTITY }, description: 'The memory working set and the CPU usage rate (nanocores).' };
const common = {
  apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: str('Kind is a string value representing the REST resource this object represents.'),
  metadata: { $ref: `${META}ObjectMeta`, description: 'Standard object\'s metadata; labels are the node\'s or pod\'s.' },
  timestamp: { type: 'string', format: 'date-time', description: 'The end of the window the usage was measured over.' } as Schema,
  window: str('The length of the window the usage was measured over (a duration, e.g. 15s).'),
};

function list(kind: string): Schema {
  return {
    description: `${kind}List is a list of ${kind}.`, type: 'object', required: ['items'],
    properties: {
      apiVersion: common.apiVersion, kind: common.kind,
      items: { type: 'array', items: { $ref: `${P}${kind}` }, description: `The ${kind}.` },
      metadata: { $ref: `${META}ListMeta`, description: 'Standard list metadata.' },
    },
  };
}

/** METRICS_DEFINITIONS are the schemas of metrics.k8s.io/v1beta1. */
export const METRICS_DEFINITIONS: Record<string, Schema> = {
  [`${P}NodeMetrics`]: {
    description: 'NodeMetrics sets resource usage metrics of a node.', type: 'object', required: ['timestamp', 'window', 'usage'],
    properties: { ...common, usage },
  },
  [`${P}NodeMetricsList`]: list('NodeMetrics'),
  [`${P}PodMetrics`]: {
    description: 'PodMetrics sets resource usage metrics of a pod.', type: 'object', required: ['timestamp', 'window', 'containers'],
    properties: {
      ...common,
      containers: { type: 'array', items: { $ref: `${P}ContainerMetrics` }, description: 'Metrics for all containers are collected within the same time window.', 'x-kubernetes-list-type': 'atomic' },
    },
  },
  [`${P}PodMetricsList`]: list('PodMetrics'),
  [`${P}ContainerMetrics`]: {
    description: 'ContainerMetrics sets resource usage metrics of a container.', type: 'object', required: ['name', 'usage'],
    properties: { name: str('Container name corresponding to the one from pod.spec.containers.'), usage },
  },
};
