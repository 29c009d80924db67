/**
 * Printers of coracle.io/v1: clusters (NAME VERSION CONTROL PLANE UPGRADES STATE AGE) and node
 * pools (NAME NODES READY VERSION NODE VERSIONS MAX SURGE AGE) and upgrade runs (NAME TARGET SCOPE
 * PHASE PROGRESS AGE).
 */
import { AGE_COLUMN, NAME_COLUMN, age, column, int, intOrString, type Loose, type PrintContext, type Printer } from './format.js';

const P = 'io.k8s.api.coracle.v1.';

/** upgradeState is the reason of a True Upgrading condition, else Idle. */
function upgradeState(obj: Loose): string {
  const conditions: Loose[] = Array.isArray(obj.status?.conditions) ? obj.status.conditions : [];
  const upgrading = conditions.find((c) => c.type === 'Upgrading');
  return upgrading?.status === 'True' ? String(upgrading.reason ?? 'Upgrading') : 'Idle';
}

/** CLUSTER_PRINTER prints clusters. */
export const CLUSTER_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Version', 'string', [`${P}ClusterSpec`, 'version']),
    column('Control Plane', 'string', [`${P}ClusterStatus`, 'controlPlaneVersion']),
    column('Upgrades', 'string', [`${P}ClusterStatus`, 'availableUpgrades']),
    column('State', 'string', 'Upgrading (with the step) or Idle.'),
    AGE_COLUMN,
  ],
  cells(c: Loose, ctx: PrintContext): unknown[] {
    const upgrades: string[] = Array.isArray(c.status?.availableUpgrades) ? c.status.availableUpgrades : [];
    return [c.metadata?.name ?? '', c.spec?.version ?? '', c.status?.controlPlaneVersion ?? '<unknown>', upgrades.length ? upgrades.join(',') : '<none>', upgradeState(c), age(c, ctx)];
  },
};

/** NODEPOOL_PRINTER prints node pools. */
export const NODEPOOL_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Nodes', 'integer', [`${P}NodePoolStatus`, 'nodes']),
    column('Ready', 'integer', [`${P}NodePoolStatus`, 'readyNodes']),
    column('Version', 'string', [`${P}NodePoolSpec`, 'version']),
    column('Node Versions', 'string', [`${P}NodePoolStatus`, 'nodeVersions']),
    column('Max Surge', 'string', [`${P}UpgradeSettings`, 'maxSurge']),
    AGE_COLUMN,
  ],
  cells(np: Loose, ctx: PrintContext): unknown[] {
    const versions = Object.entries((np.status?.nodeVersions ?? {}) as Record<string, number>).map(([v, n]) => `${v}=${n}`).join(',');
    return [np.metadata?.name ?? '', int(np.status?.nodes), int(np.status?.readyNodes), np.spec?.version ?? '', versions || '<none>',
      intOrString(np.spec?.upgradeSettings?.maxSurge ?? '10%'), age(np, ctx)];
  },
};

/** UPGRADERUN_PRINTER prints upgrade runs; PROGRESS is old nodes replaced / old nodes (`-` before the pools' step). */
export const UPGRADERUN_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Target', 'string', [`${P}UpgradeRunSpec`, 'targetVersion']),
    column('Scope', 'string', [`${P}UpgradeRunSpec`, 'scope']),
    column('Phase', 'string', [`${P}UpgradeRunStatus`, 'phase']),
    column('Progress', 'string', [`${P}UpgradeRunStatus`, 'progress']),
    AGE_COLUMN,
  ],
  cells(r: Loose, ctx: PrintContext): unknown[] {
    const p = r.status?.progress;
    const scope = r.spec?.scope === 'Pool' ? `Pool/${r.spec?.pool ?? ''}` : r.spec?.scope ?? 'Cluster';
    return [r.metadata?.name ?? '', r.spec?.targetVersion ?? '', scope, r.status?.phase ?? 'Pending', p ? `${int(p.done)}/${int(p.total)}` : '-', age(r, ctx)];
  },
};

/** UPGRADEPREVIEW_PRINTER prints the answer of an UpgradePreview create (`kubectl create -f preview.yaml`). */
export const UPGRADEPREVIEW_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Target', 'string', [`${P}UpgradeRunSpec`, 'targetVersion']),
    column('Scope', 'string', [`${P}UpgradeRunSpec`, 'scope']),
    column('Can Start', 'boolean', 'Whether a run with this spec would be admitted now.'),
    column('Problems', 'integer', 'How many problems stop the start.'),
    AGE_COLUMN,
  ],
  cells(r: Loose, ctx: PrintContext): unknown[] {
    const plan = r.status?.plan;
    return [r.metadata?.name ?? '', r.spec?.targetVersion ?? '', r.spec?.scope ?? 'Cluster', plan?.canStart === true, Array.isArray(plan?.problems) ? plan.problems.length : 0, age(r, ctx)];
  },
};
