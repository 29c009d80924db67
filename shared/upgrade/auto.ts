/**
 * The auto-upgrade channel of a Cluster (`spec.autoUpgrade`), as AKS's: the cluster upgrades
 * itself, inside a maintenance window, when the catalog holds a release its channel picks. Pure:
 * validation, the channel's pick and the window's arithmetic (functions/autoupgrade.ts acts on them).
 *
 * - `channel`: `none` (the default), `patch` — the newest release of the control plane's own minor
 *   (AKS: "the latest supported patch, keeping the minor version") — or `stable` — the newest
 *   release of minor N-1, where N is the newest minor in the catalog (AKS: "the latest supported
 *   patch on minor N-1"), reached one minor at a time (the control plane's step rule), and the
 *   newest patch of its own minor once the control plane is at N-1 or N.
 * - `maintenanceWindow`: `{ days, startTime, durationHours, utcOffset }` — days of the week
 *   (`Monday`…`Sunday`; absent or empty: every day), the local start `HH:MM`, 1–24 hours, and the
 *   offset of that local time from UTC (`+HH:MM`/`-HH:MM`, default `+00:00`). Absent: any time.
 */
import { compareVersions, controlPlaneStepProblem, parseReleaseVersion } from '../release/version.js';

/** AutoUpgradeChannel is a channel's name. */
export type AutoUpgradeChannel = 'none' | 'patch' | 'stable';
export const AUTO_UPGRADE_CHANNELS: readonly AutoUpgradeChannel[] = ['none', 'patch', 'stable'];

/** MaintenanceWindow is when auto-upgrades may start (see the file comment). */
export interface MaintenanceWindow {
  days?: string[];
  startTime: string;
  durationHours: number;
  utcOffset?: string;
}

/** AutoUpgradeSpec is a Cluster's spec.autoUpgrade. */
export interface AutoUpgradeSpec {
  channel?: AutoUpgradeChannel;
  maintenanceWindow?: MaintenanceWindow;
}

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** AutoUpgradeProblem is one bad field of spec.autoUpgrade. */
export interface AutoUpgradeProblem {
  field: string;
  reason: 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueRequired';
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const OFFSET = /^([+-])(0\d|1[0-4]):([0-5]\d)$/;

/** autoUpgradeProblems lists what is wrong with `value` as spec.autoUpgrade (nothing when absent). */
export function autoUpgradeProblems(value: unknown): AutoUpgradeProblem[] {
  if (value === undefined || value === null) return [];
  const at = 'spec.autoUpgrade';
  if (!isObject(value)) return [{ field: at, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: must be an object` }];
  const problems: AutoUpgradeProblem[] = [];
  if (value.channel !== undefined && !AUTO_UPGRADE_CHANNELS.includes(value.channel as AutoUpgradeChannel)) {
    problems.push({ field: `${at}.channel`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value.channel)}: supported values: ${AUTO_UPGRADE_CHANNELS.map((c) => `"${c}"`).join(', ')}` });
  }
  const w = value.maintenanceWindow;
  if (w === undefined || w === null) return problems;
  const wf = `${at}.maintenanceWindow`;
  if (!isObject(w)) return [...problems, { field: wf, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(w)}: must be an object` }];
  if (w.startTime === undefined) problems.push({ field: `${wf}.startTime`, reason: 'FieldValueRequired', message: 'Required value' });
  else if (typeof w.startTime !== 'string' || !HHMM.test(w.startTime)) problems.push({ field: `${wf}.startTime`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(w.startTime)}: must be a time of day HH:MM (00:00 to 23:59)` });
  if (w.durationHours === undefined) problems.push({ field: `${wf}.durationHours`, reason: 'FieldValueRequired', message: 'Required value' });
  else if (!Number.isInteger(w.durationHours) || (w.durationHours as number) < 1 || (w.durationHours as number) > 24) {
    problems.push({ field: `${wf}.durationHours`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(w.durationHours)}: must be a whole number of hours from 1 to 24` });
  }
  if (w.utcOffset !== undefined && (typeof w.utcOffset !== 'string' || !OFFSET.test(w.utcOffset))) {
    problems.push({ field: `${wf}.utcOffset`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(w.utcOffset)}: must be an offset from UTC such as +02:00 or -05:30` });
  }
  if (w.days !== undefined) {
    if (!Array.isArray(w.days)) problems.push({ field: `${wf}.days`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(w.days)}: must be a list of days of the week` });
    else w.days.forEach((d, i) => {
      if (!WEEKDAYS.includes(d as typeof WEEKDAYS[number])) problems.push({ field: `${wf}.days[${i}]`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(d)}: supported values: ${WEEKDAYS.map((x) => `"${x}"`).join(', ')}` });
    });
  }
  return problems;
}

