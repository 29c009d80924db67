/**
 * `coracle admin-token rotate|disable|enable`: the admin token as a break-glass credential
 * (shared/apiserver/admintoken.ts). Each writes the Secret `kube-system/coracle-admin-token`
 * through the API (`--kubeconfig`, as kubectl: any user who may write Secrets in kube-system, an
 * OIDC / Entra cluster-admin included), locally and on Azure alike; every API server instance
 * reads it on each admin request, so the change holds from the next request on.
 *
 * `rotate` prints the new token once (only its hash is stored). With `--data-dir` (a local
 * cluster), it also writes the new token into the data folder's `tokens.csv` (the seed the next
 * start uses) and its `kubeconfig`.
 */
import path from 'node:path';
import { Command } from 'commander';
import { findResourceByKind } from '../shared/api/resources.js';
import { ADMIN_TOKEN_SECRET_NAME, adminTokenSecret, adminTokenState, generateAdminToken, type AdminTokenState } from '../shared/apiserver/admintoken.js';
import { CREDENTIALS_NAMESPACE } from '../shared/apiserver/tokens.js';
import type { ApiClient } from '../shared/controllers/client.js';
import { withClient } from './tokens.js';
import { readKubeconfigCluster, writeKubeconfig } from './kubeconfig.js';
import { replaceAdminToken } from './data-dir.js';

const SECRETS = findResourceByKind('v1', 'Secret')!;

/** writeAdminTokenState writes the Secret with the state `change` makes of the current one. */
async function writeAdminTokenState(client: ApiClient, change: (current: AdminTokenState | undefined) => { token?: string; tokenHash?: string; disabled: boolean }): Promise<void> {
  const ref = { namespace: CREDENTIALS_NAMESPACE, name: ADMIN_TOKEN_SECRET_NAME };
  const existing = await client.getOrUndefined(SECRETS, ref);
  const secret = adminTokenSecret(change(adminTokenState(existing)), new Date());
  if (!existing) await client.create(SECRETS, secret);
  else await client.update(SECRETS, { ...secret, metadata: { ...(secret.metadata as object), resourceVersion: (existing.metadata as { resourceVersion?: string }).resourceVersion } });
}

/** rotateAdminToken makes a new admin token (the old one is refused from the next request on) and returns it. */
export async function rotateAdminToken(o: { kubeconfig?: string; dataDir?: string }): Promise<string> {
  const token = generateAdminToken();
  await withClient(o.kubeconfig, (client) => writeAdminTokenState(client, () => ({ token, disabled: false })));
  if (o.dataDir) {
    const dir = path.resolve(o.dataDir);
    await replaceAdminToken(path.join(dir, 'tokens.csv'), token);
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfig, { ...(await readKubeconfigCluster(kubeconfig)), token });
  }
  return token;
}

/** setAdminTokenDisabled disables (no admin token is accepted) or enables the admin token, keeping which token it is. */
export async function setAdminTokenDisabled(disabled: boolean, o: { kubeconfig?: string }): Promise<void> {
  await withClient(o.kubeconfig, (client) => writeAdminTokenState(client, (current) => ({ tokenHash: current?.tokenHash, disabled })));
}

/** adminTokenCommand is `coracle admin-token`. */
export function adminTokenCommand(fail: (err: unknown) => never): Command {
  const print = (text: string) => void process.stdout.write(`${text}\n`);
  const command = new Command('admin-token').description('the admin token, a break-glass credential: rotate, disable, enable (kept in the Secret kube-system/coracle-admin-token)');
  command.command('rotate').description('make a new admin token and print it; the old one is refused from the next request on, by every instance')
    .option('--kubeconfig <file>', 'the cluster to talk to (default: KUBECONFIG, else ~/.kube/config)')
    .option('--data-dir <dir>', 'a local cluster\'s data folder: also write the new token into its tokens.csv and kubeconfig')
    .action((o: { kubeconfig?: string; dataDir?: string }) => rotateAdminToken(o).then(print, fail));
  command.command('disable').description('refuse the admin token (whichever it is) until enabled again')
    .option('--kubeconfig <file>', 'the cluster to talk to')
    .action((o: { kubeconfig?: string }) => setAdminTokenDisabled(true, o).then(() => print('admin token disabled'), fail));
  command.command('enable').description('accept the admin token again (needs another cluster admin while it is disabled)')
    .option('--kubeconfig <file>', 'the cluster to talk to')
    .action((o: { kubeconfig?: string }) => setAdminTokenDisabled(false, o).then(() => print('admin token enabled'), fail));
  return command;
}
