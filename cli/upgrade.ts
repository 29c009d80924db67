/**
 * `coracle upgrade plan|start|status|pause|resume|cancel`: cluster upgrades through the API with
 * the kubeconfig, as kubectl would. `plan` creates an UpgradePreview (computed by the control
 * plane, never stored) and prints it; `start` creates an UpgradeRun (the control plane refuses
 * it with 422 naming each problem, or 409 while another run is not finished); `pause`, `resume`
 * and `cancel` patch the run's spec.paused / spec.cancel; `status` prints the run's phase, the
 * control plane's step and each node's step (`--watch`: again at every change; on a terminal the
 * screen is redrawn, otherwise plain lines).
 */
import { Command } from 'commander';
import { ApiClient, type FetchLike } from '../shared/controllers/client.js';
import { ApiError } from '../shared/api/status.js';
import { readMetadata, type KubeObject } from '../shared/api/objects.js';
import { humanDuration } from '../shared/api/tables.js';
import type { UpgradePlan } from '../shared/upgrade/preview.js';
import { runSpecOf, runStatusOf, UPGRADEPREVIEWS, UPGRADERUNS, isFinished, type UpgradeScope } from '../shared/upgrade/run.js';
import { createTransport } from '../agent/transport.js';
import { readKubeconfig } from './kubeconfig.js';

/** formatPlan renders an UpgradePlan as plain lines. */
export function formatPlan(plan: UpgradePlan): string[] {
  const lines: string[] = [];
  const cp = plan.controlPlane;
  if (cp) lines.push(cp.fromVersion === cp.toVersion ? `control plane: already at ${cp.toVersion}` : `control plane: ${cp.fromVersion} -> ${cp.toVersion} (recorded in the Cluster; the host process does not move yet)`);
  for (const pool of plan.pools) {
    const s = pool.settings;
    lines.push(`pool ${pool.pool}: ${pool.batches.length} batch(es) to ${pool.target}; maxSurge ${s.surge}, maxUnavailable ${s.unavailable}, drainTimeout ${humanDuration(s.drainTimeoutSeconds * 1000)}, soak ${s.soakSeconds}s, undrainable nodes: ${s.undrainableNodeBehavior}`);
    if (pool.upToDate.length > 0) lines.push(`  already at ${pool.target}: ${pool.upToDate.join(', ')}`);
    pool.batches.forEach((batch, i) => {
      lines.push(`  batch ${i + 1}: add ${Math.min(s.surge, batch.length)} node(s) at ${pool.target}, drain ${batch.map((n) => n.name).join(', ')}`);
      for (const n of batch) {
        lines.push(`    ${n.name} (${n.version || 'unknown version'}): evicts ${n.evictions.length === 0 ? 'nothing' : n.evictions.map((e) => `${e.namespace}/${e.name}${e.budgets.length ? ` [${e.budgets.join(', ')}]` : ''}`).join(', ')}`);
      }
    });
    for (const b of pool.budgets) lines.push(`  PodDisruptionBudget ${b.budget} ${b.severity === 'blocks' ? 'BLOCKS' : 'holds'} drains: ${b.reason}`);
    lines.push(`  surge capacity: ${pool.surgeCapacityOk ? 'available' : 'NOT available'}`);
  }
  if (plan.pools.length > 0) lines.push(`estimate: at least ${humanDuration(plan.estimateSeconds * 1000)} for the pool(s)`);
  lines.push(plan.problems.length === 0 ? 'preflight: ok, the upgrade can start'
    : `preflight: ${plan.canStart ? 'forced past' : 'refused'}:\n${plan.problems.map((p) => `  - ${p.message}`).join('\n')}`);
  return lines;
}

/** formatRun renders a run's state as plain lines: phase and progress, the control plane's step, each node's step. */
export function formatRun(run: Readonly<KubeObject>): string[] {
  const spec = runSpecOf(run);
  const status = runStatusOf(run);
  const flags = [spec.paused ? 'paused' : '', spec.cancel ? 'cancel requested' : ''].filter(Boolean).join(', ');
  const progress = status.progress ? `${status.progress.done}/${status.progress.total} node(s)` : '-';
  const lines = [`run ${String(readMetadata(run).name)}: ${spec.targetVersion} (${spec.scope === 'Pool' ? `pool ${spec.pool}` : spec.scope}) phase ${status.phase ?? 'Pending'}, progress ${progress}${flags ? ` [${flags}]` : ''}`];
  if (status.controlPlane) lines.push(`  control plane: ${status.controlPlane.fromVersion} -> ${status.controlPlane.toVersion}: ${status.controlPlane.step}`);
  for (const n of status.nodes ?? []) lines.push(`  ${n.name} (${n.pool}) ${n.fromVersion} -> ${n.toVersion}: ${n.step}${n.message ? ` (${n.message})` : ''}`);
  if (status.message) lines.push(`  ${status.message}`);
  return lines;
}

