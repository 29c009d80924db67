/**
 * Azurite's blob service as a child process: the local stand-in for Azure Blob Storage, where
 * container logs go. `coracle up` and the log test suites start it on 127.0.0.1 on a free port
 * with its data under a folder of their choosing, and stop it by its pid.
 *
 * A child process (not in-process) keeps Azurite's console output and its timers out of the
 * host, and lets it be stopped for sure. It exits on its own when its parent dies: it is started
 * with an IPC channel, and a `--import`ed one-liner exits on `disconnect`. A started Azurite
 * keeps its parent's event loop alive until `stop()`: forgetting to stop it shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** DEV_ACCOUNT and DEV_ACCOUNT_KEY are Azurite's well-known development account (public, documented by Microsoft). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** AzuriteOptions say where Azurite keeps its data and how long to wait for it. */
export interface AzuriteOptions {
  /** The folder for Azurite's metadata and blob extents (created if missing). */
  location: string;
  /** The port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Milliseconds to wait for the listening line (default 20 000). */
  startTimeoutMs?: number;
}

/** Azurite is a running blob service. */
export interface Azurite {
  /** The blob endpoint, with the account: `http://127.0.0.1:<port>/devstoreaccount1`. */
  blobEndpoint: string;
  /** A connection string for `BlobServiceClient.fromConnectionString` (dev account key). */
  connectionString: string;
  pid: number;
  /**
   * stop sends SIGTERM and waits for the exit: once Azurite says it closed (its stores are
   * saved), it ends through its IPC channel; SIGKILL after 5 s. Idempotent.
   */
  stop(): Promise<void>;
}

const LISTENING = /successfully listens on (http:\/\/\S+)/;
/** Azurite prints this once its server stopped taking requests and its metadata stores are closed. */
const CLOSED = 'Azurite Blob service successfully closed';
const EXIT_ON_DISCONNECT = 'data:text/javascript,process.on("disconnect",()=>process.exit(0))';

/** azuriteBlobMain is the path of Azurite's blob service entry point (`azurite-blob`). */
export function azuriteBlobMain(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
}

/** blobConnectionString builds the dev-account connection string for a blob endpoint. */
export function blobConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms).unref();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** startAzurite starts the blob service and resolves once it listens; it rejects (with Azurite's output) if it cannot. */
export async function startAzurite(options: AzuriteOptions): Promise<Azurite> {
  await mkdir(options.location, { recursive: true });
  const args = [
    '--import', EXIT_ON_DISCONNECT, azuriteBlobMain(),
    '--blobHost', '127.0.0.1', '--blobPort', String(options.port ?? 0),
    '--location', options.location, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start in ${options.startTimeoutMs ?? 20_000} ms: ${output}`));
    }, options.startTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = LISTENING.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (${code ?? signal}) before it listened: ${output.trim()}`));
    });
  });
  // Keep draining its output so a full pipe never blocks it; only the closing line is looked for.
  let tail = '';
  const closed = new Promise<void>((resolve) => child.stdout!.removeAllListeners('data').on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-2 * CLOSED.length);
    if (tail.includes(CLOSED)) resolve();
  }));
  child.stderr!.removeAllListeners('data').resume();
  const blobEndpoint = `${url.replace(/\/$/, '')}/${DEV_ACCOUNT}`;
  let stopping: Promise<void> | undefined;
  return {
    blobEndpoint,
    connectionString: blobConnectionString(blobEndpoint),
    pid: child.pid!,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        // After closing, Azurite's process lives on until every client's idle keep-alive connection
        // ends (its 5 s keep-alive timeout: the host's blob clients keep one open). Its data is
        // saved by then, so it is told to end: the IPC disconnect runs EXIT_ON_DISCONNECT.
        const deadline = Date.now() + 5_000;
        await Promise.race([closed, waitForExit(child, 5_000)]);
        if (child.connected) child.disconnect();
        if (!(await waitForExit(child, Math.max(1_000, deadline - Date.now())))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      })()),
  };
}
