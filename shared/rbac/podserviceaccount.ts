/**
 * The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount), for pods being
 * created: a pod naming no ServiceAccount gets `default` (and the deprecated
 * `spec.serviceAccount` mirrors `spec.serviceAccountName`); a pod naming one that does not exist is
 * refused with upstream's 403 (`pods "x" is forbidden: error looking up service account ns/sa:
 * serviceaccount "sa" not found`); and unless `automountServiceAccountToken` is false (on the pod,
 * else on the ServiceAccount) the pod gets upstream's projected volume `kube-api-access-<5 chars>`
 * (a bound token, the `kube-root-ca.crt` ConfigMap's `ca.crt`, the pod's namespace) mounted
 * read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container and init
 * container. A container that already mounts something there is left alone, as upstream does.
 *
 * One difference: a missing `default` ServiceAccount does not refuse the pod. Upstream's pod
 * create races its ServiceAccount controller in a namespace made a moment before (and loses with
 * a 403 now and then); here the pod is admitted as if `default` existed (automount on), and the
 * node asks for the token when it starts the pod, by when the controller has made it.
 */
import { findResourceByKind, storageKey } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { isRecord, randomNameSuffix, readMetadata } from '../api/objects.js';
import type { MutatingAdmission } from '../apiserver/context.js';
import { decode } from '../apiserver/storage.js';
import { DEFAULT_SERVICE_ACCOUNT } from '../controllers/serviceaccount/reconcile.js';

/** SERVICE_ACCOUNT_MOUNT_PATH is where a pod's ServiceAccount token, CA and namespace appear in its containers. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** ROOT_CA_CONFIGMAP is the ConfigMap holding the cluster CA (`ca.crt`) in every namespace. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** TOKEN_VOLUME_PREFIX prefixes the projected volume's name. */
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** PROJECTED_TOKEN_SECONDS is the lifetime the volume asks for (upstream's one hour plus 7 s, which tells its tokens apart). */
export const PROJECTED_TOKEN_SECONDS = 3607;

const SERVICE_ACCOUNTS = findResourceByKind('v1', 'ServiceAccount')!;
type Obj = Record<string, unknown>;

/** projectedTokenVolume is upstream's `kube-api-access-*` volume. */
export function projectedTokenVolume(name: string): Obj {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

const containersOf = (spec: Obj): Obj[] =>
  ['initContainers', 'containers'].flatMap((list) => (Array.isArray(spec[list]) ? (spec[list] as unknown[]).filter(isRecord) : []));

const mountsAt = (c: Obj, mountPath: string): boolean =>
  Array.isArray(c.volumeMounts) && c.volumeMounts.some((m) => isRecord(m) && m.mountPath === mountPath);

function mountToken(spec: Obj): void {
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as unknown[]) : [];
  const existing = volumes.find((v) => isRecord(v) && typeof v.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX)) as Obj | undefined;
  const name = existing ? String(existing.name) : `${TOKEN_VOLUME_PREFIX}${randomNameSuffix()}`;
  let mounted = false;
  for (const c of containersOf(spec)) {
    if (mountsAt(c, SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    c.volumeMounts = [...(Array.isArray(c.volumeMounts) ? c.volumeMounts : []), { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    mounted = true;
  }
  if (mounted && !existing) spec.volumes = [...volumes, projectedTokenVolume(name)];
}

function forbidden(name: string, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `pods "${name}" is forbidden: ${why}`, { name, kind: 'pods' });
}

/** admitPodServiceAccount is the ServiceAccount admission plugin for pod creates (see the file comment); other writes pass. */
export const admitPodServiceAccount: MutatingAdmission = async (ctx, obj) => {
  const { group, plural } = ctx.info.resource;
  if (group !== '' || plural !== 'pods' || ctx.info.subresource !== undefined) return;
  if (!isRecord(obj.spec)) return;
  const spec = obj.spec;
  const meta = readMetadata(obj);
  const namespace = String(meta.namespace ?? ctx.info.namespace ?? '');
  if (typeof spec.serviceAccountName !== 'string' || spec.serviceAccountName === '') {
    spec.serviceAccountName = typeof spec.serviceAccount === 'string' && spec.serviceAccount !== '' ? spec.serviceAccount : DEFAULT_SERVICE_ACCOUNT;
  }
  const saName = String(spec.serviceAccountName);
  spec.serviceAccount = saName;
  const kv = await ctx.store.get(storageKey(SERVICE_ACCOUNTS, namespace, saName));
  if (!kv && saName !== DEFAULT_SERVICE_ACCOUNT) {
    throw forbidden(String(meta.name ?? ''), `error looking up service account ${namespace}/${saName}: serviceaccount "${saName}" not found`);
  }
  const sa = kv ? decode(kv) : undefined;
  const automount = typeof spec.automountServiceAccountToken === 'boolean' ? spec.automountServiceAccountToken
    : typeof sa?.automountServiceAccountToken === 'boolean' ? sa.automountServiceAccountToken : true;
  if (automount) mountToken(spec);
};
