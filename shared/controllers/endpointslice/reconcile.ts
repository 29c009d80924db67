/**
 * The EndpointSlice controller's reconcile (and the Endpoints controller's, folded in): for one
 * Service key `<namespace>/<name>`, re-read the Service and the pods its selector picks, then make
 * the managed EndpointSlices and the Endpoints object say what desired.ts computes. Slices are
 * matched to the desired port groups by their ports, updated in place when their endpoints
 * differ, created (generateName `<service>-`) when missing, deleted when extra; with no endpoint
 * at all one empty placeholder slice stays, as upstream. A Service without a selector is left to
 * its owner (its Endpoints are user-managed); a Service that is gone takes its slices and
 * Endpoints with it.
 */
import { findResourceByKind } from '../../api/resources.js';
import { fromLabelSelectorObject, type LabelSelector } from '../../api/selectors.js';
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { isApiError } from '../../api/status.js';
import type { ControllerContext } from '../controller.js';
import { listPodsConsistently } from '../cachedlist.js';
import {
  desiredGroups, desiredSubsets, HEADLESS_LABEL, MANAGED_BY, MANAGED_BY_LABEL, portsKey, SERVICE_NAME_LABEL, type PortGroup, type SlicePort,
} from './desired.js';

const SERVICES = findResourceByKind('v1', 'Service')!;
const ENDPOINTS = findResourceByKind('v1', 'Endpoints')!;
const SLICES = findResourceByKind('discovery.k8s.io/v1', 'EndpointSlice')!;

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(isApiError(err) && err.code === 404)) throw err;
  }
}

/** selectorOf is the Service's selector, or undefined when it has none (user-managed endpoints). */
function selectorOf(svc: Readonly<KubeObject>): LabelSelector | undefined {
  const spec = isRecord(svc.spec) ? svc.spec : {};
  if (spec.type === 'ExternalName' || !isRecord(spec.selector) || Object.keys(spec.selector).length === 0) return undefined;
  return fromLabelSelectorObject({ matchLabels: spec.selector });
}

function managedLabels(svc: Readonly<KubeObject>): Record<string, string> {
  const meta = readMetadata(svc);
  const spec = isRecord(svc.spec) ? svc.spec : {};
  const labels: Record<string, string> = { ...(meta.labels ?? {}), [SERVICE_NAME_LABEL]: String(meta.name), [MANAGED_BY_LABEL]: MANAGED_BY };
  if (spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

function ownerRef(svc: Readonly<KubeObject>): Record<string, unknown> {
  const meta = readMetadata(svc);
  return { apiVersion: 'v1', kind: 'Service', name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true };
}

function sliceBody(svc: Readonly<KubeObject>, group: PortGroup): Record<string, unknown> {
  const body: Record<string, unknown> = { addressType: 'IPv4', endpoints: group.endpoints };
  if (group.ports.length > 0) body.ports = group.ports;
  return body;
}

function sliceContent(slice: Readonly<KubeObject>): string {
  return JSON.stringify([readMetadata(slice).labels ?? {}, slice.addressType, slice.endpoints ?? [], slice.ports ?? []]);
}

async function syncSlices(ctx: ControllerContext, svc: Readonly<KubeObject>, groups: PortGroup[], existing: KubeObject[]): Promise<void> {
  const { namespace, name } = readMetadata(svc);
  const labels = managedLabels(svc);
  const unused = [...existing];
  for (const group of groups.length > 0 ? groups : [{ ports: [], endpoints: [] }]) {
    const body = sliceBody(svc, group);
    const wanted = sliceContent({ metadata: { labels }, ...body });
    const key = portsKey(group.ports);
    const same = unused.findIndex((s) => sliceContent(s) === wanted);
    const similar = same >= 0 ? same : unused.findIndex((s) => portsKey((s.ports ?? []) as SlicePort[]) === key);
    if (same >= 0) {
      unused.splice(same, 1);
      continue;
    }
    if (similar >= 0) {
      const [current] = unused.splice(similar, 1);
      const next: KubeObject = { ...structuredClone(current!), ...body, metadata: { ...structuredClone(readMetadata(current!)), labels } };
      if (!body.ports) delete next.ports;
      await ctx.client.update(SLICES, next);
      continue;
    }
    await ctx.client.create(SLICES, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { generateName: `${String(name)}-`, namespace, labels, ownerReferences: [ownerRef(svc)] }, ...body,
    }, { namespace: String(namespace) });
  }
  for (const extra of unused) await ignoreNotFound(ctx.client.delete(SLICES, { namespace: String(namespace), name: String(readMetadata(extra).name) }));
}

async function syncEndpoints(ctx: ControllerContext, svc: Readonly<KubeObject>, subsets: Record<string, unknown>[]): Promise<void> {
  const { namespace, name } = readMetadata(svc);
  const labels: Record<string, string> = { ...(readMetadata(svc).labels ?? {}) };
  if (isRecord(svc.spec) && svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  const current = await ctx.client.getOrUndefined(ENDPOINTS, { namespace: String(namespace), name: String(name) });
  if (!current) {
    await ctx.client.create(ENDPOINTS, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, ...(subsets.length ? { subsets } : {}) }, { namespace: String(namespace) });
    return;
  }
  if (JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(readMetadata(current).labels ?? {}) === JSON.stringify(labels)) return;
  const next: KubeObject = { ...structuredClone(current), metadata: { ...structuredClone(readMetadata(current)), labels } };
  if (subsets.length) next.subsets = subsets;
  else delete next.subsets;
  await ctx.client.update(ENDPOINTS, next);
}

/** reconcileEndpointSlices brings one Service's EndpointSlices and Endpoints in line with its pods. Safe to repeat. */
export async function reconcileEndpointSlices(key: string, ctx: ControllerContext): Promise<void> {
  const [namespace, name] = key.split('/') as [string, string];
  if (!namespace || !name) return;
  const svc = await ctx.client.getOrUndefined(SERVICES, { namespace, name });
  const existing = await ctx.client.listAll(SLICES, { namespace, labelSelector: `${SERVICE_NAME_LABEL}=${name},${MANAGED_BY_LABEL}=${MANAGED_BY}` });
  const selector = svc ? selectorOf(svc) : undefined;
  if (!svc || selector === undefined || readMetadata(svc).deletionTimestamp !== undefined) {
    for (const s of existing) await ignoreNotFound(ctx.client.delete(SLICES, { namespace, name: String(readMetadata(s).name) }));
    if (!svc) await ignoreNotFound(ctx.client.delete(ENDPOINTS, { namespace, name }));
    return;
  }
  // Slices of another Service of that name (a delete and re-create) are not this one's: replace them.
  const own = existing.filter((s) => (readMetadata(s).ownerReferences ?? []).some((r) => isRecord(r) && r.uid === readMetadata(svc).uid));
  for (const stale of existing.filter((s) => !own.includes(s))) await ignoreNotFound(ctx.client.delete(SLICES, { namespace, name: String(readMetadata(stale).name) }));
  const pods = await listPodsConsistently(ctx, namespace, selector);
  await syncSlices(ctx, svc, desiredGroups(svc, pods), own);
  await syncEndpoints(ctx, svc, desiredSubsets(svc, pods));
}
