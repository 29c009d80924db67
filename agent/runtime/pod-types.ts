/**
 * Pod types for the agent, from kubernetes-models (generated from Kubernetes' OpenAPI), under the
 * names the official client uses.
 */
export type { IPod as V1Pod } from 'kubernetes-models/v1/Pod';
export type { IPodStatus as V1PodStatus } from 'kubernetes-models/v1/PodStatus';
export type { IContainer as V1Container } from 'kubernetes-models/v1/Container';
export type { IContainerStatus as V1ContainerStatus } from 'kubernetes-models/v1/ContainerStatus';
