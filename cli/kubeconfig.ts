/**
 * The kubeconfig `coracle up` writes: one cluster (server URL and the CA inline), one user (the
 * admin bearer token), one context `coracle`, made current; and the reader the CLI's own client
 * commands (`coracle token`, `coracle node revoke`) use to reach a cluster as kubectl would.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/** CONTEXT_NAME is the context (and cluster) name in the written kubeconfig. */
export const CONTEXT_NAME = 'coracle';

/** KubeconfigInput is what a kubeconfig needs. */
export interface KubeconfigInput {
  server: string;
  caPem: string;
  token: string;
  user?: string;
}

/** renderKubeconfig returns the kubeconfig YAML. */
export function renderKubeconfig({ server, caPem, token, user = 'admin' }: KubeconfigInput): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user } }],
    'current-context': CONTEXT_NAME,
    preferences: {},
  });
}

/** writeKubeconfig writes the kubeconfig readable by its owner only (it holds a credential). */
export async function writeKubeconfig(file: string, input: KubeconfigInput): Promise<void> {
  await writeFile(file, renderKubeconfig(input), { mode: 0o600 });
}

/** KubeconfigCredentials are what a CLI command needs of a kubeconfig's current context. */
export interface KubeconfigCredentials {
  server: string;
  /** PEM of the cluster CA (undefined: the system's roots). */
  caPem?: string;
  token: string;
}

function named(list: unknown, name: unknown, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((e) => typeof e === 'object' && e !== null && (e as Record<string, unknown>).name === name) as Record<string, unknown> | undefined;
  const value = entry?.[field];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * readKubeconfig reads the current context of a kubeconfig (bearer token users only: this CLI
 * does not send client certificates). It throws, naming the file, when something is missing.
 */
export async function readKubeconfig(file: string): Promise<KubeconfigCredentials> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the kubeconfig ${file}: ${err.message}`, { cause: err });
  });
  const doc = parse(text) as Record<string, unknown> | null;
  const context = named(doc?.contexts, doc?.['current-context'], 'context');
  if (!context) throw new Error(`${file}: no current context`);
  const cluster = named(doc?.clusters, context.cluster, 'cluster');
  const user = named(doc?.users, context.user, 'user');
  if (typeof cluster?.server !== 'string') throw new Error(`${file}: the current context's cluster has no server`);
  if (typeof user?.token !== 'string') throw new Error(`${file}: the current context's user has no token`);
  const caData = cluster['certificate-authority-data'];
  const caFile = cluster['certificate-authority'];
  const caPem = typeof caData === 'string' ? Buffer.from(caData, 'base64').toString('utf8') : typeof caFile === 'string' ? await readFile(path.resolve(path.dirname(file), caFile), 'utf8') : undefined;
  return { server: cluster.server, caPem, token: user.token };
}

/** kubeconfigPath is the kubeconfig kubectl would use: `--kubeconfig`, else the first of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(given?: string): string {
  return given ?? process.env.KUBECONFIG?.split(path.delimiter).find((p) => p !== '') ?? path.join(os.homedir(), '.kube', 'config');
}
