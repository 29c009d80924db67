/**
 * The admission of UpgradeRuns and the UpgradePreview answer, both reading the live cluster from
 * the store and the release catalog the API server was given: a run is refused with 409 Conflict
 * while another run is not finished, and with 422 Invalid (one cause per problem: a target not in
 * the catalog, a skew rule, an unknown pool, a blocking PodDisruptionBudget without `force`) when
 * its preview says it may not start.
 */
import { readMetadata, type KubeObject } from '../api/objects.js';
import { findResourceByKind, storageKey, type ResourceType } from '../api/resources.js';
import { ApiError, invalid } from '../api/status.js';
import type { Admission } from '../apiserver/context.js';
import type { Store } from '../store/store.js';
import { RELEASE_VERSION } from '../release/version.js';
import { CLUSTERS, NODEPOOLS } from './objects.js';
import { previewUpgrade, type PreviewInput, type UpgradePlan } from './preview.js';
import { isFinished, runSpecOf, runStatusOf, UPGRADERUNS, type UpgradeRunSpec } from './run.js';

const NODES = findResourceByKind('v1', 'Node')!;
const PODS = findResourceByKind('v1', 'Pod')!;
const PDBS = findResourceByKind('policy/v1', 'PodDisruptionBudget')!;

/** ReleaseCatalog lists the release versions the control plane may move to (the running build's included). */
export type ReleaseCatalog = () => Promise<readonly string[]>;

/** RUNNING_BUILD_ONLY is the catalog of a control plane given none: the release it runs. */
export const RUNNING_BUILD_ONLY: ReleaseCatalog = async () => [RELEASE_VERSION];

async function values(store: Store, prefix: string): Promise<KubeObject[]> {
  return (await store.list(prefix)).items.map((kv) => kv.value as KubeObject);
}

/** Lister lists every object of a resource type (from the store in the API server, through the API elsewhere). */
export type Lister = (r: ResourceType) => Promise<KubeObject[]>;

/** storeLister lists from the store. */
export function storeLister(store: Store): Lister {
  return (r) => values(store, storageKey(r));
}

/** readPreviewInput reads what previewUpgrade needs (the first Cluster is the cluster). */
export async function readPreviewInput(list: Lister, spec: UpgradeRunSpec, catalog: readonly string[]): Promise<PreviewInput> {
  const [clusters, nodePools, nodes, pods, pdbs] = await Promise.all([CLUSTERS, NODEPOOLS, NODES, PODS, PDBS].map(list));
  return { spec, cluster: clusters![0], catalog, nodePools: nodePools!, nodes: nodes!, pods: pods!, pdbs: pdbs! };
}

/** previewFrom is previewUpgrade of `spec` on the cluster `list` reads. */
export async function previewFrom(list: Lister, spec: UpgradeRunSpec, catalog: ReleaseCatalog): Promise<UpgradePlan> {
  return previewUpgrade(await readPreviewInput(list, spec, await catalog()));
}

/** unfinishedRun is the name and phase of a run that has not finished, other than `except`. */
async function unfinishedRun(store: Store, except: string): Promise<{ name: string; phase: string } | undefined> {
  const run = (await values(store, storageKey(UPGRADERUNS))).find((r) => !isFinished(r) && readMetadata(r).name !== except);
  return run ? { name: String(readMetadata(run).name), phase: String(runStatusOf(run).phase ?? 'Pending') } : undefined;
}

/**
 * admitUpgradeRun builds the admission of UpgradeRun creates (see the file comment); other
 * writes pass. `catalog` is the control plane's release catalog.
 */
export function admitUpgradeRun(catalog: ReleaseCatalog): Admission {
  return async (ctx, obj, old) => {
    const { group, plural } = ctx.info.resource;
    if (group !== 'coracle.io' || plural !== 'upgraderuns' || old !== undefined || ctx.info.subresource) return undefined;
    const name = String(readMetadata(obj).name ?? '');
    const other = await unfinishedRun(ctx.store, name);
    if (other) {
      return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on upgraderuns.coracle.io "${name}": upgrade run "${other.name}" is not finished (phase ${other.phase}); cancel it or wait for it to end`,
        { name, group: 'coracle.io', kind: 'upgraderuns' });
    }
    const plan = await previewFrom(storeLister(ctx.store), runSpecOf(obj as KubeObject), catalog);
    if (plan.canStart) return undefined;
    const spec = runSpecOf(obj as KubeObject);
    const refusing = plan.problems.filter((p) => !(p.type === 'BlockingBudget' && spec.force));
    return invalid('coracle.io', 'UpgradeRun', name, refusing.map((p) => ({ reason: p.type, field: p.field, message: p.message })));
  };
}
