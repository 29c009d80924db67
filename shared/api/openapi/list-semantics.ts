/**
 * Strategic-merge-patch and server-side-apply semantics of the lists and structs of the served types.
 *
 * Neither kubernetes-models nor @kubernetes/client-node carries them, so this table restates the
 * `patchStrategy` / `patchMergeKey` struct tags and the `+listType` / `+listMapKey` / `+mapType`
 * markers of the Go types in k8s.io/api (core/v1/types.go, apps/v1/types.go, policy/v1/types.go,
 * coordination/v1/types.go) and k8s.io/apimachinery (meta/v1/types.go) as of Kubernetes v1.35; they
 * are what Kubernetes publishes as `x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`,
 * `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type`.
 * A list absent from the table is atomic for strategic merge patch (replaced whole), as in Kubernetes.
 */

/** FieldSemantics is what Kubernetes declares about one field. */
export interface FieldSemantics {
  /** `x-kubernetes-patch-strategy`: `merge`, `retainKeys`, `merge,retainKeys` or `replace`. */
  patchStrategy?: string;
  /** `x-kubernetes-patch-merge-key`: the item field that identifies a list item. */
  patchMergeKey?: string;
  /** `x-kubernetes-list-type`. */
  listType?: 'atomic' | 'set' | 'map';
  /** `x-kubernetes-list-map-keys` (listType map only). */
  listMapKeys?: readonly string[];
}

const mapBy = (key: string, ...more: string[]): FieldSemantics =>
  ({ patchStrategy: 'merge', patchMergeKey: key, listType: 'map', listMapKeys: [key, ...more] });
const atomic: FieldSemantics = { listType: 'atomic' };
const mergedSet: FieldSemantics = { patchStrategy: 'merge', listType: 'set' };
const conditions = mapBy('type');

