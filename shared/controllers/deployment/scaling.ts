/**
 * How many replicas each ReplicaSet of a Deployment should have next: pure decisions, from
 * Kubernetes' pkg/controller/deployment (rolling.go, recreate.go, sync.go `scale`) and its util.
 * Each planner returns the scale steps of one pass; the reconcile writes them (and their events)
 * and, as upstream, returns after a pass that scaled, so the next pass sees fresh status.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import {
  availableReplicas, byCreation, bySizeNewer, bySizeOlder, DESIRED_REPLICAS_ANNOTATION, filterActive, intAnnotation,
  isRollingUpdate, MAX_REPLICAS_ANNOTATION, maxSurge, maxUnavailable, nameOf, scaledValue, specOf, specReplicas,
  statusReplicas, sumReplicas, type IntOrString,
} from './util.js';

type RS = Readonly<KubeObject>;

/** ScaleStep is one ReplicaSet scaled from `from` to `to` replicas. */
export interface ScaleStep {
  rs: RS;
  from: number;
  to: number;
}

/** Working sizes of a set of ReplicaSets while a plan is made (spec.replicas as they will be). */
class Sizes {
  private readonly sizes = new Map<string, number>();
  readonly steps: ScaleStep[] = [];

  of(rs: RS): number {
    return this.sizes.get(nameOf(rs)) ?? specReplicas(rs);
  }

  scale(rs: RS, to: number): void {
    const from = this.of(rs);
    if (from === to) return;
    this.sizes.set(nameOf(rs), to);
    const existing = this.steps.find((s) => nameOf(s.rs) === nameOf(rs));
    if (existing) existing.to = to;
    else this.steps.push({ rs, from, to });
  }

  total(replicaSets: readonly RS[]): number {
    return replicaSets.reduce((sum, rs) => sum + this.of(rs), 0);
  }
}

/**
 * newReplicaSetReplicas is NewRSNewReplicas: the new ReplicaSet's next size under RollingUpdate
 * (up to replicas + maxSurge pods in all, never more than replicas in the new one), or the full
 * count under Recreate. `allReplicaSets` includes `newRS`.
 */
export function newReplicaSetReplicas(d: Readonly<KubeObject>, allReplicaSets: readonly RS[], newRS: RS): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d)) return replicas;
  const ru = (specOf(d).strategy as { rollingUpdate?: { maxSurge?: IntOrString } } | undefined)?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge ?? 0, replicas, true);
  const current = sumReplicas(allReplicaSets);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  return specReplicas(newRS) + Math.min(maxTotal - current, replicas - specReplicas(newRS));
}

/** planNewReplicaSet is reconcileNewReplicaSet: the new ReplicaSet's step (none when at size). */
export function planNewReplicaSet(d: Readonly<KubeObject>, allReplicaSets: readonly RS[], newRS: RS): ScaleStep[] {
  const replicas = specReplicas(d);
  const current = specReplicas(newRS);
  if (current === replicas) return [];
  const to = current > replicas ? replicas : newReplicaSetReplicas(d, allReplicaSets, newRS);
  return to === current ? [] : [{ rs: newRS, from: current, to }];
}

/**
 * planOldReplicaSets is reconcileOldReplicaSets: scale old ReplicaSets down as far as
 * maxUnavailable allows — first their unhealthy replicas (cleanupUnhealthyReplicas: they add no
 * availability, and left alone they would block the rollout), then available ones down to
 * replicas − maxUnavailable available pods in all (scaleDownOldReplicaSetsForRollingUpdate).
 */
export function planOldReplicaSets(d: Readonly<KubeObject>, allReplicaSets: readonly RS[], oldReplicaSets: readonly RS[], newRS: RS): ScaleStep[] {
  const old = filterActive(oldReplicaSets).sort(byCreation);
  if (sumReplicas(old) === 0) return [];
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - availableReplicas(newRS);
  const maxScaledDown = sumReplicas(allReplicaSets) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const sizes = new Sizes();
  // cleanupUnhealthyReplicas
  let cleaned = 0;
  for (const rs of old) {
    if (cleaned >= maxScaledDown) break;
    const size = sizes.of(rs);
    if (size === 0 || size === availableReplicas(rs)) continue;
    const count = Math.min(maxScaledDown - cleaned, size - availableReplicas(rs));
    if (count <= 0) continue;
    sizes.scale(rs, size - count);
    cleaned += count;
  }
  // scaleDownOldReplicaSetsForRollingUpdate (availability is unchanged by the cleanup above)
  const available = sumReplicas([...old, newRS], availableReplicas);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of old) {
      if (scaled >= total) break;
      const size = sizes.of(rs);
      if (size === 0) continue;
      const count = Math.min(size, total - scaled);
      sizes.scale(rs, size - count);
      scaled += count;
    }
  }
  return sizes.steps;
}

/** planRecreateScaleDown is scaleDownOldReplicaSetsForRecreate: every active old ReplicaSet to 0. */
export function planRecreateScaleDown(oldReplicaSets: readonly RS[]): ScaleStep[] {
  return filterActive(oldReplicaSets).map((rs) => ({ rs, from: specReplicas(rs), to: 0 }));
}

