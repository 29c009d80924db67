/**
 * The upgrade controller's descriptor: every UpgradeRun change that matters to a run in progress
 * (a create, a spec change such as pause, resume or cancel, a delete) wakes the upgrade
 * orchestration (functions/upgrade.ts), one instance per cluster under the key `cluster`. Status
 * writes, which the orchestration makes itself at every step, do not.
 */
import { isRecord } from '../api/objects.js';
import type { Change } from './change.js';
import type { OrchestratedController } from './controller.js';
import { isFinished, UPGRADERUNS } from '../upgrade/run.js';

/** UPGRADE_ORCHESTRATION is the orchestrator's name; its one instance is `upgrade:cluster`. */
export const UPGRADE_ORCHESTRATION = 'upgrade';
/** UPGRADE_KEY is the one key: a store holds one cluster. */
export const UPGRADE_KEY = 'cluster';

const specOf = (v: unknown) => JSON.stringify(isRecord(v) && isRecord(v.spec) ? v.spec : {});

/** upgradeKeysFor maps an UpgradeRun change to the cluster key, unless it is a status write. */
export function upgradeKeysFor(change: Change): string[] {
  if (change.type === 'put' && change.prevValue && specOf(change.prevValue) === specOf(change.value)) return [];
  return [UPGRADE_KEY];
}

/** upgradeOrchestration is the registry entry; its resync wakes the orchestration when a run is unfinished. */
export const upgradeOrchestration: OrchestratedController = {
  name: 'upgrade', kinds: ['UpgradeRun'], orchestration: UPGRADE_ORCHESTRATION, keysFor: upgradeKeysFor,
  resync: async (ctx) => ((await ctx.client.listAll(UPGRADERUNS)).some((r) => !isFinished(r)) ? [UPGRADE_KEY] : []),
};