const CONTAINER: Record<string, FieldSemantics> = {
  args: atomic, command: atomic, envFrom: atomic, resizePolicy: atomic, restartPolicyRules: atomic,
  env: mapBy('name'),
  // Ports merge by containerPort, but are unique by (containerPort, protocol).
  ports: { patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  volumeMounts: mapBy('mountPath'),
  volumeDevices: mapBy('devicePath'),
};

/** LIST_SEMANTICS maps a definition name to its fields' semantics. */
export const LIST_SEMANTICS: Readonly<Record<string, Readonly<Record<string, FieldSemantics>>>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: mergedSet,
    ownerReferences: mapBy('uid'),
    managedFields: atomic,
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': { matchExpressions: atomic },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': { values: atomic },
  'io.k8s.api.core.v1.PodSpec': {
    volumes: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    initContainers: mapBy('name'),
    containers: mapBy('name'),
    ephemeralContainers: mapBy('name'),
    imagePullSecrets: mapBy('name'),
    hostAliases: mapBy('ip'),
    tolerations: atomic,
    readinessGates: atomic,
    topologySpreadConstraints: { patchStrategy: 'merge', patchMergeKey: 'topologyKey', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] },
    resourceClaims: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    schedulingGates: mapBy('name'),
  },
  'io.k8s.api.core.v1.Container': CONTAINER,
  'io.k8s.api.core.v1.EphemeralContainer': CONTAINER,
  'io.k8s.api.core.v1.PodStatus': {
    conditions,
    podIPs: mapBy('ip'),
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: atomic, containerStatuses: atomic, ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.PodDNSConfig': { nameservers: atomic, searches: atomic, options: atomic },
  'io.k8s.api.core.v1.PodSecurityContext': { supplementalGroups: atomic, sysctls: atomic },
  'io.k8s.api.core.v1.Capabilities': { add: atomic, drop: atomic },
  'io.k8s.api.core.v1.ExecAction': { command: atomic },
  'io.k8s.api.core.v1.NodeSelector': { nodeSelectorTerms: atomic },
  'io.k8s.api.core.v1.NodeSelectorTerm': { matchExpressions: atomic, matchFields: atomic },
  'io.k8s.api.core.v1.NodeSelectorRequirement': { values: atomic },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': { items: atomic },
  'io.k8s.api.core.v1.SecretVolumeSource': { items: atomic },
  'io.k8s.api.core.v1.ProjectedVolumeSource': { sources: atomic },
  'io.k8s.api.core.v1.NodeSpec': { podCIDRs: mergedSet, taints: atomic },
  'io.k8s.api.core.v1.NodeStatus': {
    conditions, addresses: mapBy('type'),
    images: atomic, volumesInUse: atomic, volumesAttached: atomic, runtimeHandlers: atomic,
  },
  'io.k8s.api.core.v1.ContainerImage': { names: atomic },
  'io.k8s.api.core.v1.ServiceSpec': {
    ports: { patchStrategy: 'merge', patchMergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] },
    clusterIPs: atomic, externalIPs: atomic, ipFamilies: atomic, loadBalancerSourceRanges: atomic,
  },
  'io.k8s.api.core.v1.ServiceStatus': { conditions },
  'io.k8s.api.core.v1.LoadBalancerStatus': { ingress: atomic },
  'io.k8s.api.core.v1.Endpoints': { subsets: atomic },
  'io.k8s.api.core.v1.EndpointSubset': { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  'io.k8s.api.core.v1.ServiceAccount': { secrets: mapBy('name'), imagePullSecrets: atomic },
  'io.k8s.api.core.v1.NamespaceSpec': { finalizers: atomic },
  'io.k8s.api.core.v1.NamespaceStatus': { conditions },
  'io.k8s.api.apps.v1.DeploymentSpec': { strategy: { patchStrategy: 'retainKeys' } },
  'io.k8s.api.apps.v1.DeploymentStatus': { conditions },
  'io.k8s.api.apps.v1.ReplicaSetStatus': { conditions },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': { conditions },
  'io.k8s.api.core.v1.TopologySpreadConstraint': { matchLabelKeys: atomic },
  'io.k8s.api.core.v1.PodAffinityTerm': { namespaces: atomic, matchLabelKeys: atomic, mismatchLabelKeys: atomic },
  'io.k8s.api.core.v1.PodAffinity': { requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic },
  'io.k8s.api.core.v1.PodAntiAffinity': { requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic },
  'io.k8s.api.core.v1.NodeAffinity': { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  'io.k8s.api.core.v1.HTTPGetAction': { httpHeaders: atomic },
  'io.k8s.api.core.v1.ContainerStatus': { allocatedResourcesStatus: mapBy('name'), volumeMounts: mapBy('mountPath') },
  'io.k8s.api.core.v1.DownwardAPIVolumeSource': { items: atomic },
  'io.k8s.api.core.v1.LoadBalancerIngress': { ports: atomic },
  'io.k8s.api.core.v1.HostAlias': { hostnames: atomic },
  'io.k8s.api.core.v1.ResourceRequirements': { claims: { listType: 'map', listMapKeys: ['name'] } },
  'io.k8s.api.core.v1.SecretProjection': { items: atomic },
  'io.k8s.api.core.v1.ConfigMapProjection': { items: atomic },
  'io.k8s.api.core.v1.DownwardAPIProjection': { items: atomic },
};

/**
 * ATOMIC_STRUCTS are the structs Kubernetes marks `+structType=atomic` / `x-kubernetes-map-type: atomic`:
 * server-side apply owns them as a whole.
 */
export const ATOMIC_STRUCTS: ReadonlySet<string> = new Set([
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  'io.k8s.api.core.v1.NodeSelector',
  'io.k8s.api.core.v1.NodeSelectorTerm',
  'io.k8s.api.core.v1.LocalObjectReference',
  'io.k8s.api.core.v1.ObjectReference',
  'io.k8s.api.core.v1.ObjectFieldSelector',
  'io.k8s.api.core.v1.ResourceFieldSelector',
  'io.k8s.api.core.v1.ConfigMapKeySelector',
  'io.k8s.api.core.v1.SecretKeySelector',
  'io.k8s.api.core.v1.TopologySelectorTerm',
]);
