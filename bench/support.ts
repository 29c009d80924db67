/**
 * The benchmarks' shared support: child processes of the built CLI, HTTPS requests to a
 * cluster, percentiles (nearest rank) and the "figure next to its target" line. Every benchmark's
 * percentiles come from here, so every p99 in the project means the same thing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** CLI is the built `coracle` command. */
export const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'coracle.js');

/** Child is a running CLI process and the tail of its stderr. */
export interface Child {
  child: ChildProcess;
  match: RegExpExecArray;
  stderr(): string;
}

/** startChild runs the CLI with `args` and resolves once stdout matches `ready`. */
export async function startChild(args: string[], ready: RegExp, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-20_000); });
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`coracle ${args[0]} exited (${code}): ${err}`)));
  });
  return { child, match, stderr: () => err };
}

/** stopChild sends SIGTERM (SIGKILL after 60 s) and waits for the exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

/** Conn is how to reach a cluster. */
export interface Conn { url: string; ca: string; token: string; agent: https.Agent }

/** Reply is a buffered response (status 0: no answer within the timeout; -1: connection error). */
export interface Reply { status: number; body: string; ms: number }

/** request sends one request and buffers the answer; never rejects. */
export function request(c: Conn, method: string, p: string, body?: unknown, options: { timeoutMs?: number; auth?: boolean; contentType?: string } = {}): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth !== false) headers.authorization = `Bearer ${c.token}`;
    if (payload) headers['content-type'] = options.contentType ?? 'application/json';
    const req = https.request(new URL(p, c.url), { method, agent: c.agent, ca: c.ca, headers, timeout: options.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      res.on('error', () => resolve({ status: -1, body: '', ms: performance.now() - t0 }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ status: 0, body: '', ms: performance.now() - t0 }); });
    req.on('error', () => resolve({ status: -1, body: '', ms: performance.now() - t0 }));
    req.end(payload);
  });
}

/** percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

/** report prints one figure next to its target and whether it was met. */
export function report(label: string, value: number, target: number, unit: string, higherIsBetter = false): boolean {
  const met = higherIsBetter ? value >= target : value <= target;
  console.log(`${label.padEnd(40)} ${value.toFixed(1).padStart(10)} ${unit.padEnd(4)} target ${higherIsBetter ? '≥' : '≤'} ${target} ${unit}   ${met ? 'MET' : 'MISSED'}`);
  return met;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** peakRssBytes is a Linux process's peak resident set (VmHWM), or NaN when it cannot be read. */
export function peakRssBytes(pid: number): number {
  return statusKb(pid, 'VmHWM');
}

/**
 * processTreeRss is the resident set of a Linux process and all its descendants, now and at
 * each one's peak (VmRSS, VmHWM summed: the peak sum is an upper bound), in bytes; NaN when
 * `/proc` cannot be read.
 */
export function processTreeRss(pid: number): { now: number; peak: number } {
  const children = new Map<number, number[]>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // The parent pid is the 2nd field after the command's closing parenthesis.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    return { now: NaN, peak: NaN };
  }
  let now = 0;
  let peak = 0;
  for (const queue = [pid]; queue.length > 0;) {
    const p = queue.pop()!;
    now += statusKb(p, 'VmRSS') || 0;
    peak += statusKb(p, 'VmHWM') || 0;
    queue.push(...(children.get(p) ?? []));
  }
  return now === 0 ? { now: NaN, peak: NaN } : { now, peak };
}

/** WatchEvent is one event of a watch response. */
export interface WatchEvent<T = unknown> { type: string; object: T }

/** onWatchEvents calls `onEvent` with each event of a watch response (newline-delimited JSON) as it arrives, stamped with performance.now(). */
export function onWatchEvents<T>(res: IncomingMessage, onEvent: (event: WatchEvent<T>, t: number) => void): void {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onEvent(JSON.parse(line) as WatchEvent<T>, performance.now());
    }
  });
  res.on('error', () => undefined);
}
