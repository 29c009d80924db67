/**
 * `coracle get-token` (the exec credential plugin, get-token.ts) and `coracle kubeconfig oidc`,
 * which writes a kubeconfig whose user runs that plugin: the cluster (server and CA) from an
 * existing kubeconfig's current context, or from `--server` (a cluster on Azure, whose front door
 * has a public certificate).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { CLIENT_SECRET_ENV, execCredential, getToken, getTokenArgs, type GetTokenOptions } from './get-token.js';
import { kubeconfigPath, readKubeconfigCluster, writeKubeconfig } from './kubeconfig.js';

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** CLI_SCRIPT is this build's `coracle` entry point (what an exec entry runs by default). */
const CLI_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'coracle.js');

function tokenOptions(command: Command): Command {
  return command
    .option('--issuer-url <url>', 'the OpenID Connect issuer (client credentials grant)')
    .requiredOption('--client-id <id>', 'the OIDC client; with --azure, the API app registration\'s client id (scope <id>/.default)')
    .option('--scope <scope>', 'scopes to ask for (space separated; Entra convention: <api client id>/.default)')
    .option('--certificate-authority <file>', 'the CA (PEM) of the issuer\'s serving certificate')
    .option('--azure', 'get the token from Microsoft Entra ID with @azure/identity')
    .addOption(new Option('--login <method>', 'with --azure: the Azure CLI\'s signed-in account, or DefaultAzureCredential').choices(['azurecli', 'default']))
    .option('--tenant-id <id>', 'with --azure: the tenant to sign in to')
    .option('--token-cache-dir <dir>', 'where tokens are cached until shortly before they expire (default ~/.kube/cache/coracle)');
}

interface KubeconfigOidcOptions extends GetTokenOptions {
  output: string;
  kubeconfig?: string;
  server?: string;
  serverCa?: string;
  user: string;
  command?: string;
}

/** writeOidcKubeconfig writes the kubeconfig `coracle kubeconfig oidc` describes. */
export async function writeOidcKubeconfig(o: KubeconfigOidcOptions): Promise<void> {
  const cluster = o.server
    ? { server: o.server, caPem: o.serverCa ? await readFile(o.serverCa, 'utf8') : undefined }
    : await readKubeconfigCluster(kubeconfigPath(o.kubeconfig));
  const args = getTokenArgs(o);
  const exec = o.command ? { command: o.command, args } : { command: process.execPath, args: [CLI_SCRIPT, ...args] };
  const env = o.clientSecret ? [{ name: CLIENT_SECRET_ENV, value: o.clientSecret }] : undefined;
  await writeKubeconfig(path.resolve(o.output), { ...cluster, exec: { ...exec, env }, user: o.user });
}

/** getTokenCommand is `coracle get-token`. */
export function getTokenCommand(fail: (err: unknown) => never): Command {
  return tokenOptions(new Command('get-token').description(`print an ExecCredential (client.authentication.k8s.io/v1) for kubectl's exec plugin: a token from an OIDC issuer (client credentials; secret in --client-secret or ${CLIENT_SECRET_ENV}) or from Microsoft Entra ID (--azure)`))
    .option('--client-secret <secret>', `the client's secret (prefer ${CLIENT_SECRET_ENV})`)
    .action((o: GetTokenOptions) => getToken(o).then((token) => print(JSON.stringify(execCredential(token))), fail));
}

/** kubeconfigCommand is `coracle kubeconfig`. */
export function kubeconfigCommand(fail: (err: unknown) => never): Command {
  const kubeconfig = new Command('kubeconfig').description('write kubeconfigs');
  tokenOptions(kubeconfig.command('oidc').description('write a kubeconfig whose user gets OIDC / Microsoft Entra tokens through `coracle get-token` (kubectl exec plugin)'))
    .requiredOption('-o, --output <file>', 'the kubeconfig to write')
    .option('--client-secret <secret>', `the OIDC client's secret (written into the user's exec env as ${CLIENT_SECRET_ENV})`)
    .option('--kubeconfig <file>', 'take the cluster (server, CA) from this kubeconfig\'s current context (default: KUBECONFIG, else ~/.kube/config)')
    .option('--server <url>', 'the API server URL, instead of --kubeconfig')
    .option('--server-ca <file>', 'with --server: the API server\'s CA (default: the system roots)')
    .option('--user <name>', 'the user entry\'s name', 'oidc')
    .option('--command <command>', 'the command the exec entry runs (default: this node and this build of coracle)')
    .action((o: KubeconfigOidcOptions) => writeOidcKubeconfig(o).then(() => print(`kubeconfig written to ${path.resolve(o.output)}`), fail));
  return kubeconfig;
}
