/**
 * What a Coracle release is: a version stamp (`v1.35.0-coracle`, one Kubernetes minor per release)
 * kept in `version.json` beside this file, which a release package rewrites (see local/releases.ts),
 * and the pure rules that compare versions and bound the skew between the control plane and node
 * pools (AKS's: the control plane moves one minor at a time; no pool is newer than the control
 * plane or more than two minors behind it).
 */
import stamp from './version.json' with { type: 'json' };

/** RELEASE_VERSION is this build's version: what `/version` and each node's kubeletVersion report. */
export const RELEASE_VERSION: string = stamp.version;

/** ReleaseVersion is a parsed `vMAJOR.MINOR.PATCH[-suffix]`. */
export interface ReleaseVersion {
  major: number;
  minor: number;
  patch: number;
  /** The text after `-` (`coracle`), '' when absent. */
  suffix: string;
}

const VERSION = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/** parseReleaseVersion parses `v1.35.0-coracle`; undefined when `text` is not such a version. */
export function parseReleaseVersion(text: string): ReleaseVersion | undefined {
  const m = VERSION.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), suffix: m[4] ?? '' };
}

/** mustParse parses or throws an Error naming the bad text. */
function mustParse(text: string): ReleaseVersion {
  const v = parseReleaseVersion(text);
  if (!v) throw new Error(`"${text}" is not a release version (vMAJOR.MINOR.PATCH[-suffix])`);
  return v;
}

/**
 * compareVersions orders two release versions by major, minor, patch, then suffix (text order;
 * no suffix first): negative when `a` is older. Throws on a malformed version.
 */
export function compareVersions(a: string, b: string): number {
  const x = mustParse(a);
  const y = mustParse(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || (x.suffix < y.suffix ? -1 : x.suffix > y.suffix ? 1 : 0);
}

/** minorsBetween is how many minors `to` is ahead of `from` (negative when behind), across majors by minor only when the major is equal. */
function minorsBetween(from: ReleaseVersion, to: ReleaseVersion): number {
  if (from.major !== to.major) return (to.major - from.major) * 1000;
  return to.minor - from.minor;
}

/**
 * controlPlaneStepProblem says why the control plane may not move from `from` to `to`, or
 * returns undefined when it may: a well-formed version, never older, at most one minor ahead.
 */
export function controlPlaneStepProblem(from: string, to: string): string | undefined {
  const a = parseReleaseVersion(from);
  const b = parseReleaseVersion(to);
  if (!b) return `"${to}" is not a release version (vMAJOR.MINOR.PATCH[-suffix])`;
  if (!a) return undefined; // nothing recorded yet: any first version stands
  if (compareVersions(to, from) < 0) return `the control plane cannot move back from ${from} to ${to}`;
  const minors = minorsBetween(a, b);
  if (minors > 1) return `the control plane moves one minor version at a time: ${from} to ${to} skips ${minors - 1} minor version(s)`;
  return undefined;
}

/** MAX_POOL_MINORS_BEHIND is how many minors a pool may lag the control plane (AKS: 2). */
export const MAX_POOL_MINORS_BEHIND = 2;

/**
 * poolSkewProblem says why a node pool may not run `pool` under a control plane at
 * `controlPlane` (newer than the control plane, or more than two minors behind), or undefined.
 */
export function poolSkewProblem(controlPlane: string, pool: string): string | undefined {
  const cp = parseReleaseVersion(controlPlane);
  const p = parseReleaseVersion(pool);
  if (!p) return `"${pool}" is not a release version (vMAJOR.MINOR.PATCH[-suffix])`;
  if (!cp) return undefined;
  if (compareVersions(pool, controlPlane) > 0) return `a node pool cannot be newer than the control plane (${pool} > ${controlPlane})`;
  const behind = minorsBetween(p, cp);
  if (behind > MAX_POOL_MINORS_BEHIND) return `a node pool may be at most ${MAX_POOL_MINORS_BEHIND} minor versions behind the control plane (${pool} is ${behind} behind ${controlPlane})`;
  return undefined;
}
