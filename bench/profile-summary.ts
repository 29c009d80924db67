/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: where a V8 CPU profile spent its
 * time — the functions with the most self time (samples × interval), then the same by source file,
 * each with its share of the non-idle time. Reads the Chrome DevTools profile format that
 * `node --cpu-prof` and the inspector's Profiler.stop produce.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** CpuProfile is the Chrome DevTools profile format (the part read here). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** SelfTime is one row of the summary: a label and its self time in ms. */
export interface SelfTime {
  label: string;
  ms: number;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) return clean.slice(nm + 'node_modules/'.length);
  const dist = clean.indexOf('/dist/');
  return dist >= 0 ? clean.slice(dist + '/dist/'.length) : path.basename(clean);
}

function labelOf(frame: ProfileNode['callFrame']): string {
  const where = shortUrl(frame.url);
  return `${frame.functionName || '(anonymous)'} ${where ? `${where}:${frame.lineNumber + 1}` : ''}`.trim();
}

/**
 * summarize adds up self time per function and per file (ms), largest first, and the inclusive
 * time of the project's own functions (those not under node_modules or node:); idle time is
 * reported apart.
 */
export function summarize(profile: CpuProfile): { byFunction: SelfTime[]; byFile: SelfTime[]; inclusive: SelfTime[]; idleMs: number; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let idleMs = 0;
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    // A sample's time is the delta to the next one (the last sample gets its own delta).
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)!.callFrame;
    totalMs += ms;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    const where = shortUrl(frame.url);
    // A nameless frame without a source (a native binding: SQLite, crypto, zlib) says nothing alone: name its caller.
    const caller = parent.get(id);
    const label = frame.url === '' && frame.functionName === '' && caller !== undefined ? `(native) in ${labelOf(byId.get(caller)!.callFrame)}` : labelOf(frame);
    fn.set(label, (fn.get(label) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (!f.url.includes('/dist/') || f.url.includes('node_modules')) continue;
      const l = labelOf(f);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
    }
    const f = where || frame.functionName;
    file.set(f, (file.get(f) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) => [...m].map(([label, ms]) => ({ label, ms })).sort((a, b) => b.ms - a.ms);
  return { byFunction: sorted(fn), byFile: sorted(file), inclusive: sorted(inclusive), idleMs, totalMs };
}

async function main(): Promise<void> {
  const [file, topText] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-summary <file.cpuprofile> [top]');
    process.exit(2);
  }
  const top = Number(topText ?? 25);
  const s = summarize(JSON.parse(await readFile(file, 'utf8')) as CpuProfile);
  const busy = s.totalMs - s.idleMs;
  const row = (r: SelfTime) => `${r.ms.toFixed(0).padStart(8)} ms ${((100 * r.ms) / busy).toFixed(1).padStart(5)}%  ${r.label}`;
  console.log(`${path.basename(file)}: ${s.totalMs.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy (${((100 * busy) / s.totalMs).toFixed(0)}%)`);
  console.log(`\ntop ${top} functions by self time:`);
  s.byFunction.slice(0, top).forEach((r) => console.log(row(r)));
  console.log(`\ntop ${Math.min(top, 15)} files by self time:`);
  s.byFile.slice(0, Math.min(top, 15)).forEach((r) => console.log(row(r)));
  console.log(`\ntop ${top} project functions by inclusive time:`);
  s.inclusive.slice(0, top).forEach((r) => console.log(row(r)));
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
