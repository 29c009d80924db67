/**
 * The agent's side of container environment: the runtime resolves `env`/`envFrom`
 * (agent/runtime/env.ts) and reads ConfigMaps and Secrets through these EnvSources, which read
 * them through the API with the node's identity. Secret values are handed over decoded. Projected
 * ServiceAccount volumes get their pod-bound tokens through it too (TokenRequest).
 */
import { findResource } from '../shared/api/resources.js';
import { isRecord, type KubeObject } from '../shared/api/objects.js';
import type { ApiClient } from '../shared/controllers/client.js';
import type { EnvSources } from './runtime/env.js';
import type { ApiServerEndpoint } from './apiserver-name.js';

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const SERVICE_ACCOUNTS = findResource('', 'v1', 'serviceaccounts')!;
const SERVICES = findResource('', 'v1', 'services')!;

/** configMapData is a ConfigMap's `data` (binaryData is not env material). */
export function configMapData(obj: Readonly<KubeObject>): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(obj.data)) for (const [k, v] of Object.entries(obj.data)) out[k] = String(v);
  return out;
}

/** secretData is a Secret's `data` decoded from base64, with `stringData` (if a server left it) on top. */
export function secretData(obj: Readonly<KubeObject>): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(obj.data)) for (const [k, v] of Object.entries(obj.data)) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  if (isRecord(obj.stringData)) for (const [k, v] of Object.entries(obj.stringData)) out[k] = String(v);
  return out;
}

/** KUBERNETES_SERVICE_CACHE_MS: how long the `default/kubernetes` Service's address is kept (it changes only with the service CIDR). */
const KUBERNETES_SERVICE_CACHE_MS = 60_000;

/**
 * apiEnvSources reads ConfigMaps and Secrets through `client`; an absent object is undefined.
 * Containers reach the API server at `namedApiServer` when the node's API server URL names a host
 * (agent/apiserver-name.ts), else at the `default/kubernetes` Service's address.
 */
export function apiEnvSources(client: ApiClient, namedApiServer?: ApiServerEndpoint): EnvSources {
  let kubernetes: { at: number; service: Promise<{ host: string; port: number } | undefined> } | undefined;
  return {
    kubernetesService() {
      if (namedApiServer) return Promise.resolve(namedApiServer);
      if (!kubernetes || Date.now() - kubernetes.at > KUBERNETES_SERVICE_CACHE_MS) {
        const service = client.getOrUndefined(SERVICES, { namespace: 'default', name: 'kubernetes' }).then((svc) => {
          const spec = svc && isRecord(svc.spec) ? svc.spec : {};
          const port = Array.isArray(spec.ports) && isRecord(spec.ports[0]) ? Number(spec.ports[0].port) : undefined;
          return typeof spec.clusterIP === 'string' && port ? { host: spec.clusterIP, port } : undefined;
        }, () => undefined);
        kubernetes = { at: Date.now(), service };
      }
      return kubernetes.service;
    },
    async configMap(namespace, name) {
      const obj = await client.getOrUndefined(CONFIGMAPS, { namespace, name });
      return obj && configMapData(obj);
    },
    async secret(namespace, name) {
      const obj = await client.getOrUndefined(SECRETS, { namespace, name });
      return obj && secretData(obj);
    },
    async serviceAccountToken(r) {
      const request = {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: r.serviceAccountName, namespace: r.namespace },
        spec: { expirationSeconds: r.expirationSeconds, ...(r.audience ? { audiences: [r.audience] } : {}), boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: r.podName, uid: r.podUid } },
      };
      const answer = await client.create(SERVICE_ACCOUNTS, request, { subresource: 'token' });
      const status = isRecord(answer.status) ? answer.status : {};
      return { token: String(status.token ?? ''), expirationTimestamp: String(status.expirationTimestamp ?? '') };
    },
  };
}
