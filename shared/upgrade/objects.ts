/**
 * coracle.io/v1 Cluster and NodePool, the API objects of upgrades: their validation (a release
 * version, good upgrade settings, the control plane one minor at a time), defaulting (a pool's
 * upgrade settings get AKS's defaults), and the version-skew admission that needs the other
 * objects (no pool newer than the control plane or more than two minors behind it), which
 * answers 422 Invalid naming the rule.
 */
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { findResourceByKind, storageKey } from '../api/resources.js';
import { invalid, type StatusCause } from '../api/status.js';
import type { Admission } from '../apiserver/context.js';
import { controlPlaneStepProblem, parseReleaseVersion, poolSkewProblem } from '../release/version.js';
import { autoUpgradeProblems } from './auto.js';
import { DEFAULT_UPGRADE_SETTINGS, upgradeSettingsProblems, type UpgradeSettings } from './settings.js';

/** CLUSTERS and NODEPOOLS are the resource types. */
export const CLUSTERS = findResourceByKind('coracle.io/v1', 'Cluster')!;
export const NODEPOOLS = findResourceByKind('coracle.io/v1', 'NodePool')!;

const specOf = (obj: Readonly<KubeObject>): Record<string, unknown> => (isRecord(obj.spec) ? obj.spec : {});

function versionCauses(spec: Record<string, unknown>): StatusCause[] {
  if (spec.version === undefined || spec.version === '') return [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.version' }];
  if (typeof spec.version !== 'string' || !parseReleaseVersion(spec.version)) {
    return [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec.version)}: must be a release version such as v1.35.0-coracle`, field: 'spec.version' }];
  }
  return [];
}

/** validateCluster lists a Cluster's problems (its spec.version and spec.autoUpgrade). */
export function validateCluster(obj: Readonly<KubeObject>): StatusCause[] {
  return [...versionCauses(specOf(obj)), ...autoUpgradeProblems(specOf(obj).autoUpgrade)];
}

/** clusterStepCauses refuses an update of a Cluster's spec.version that moves back or skips a minor. */
export function clusterStepCauses(obj: Readonly<KubeObject>, old: Readonly<KubeObject>): StatusCause[] {
  const from = specOf(old).version;
  const to = specOf(obj).version;
  if (typeof from !== 'string' || typeof to !== 'string' || from === to || !parseReleaseVersion(to)) return [];
  const problem = controlPlaneStepProblem(from, to);
  return problem ? [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(to)}: ${problem}`, field: 'spec.version' }] : [];
}

/** validateNodePool lists a NodePool's problems (version, count, upgrade settings). */
export function validateNodePool(obj: Readonly<KubeObject>): StatusCause[] {
  const spec = specOf(obj);
  const causes = versionCauses(spec);
  if (spec.count !== undefined && !(Number.isInteger(spec.count) && (spec.count as number) >= 0)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec.count)}: must be greater than or equal to 0`, field: 'spec.count' });
  }
  const settings = isRecord(spec.upgradeSettings) ? spec.upgradeSettings as UpgradeSettings : {};
  for (const p of upgradeSettingsProblems(settings)) {
    causes.push({ reason: p.reason === 'Invalid' ? 'FieldValueInvalid' : 'FieldValueNotSupported', message: p.message, field: p.field });
  }
  return causes;
}

/** defaultNodePool fills spec.upgradeSettings with AKS's defaults where unset (in place, as every defaulter). */
export function defaultNodePool(obj: KubeObject): void {
  if (!isRecord(obj.spec)) return;
  obj.spec.upgradeSettings = { ...DEFAULT_UPGRADE_SETTINGS, ...(isRecord(obj.spec.upgradeSettings) ? obj.spec.upgradeSettings : {}) };
}

/**
 * admitVersionSkew refuses (422) a NodePool whose spec.version is newer than any Cluster's
 * spec.version or more than two minors behind it, and a Cluster whose new spec.version would
 * leave a pool more than two minors behind. Other writes pass.
 */
export const admitVersionSkew: Admission = async (ctx, obj, old) => {
  const { group, plural } = ctx.info.resource;
  if (group !== 'coracle.io' || ctx.info.subresource === 'status') return undefined;
  const version = specOf(obj).version;
  if (typeof version !== 'string' || (old && specOf(old).version === version)) return undefined;
  const name = String(readMetadata(obj).name ?? '');
  if (plural === 'nodepools') {
    for (const kv of (await ctx.store.list(storageKey(CLUSTERS))).items) {
      const cp = specOf(kv.value).version;
      const problem = typeof cp === 'string' ? poolSkewProblem(cp, version) : undefined;
      if (problem) return invalid('coracle.io', 'NodePool', name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(version)}: ${problem}`, field: 'spec.version' }]);
    }
  }
  if (plural === 'clusters') {
    for (const kv of (await ctx.store.list(storageKey(NODEPOOLS))).items) {
      const pool = specOf(kv.value).version;
      const problem = typeof pool === 'string' ? poolSkewProblem(version, pool) : undefined;
      if (problem) {
        return invalid('coracle.io', 'Cluster', name, [{ reason: 'FieldValueInvalid', field: 'spec.version',
          message: `Invalid value: ${JSON.stringify(version)}: node pool ${String(readMetadata(kv.value).name)} would be left behind: ${problem}; upgrade the pool first` }]);
      }
    }
  }
  return undefined;
};