/** autoUpgradeTarget is the release channel `channel` moves a control plane at `current` to, from `catalog`; undefined when none. */
export function autoUpgradeTarget(channel: AutoUpgradeChannel | undefined, current: string, catalog: readonly string[]): string | undefined {
  const cur = parseReleaseVersion(current);
  if (!cur || !channel || channel === 'none') return undefined;
  const releases = [...new Set(catalog)].filter((v) => {
    const p = parseReleaseVersion(v);
    return p !== undefined && p.major === cur.major && compareVersions(v, current) > 0 && !controlPlaneStepProblem(current, v);
  });
  const newestOfMinor = (minor: number) => releases.filter((v) => parseReleaseVersion(v)!.minor === minor).sort(compareVersions).at(-1);
  if (channel === 'patch') return newestOfMinor(cur.minor);
  const newestMinor = Math.max(cur.minor, ...catalog.map((v) => parseReleaseVersion(v)).filter((p) => p?.major === cur.major).map((p) => p!.minor));
  const stableMinor = Math.max(cur.minor, newestMinor - 1);
  return newestOfMinor(Math.min(stableMinor, cur.minor + 1)) ?? newestOfMinor(cur.minor);
}

/** WindowState says whether a window is open at `now`, since when, and in how many ms it opens or closes. */
export interface WindowState {
  open: boolean;
  /** When the window now open opened, or the last one closed (undefined without a window: always open). */
  openedAt?: Date;
  /** Milliseconds until it closes (open) or opens (closed); Infinity without a window. */
  changesInMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function offsetMs(utcOffset: string | undefined): number {
  const m = OFFSET.exec(utcOffset ?? '+00:00');
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * HOUR + Number(m[3]) * 60_000);
}

/** windowState computes the state of `window` (valid, see autoUpgradeProblems) at `now`; no window: always open. */
export function windowState(window: MaintenanceWindow | undefined, now: Date): WindowState {
  if (!window) return { open: true, changesInMs: Infinity };
  const offset = offsetMs(window.utcOffset);
  const [hh, mm] = window.startTime.split(':').map(Number) as [number, number];
  const days = window.days?.length ? new Set(window.days) : undefined;
  // Local midnight of the local day, as a UTC instant.
  const localNow = now.getTime() + offset;
  const localMidnight = localNow - (((localNow % DAY) + DAY) % DAY);
  let next = Infinity;
  // A window that started up to a day earlier (durations reach 24 h) may still be open.
  for (let d = -1; d <= 8; d++) {
    const localStart = localMidnight + d * DAY + hh * HOUR + mm * 60_000;
    const weekday = WEEKDAYS[new Date(localStart).getUTCDay()]!;
    if (days && !days.has(weekday)) continue;
    const start = localStart - offset;
    const end = start + window.durationHours * HOUR;
    if (start <= now.getTime() && now.getTime() < end) return { open: true, openedAt: new Date(start), changesInMs: end - now.getTime() };
    if (start > now.getTime()) next = Math.min(next, start - now.getTime());
  }
  return { open: false, changesInMs: next };
}
