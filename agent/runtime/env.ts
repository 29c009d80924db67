/**
 * A container's environment and command line with Kubernetes semantics: envFrom, env with
 * valueFrom (ConfigMap / Secret keys, pod fields, resource fields), `$(VAR)` expansion, and
 * command/args against the image's Entrypoint/Cmd. Pure but for the EnvSources lookups.
 */
import type { V1Container, V1Pod } from './pod-types.js';
import { parseQuantity } from './quantity.js';

/**
 * EnvSources looks up ConfigMap and Secret data for env and envFrom. The agent provides it (the
 * runtime has no API access); Secret values come decoded. A missing object resolves undefined.
 */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  secret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** serviceAccountToken requests a token bound to the pod (TokenRequest) for a projected volume; absent: the node cannot. */
  serviceAccountToken?(request: ServiceAccountTokenRequest): Promise<{ token: string; expirationTimestamp: string }>;
  /** kubernetesService is where pods reach the API server (the `default/kubernetes` Service); absent or undefined: unknown. */
  kubernetesService?(): Promise<{ host: string; port: number } | undefined>;
}

/** ServiceAccountTokenRequest is what a projected `serviceAccountToken` source asks for (audience absent: the API server's). */
export interface ServiceAccountTokenRequest {
  namespace: string;
  serviceAccountName: string;
  podName: string;
  podUid: string;
  expirationSeconds: number;
  audience?: string;
}

/** EnvError means the environment cannot be built (the kubelet's CreateContainerConfigError). */
export class EnvError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/** PodFields are the values fieldRef may name that are not in the pod object itself. */
export interface PodFields {
  podIP?: string;
  hostIP?: string;
  /** The `default/kubernetes` Service's address, for the KUBERNETES_SERVICE_* variables every container gets. */
  kubernetesService?: { host: string; port: number };
}

/** kubernetesServiceEnv is what the kubelet gives every container for the API server's Service (its service-link variables, always set). */
export function kubernetesServiceEnv(service: { host: string; port: number }): Array<[string, string]> {
  const { host, port } = service;
  const url = `tcp://${host}:${port}`;
  return [
    ['KUBERNETES_SERVICE_HOST', host], ['KUBERNETES_SERVICE_PORT', String(port)], ['KUBERNETES_SERVICE_PORT_HTTPS', String(port)],
    ['KUBERNETES_PORT', url], [`KUBERNETES_PORT_${port}_TCP`, url], [`KUBERNETES_PORT_${port}_TCP_PROTO`, 'tcp'],
    [`KUBERNETES_PORT_${port}_TCP_PORT`, String(port)], [`KUBERNETES_PORT_${port}_TCP_ADDR`, host],
  ];
}

/**
 * expandVars replaces `$(NAME)` with NAME's value when defined (left as written otherwise), and
 * `$$` with `$`, as Kubernetes does for env values, command and args.
 */
export function expandVars(text: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += vars.has(name) ? vars.get(name) : text.slice(i, close + 1);
      i = close;
    } else out += ch;
  }
  return out;
}

function fieldValue(pod: Readonly<V1Pod>, path: string, fields: PodFields): string {
  const meta = pod.metadata ?? {};
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (mapKey) return (mapKey[1] === 'labels' ? meta.labels : meta.annotations)?.[mapKey[2]] ?? '';
  const values: Record<string, string | undefined> = {
    'metadata.name': meta.name,
    'metadata.namespace': meta.namespace,
    'metadata.uid': meta.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': fields.podIP,
    'status.podIPs': fields.podIP,
    'status.hostIP': fields.hostIP,
    'status.hostIPs': fields.hostIP,
  };
  if (!(path in values)) throw new EnvError(`unsupported fieldRef ${path}`);
  return values[path] ?? '';
}

function resourceValue(container: Readonly<V1Container>, resource: string, divisor: string | number | undefined): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const value = parseQuantity(container.resources?.[kind]?.[name] as string | undefined);
  if (value === undefined) return '0';
  return String(Math.ceil(value / (parseQuantity(divisor) || 1)));
}

async function lookup(sources: EnvSources | undefined, kind: 'configMap' | 'secret', namespace: string, name: string) {
  if (!sources) throw new EnvError(`${kind} ${name} cannot be read: the runtime has no EnvSources`);
  return sources[kind](namespace, name);
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * containerEnv builds the container's environment as `NAME=value` strings: the KUBERNETES_SERVICE_*
 * variables (when `fields.kubernetesService` is known), then envFrom, then env
 * in order (later names win, `$(VAR)` sees earlier ones). Throws EnvError for a missing required
 * ConfigMap, Secret or key.
 */
export async function containerEnv(pod: Readonly<V1Pod>, container: Readonly<V1Container>, sources: EnvSources | undefined, fields: PodFields): Promise<string[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const vars = new Map<string, string>(fields.kubernetesService ? kubernetesServiceEnv(fields.kubernetesService) : []);
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const data = await lookup(sources, from.configMapRef ? 'configMap' : 'secret', namespace, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new EnvError(`${from.configMapRef ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      const name = (from.prefix ?? '') + key;
      if (ENV_NAME.test(name)) vars.set(name, value);
    }
  }
  for (const env of container.env ?? []) {
    const from = env.valueFrom;
    if (!from) {
      vars.set(env.name, expandVars(env.value ?? '', vars));
      continue;
    }
    const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
    if (keyRef) {
      const kind = from.configMapKeyRef ? 'configMap' : 'secret';
      const data = await lookup(sources, kind, namespace, keyRef.name ?? '');
      const value = data?.[keyRef.key];
      if (value !== undefined) vars.set(env.name, value);
      else if (!keyRef.optional) throw new EnvError(`couldn't find key ${keyRef.key} in ${kind === 'configMap' ? 'ConfigMap' : 'Secret'} ${namespace}/${keyRef.name}`);
    } else if (from.fieldRef) vars.set(env.name, fieldValue(pod, from.fieldRef.fieldPath, fields));
    else if (from.resourceFieldRef) vars.set(env.name, resourceValue(container, from.resourceFieldRef.resource, from.resourceFieldRef.divisor as string | undefined));
  }
  return [...vars].map(([name, value]) => `${name}=${value}`);
}

/**
 * dockerCommand maps command/args onto Docker's Entrypoint/Cmd: command replaces the image's
 * Entrypoint and drops its Cmd; args alone replace only the Cmd; `$(VAR)` expands from `env`.
 * Fields left undefined keep the image's.
 */
export function dockerCommand(container: Readonly<V1Container>, env: readonly string[]): { Entrypoint?: string[]; Cmd?: string[] } {
  const vars = new Map(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]));
  const expand = (list: readonly string[]) => list.map((s) => expandVars(s, vars));
  const out: { Entrypoint?: string[]; Cmd?: string[] } = {};
  if (container.command?.length) {
    out.Entrypoint = expand(container.command);
    out.Cmd = expand(container.args ?? []);
  } else if (container.args?.length) out.Cmd = expand(container.args);
  return out;
}