/**
 * oldPodsRunning is recreate.go's test before the new ReplicaSet may start: an old ReplicaSet
 * still counts pods, or some pod of an old ReplicaSet is not terminal (also while terminating).
 */
export function oldPodsRunning(newRS: RS | undefined, oldReplicaSets: readonly RS[], pods: readonly Readonly<KubeObject>[]): boolean {
  if (sumReplicas(oldReplicaSets, statusReplicas) > 0) return true;
  const oldUids = new Set(oldReplicaSets.map((rs) => readMetadata(rs).uid));
  const newUid = newRS ? readMetadata(newRS).uid : undefined;
  return pods.some((pod) => {
    const owner = (readMetadata(pod).ownerReferences ?? []).find((r) => r.controller === true);
    if (!owner || owner.uid === newUid || !oldUids.has(owner.uid as string)) return false;
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    return phase !== 'Succeeded' && phase !== 'Failed';
  });
}

/** isSaturated is IsSaturated: the new ReplicaSet has (and was sized for) all replicas, all available. */
export function isSaturated(d: Readonly<KubeObject>, rs: RS | undefined): boolean {
  if (!rs) return false;
  const replicas = specReplicas(d);
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION) === replicas && specReplicas(rs) === replicas && availableReplicas(rs) === replicas;
}

/** findActiveOrLatest is FindActiveOrLatest: the only active ReplicaSet, else the newest when none is active, else undefined. */
export function findActiveOrLatest(newRS: RS | undefined, oldReplicaSets: readonly RS[]): RS | undefined {
  if (!newRS && oldReplicaSets.length === 0) return undefined;
  const newestFirst = [...oldReplicaSets].sort((a, b) => byCreation(b, a));
  const active = filterActive([...newestFirst, ...(newRS ? [newRS] : [])]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** isScalingEvent is isScalingEvent: some active ReplicaSet was sized for another replica count than the Deployment's. */
export function isScalingEvent(d: Readonly<KubeObject>, allReplicaSets: readonly RS[]): boolean {
  return filterActive(allReplicaSets).some((rs) => {
    const desired = intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
    return desired !== undefined && desired !== specReplicas(d);
  });
}

/** replicaSetFraction is getReplicaSetFraction: how much `rs` grows (or shrinks) for the Deployment's new size. */
function replicaSetFraction(rs: RS, d: Readonly<KubeObject>): number {
  const replicas = specReplicas(d);
  if (replicas === 0) return -specReplicas(rs);
  const maxReplicas = replicas + maxSurge(d);
  let before = intAnnotation(rs, MAX_REPLICAS_ANNOTATION) ?? 0;
  // No annotation (someone edited the ReplicaSet): fall back to the Deployment's current size.
  if (before === 0) before = statusReplicas(d);
  if (before === 0) return 0;
  return roundHalfAway((specReplicas(rs) * maxReplicas) / before) - specReplicas(rs);
}

function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** replicaSetProportion is GetReplicaSetProportion, bounded by what is left to add (or remove). */
function replicaSetProportion(rs: RS, d: Readonly<KubeObject>, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * planScale is sync.go's `scale`: when the Deployment's size changed, the only active ReplicaSet
 * takes the whole count; a saturated new ReplicaSet scales every old one to 0; otherwise, in a
 * rolling update, the difference to replicas + maxSurge is spread over the active ReplicaSets in
 * proportion to their sizes (leftovers to the largest). Steps that change only annotations have
 * `from === to` (the new desired/max annotations still need writing).
 */
export function planScale(d: Readonly<KubeObject>, newRS: RS | undefined, oldReplicaSets: readonly RS[]): ScaleStep[] {
  const replicas = specReplicas(d);
  const only = findActiveOrLatest(newRS, oldReplicaSets);
  if (only) return specReplicas(only) === replicas ? [] : [{ rs: only, from: specReplicas(only), to: replicas }];
  if (isSaturated(d, newRS)) return planRecreateScaleDown(oldReplicaSets);
  if (!isRollingUpdate(d)) return [];
  const all = filterActive([...oldReplicaSets, ...(newRS ? [newRS] : [])]);
  const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowed - sumReplicas(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const next = all.map((rs) => {
    const proportion = toAdd === 0 ? 0 : replicaSetProportion(rs, d, toAdd, added);
    added += proportion;
    return specReplicas(rs) + proportion;
  });
  if (toAdd !== 0 && next.length > 0) next[0] = Math.max(0, next[0]! + toAdd - added);
  return all.map((rs, i) => ({ rs, from: specReplicas(rs), to: next[i]! }));
}

/** applySteps returns `replicaSets` with the steps' sizes (copies of the scaled ones), for the status computed after a pass. */
export function applySteps(replicaSets: readonly RS[], steps: readonly ScaleStep[]): RS[] {
  return replicaSets.map((rs) => {
    const step = steps.find((s) => nameOf(s.rs) === nameOf(rs));
    return step ? { ...rs, spec: { ...specOf(rs), replicas: step.to } } : rs;
  });
}
