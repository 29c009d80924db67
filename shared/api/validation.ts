/**
 * Validation of API objects with Kubernetes' rules and messages (k8s.io/apimachinery
 * pkg/util/validation and pkg/apis/core/validation): names, labels, annotations, and the required
 * fields of the kinds served. `validateObject` returns causes; the caller answers 422 Invalid.
 */
import { clusterStepCauses, validateCluster, validateNodePool } from '../upgrade/objects.js';
import { upgradeRunUpdateCauses, validateUpgradeRun } from '../upgrade/run.js';
import type { ResourceType } from './resources.js';
import { ApiError, invalid, type StatusCause } from './status.js';
import { deepEqual, isRecord, readMetadata, type KubeObject } from './objects.js';
import { fromLabelSelectorObject, matchesLabels } from './selectors.js';
import { applyDefaults } from './defaults.js';
import { nodeUpdateCauses, validateNodeSpec } from './node.js';
import { validatePodSpecLimits, validatePodSpecUpdate } from './podvalidation.js';
import { bindingUpdateCauses, isValidPathSegmentName, validateBinding, validateRole } from '../rbac/validation.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const CONFIG_KEY = '[-._a-zA-Z0-9]+';
const full = (re: string) => new RegExp(`^${re}$`);

/** MAX_CONFIG_DATA_BYTES is upstream's MaxSecretSize: a ConfigMap's or Secret's data, keys included, at most 1 MiB. */
export const MAX_CONFIG_DATA_BYTES = 1024 * 1024;

/** TOTAL_ANNOTATION_SIZE_LIMIT is Kubernetes' cap on the summed size of annotation keys and values. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** isDNS1123Label returns the problems of `v` as an RFC 1123 label (none: valid). */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(v)) {
    errs.push(`a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL}')`);
  }
  return errs;
}

/** isDNS1123Subdomain returns the problems of `v` as an RFC 1123 subdomain. */
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(v)) {
    errs.push(`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN}')`);
  }
  return errs;
}

/** isDNS1035Label returns the problems of `v` as an RFC 1035 label (Service names). */
export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1035_LABEL).test(v)) {
    errs.push(`a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '${DNS1035_LABEL}')`);
  }
  return errs;
}

/** isQualifiedName returns the problems of `v` as a label or annotation key (`[prefix/]name`). */
export function isQualifiedName(v: string): string[] {
  const parts = v.split('/');
  let name = v;
  const errs: string[] = [];
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [`a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !full(QUALIFIED_NAME).test(name)) {
    errs.push(`name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}')`);
  }
  return errs;
}

/** isValidLabelValue returns the problems of `v` as a label value. */
export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(LABEL_VALUE).test(v)) {
    errs.push(`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${LABEL_VALUE}')`);
  }
  return errs;
}

const fmt = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Causes collects Invalid causes in Kubernetes' message shapes. */
export class Causes {
  readonly list: StatusCause[] = [];
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${fmt(value)}: ${detail}`, field });
  }
  required(field: string, detail = ''): void {
    this.list.push({ reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field });
  }
  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    this.list.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${fmt(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`, field });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${fmt(value)}`, field });
  }
  tooLong(field: string, max: number): void {
    this.list.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${max} bytes`, field });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
  }
  /** each reports every problem string for one value. */
  each(field: string, value: unknown, problems: string[]): void {
    for (const p of problems) this.invalid(field, value, p);
  }
}

/** NAME_RULES says how each kind's `metadata.name` is checked (Kubernetes' ValidateNameFunc per kind). */
const NAME_RULES: Record<string, (v: string) => string[]> = {
  Namespace: isDNS1123Label,
  Service: isDNS1035Label,
  Role: isValidPathSegmentName,
  ClusterRole: isValidPathSegmentName,
  RoleBinding: isValidPathSegmentName,
  ClusterRoleBinding: isValidPathSegmentName,
};

