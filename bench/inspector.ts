/**
 * CPU profiles of a child process, phase by phase, through the V8 inspector: the child is started
 * with `--inspect=127.0.0.1:0`, and `InspectorProfiler` connects to the WebSocket it prints and
 * starts/stops the profiler around each phase, writing `<dir>/<phase>.cpuprofile` (Chrome
 * DevTools' format; `node dist/bench/profile-summary.js <file>` prints the top self-time).
 * A bench without profiling never loads this connection.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** INSPECT_FLAG is the node option that makes a child print its inspector's WebSocket address on stderr. */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

/** inspectorUrl resolves with the `ws://` address a child started with INSPECT_FLAG prints on `stderr`. */
export function inspectorUrl(stderr: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
      if (m) {
        stderr.off('data', onData);
        resolve(m[1]!);
      }
    };
    stderr.on('data', onData);
    stderr.once('end', () => reject(new Error(`no inspector address on stderr: ${text}`)));
  });
}

/** InspectorProfiler drives the CPU profiler of one process; see the file comment. */
export class InspectorProfiler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: WebSocket, private readonly dir: string) {
    socket.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const call = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!call) return;
      this.pending.delete(msg.id!);
      if (msg.error) call.reject(new Error(msg.error.message));
      else call.resolve(msg.result);
    });
  }

  /** connect opens the inspector at `url`; profiles go to `dir` (created if missing). */
  static async connect(url: string, dir: string): Promise<InspectorProfiler> {
    await mkdir(dir, { recursive: true });
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${url}`)), { once: true });
    });
    const profiler = new InspectorProfiler(socket, dir);
    await profiler.call('Profiler.enable');
    await profiler.call('Profiler.setSamplingInterval', { interval: 500 });
    return profiler;
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** profile runs `work` with the profiler on and writes `<dir>/<phase>.cpuprofile`; returns `work`'s result. */
  async profile<T>(phase: string, work: () => Promise<T>): Promise<T> {
    await this.call('Profiler.start');
    try {
      return await work();
    } finally {
      const { profile } = (await this.call('Profiler.stop')) as { profile: unknown };
      const file = path.join(this.dir, `${phase}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      console.log(`  (cpu profile of the server: ${file})`);
    }
  }

  /** close ends the connection. */
  close(): void {
    this.socket.close();
  }
}
