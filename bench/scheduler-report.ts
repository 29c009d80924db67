/**
 * What bench:scheduler prints after its run: each figure next to its issue-13 target and, for each
 * target missed, a one-line why and the top entries of the CPU profile of the process the time
 * went to (the control plane or the hollow agent, profiled through the inspector for the run; see
 * bench/inspector.ts and bench/profile-summary.ts). Also the control plane's resident memory and
 * the Leases' renewals as the bench's own watch saw them.
 */
import { readFileSync } from 'node:fs';
import { percentile, report } from './support.js';
import { summarize, type CpuProfile, type SelfTime } from './profile-summary.js';

/** PodTimes are when the bench saw a pod appear, get a node, and run (performance.now()). */
export interface PodTimes { added: number; bound?: number; running?: number }

/** ProcessProfile is one profiled process: its name for the report and the profile file (undefined: not profiled). */
export interface ProcessProfile { name: string; file?: string }

/** RunFigures is everything the run measured. */
export interface RunFigures {
  pods: number;
  times: Map<string, PodTimes>;
  /** Milliseconds from the first ReplicaSet create to all pods Running (or the deadline). */
  elapsedMs: number;
  deadlineMs: number;
  mutating: number[];
  /** The control plane's resident set at the end and its peak, bytes. */
  rss: { now: number; peak: number };
  leases: LeaseFigures;
  profiles: { controlPlane: ProcessProfile; agent: ProcessProfile };
}

/** LeaseFigures are the node Leases' renewals as seen by a watch. */
export interface LeaseFigures {
  leases: number;
  renewals: number;
  /** The longest time any Lease went without a renewal (including from its last one to the end), ms. */
  maxGapMs: number;
  /** Gaps between renewals, ms (for a percentile). */
  gaps: number[];
  /** Leases that once went longer than their leaseDurationSeconds without a renewal. */
  late: number;
  durationSeconds: number;
}

/** Missed is a target missed, why, and the process to show the profile of. */
interface Missed { label: string; why: string; busy: Busy | undefined }

/** Busy is a summarized profile: busy share of the run and its top rows. */
interface Busy { name: string; busyPct: number; gcPct: number; top: SelfTime[]; inclusive: SelfTime[]; busyMs: number }

function loadBusy(p: ProcessProfile): Busy | undefined {
  if (!p.file) return undefined;
  try {
    const s = summarize(JSON.parse(readFileSync(p.file, 'utf8')) as CpuProfile);
    const busyMs = s.totalMs - s.idleMs;
    const gc = s.byFunction.find((r) => r.label === '(garbage collector)')?.ms ?? 0;
    return { name: p.name, busyPct: (100 * busyMs) / s.totalMs, gcPct: (100 * gc) / busyMs, top: s.byFunction, inclusive: s.inclusive, busyMs };
  } catch {
    return undefined;
  }
}

const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * printWhy prints the why and the top entries of `busy` under a missed target: the full tables
 * the first time a process is shown (`shown`), its top three self-time entries after that.
 */
function printWhy(why: string, busy: Busy | undefined, shown: Set<string>): void {
  console.log(`    why: ${why}`);
  if (!busy) {
    console.log('    (no CPU profile: run without --no-profile to see where the time went)');
    return;
  }
  const row = (r: SelfTime) => `      ${r.ms.toFixed(0).padStart(7)} ms ${((100 * r.ms) / busy.busyMs).toFixed(1).padStart(5)}%  ${r.label}`;
  const first = !shown.has(busy.name);
  shown.add(busy.name);
  console.log(`    ${busy.name}: busy ${busy.busyPct.toFixed(0)}% of the run; top self time${first ? '' : ' (more above)'}:`);
  busy.top.slice(0, first ? 8 : 3).forEach((r) => console.log(row(r)));
  if (!first) return;
  console.log('    top project functions by inclusive time:');
  busy.inclusive.slice(0, 8).forEach((r) => console.log(row(r)));
}

/** describeBusy is "<process> busy N% (GC M%)". */
const describeBusy = (b: Busy | undefined) => (b ? `${b.name} busy ${b.busyPct.toFixed(0)}% of the run (GC ${b.gcPct.toFixed(0)}% of that)` : 'no profile');