function validateMetadata(resource: ResourceType, obj: KubeObject, c: Causes): void {
  const meta = readMetadata(obj);
  const nameRule = NAME_RULES[resource.kind] ?? isDNS1123Subdomain;
  if (typeof meta.name !== 'string' || meta.name === '') c.required('metadata.name', 'name or generateName is required');
  else c.each('metadata.name', meta.name, nameRule(meta.name));
  if (resource.namespaced && !meta.namespace) c.required('metadata.namespace');
  if (!resource.namespaced && meta.namespace) c.forbidden('metadata.namespace', 'not allowed on this type');
  if (meta.labels !== undefined) validateLabels(meta.labels, 'metadata.labels', c);
  if (meta.annotations !== undefined) validateAnnotations(meta.annotations, c);
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) c.invalid('metadata.finalizers', meta.finalizers, 'must be a list of strings');
    else meta.finalizers.forEach((f, i) => c.each(`metadata.finalizers[${i}]`, f, typeof f === 'string' ? isQualifiedName(f) : ['must be a string']));
  }
}

/** validateLabels checks keys as qualified names and values as label values. */
export function validateLabels(labels: unknown, field: string, c: Causes): void {
  if (!isRecord(labels)) return c.invalid(field, labels, 'must be a map of string keys to string values');
  for (const [k, v] of Object.entries(labels)) {
    c.each(field, k, isQualifiedName(k));
    if (typeof v !== 'string') c.invalid(field, v, 'must be a string');
    else c.each(field, v, isValidLabelValue(v));
  }
}

function validateAnnotations(annotations: unknown, c: Causes): void {
  if (!isRecord(annotations)) return c.invalid('metadata.annotations', annotations, 'must be a map of string keys to string values');
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    c.each('metadata.annotations', k, isQualifiedName(k.toLowerCase()));
    if (typeof v !== 'string') c.invalid('metadata.annotations', v, 'must be a string');
    size += k.length + String(v).length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) c.tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE_LIMIT);
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainers(containers: unknown, field: string, c: Causes, required: boolean): void {
  if (!Array.isArray(containers) || containers.length === 0) {
    if (required) c.required(field);
    return;
  }
  const seen = new Set<string>();
  containers.forEach((ct, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(ct)) return c.invalid(at, ct, 'must be an object');
    if (typeof ct.name !== 'string' || ct.name === '') c.required(`${at}.name`);
    else {
      c.each(`${at}.name`, ct.name, isDNS1123Label(ct.name));
      if (seen.has(ct.name)) c.duplicate(`${at}.name`, ct.name);
      seen.add(ct.name);
    }
    if (typeof ct.image !== 'string' || ct.image.trim() === '') c.required(`${at}.image`);
    if (Array.isArray(ct.ports)) ct.ports.forEach((p, j) => validatePort(p, `${at}.ports[${j}]`, 'containerPort', c));
  });
}

function validatePort(p: unknown, at: string, numberField: string, c: Causes): void {
  if (!isRecord(p)) return c.invalid(at, p, 'must be an object');
  const n = p[numberField];
  if (n === undefined) c.required(`${at}.${numberField}`);
  else if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) c.invalid(`${at}.${numberField}`, n, 'must be between 1 and 65535, inclusive');
  if (p.protocol !== undefined && !PROTOCOLS.includes(String(p.protocol))) c.notSupported(`${at}.protocol`, p.protocol, PROTOCOLS);
}

