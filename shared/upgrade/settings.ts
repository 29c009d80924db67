/**
 * A node pool's upgrade settings (AKS's): maxSurge (integer or percentage of the pool, default
 * 10% rounded up), maxUnavailable (default 0), drainTimeout (default 30m), nodeSoakDuration
 * (default 0s) and undrainableNodeBehavior (Cordon: leave the node cordoned and go on; Schedule:
 * stop and report). Pure: defaulting and reading.
 */
import { scaledValue } from '../controllers/disruption/budget.js';

/** UndrainableNodeBehavior is what happens to a node that cannot be drained within drainTimeout. */
export type UndrainableNodeBehavior = 'Cordon' | 'Schedule';

/** UpgradeSettings as written in a NodePool's spec.upgradeSettings (every field optional). */
export interface UpgradeSettings {
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  /** A Go duration (`30m`, `1h30m`, `90s`). */
  drainTimeout?: string;
  nodeSoakDuration?: string;
  undrainableNodeBehavior?: UndrainableNodeBehavior;
}

/** ResolvedUpgradeSettings are the settings of a pool of a given size, as numbers. */
export interface ResolvedUpgradeSettings {
  /** New nodes added per batch. */
  surge: number;
  /** Old nodes that may be unavailable beyond the surge. */
  unavailable: number;
  drainTimeoutSeconds: number;
  soakSeconds: number;
  undrainableNodeBehavior: UndrainableNodeBehavior;
}

/** DEFAULT_UPGRADE_SETTINGS are AKS's defaults. */
export const DEFAULT_UPGRADE_SETTINGS: Required<UpgradeSettings> = {
  maxSurge: '10%', maxUnavailable: 0, drainTimeout: '30m', nodeSoakDuration: '0s', undrainableNodeBehavior: 'Cordon',
};

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** durationSeconds reads a Go duration of whole hours, minutes and seconds (`1h30m`, `45s`, `0s`); undefined when malformed. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (text === '0') return 0;
  if (!m || text === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** SettingProblem is one bad field: its path, whether the value is Invalid or NotSupported, and Kubernetes' message. */
export interface SettingProblem {
  field: string;
  reason: 'Invalid' | 'NotSupported';
  message: string;
}

/**
 * upgradeSettingsProblems lists what is wrong with `settings`, field by field (empty when
 * valid): malformed numbers or durations, an unknown behavior, or no progress possible
 * (maxSurge and maxUnavailable both 0).
 */
export function upgradeSettingsProblems(settings: UpgradeSettings, path = 'spec.upgradeSettings'): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const s = { ...DEFAULT_UPGRADE_SETTINGS, ...settings };
  const scaled = (field: 'maxSurge' | 'maxUnavailable'): number | undefined => {
    try {
      const n = scaledValue(s[field], 100, true);
      if (n < 0) throw new Error('negative');
      return n;
    } catch {
      problems.push({ field: `${path}.${field}`, reason: 'Invalid', message: `Invalid value: ${JSON.stringify(s[field])}: must be a non-negative integer or percentage` });
      return undefined;
    }
  };
  const surge = scaled('maxSurge');
  const unavailable = scaled('maxUnavailable');
  if (surge === 0 && unavailable === 0) problems.push({ field: `${path}.maxSurge`, reason: 'Invalid', message: `Invalid value: ${JSON.stringify(s.maxSurge)}: may not be 0 when maxUnavailable is 0` });
  for (const field of ['drainTimeout', 'nodeSoakDuration'] as const) {
    if (durationSeconds(s[field]) === undefined) problems.push({ field: `${path}.${field}`, reason: 'Invalid', message: `Invalid value: ${JSON.stringify(s[field])}: must be a duration such as 30m, 1h or 90s` });
  }
  if (s.undrainableNodeBehavior !== 'Cordon' && s.undrainableNodeBehavior !== 'Schedule') {
    problems.push({ field: `${path}.undrainableNodeBehavior`, reason: 'NotSupported', message: `Unsupported value: ${JSON.stringify(s.undrainableNodeBehavior)}: supported values: "Cordon", "Schedule"` });
  }
  return problems;
}

/**
 * resolveUpgradeSettings turns a pool's settings into numbers for a pool of `poolSize` nodes:
 * maxSurge percentages round up (AKS), maxUnavailable percentages round down (as Deployments);
 * the surge is at least 1 when maxUnavailable is 0. Throws on settings upgradeSettingsProblems refuses.
 */
export function resolveUpgradeSettings(settings: UpgradeSettings | undefined, poolSize: number): ResolvedUpgradeSettings {
  const problems = upgradeSettingsProblems(settings ?? {});
  if (problems.length > 0) throw new Error(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  const s = { ...DEFAULT_UPGRADE_SETTINGS, ...settings };
  const unavailable = scaledValue(s.maxUnavailable, poolSize, false);
  const surge = Math.max(scaledValue(s.maxSurge, poolSize, true), unavailable === 0 ? 1 : 0);
  return {
    surge, unavailable, drainTimeoutSeconds: durationSeconds(s.drainTimeout)!, soakSeconds: durationSeconds(s.nodeSoakDuration)!,
    undrainableNodeBehavior: s.undrainableNodeBehavior,
  };
}
