/**
 * Writing the proxy's rules into this host's netfilter tables with Debian's `iptables` tools:
 * one `iptables-restore --noflush` transaction per sync (only this cluster's chains are
 * declared, so nothing else is flushed), the jumps from the built-in chains added once, and a
 * cleanup that removes every chain of the prefix.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawn } from 'node:child_process';
import { JUMPS, renderRules, type ServicePortRule } from './rules.js';

const run = promisify(execFile);

async function iptables(...args: string[]): Promise<void> {
  await run('iptables', ['-w', '5', ...args]);
}

/** restoreTables applies an `iptables-restore --noflush` text in one transaction. */
export function restoreTables(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-restore', ['-w', '5', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore failed (${code}): ${err.trim()}`))));
    child.stdin.end(text);
  });
}

/** prefixChains lists the chains of `prefix` that exist now, per table. */
export async function prefixChains(prefix: string): Promise<{ nat: string[]; filter: string[] }> {
  const list = async (table: string) => (await run('iptables-save', ['-t', table])).stdout.split('\n')
    .filter((l) => l.startsWith(`:${prefix}`)).map((l) => l.slice(1).split(' ')[0]!);
  return { nat: await list('nat'), filter: await list('filter') };
}

/** iptablesAvailable says why the iptables proxy cannot run here, or undefined when it can. */
export async function iptablesUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the iptables proxy needs root';
  try {
    await run('iptables', ['-w', '5', '-t', 'nat', '-S', 'OUTPUT']);
    return undefined;
  } catch (err) {
    return `iptables does not work here: ${(err as Error).message.split('\n')[0]}`;
  }
}

const jumpSpec = (target: string, comment: string) => ['-m', 'comment', '--comment', comment, '-j', target];

/** ensureJump makes `builtin` of `table` jump to `target` first (commented `comment`), unless it already does. */
export async function ensureJump(table: string, builtin: string, target: string, comment = `coracle ${target}`): Promise<void> {
  try {
    await iptables('-t', table, '-C', builtin, ...jumpSpec(target, comment));
  } catch {
    await iptables('-t', table, '-I', builtin, '1', ...jumpSpec(target, comment));
  }
}

/** removeJump deletes the jump ensureJump wrote (idempotent). */
async function removeJump(table: string, builtin: string, target: string, comment = `coracle ${target}`): Promise<void> {
  await iptables('-t', table, '-D', builtin, ...jumpSpec(target, comment)).catch(() => undefined);
}

async function ensureJumps(prefix: string): Promise<void> {
  for (const [table, chain, target] of JUMPS) await ensureJump(table, chain, `${prefix}${target}`, `coracle ${prefix}`);
}

/** removeChains deletes each `[table, built-in chain, chain]`'s jump, then flushes and deletes the chain (idempotent). */
export async function removeChains(chains: ReadonlyArray<readonly [string, string, string]>): Promise<void> {
  for (const [table, builtin, chain] of chains) {
    await removeJump(table, builtin, chain);
    await restoreTables([`*${table}`, `:${chain} - [0:0]`, `-X ${chain}`, 'COMMIT', ''].join('\n'));
  }
}

/** applyRules writes `rules` for `prefix` in one transaction and makes sure the built-in chains jump to them. */
export async function applyRules(prefix: string, rules: readonly ServicePortRule[]): Promise<void> {
  const existing = await prefixChains(prefix);
  await restoreTables(renderRules(prefix, rules, existing.nat).text);
  await ensureJumps(prefix);
}

/** removeRules deletes the jumps and every chain of `prefix` (idempotent). */
export async function removeRules(prefix: string): Promise<void> {
  for (const [table, chain, target] of JUMPS) await removeJump(table, chain, `${prefix}${target}`, `coracle ${prefix}`);
  const { nat, filter } = await prefixChains(prefix);
  const text = [
    '*nat', ...nat.map((c) => `:${c} - [0:0]`), ...nat.map((c) => `-X ${c}`), 'COMMIT',
    '*filter', ...filter.map((c) => `:${c} - [0:0]`), ...filter.map((c) => `-X ${c}`), 'COMMIT', '',
  ].join('\n');
  await restoreTables(text);
}