interface ClientOptions { kubeconfig?: string; dataDir: string }

/** withClient runs `fn` with an ApiClient of the kubeconfig's cluster and user. */
/** REFUSED_RETRY_MS is how long a refused connection is tried again: a local control plane is down for a few seconds while an upgrade moves it onto another release. */
const REFUSED_RETRY_MS = 30_000;

const isRefused = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' || ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ECONNREFUSED');

/** patient wraps `fetch` so that a refused connection (nothing was sent) is tried again for REFUSED_RETRY_MS, said once on stderr. */
function patient(fetch: FetchLike): FetchLike {
  return async (request) => {
    const deadline = Date.now() + REFUSED_RETRY_MS;
    let said = false;
    for (;;) {
      try {
        return await fetch(request.clone());
      } catch (err) {
        if (!isRefused(err) || Date.now() > deadline) throw err;
        if (!said) process.stderr.write(`coracle: ${new URL(request.url).host} refused the connection; trying again for ${REFUSED_RETRY_MS / 1000} s (the control plane may be moving onto another release)\n`);
        said = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
}

async function withClient<T>(o: ClientOptions, fn: (client: ApiClient) => Promise<T>): Promise<T> {
  const config = await readKubeconfig(o.kubeconfig ?? `${o.dataDir}/kubeconfig`);
  const transport = createTransport({ caPem: config.caPem || undefined });
  try {
    return await fn(new ApiClient(patient(transport.fetch), { baseUrl: config.server, token: config.token, userAgent: 'coracle-upgrade' }));
  } finally {
    transport.close();
  }
}

/** RunOptions are start's and plan's choices. */
interface RunOptions extends ClientOptions { to?: string; controlPlaneOnly?: boolean; pool?: string; force?: boolean }

/** runSpec builds an UpgradeRun spec from the options; without --to: the newest release the Cluster lists as available. */
async function runSpec(client: ApiClient, o: RunOptions): Promise<Record<string, unknown>> {
  let target = o.to;
  if (!target) {
    // The control plane knows its catalog: a preview of staying put lists what it may step to.
    const { CLUSTERS } = await import('../shared/upgrade/objects.js');
    const { controlPlaneVersionOf } = await import('../shared/upgrade/preview.js');
    const current = controlPlaneVersionOf((await client.listAll(CLUSTERS))[0]);
    if (!current) throw new Error('no Cluster object records the control plane\'s version');
    const answer = await client.create(UPGRADEPREVIEWS, { apiVersion: 'coracle.io/v1', kind: 'UpgradePreview', metadata: {}, spec: { targetVersion: current, scope: 'ControlPlane' } });
    target = (answer.status as { plan: UpgradePlan }).plan.availableUpgrades.at(-1);
    if (!target) throw new Error(`no release to upgrade to: the catalog holds none the control plane (${current}) may step to (coracle release add <package.tgz>, or --to)`);
  }
  const scope: UpgradeScope = o.controlPlaneOnly ? 'ControlPlane' : o.pool ? 'Pool' : 'Cluster';
  return { targetVersion: target, scope, ...(scope === 'Pool' ? { pool: o.pool } : {}), ...(o.force ? { force: true } : {}) };
}

/** currentRun is the named run, else the newest unfinished one, else the newest. */
async function currentRun(client: ApiClient, name?: string): Promise<KubeObject> {
  if (name) return client.get(UPGRADERUNS, { name });
  const runs = (await client.listAll(UPGRADERUNS)).sort((a, b) => String(readMetadata(a).creationTimestamp).localeCompare(String(readMetadata(b).creationTimestamp)));
  const run = runs.filter((r) => !isFinished(r)).at(-1) ?? runs.at(-1);
  if (!run) throw new Error('no upgrade run (coracle upgrade start)');
  return run;
}

/** explain turns a refused create into lines naming each cause. */
function explain(err: unknown): never {
  // One cause is already the message (kubectl's rendering); several are listed one a line.
  if (err instanceof ApiError && (err.details?.causes?.length ?? 0) > 1) {
    throw new Error(`${err.message}\n${err.details!.causes!.map((c) => `  - ${c.field ? `${c.field}: ` : ''}${c.message}`).join('\n')}`);
  }
  throw err;
}

/** printStatus prints the run once, or, with `watch`, at every change until it is finished. */
async function printStatus(client: ApiClient, name: string | undefined, watch: boolean): Promise<void> {
  const tty = process.stdout.isTTY === true;
  let run = await currentRun(client, name);
  let last = '';
  for (;;) {
    const text = formatRun(run).join('\n');
    if (text !== last) process.stdout.write(tty && watch ? `\x1b[2J\x1b[H${text}\n` : `${text}\n`);
    last = text;
    if (!watch || isFinished(run)) return;
    await new Promise((r) => setTimeout(r, 1000));
    run = await client.get(UPGRADERUNS, { name: String(readMetadata(run).name) });
  }
}

/** upgradeCommand returns `coracle upgrade`; failures go to `fail`. */
export function upgradeCommand(fail: (err: unknown) => never): Command {
  const upgrade = new Command('upgrade').description('upgrade the cluster to a release of the catalog: control plane first, then the node pools');
  const common = (c: Command) => c.option('--data-dir <dir>', 'data folder (kubeconfig default)', '.coracle').option('--kubeconfig <file>', 'kubeconfig of the cluster (default: <data-dir>/kubeconfig)');
  const scoped = (c: Command) => common(c).option('--to <version>', 'target release (default: the newest the control plane may step to)')
    .option('--control-plane-only', 'upgrade the control plane only').option('--pool <pool>', 'upgrade this node pool only');
  scoped(upgrade.command('plan').description('preview the upgrade (an UpgradePreview: nothing moves); exits 3 when it may not start'))
    .action((o: RunOptions) => withClient(o, async (client) => {
      const answer = await client.create(UPGRADEPREVIEWS, { apiVersion: 'coracle.io/v1', kind: 'UpgradePreview', metadata: {}, spec: await runSpec(client, o) });
      const plan = (answer.status as { plan: UpgradePlan }).plan;
      process.stdout.write(`${formatPlan(plan).join('\n')}\n`);
      if (!plan.canStart) process.exitCode = 3;
    }).catch(fail));
  scoped(upgrade.command('start').description('start an upgrade run (refused when the plan has problems; --force passes blocking PodDisruptionBudgets)'))
    .option('--force', 'start although a PodDisruptionBudget blocks a drain').option('--name <name>', 'the UpgradeRun\'s name (default: generated)')
    .action((o: RunOptions & { name?: string }) => withClient(o, async (client) => {
      const spec = await runSpec(client, o);
      const metadata = o.name ? { name: o.name } : { generateName: 'upgrade-' };
      const run = await client.create(UPGRADERUNS, { apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata, spec }).catch(explain);
      process.stdout.write(`upgraderun.coracle.io/${String(readMetadata(run).name)} created: ${String(spec.targetVersion)} (${String(spec.scope)})\n`);
    }).catch(fail));
  common(upgrade.command('status [run]').description('the run\'s phase and each node\'s step (default: the current or latest run)'))
    .option('-w, --watch', 'follow the run until it ends')
    .action((name: string | undefined, o: ClientOptions & { watch?: boolean }) => withClient(o, (client) => printStatus(client, name, o.watch === true)).catch(fail));
  const patchSpec = (verb: string, patch: Record<string, unknown>, description: string) => common(upgrade.command(`${verb} [run]`).description(description))
    .action((name: string | undefined, o: ClientOptions) => withClient(o, async (client) => {
      const run = await currentRun(client, name);
      await client.patch(UPGRADERUNS, { name: String(readMetadata(run).name) }, { spec: patch }, 'merge');
      process.stdout.write(`upgraderun.coracle.io/${String(readMetadata(run).name)} ${verb === 'cancel' ? 'cancel requested' : `${verb}d`}\n`);
    }).catch(fail));
  patchSpec('pause', { paused: true }, 'pause the run at the next step boundary or drain round');
  patchSpec('resume', { paused: false }, 'resume a paused run');
  patchSpec('cancel', { cancel: true }, 'cancel the run at the next step boundary (nodes already moved stay moved)');
  return upgrade;
}
