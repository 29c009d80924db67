/**
 * Projected volumes as the kubelet's projected volume plugin writes them, for the sources a pod's
 * ServiceAccount volume uses (`kube-api-access-*`): `serviceAccountToken` (a TokenRequest bound to
 * the pod, through the agent), `configMap` items and `downwardAPI` `metadata.*` fields. Each volume
 * is a folder under the pod's host directory; the runtime bind-mounts it read-only at the
 * container's mountPath. Files are replaced by rename, so a reader never sees half a token, and a
 * token is asked for again once 80% of its lifetime has passed (the kubelet's rule).
 * Other projected sources (secret, clusterTrustBundle) and other volume types are not written.
 * One difference from the kubelet: a missing `kube-root-ca.crt` leaves `ca.crt` out instead of
 * holding the pod back (see writeProjectedVolumes).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1Pod } from './pod-types.js';
import { EnvError, type EnvSources } from './env.js';
import { ROOT_CA_CONFIGMAP } from '../../shared/rbac/podserviceaccount.js';

/** TOKEN_REFRESH_FRACTION: a token is renewed once this much of its lifetime has passed. */
export const TOKEN_REFRESH_FRACTION = 0.8;
/** MISSING_ROOT_CA_RETRY_MS: how soon a volume written without kube-root-ca.crt is written again. */
export const MISSING_ROOT_CA_RETRY_MS = 5_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** projectedVolumes lists the pod's projected volumes by name. */
export function projectedVolumes(pod: Readonly<V1Pod>): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const v of (pod.spec?.volumes ?? []) as unknown as Obj[]) {
    if (isObj(v.projected) && Array.isArray(v.projected.sources)) out.set(String(v.name), v.projected.sources.filter(isObj));
  }
  return out;
}

/** projectedBinds are the container's Docker binds (`host:container:ro`) for its mounts of projected volumes. */
export function projectedBinds(pod: Readonly<V1Pod>, mounts: ReadonlyArray<{ name: string; mountPath: string }> | undefined, podDir: string): string[] {
  const volumes = projectedVolumes(pod);
  return (mounts ?? []).filter((m) => volumes.has(m.name)).map((m) => `${path.join(podDir, m.name)}:${m.mountPath}:ro`);
}

function fieldValue(pod: Readonly<V1Pod>, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  if (fieldPath === 'metadata.namespace') return meta.namespace ?? '';
  if (fieldPath === 'metadata.name') return meta.name ?? '';
  if (fieldPath === 'metadata.uid') return meta.uid ?? '';
  throw new EnvError(`projected volume: unsupported fieldPath ${fieldPath}`);
}

async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, file);
}

/**
 * writeProjectedVolumes writes every projected volume of `pod` under `podDir/<volume>/` and
 * returns when it should be written again (epoch ms: its tokens' renewal, sooner when
 * kube-root-ca.crt was missing; Infinity without tokens). Throws EnvError
 * (the container cannot be configured) when a source is missing and not optional.
 */
export async function writeProjectedVolumes(pod: Readonly<V1Pod>, sources: EnvSources | undefined, podDir: string, nowMs = Date.now()): Promise<number> {
  const namespace = pod.metadata?.namespace ?? 'default';
  let refreshAt = Infinity;
  for (const [volume, projected] of projectedVolumes(pod)) {
    const dir = path.join(podDir, volume);
    for (const source of projected) {
      if (isObj(source.serviceAccountToken)) {
        const want = source.serviceAccountToken;
        if (!sources?.serviceAccountToken) throw new EnvError('projected volume: this node cannot request ServiceAccount tokens');
        const seconds = Number(want.expirationSeconds ?? 3600);
        const { token, expirationTimestamp } = await sources.serviceAccountToken({
          namespace, serviceAccountName: pod.spec?.serviceAccountName ?? 'default', podName: pod.metadata?.name ?? '', podUid: pod.metadata?.uid ?? '',
          expirationSeconds: seconds, audience: typeof want.audience === 'string' && want.audience !== '' ? want.audience : undefined,
        });
        const lifetimeMs = Math.max(0, Date.parse(expirationTimestamp) - nowMs);
        refreshAt = Math.min(refreshAt, nowMs + lifetimeMs * TOKEN_REFRESH_FRACTION);
        await writeAtomically(path.join(dir, String(want.path ?? 'token')), token);
      } else if (isObj(source.configMap)) {
        const ref = source.configMap;
        const data = await sources?.configMap(namespace, String(ref.name ?? ''));
        if (!data) {
          if (ref.optional === true) continue;
          if (ref.name === ROOT_CA_CONFIGMAP) {
            // Where the control plane knows no cluster CA (no data folder: Azure, whose front door has
            // a public certificate) kube-root-ca.crt is not published: the pod gets its token without
            // ca.crt rather than never starting, and the volume is looked at again soon in case it is
            // only not published yet (a namespace made a moment ago).
            refreshAt = Math.min(refreshAt, nowMs + MISSING_ROOT_CA_RETRY_MS);
            continue;
          }
          throw new EnvError(`configmap "${String(ref.name)}" not found`);
        }
        const items = Array.isArray(ref.items) ? ref.items.filter(isObj) : Object.keys(data).map((key) => ({ key, path: key }));
        for (const item of items) {
          const value = data[String(item.key)];
          if (value === undefined) throw new EnvError(`configmap references non-existent config key: ${String(item.key)}`);
          await writeAtomically(path.join(dir, String(item.path)), value);
        }
      } else if (isObj(source.downwardAPI)) {
        for (const item of Array.isArray(source.downwardAPI.items) ? source.downwardAPI.items.filter(isObj) : []) {
          const fieldPath = isObj(item.fieldRef) ? String(item.fieldRef.fieldPath) : '';
          await writeAtomically(path.join(dir, String(item.path)), fieldValue(pod, fieldPath));
        }
      }
    }
  }
  return refreshAt;
}

/** removePodDirectory removes what writeProjectedVolumes wrote for a pod (idempotent). */
export async function removePodDirectory(podDir: string): Promise<void> {
  await rm(podDir, { recursive: true, force: true });
}
