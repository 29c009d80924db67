/**
 * The kubeconfig `coracle up` writes: one cluster (server URL and the CA inline), one user (the
 * admin bearer token), one context `coracle`, made current.
 */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

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
