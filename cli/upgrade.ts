/**
 * `coracle upgrade plan`: the preview of a cluster's upgrade to a release of the catalog, read
 * from the live cluster (its /version, the pool's Nodes, every Pod and PodDisruptionBudget) and
 * computed by the pure planner (shared/upgrade/planner.ts): the control plane step, then the
 * pool's batches, the pods each drain evicts, the budgets that block or hold drains with their
 * reasons, and the time estimate. Nothing moves. A pool's nodes are those named `<pool>-<n>`
 * (the local NodeProvider's naming; nodes carry no pool label yet).
 */
import { Command } from 'commander';
import { findResourceByKind } from '../shared/api/resources.js';
import { readMetadata, type KubeObject } from '../shared/api/objects.js';
import { ApiClient } from '../shared/controllers/client.js';
import { compareVersions, controlPlaneStepProblem } from '../shared/release/version.js';
import { humanDuration } from '../shared/api/tables.js';
import { planPoolUpgrade, type PoolPlan } from '../shared/upgrade/planner.js';
import { createTransport } from '../agent/transport.js';
import { listReleases } from '../local/releases.js';
import { readKubeconfig } from './kubeconfig.js';
import { APP_DIR } from './up.js';

/** ClusterPlan is the whole preview: the control plane step, then the pool's. */
export interface ClusterPlan {
  controlPlane: { from: string; to: string; problem?: string };
  pool: PoolPlan;
  /** Everything that stops the start (control plane and pool problems). */
  problems: string[];
}

/** PlanInput is the cluster state a plan reads. */
export interface PlanInput {
  serverVersion: string;
  catalog: readonly string[];
  /** The target release; absent: the newest catalogued one the control plane may step to. */
  target?: string;
  pool: string;
  nodes: readonly KubeObject[];
  pods: readonly KubeObject[];
  pdbs: readonly KubeObject[];
}

/** planCluster computes the ClusterPlan of `input` (pure). */
export function planCluster(input: PlanInput): ClusterPlan {
  const candidates = input.catalog.filter((v) => compareVersions(v, input.serverVersion) > 0 && !controlPlaneStepProblem(input.serverVersion, v));
  const target = input.target ?? candidates.sort(compareVersions).at(-1) ?? input.serverVersion;
  const problems: string[] = [];
  if (!input.catalog.includes(target)) problems.push(`release ${target} is not in the catalog (coracle release add <package.tgz>)`);
  const cpProblem = controlPlaneStepProblem(input.serverVersion, target);
  if (cpProblem) problems.push(cpProblem);
  const nodes = input.nodes.filter((n) => String(readMetadata(n).name ?? '').startsWith(`${input.pool}-`));
  const pool = planPoolUpgrade({ pool: input.pool, nodes, pods: input.pods, pdbs: input.pdbs, target, controlPlaneVersion: cpProblem ? input.serverVersion : target });
  return { controlPlane: { from: input.serverVersion, to: target, problem: cpProblem }, pool, problems: [...problems, ...pool.problems] };
}

/** formatPlan renders a plan as plain lines. */
export function formatPlan(plan: ClusterPlan): string[] {
  const { controlPlane: cp, pool } = plan;
  const s = pool.settings;
  const lines = [
    cp.from === cp.to ? `control plane: already at ${cp.to}` : `control plane: ${cp.from} -> ${cp.to} (the host moves onto the new release, keeping its data)`,
    `pool ${pool.pool}: ${pool.batches.length} batch(es) to ${pool.target}; maxSurge ${s.surge}, maxUnavailable ${s.unavailable}, drainTimeout ${humanDuration(s.drainTimeoutSeconds * 1000)}, soak ${s.soakSeconds}s, undrainable nodes: ${s.undrainableNodeBehavior}`,
  ];
  if (pool.upToDate.length > 0) lines.push(`  already at ${pool.target}: ${pool.upToDate.join(', ')}`);
  pool.batches.forEach((batch, i) => {
    lines.push(`  batch ${i + 1}: add ${s.surge} node(s) at ${pool.target}, drain ${batch.map((n) => n.name).join(', ')}`);
    for (const n of batch) {
      lines.push(`    ${n.name} (${n.version || 'unknown version'}): evicts ${n.evictions.length === 0 ? 'nothing' : n.evictions.map((e) => `${e.namespace}/${e.name}${e.budgets.length ? ` [${e.budgets.join(', ')}]` : ''}`).join(', ')}`);
    }
  });
  for (const b of pool.budgets) lines.push(`  PodDisruptionBudget ${b.budget} ${b.severity === 'blocks' ? 'BLOCKS' : 'holds'} drains: ${b.reason}`);
  lines.push(`  surge capacity: ${pool.surgeCapacityOk ? 'available' : 'NOT available'}`);
  lines.push(`estimate: at least ${humanDuration(pool.estimateSeconds * 1000)} for the pool`);
  lines.push(plan.problems.length === 0 ? 'preflight: ok, the upgrade can start' : `preflight: refused:\n${plan.problems.map((p) => `  - ${p}`).join('\n')}`);
  return lines;
}

/** readPlanInput reads what planCluster needs from the cluster of `kubeconfig` and the catalog of `dataDir`. */
async function readPlanInput(kubeconfig: string, dataDir: string, pool: string, target: string | undefined): Promise<PlanInput> {
  const config = await readKubeconfig(kubeconfig);
  const transport = createTransport({ caPem: config.caPem || undefined });
  try {
    const client = new ApiClient(transport.fetch, { baseUrl: config.server, token: config.token, userAgent: 'coracle-upgrade' });
    const version = await transport.fetch(new Request(`${config.server}/version`, { headers: { authorization: `Bearer ${config.token}` } }));
    const serverVersion = ((await version.json()) as { gitVersion: string }).gitVersion;
    const [nodes, pods, pdbs] = await Promise.all([['v1', 'Node'], ['v1', 'Pod'], ['policy/v1', 'PodDisruptionBudget']]
      .map(([apiVersion, kind]) => client.listAll(findResourceByKind(apiVersion!, kind!)!)));
    const catalog = (await listReleases(dataDir, APP_DIR)).map((r) => r.version);
    return { serverVersion, catalog, target, pool, nodes: nodes!, pods: pods!, pdbs: pdbs! };
  } finally {
    transport.close();
  }
}

/** upgradeCommand returns `coracle upgrade` (only `plan` so far); failures go to `fail`. */
export function upgradeCommand(fail: (err: unknown) => never): Command {
  const upgrade = new Command('upgrade').description('upgrade the cluster to a release of the catalog: control plane first, then the node pool');
  upgrade.command('plan').description('preview the upgrade: control plane step, batches, evictions, blocking PodDisruptionBudgets, estimate (nothing moves)')
    .option('--to <version>', 'target release (default: the newest catalogued one the control plane may step to)')
    .option('--pool <pool>', 'node pool', 'node')
    .option('--data-dir <dir>', 'data folder (release catalog; kubeconfig default)', '.coracle')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: <data-dir>/kubeconfig)')
    .action((o: { to?: string; pool: string; dataDir: string; kubeconfig?: string }) => readPlanInput(o.kubeconfig ?? `${o.dataDir}/kubeconfig`, o.dataDir, o.pool, o.to)
      .then((input) => {
        const plan = planCluster(input);
        process.stdout.write(`${formatPlan(plan).join('\n')}\n`);
        // The preview itself succeeded; a refused plan exits 3 so scripts can tell.
        if (plan.problems.length > 0) process.exitCode = 3;
      }, fail));
  return upgrade;
}