function validatePodSpec(spec: unknown, field: string, c: Causes): void {
  if (!isRecord(spec)) return c.required(field);
  validateContainers(spec.containers, `${field}.containers`, c, true);
  validateContainers(spec.initContainers, `${field}.initContainers`, c, false);
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(String(spec.restartPolicy))) {
    c.notSupported(`${field}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES);
  }
  validatePodSpecLimits(spec, field, c);
}

function validateReplicated(obj: KubeObject, c: Causes): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (spec.replicas !== undefined && spec.replicas !== null && (typeof spec.replicas !== 'number' || spec.replicas < 0)) {
    c.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0');
  }
  const selector = fromLabelSelectorObject(spec.selector);
  if (!selector) c.required('spec.selector');
  else if (selector.length === 0) c.invalid('spec.selector', spec.selector, 'empty selector is invalid for deployment');
  const template = isRecord(spec.template) ? spec.template : undefined;
  if (!template) return c.required('spec.template');
  const labels = readMetadata(template).labels;
  if (selector && selector.length > 0 && !matchesLabels(selector, labels)) {
    c.invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`');
  }
  validatePodSpec(template.spec, 'spec.template.spec', c);
  const restart = isRecord(template.spec) ? template.spec.restartPolicy : undefined;
  if (restart !== undefined && restart !== 'Always') c.notSupported('spec.template.spec.restartPolicy', restart, ['Always']);
}

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function validateService(obj: KubeObject, c: Causes): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const type = spec.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(String(type))) c.notSupported('spec.type', type, SERVICE_TYPES);
  validateClusterIPs(spec, c);
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') c.required('spec.ports');
  const names = new Set<string>();
  ports.forEach((p, i) => {
    validatePort(p, `spec.ports[${i}]`, 'port', c);
    if (isRecord(p) && ports.length > 1 && !p.name) c.required(`spec.ports[${i}].name`);
    if (isRecord(p) && typeof p.name === 'string') {
      if (names.has(p.name)) c.duplicate(`spec.ports[${i}].name`, p.name);
      names.add(p.name);
    }
  });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** isIP tells whether `v` is an IPv4 address in dotted decimal (no leading zeros) or an IPv6 address, as Go's netip parses. */
export function isIP(v: string): boolean {
  if (IPV4.test(v)) return true;
  if (!v.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(v)) return false;
  try {
    return new URL(`http://[${v}]/`).hostname !== '';
  } catch {
    return false;
  }
}

/** validateClusterIPs: `clusterIP` and `clusterIPs` hold IP addresses, `None` or "" (upstream's validateServiceClusterIPs wording). */
function validateClusterIPs(spec: Record<string, unknown>, c: Causes): void {
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== 'None' && (typeof spec.clusterIP !== 'string' || !isIP(spec.clusterIP))) {
    c.invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  }
  ips.forEach((ip, i) => {
    if (ip === 'None' && i === 0) return;
    if (typeof ip !== 'string' || !isIP(ip)) {
      if (!(i === 0 && ip === spec.clusterIP)) c.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
    }
  });
  if (ips.length > 0 && typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && ips[0] !== spec.clusterIP) {
    c.invalid('spec.clusterIPs[0]', ips[0], 'must be same as clusterIP');
  }
}

/** configDataSize is the summed bytes of keys and values of data, binaryData (decoded) and stringData, as upstream counts it. */
function configDataSize(obj: KubeObject): number {
  let size = 0;
  for (const field of ['data', 'binaryData', 'stringData']) {
    const data = obj[field];
    if (!isRecord(data)) continue;
    const base64 = field === 'binaryData' || (field === 'data' && obj.kind === 'Secret');
    for (const [k, v] of Object.entries(data)) {
      size += Buffer.byteLength(k) + (typeof v !== 'string' ? 0 : base64 ? Buffer.from(v, 'base64').length : Buffer.byteLength(v));
    }
  }
  return size;
}

