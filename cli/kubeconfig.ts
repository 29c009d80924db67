/**
 * The kubeconfig `coracle up` writes: one cluster (server URL and the CA inline), one user (the
 * admin bearer token), one context `coracle`, made current; the same shape with an `exec` user
 * (`coracle kubeconfig oidc`: tokens from `coracle get-token`); and the reader the CLI's own
 * client commands (`coracle token`, `coracle node revoke`) use to reach a cluster as kubectl would.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/** CONTEXT_NAME is the context (and cluster) name in the written kubeconfig. */
export const CONTEXT_NAME = 'coracle';

/** ExecUser is a user whose token comes from an exec credential plugin (client.authentication.k8s.io/v1). */
export interface ExecUser {
  command: string;
  args: string[];
  /** Environment the plugin runs with (a client secret). */
  env?: { name: string; value: string }[];
}

/** KubeconfigInput is what a kubeconfig needs: the server, its CA (undefined: the system roots), and a token or an exec plugin. */
export interface KubeconfigInput {
  server: string;
  caPem?: string;
  token?: string;
  exec?: ExecUser;
  user?: string;
}

/** renderKubeconfig returns the kubeconfig YAML. */
export function renderKubeconfig({ server, caPem, token, exec, user = 'admin' }: KubeconfigInput): string {
  const credential = exec
    ? { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: exec.command, args: exec.args, ...(exec.env?.length ? { env: exec.env } : {}), interactiveMode: 'Never', provideClusterInfo: false } }
    : { token };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster: { server, ...(caPem ? { 'certificate-authority-data': Buffer.from(caPem).toString('base64') } : {}) } }],
    users: [{ name: user, user: credential }],
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

/** readCurrentContext reads a kubeconfig's current context: its cluster's server and CA, and its user entry. Throws, naming the file. */
async function readCurrentContext(file: string): Promise<{ server: string; caPem?: string; user?: Record<string, unknown> }> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the kubeconfig ${file}: ${err.message}`, { cause: err });
  });
  const doc = parse(text) as Record<string, unknown> | null;
  const context = named(doc?.contexts, doc?.['current-context'], 'context');
  if (!context) throw new Error(`${file}: no current context`);
  const cluster = named(doc?.clusters, context.cluster, 'cluster');
  if (typeof cluster?.server !== 'string') throw new Error(`${file}: the current context's cluster has no server`);
  const caData = cluster['certificate-authority-data'];
  const caFile = cluster['certificate-authority'];
  const caPem = typeof caData === 'string' ? Buffer.from(caData, 'base64').toString('utf8') : typeof caFile === 'string' ? await readFile(path.resolve(path.dirname(file), caFile), 'utf8') : undefined;
  return { server: cluster.server, caPem, user: named(doc?.users, context.user, 'user') };
}

/** readKubeconfigCluster reads the server and CA of a kubeconfig's current context, whatever its user. */
export async function readKubeconfigCluster(file: string): Promise<Omit<KubeconfigCredentials, 'token'>> {
  const { server, caPem } = await readCurrentContext(file);
  return { server, caPem };
}

/**
 * readKubeconfig reads the current context of a kubeconfig (bearer token users only: this CLI
 * does not send client certificates). It throws, naming the file, when something is missing.
 */
export async function readKubeconfig(file: string): Promise<KubeconfigCredentials> {
  const { server, caPem, user } = await readCurrentContext(file);
  if (typeof user?.token !== 'string') throw new Error(`${file}: the current context's user has no token`);
  return { server, caPem, token: user.token };
}

/** kubeconfigPath is the kubeconfig kubectl would use: `--kubeconfig`, else the first of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(given?: string): string {
  return given ?? process.env.KUBECONFIG?.split(path.delimiter).find((p) => p !== '') ?? path.join(os.homedir(), '.kube', 'config');
}
