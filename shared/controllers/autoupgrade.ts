/**
 * The auto-upgrade controller (a Cluster's spec.autoUpgrade; shared/upgrade/auto.ts): inside the
 * maintenance window, when the catalog holds a release the channel picks and no run is
 * unfinished, it creates an UpgradeRun of scope Cluster (labelled `coracle.io/auto-upgrade`) — the
 * same admission as a user's: a blocking PodDisruptionBudget or a skew refuses it, and the refusal
 * is a Warning Event on the Cluster (it is tried again within the window). A release it tried in
 * the current window (or, without a window, in the last day) is not tried again there.
 *
 * It runs as a reconcile orchestration (functions/autoupgrade.ts) woken by Cluster spec changes
 * and by a durable timer: at the window's next opening when it is closed, every 15 minutes while
 * it is open (a release may be added to the catalog), never on a short fixed timer.
 */
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { ApiError } from '../api/status.js';
import type { Change } from './change.js';
import type { ControllerContext, OrchestratedController } from './controller.js';
import type { EventRecorder } from './events.js';
import { autoUpgradeTarget, windowState, type AutoUpgradeSpec } from '../upgrade/auto.js';
import type { ReleaseCatalog } from '../upgrade/admission.js';
import { CLUSTERS } from '../upgrade/objects.js';
import { isFinished, runSpecOf, UPGRADERUNS } from '../upgrade/run.js';

export const AUTO_UPGRADE_CONTROLLER = 'autoupgrade';
export const AUTO_UPGRADE_KEY = 'cluster';
/** AUTO_UPGRADE_LABEL marks the runs the controller created (its value: the channel). */
export const AUTO_UPGRADE_LABEL = 'coracle.io/auto-upgrade';

const MINUTE = 60_000;
/** While the window is open: look at the catalog again this often. */
export const OPEN_WINDOW_RECHECK_MS = 15 * MINUTE;
/** While a run is unfinished or was refused: look again this soon. */
const BUSY_RECHECK_MS = MINUTE;
/** With no channel: the longest sleep (a spec change wakes it anyway). */
export const AUTO_UPGRADE_IDLE_MS = 24 * 60 * MINUTE;

const autoUpgradeOf = (cluster: Readonly<KubeObject>): AutoUpgradeSpec => {
  const spec = isRecord(cluster.spec) ? cluster.spec : {};
  return isRecord(spec.autoUpgrade) ? spec.autoUpgrade as AutoUpgradeSpec : {};
};
const specText = (v: unknown) => JSON.stringify(isRecord(v) && isRecord(v.spec) ? v.spec : {});

/** autoUpgradeKeysFor: a Cluster's spec change (a create included) wakes the controller; status writes do not. */
export function autoUpgradeKeysFor(change: Change): string[] {
  if (change.type === 'put' && change.prevValue && specText(change.prevValue) === specText(change.value)) return [];
  return [AUTO_UPGRADE_KEY];
}

/** autoUpgradeOrchestration is the registry entry; its resync wakes the controller when a Cluster has a channel. */
export const autoUpgradeOrchestration: OrchestratedController = {
  name: AUTO_UPGRADE_CONTROLLER, kinds: ['Cluster'], orchestration: AUTO_UPGRADE_CONTROLLER, keysFor: autoUpgradeKeysFor,
  resync: async (ctx) => ((await ctx.client.listAll(CLUSTERS)).some((c) => (autoUpgradeOf(c).channel ?? 'none') !== 'none') ? [AUTO_UPGRADE_KEY] : []),
};

/** AutoUpgradeDeps are what a reconcile needs. */
export interface AutoUpgradeDeps {
  ctx: ControllerContext;
  recorder: EventRecorder;
  catalog: ReleaseCatalog;
}

/** reconcileAutoUpgrade looks once (see the file comment) and answers in how many ms to look again. */
export async function reconcileAutoUpgrade(deps: AutoUpgradeDeps): Promise<number> {
  const { ctx } = deps;
  const cluster = (await ctx.client.listAll(CLUSTERS))[0];
  if (!cluster) return AUTO_UPGRADE_IDLE_MS;
  const { channel = 'none', maintenanceWindow } = autoUpgradeOf(cluster);
  if (channel === 'none') return AUTO_UPGRADE_IDLE_MS;
  const now = ctx.now();
  const window = windowState(maintenanceWindow, now);
  if (!window.open) return window.changesInMs;
  const recheck = Math.min(OPEN_WINDOW_RECHECK_MS, window.changesInMs);
  const status = isRecord(cluster.status) ? cluster.status : {};
  const spec = isRecord(cluster.spec) ? cluster.spec : {};
  const current = String(status.controlPlaneVersion ?? spec.version ?? '');
  const target = autoUpgradeTarget(channel, current, await deps.catalog());
  if (!target) return recheck;
  const runs = await ctx.client.listAll(UPGRADERUNS);
  if (runs.some((r) => !isFinished(r))) return BUSY_RECHECK_MS;
  const since = window.openedAt?.getTime() ?? now.getTime() - AUTO_UPGRADE_IDLE_MS;
  const tried = runs.some((r) => {
    const meta = readMetadata(r);
    return isRecord(meta.labels) && meta.labels[AUTO_UPGRADE_LABEL] !== undefined && runSpecOf(r).targetVersion === target && Date.parse(String(meta.creationTimestamp)) >= since;
  });
  if (tried) return recheck;
  try {
    const run = await ctx.client.create(UPGRADERUNS, {
      apiVersion: 'coracle.io/v1', kind: 'UpgradeRun',
      metadata: { generateName: 'auto-', labels: { [AUTO_UPGRADE_LABEL]: channel } },
      spec: { targetVersion: target, scope: 'Cluster' },
    });
    await deps.recorder.normal(cluster, 'AutoUpgradeStarted', `channel ${channel}: upgrade run ${String(readMetadata(run).name)} to ${target} started${maintenanceWindow ? ' in the maintenance window' : ''}`);
    return BUSY_RECHECK_MS;
  } catch (err) {
    if (!(err instanceof ApiError) || (err.code !== 422 && err.code !== 409)) throw err;
    if (err.code === 422) await deps.recorder.warning(cluster, 'AutoUpgradeRefused', `channel ${channel}: an upgrade to ${target} may not start: ${err.message}`);
    return BUSY_RECHECK_MS;
  }
}