function validateConfigData(obj: KubeObject, c: Causes): void {
  if (configDataSize(obj) > MAX_CONFIG_DATA_BYTES) {
    c.tooLong(obj.kind === 'Secret' ? 'data' : '[]', MAX_CONFIG_DATA_BYTES);
  }
  for (const field of ['data', 'binaryData', 'stringData']) {
    const data = obj[field];
    if (data === undefined) continue;
    if (!isRecord(data)) {
      c.invalid(field, data, 'must be a map of string keys to string values');
      continue;
    }
    for (const k of Object.keys(data)) {
      if (!full(CONFIG_KEY).test(k) || k.length > 253) c.invalid(`${field}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    }
  }
  if (obj.kind === 'Secret' && isRecord(obj.data)) {
    for (const [k, v] of Object.entries(obj.data)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) c.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data');
    }
  }
}

function validatePdb(obj: KubeObject, c: Causes): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    c.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set');
  }
}

const KIND_RULES: Record<string, (obj: KubeObject, c: Causes) => void> = {
  Pod: (obj, c) => validatePodSpec(obj.spec, 'spec', c),
  Deployment: validateReplicated,
  ReplicaSet: validateReplicated,
  Service: validateService,
  ConfigMap: validateConfigData,
  Secret: validateConfigData,
  PodDisruptionBudget: validatePdb,
  Cluster: (obj, c) => c.list.push(...validateCluster(obj)),
  Node: (obj, c) => c.list.push(...validateNodeSpec(obj)),
  NodePool: (obj, c) => c.list.push(...validateNodePool(obj)),
  UpgradeRun: (obj, c) => c.list.push(...validateUpgradeRun(obj)),
  Role: (obj, c) => c.list.push(...validateRole(true)(obj)),
  ClusterRole: (obj, c) => c.list.push(...validateRole(false)(obj)),
  RoleBinding: (obj, c) => c.list.push(...validateBinding(true)(obj)),
  ClusterRoleBinding: (obj, c) => c.list.push(...validateBinding(false)(obj)),
};

/**
 * validateObject returns every problem of `obj` as a `resource` (empty: valid); `old` is set on
 * update, and `subresource` names the subresource written (`binding` may set a pod's nodeName).
 */
export function validateObject(resource: ResourceType, obj: KubeObject, old?: KubeObject, subresource?: string): StatusCause[] {
  const c = new Causes();
  validateMetadata(resource, obj, c);
  KIND_RULES[resource.kind]?.(obj, c);
  if (old) validateUpdate(resource, obj, old, c, subresource);
  return c.list;
}

function validateUpdate(resource: ResourceType, obj: KubeObject, old: KubeObject, c: Causes, subresource?: string): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const oldSpec = isRecord(old.spec) ? old.spec : {};
  if ((resource.kind === 'Deployment' || resource.kind === 'ReplicaSet') && !deepEqual(spec.selector, oldSpec.selector)) {
    c.invalid('spec.selector', spec.selector, 'field is immutable');
  }
  if (resource.kind === 'Cluster') c.list.push(...clusterStepCauses(obj, old));
  if (resource.kind === 'Node') c.list.push(...nodeUpdateCauses(obj, old));
  if (resource.kind === 'RoleBinding' || resource.kind === 'ClusterRoleBinding') c.list.push(...bindingUpdateCauses(obj, old));
  if (resource.kind === 'UpgradeRun' && subresource !== 'status') c.list.push(...upgradeRunUpdateCauses(obj, old));
  if (resource.kind === 'Pod' && !deepEqual(spec, oldSpec)) {
    // The stored pod defaulted as today (an object written before a default was added must not
    // make every later update look like a spec change).
    const defaulted = structuredClone(old);
    applyDefaults('Pod', defaulted);
    validatePodSpecUpdate(spec, isRecord(defaulted.spec) ? defaulted.spec : {}, c, subresource === 'binding');
  }
}

/** assertValid throws 422 Invalid with every cause when `obj` is not a valid `resource` (`old`, `subresource`: an update's). */
export function assertValid(resource: ResourceType, obj: KubeObject, old?: KubeObject, subresource?: string): void {
  const causes = validateObject(resource, obj, old, subresource);
  if (causes.length > 0) throw invalidObject(resource, obj, causes);
}

/** invalidObject builds the 422 for `obj` (`Pod "web" is invalid: ...`). */
export function invalidObject(resource: ResourceType, obj: KubeObject, causes: StatusCause[]): ApiError {
  const meta = readMetadata(obj);
  return invalid(resource.group, resource.kind, String(meta.name ?? meta.generateName ?? ''), causes);
}
