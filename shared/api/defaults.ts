/**
 * Defaulting, as Kubernetes' scheme defaulters (pkg/apis/<group>/v1/defaults.go) and the
 * registries' PrepareForCreate do it. `applyDefaults` mutates the object in place and is
 * idempotent: applying it twice changes nothing the second time.
 */
import { defaultNodePool } from '../upgrade/objects.js';
import { defaultUpgradeRun } from '../upgrade/run.js';
import { defaultBinding } from '../rbac/validation.js';
import { isRecord, metadataOf, type KubeObject } from './objects.js';
import { defaultNode } from './node.js';

type Obj = Record<string, unknown>;

function obj(parent: Obj, key: string): Obj {
  if (!isRecord(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

/** imagePullPolicyFor is Always for `:latest` or an untagged image (and no digest), else IfNotPresent. */
export function imagePullPolicyFor(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagAt = image.indexOf(':', lastSlash + 1);
  if (tagAt < 0) return 'Always';
  return image.slice(tagAt + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (typeof c.image === 'string') setDefault(c, 'imagePullPolicy', imagePullPolicyFor(c.image));
  setDefault(c, 'resources', {});
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isRecord(p)) setDefault(p, 'protocol', 'TCP');
  const resources = obj(c, 'resources');
  // Kubernetes copies limits into absent requests (pkg/apis/core/v1/defaults.go SetDefaults_ResourceList via pod defaults).
  if (isRecord(resources.limits)) {
    const requests = obj(resources, 'requests');
    for (const [k, v] of Object.entries(resources.limits)) setDefault(requests, k, v);
  }
}

/** defaultPodSpec fills a PodSpec (a Pod's, or a template's). */
export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  for (const key of ['containers', 'initContainers']) {
    if (Array.isArray(spec[key])) for (const c of spec[key] as unknown[]) if (isRecord(c)) defaultContainer(c);
  }
}

const TOLERATIONS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** DEFAULT_TOLERATION_SECONDS is how long pods tolerate a not-ready or unreachable node unless configured (300 s, as upstream). */
export const DEFAULT_TOLERATION_SECONDS = 300;
let defaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS;

/**
 * setDefaultTolerationSeconds sets the tolerationSeconds the DefaultTolerationSeconds defaulting
 * gives new pods, for the whole process: like kube-apiserver's
 * `--default-not-ready-toleration-seconds`/`--default-unreachable-toleration-seconds`, it is a
 * setting of the server, read once by the composition root (CORACLE_DEFAULT_TOLERATION_SECONDS),
 * and every in-process API handler must apply the same value. A non-negative integer.
 */
export function setDefaultTolerationSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0) throw new RangeError(`default toleration seconds must be a non-negative integer, not ${seconds}`);
  defaultTolerationSeconds = seconds;
}

function defaultPod(pod: KubeObject): void {
  const spec = obj(pod, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  // DefaultTolerationSeconds admission: tolerate not-ready/unreachable nodes for 300 s (configurable).
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  for (const key of TOLERATIONS) {
    if (!tolerations.some((t) => isRecord(t) && t.key === key && (t.effect === undefined || t.effect === 'NoExecute'))) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultTolerationSeconds });
    }
  }
  spec.tolerations = tolerations;
  const status = obj(pod, 'status');
  setDefault(status, 'phase', 'Pending');
  setDefault(status, 'qosClass', qosClass(spec));
}

/** qosClass is the Pod's QoS class: BestEffort (no requests or limits), Guaranteed (cpu and memory limits equal requests everywhere), else Burstable. */
export function qosClass(spec: Obj): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])]
    .filter(isRecord);
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const r = isRecord(c.resources) ? c.resources : {};
    const requests = isRecord(r.requests) ? r.requests : {};
    const limits = isRecord(r.limits) ? r.limits : {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const res of ['cpu', 'memory']) {
      if (limits[res] === undefined || (requests[res] !== undefined && String(requests[res]) !== String(limits[res]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultTemplate(spec: Obj): void {
  const template = obj(spec, 'template');
  defaultPodSpec(obj(template, 'spec'));
}

function defaultDeployment(d: KubeObject): void {
  const spec = obj(d, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  const strategy = obj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = obj(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  defaultTemplate(spec);
}

function defaultReplicaSet(rs: KubeObject): void {
  const spec = obj(rs, 'spec');
  setDefault(spec, 'replicas', 1);
  defaultTemplate(spec);
}

function defaultService(svc: KubeObject): void {
  const spec = obj(svc, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'ipFamilies', ['IPv4']);
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isRecord(p)) continue;
      setDefault(p, 'protocol', 'TCP');
      setDefault(p, 'targetPort', p.port);
    }
  }
}

function defaultNamespace(ns: KubeObject): void {
  const meta = metadataOf(ns);
  // Kubernetes labels every namespace with its own name (NamespaceDefaultLabelName).
  meta.labels = { ...(meta.labels ?? {}), 'kubernetes.io/metadata.name': String(meta.name ?? '') };
  setDefault(obj(ns, 'spec'), 'finalizers', ['kubernetes']);
  setDefault(obj(ns, 'status'), 'phase', 'Active');
}

function defaultSecret(secret: KubeObject): void {
  setDefault(secret, 'type', 'Opaque');
  // stringData is write-only: merged into data (base64) and dropped, as the Secret registry does.
  if (isRecord(secret.stringData)) {
    const data = obj(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete secret.stringData;
  }
}

function defaultEndpoints(ep: KubeObject): void {
  if (!Array.isArray(ep.subsets)) return;
  for (const s of ep.subsets) {
    if (isRecord(s) && Array.isArray(s.ports)) for (const p of s.ports) if (isRecord(p)) setDefault(p, 'protocol', 'TCP');
  }
}

const DEFAULTERS: Record<string, (o: KubeObject) => void> = {
  Node: defaultNode,
  Pod: defaultPod,
  NodePool: defaultNodePool,
  UpgradeRun: defaultUpgradeRun,
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  Service: defaultService,
  Namespace: defaultNamespace,
  Secret: defaultSecret,
  Endpoints: defaultEndpoints,
  RoleBinding: defaultBinding,
  ClusterRoleBinding: defaultBinding,
};

/** applyDefaults fills defaults for `kind` into `o` in place. */
export function applyDefaults(kind: string, o: KubeObject): void {
  DEFAULTERS[kind]?.(o);
}

/** KINDS_WITH_GENERATION are the kinds whose `metadata.generation` tracks spec changes. */
export const KINDS_WITH_GENERATION: ReadonlySet<string> = new Set(['Pod', 'Deployment', 'ReplicaSet', 'PodDisruptionBudget', 'Cluster', 'NodePool', 'UpgradeRun']);

/**
 * resetStatusOnCreate says whether a create ignores the posted `status` (the registries' PrepareForCreate):
 * true for kinds with a status subresource except Node (the node agent creates nodes with status).
 */
export function resetStatusOnCreate(kind: string): boolean {
  return ['Pod', 'Deployment', 'ReplicaSet', 'Service', 'PodDisruptionBudget', 'Namespace', 'Cluster', 'NodePool', 'UpgradeRun'].includes(kind);
}