/** printRunReport prints the figures, the targets and, for each one missed, why (see the file comment). */
export function printRunReport(f: RunFigures): void {
  const all = [...f.times.values()];
  const added = sortNum(all.map((t) => t.added));
  const bound = sortNum(all.flatMap((t) => (t.bound === undefined ? [] : [t.bound])));
  const running = all.filter((t) => t.running !== undefined).length;
  const startup = sortNum(all.flatMap((t) => (t.running === undefined ? [] : [t.running - t.added])));
  const bindLag = sortNum(all.flatMap((t) => (t.bound === undefined ? [] : [t.bound - t.added])));
  const runLag = sortNum(all.flatMap((t) => (t.bound === undefined || t.running === undefined ? [] : [t.running - t.bound])));
  const span = (xs: number[]) => ((xs.at(-1) ?? 0) - (xs[0] ?? 0)) / 1000;
  const creationRate = added.length / Math.max(0.001, span(added));
  const overall = bound.length / Math.max(0.001, span([added[0] ?? 0, bound.at(-1) ?? 0]));
  const best = bestWindowRate(bound, 5000);
  const cp = loadBusy(f.profiles.controlPlane);
  const agent = loadBusy(f.profiles.agent);
  const busiest = (cp?.busyPct ?? 0) >= (agent?.busyPct ?? 0) ? cp : agent;
  const allRunning = running >= f.pods;

  console.log(`pods: ${all.length} seen, ${bound.length} bound, ${running} running${allRunning ? '' : ` (gave up after ${f.deadlineMs / 1000} s)`}`);
  console.log(`pod creation (ReplicaSet controller): ${creationRate.toFixed(1)} pods/s over ${span(added).toFixed(1)} s`);
  console.log(`binding lag (seen → bound): p50 ${sec(percentile(bindLag, 50))}, p99 ${sec(percentile(bindLag, 99))}`);
  console.log(`start lag (bound → Running seen): p50 ${sec(percentile(runLag, 50))}, p99 ${sec(percentile(runLag, 99))}`);
  console.log(`mutating calls sampled: ${f.mutating.length} (ReplicaSet creates + ConfigMap prober every 50 ms); p50 ${percentile(f.mutating, 50).toFixed(1)} ms`);
  console.log(`Leases: ${f.leases.leases} watched, ${f.leases.renewals} renewals; gap between renewals p99 ${sec(percentile(f.leases.gaps, 99))}, longest ${sec(f.leases.maxGapMs)}`);
  console.log(`control plane: ${describeBusy(cp)}; hollow agent: ${describeBusy(agent)}\n`);

  const stage = percentile(bindLag, 99) >= percentile(runLag, 99) ? 'scheduling (seen → bound)' : 'the agent (bound → Running)';
  // The agent's stage is the agent's own CPU only when it is the busier process; else it waits for its API calls.
  const stageBusy = stage.startsWith('scheduling') || (cp?.busyPct ?? 0) > (agent?.busyPct ?? 0) ? cp : agent;
  const agentWaits = !stage.startsWith('scheduling') && stageBusy === cp ? ' (the agent mostly waits for its API calls)' : '';
  const topLabel = (b: Busy | undefined) => (b?.top[0] ? `${b.top[0].label} ${((100 * b.top[0].ms) / b.busyMs).toFixed(0)}%` : '?');
  const check = (label: string, value: number, target: number, unit: string, higherIsBetter: boolean, why: string, busy: Busy | undefined): Missed | undefined =>
    (report(label, value, target, unit, higherIsBetter) ? undefined : { label, why, busy });
  const missed = [
    check('scheduling throughput (overall)', overall, 500, 'pods/s', true,
      `bound ${overall.toFixed(0)}/s while the ReplicaSet controller created ${creationRate.toFixed(0)}/s; binding lag p50 ${sec(percentile(bindLag, 50))}: pods wait for passes; ${describeBusy(cp)}, top ${topLabel(cp)}`, cp),
    check('scheduling throughput (best 5 s)', best, 500, 'pods/s', true,
      `the best 5 s reached ${best.toFixed(0)}/s: the passes' binds share the control plane's event loop with creates, agent status writes and watches (${describeBusy(cp)})`, cp),
    check('time until all pods Running', allRunning ? f.elapsedMs / 1000 : Infinity, 60, 's', false,
      `${allRunning ? '' : `${f.pods - running} pods were not Running after ${f.deadlineMs / 1000} s; `}the slowest stage is ${stage}; ${describeBusy(busiest)}`, busiest),
    check('pod startup latency p99', percentile(startup, 99) / 1000, 5, 's', false,
      `p99 seen → bound ${sec(percentile(bindLag, 99))}, bound → Running ${sec(percentile(runLag, 99))}: ${stage} dominates${agentWaits}; ${describeBusy(stageBusy)}`, stageBusy),
    check('API mutating-call p99 during the run', percentile(f.mutating, 99), 1000, 'ms', false,
      `a write waits for the control plane's one event loop (${describeBusy(cp)}) and its group commit`, cp),
    check('control plane RSS at the end', f.rss.now / 2 ** 20, 1536, 'MiB', false,
      `peak ${(f.rss.peak / 2 ** 20).toFixed(0)} MiB: caches of every pod (informers, watch buffers) and garbage not yet collected (${describeBusy(cp)})`, cp),
    check('Leases late (a gap > leaseDurationSeconds)', f.leases.late, 0, 'late', false,
      `a Lease went ${sec(f.leases.maxGapMs)} without a renewal (leaseDurationSeconds ${f.leases.durationSeconds}): ${describeBusy(agent)}, ${describeBusy(cp)}`, busiest),
  ].filter((m): m is Missed => m !== undefined);
  console.log(`pod startup latency p50 ${sec(percentile(startup, 50))}; time until ${allRunning ? 'all' : `${running} of ${f.pods}`} pods Running ${sec(f.elapsedMs)}`);
  if (missed.length === 0) {
    console.log('\nevery target MET');
    return;
  }
  const files = [f.profiles.controlPlane.file, f.profiles.agent.file].filter(Boolean).join(', ') || 'none';
  console.log(`\n${missed.length} target(s) MISSED; for each, why and where the CPU went (profiles: ${files}):`);
  const shown = new Set<string>();
  for (const m of missed) {
    console.log(`\n  ${m.label}: MISSED`);
    printWhy(m.why, m.busy, shown);
  }
}

/** bestWindowRate is the most events in any `windowMs` window of `sorted` times, per second. */
export function bestWindowRate(sorted: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return (best * 1000) / windowMs;
}
