/**
 * The agent's side of container environment: the runtime resolves `env`/`envFrom`
 * (agent/runtime/env.ts) and reads ConfigMaps and Secrets through these EnvSources, which read
 * them through the API with the node's identity. Secret values are handed over decoded.
 */
import { findResource } from '../shared/api/resources.js';
import { isRecord, type KubeObject } from '../shared/api/objects.js';
import type { ApiClient } from '../shared/controllers/client.js';
import type { EnvSources } from './runtime/env.js';

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
const SECRETS = findResource('', 'v1', 'secrets')!;

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

/** apiEnvSources reads ConfigMaps and Secrets through `client`; an absent object is undefined. */
export function apiEnvSources(client: ApiClient): EnvSources {
  return {
    async configMap(namespace, name) {
      const obj = await client.getOrUndefined(CONFIGMAPS, { namespace, name });
      return obj && configMapData(obj);
    },
    async secret(namespace, name) {
      const obj = await client.getOrUndefined(SECRETS, { namespace, name });
      return obj && secretData(obj);
    },
  };
}
