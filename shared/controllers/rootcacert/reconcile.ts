/** The root CA publisher's reconcile (upstream's root-ca-cert-publisher): keys are namespace names (see index.ts). */
import { isApiError } from '../../api/status.js';
import { isRecord, readMetadata } from '../../api/objects.js';
import { resourceFor } from '../client.js';
import type { ControllerContext } from '../controller.js';
import { ROOT_CA_CONFIGMAP } from '../../rbac/podserviceaccount.js';

const NAMESPACES = resourceFor('v1', 'Namespace');
const CONFIG_MAPS = resourceFor('v1', 'ConfigMap');
/** CA_KEY is the ConfigMap's key holding the PEM bundle. */
const CA_KEY = 'ca.crt';

/**
 * reconcileRootCaConfigMap makes the ConfigMap `kube-root-ca.crt` of namespace `key` hold the
 * cluster CA (`ctx.clusterCaPem`) under `ca.crt`: created when missing, its data put back when
 * changed. A namespace that is gone or terminating, or a control plane that knows no CA, returns quietly.
 */
export async function reconcileRootCaConfigMap(key: string, ctx: ControllerContext): Promise<void> {
  const pem = ctx.clusterCaPem;
  if (!pem) return;
  const ns = await ctx.client.getOrUndefined(NAMESPACES, { name: key });
  if (!ns || readMetadata(ns).deletionTimestamp !== undefined) return;
  const current = await ctx.client.getOrUndefined(CONFIG_MAPS, { namespace: key, name: ROOT_CA_CONFIGMAP });
  try {
    if (!current) {
      await ctx.client.create(CONFIG_MAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: key }, data: { [CA_KEY]: pem } }, { namespace: key });
      return;
    }
    const data = isRecord(current.data) ? current.data : {};
    if (data[CA_KEY] === pem && Object.keys(data).length === 1) return;
    // NEVER modify objects read from a cache: this one came from the API, and is copied anyway.
    await ctx.client.update(CONFIG_MAPS, { ...structuredClone(current), data: { [CA_KEY]: pem } });
  } catch (err) {
    // Created or changed meanwhile (409: the change brings the key back), or the namespace began terminating (403).
    if (isApiError(err) && (err.code === 409 || err.code === 403)) return;
    throw err;
  }
}
