/**
 * `coracle token create|list|delete` (kubeadm's bootstrap tokens) and `coracle node revoke`, as
 * API clients of a running cluster reached through a kubeconfig (`--kubeconfig`, else KUBECONFIG,
 * else ~/.kube/config), locally and on Azure alike. Tokens are stored hashed
 * (shared/apiserver/tokens.ts): `create` prints the token once, and nothing can show it again.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ApiClient } from '../shared/controllers/client.js';
import { findResourceByKind } from '../shared/api/resources.js';
import {
  BOOTSTRAP_TOKEN_PATTERN, BOOTSTRAP_TOKEN_SECRET_TYPE, CREDENTIALS_NAMESPACE, bootstrapSecretName, bootstrapTokenSecret,
  generateBootstrapToken, nodeCredentialSecretName, secretData,
} from '../shared/apiserver/tokens.js';
import { createTransport } from '../agent/transport.js';
import { kubeconfigPath, readKubeconfig } from './kubeconfig.js';

const SECRETS = findResourceByKind('v1', 'Secret')!;

/** ttlSeconds parses a Go-style duration (`24h`, `90m`, `30s`, `1h30m`); 0 means never expires. */
export function ttlSeconds(value: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (value === '0') return 0;
  if (!m || value === '') throw new InvalidArgumentError('expected a duration such as 24h, 90m, 30s, or 0 for no expiry');
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export async function withClient<T>(kubeconfig: string | undefined, work: (client: ApiClient) => Promise<T>): Promise<T> {
  const creds = await readKubeconfig(kubeconfigPath(kubeconfig));
  const transport = createTransport({ caPem: creds.caPem, maxSockets: 2 });
  try {
    return await work(new ApiClient(transport.fetch, { baseUrl: creds.server, token: creds.token, userAgent: 'coracle-cli' }));
  } finally {
    transport.close();
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function fail(err: unknown): never {
  process.stderr.write(`coracle: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
}

interface CreateOptions { ttl: number; description?: string; groups?: string; kubeconfig?: string }

/** createToken stores a bootstrap token (the given one, or a fresh one) and returns it. */
export async function createToken(token: string | undefined, o: CreateOptions, now = new Date()): Promise<string> {
  const value = token ?? generateBootstrapToken();
  const secret = bootstrapTokenSecret({
    token: value, expiration: o.ttl > 0 ? new Date(now.getTime() + o.ttl * 1000) : undefined, description: o.description,
    extraGroups: o.groups ? o.groups.split(',').map((g) => g.trim()).filter(Boolean) : undefined,
  });
  await withClient(o.kubeconfig, (client) => client.create(SECRETS, secret));
  return value;
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n');
}

/** listTokens renders the bootstrap tokens as `kubeadm token list` does (the secret part is not stored, so it shows as `<id>.<hidden>`). */
export async function listTokens(o: { kubeconfig?: string }, now = new Date()): Promise<string> {
  const secrets = await withClient(o.kubeconfig, (client) => client.listAll(SECRETS, { namespace: CREDENTIALS_NAMESPACE }));
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const s of secrets) {
    if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) continue;
    const d = secretData(s);
    const expires = d.expiration ? Date.parse(d.expiration) : undefined;
    const ttl = expires === undefined ? '<forever>' : expires <= now.getTime() ? '<expired>' : `${Math.ceil((expires - now.getTime()) / 3_600_000)}h`;
    rows.push([`${d['token-id'] ?? '?'}.<hidden>`, ttl, d.expiration ?? '<never>', d['usage-bootstrap-authentication'] === 'true' ? 'authentication' : '<none>', d.description ?? '<none>', d['auth-extra-groups'] ?? '']);
  }
  return pad(rows);
}

/** deleteToken removes bootstrap token `idOrToken` (its id, or the whole token). */
export async function deleteToken(idOrToken: string, o: { kubeconfig?: string }): Promise<string> {
  const id = BOOTSTRAP_TOKEN_PATTERN.exec(idOrToken)?.[1] ?? idOrToken;
  if (!/^[a-z0-9]{6}$/.test(id)) throw new Error(`"${idOrToken}" is neither a token id ([a-z0-9]{6}) nor a token`);
  await withClient(o.kubeconfig, (client) => client.delete(SECRETS, { namespace: CREDENTIALS_NAMESPACE, name: bootstrapSecretName(id) }));
  return id;
}

/** revokeNode deletes node `name`'s credential Secret: its next request is 401. */
export async function revokeNode(name: string, o: { kubeconfig?: string }): Promise<void> {
  await withClient(o.kubeconfig, (client) => client.delete(SECRETS, { namespace: CREDENTIALS_NAMESPACE, name: nodeCredentialSecretName(name) }));
}

/** tokenCommand is `coracle token`. */
export function tokenCommand(): Command {
  const token = new Command('token').description('bootstrap tokens, with which node agents join (kubeadm\'s format [a-z0-9]{6}.[a-z0-9]{16}, stored hashed)');
  token.command('create [token]').description('create a bootstrap token (a fresh one unless given) and print it')
    .option('--ttl <duration>', 'how long the token authenticates (0: forever)', ttlSeconds, 24 * 3600)
    .option('--description <text>', 'a human-readable note')
    .option('--groups <groups>', 'extra groups (comma-separated, each starting with system:bootstrappers:)')
    .option('--kubeconfig <file>', 'the cluster to talk to (default: KUBECONFIG, else ~/.kube/config)')
    .action((value: string | undefined, o: CreateOptions) => createToken(value, o).then(print, fail));
  token.command('list').description('list bootstrap tokens').option('--kubeconfig <file>', 'the cluster to talk to')
    .action((o: { kubeconfig?: string }) => listTokens(o).then(print, fail));
  token.command('delete <token-or-id>').description('delete a bootstrap token').option('--kubeconfig <file>', 'the cluster to talk to')
    .action((value: string, o: { kubeconfig?: string }) => deleteToken(value, o).then((id) => print(`bootstrap token "${id}" deleted`), fail));
  return token;
}

/** nodeCommand is `coracle node`. */
export function nodeCommand(): Command {
  const node = new Command('node').description('node identities');
  node.command('revoke <name>').description('revoke a node\'s credential: its next request gets 401 (it joins again only with a new bootstrap token and its credential file removed)')
    .option('--kubeconfig <file>', 'the cluster to talk to')
    .action((name: string, o: { kubeconfig?: string }) => revokeNode(name, o).then(() => print(`node "${name}": credential revoked`), fail));
  return node;
}
