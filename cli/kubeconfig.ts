/**
 * The kubeconfig `coracle up` writes: one cluster (server URL and the CA inline), one user (the
 * admin bearer token), one context `coracle`, made current.
 */
import { readFile, writeFile } from 'node:fs/promises';
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

/**
 * readKubeconfig reads the current context's server, CA and bearer token from a kubeconfig (the
 * shape renderKubeconfig writes; a client certificate or exec credential is not supported and
 * says so).
 */
export async function readKubeconfig(file: string): Promise<KubeconfigInput> {
  type Named<T> = { name: string } & T;
  const config = parse(await readFile(file, 'utf8')) as {
    'current-context'?: string; contexts?: Named<{ context: { cluster: string; user: string } }>[];
    clusters?: Named<{ cluster: { server: string; 'certificate-authority-data'?: string } }>[]; users?: Named<{ user: { token?: string } }>[];
  };
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const token = config.users?.find((u) => u.name === context?.user)?.user.token;
  if (!context || !cluster || !token) throw new Error(`${file}: the current context needs a cluster and a user with a bearer token`);
  const caData = cluster['certificate-authority-data'];
  return { server: cluster.server, caPem: caData ? Buffer.from(caData, 'base64').toString() : '', token, user: context.user };
}
