/**
 * The overview: cluster version and available upgrades, node pools, nodes, workloads and recent
 * Warning events, each a table drawn from the live reflectors.
 */
import type { ComponentChildren } from 'preact';
import type { KubeObject } from './api.js';
import type { Live } from './live.js';
import type { Reflector } from './watch.js';
import { age, formatBytes, formatCpu, poolOfNode, recentEvents, summarizeDeployment, summarizeNode } from './model.js';

/** Section is a titled panel that says when its data could not be read. */
export function Section(props: { id: string; title: string; reflector?: Reflector; actions?: ComponentChildren; children: ComponentChildren }) {
  const state = props.reflector?.state;
  return (
    <section class="panel" aria-labelledby={`${props.id}-title`} id={props.id}>
      <div class="panel-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.actions}
      </div>
      {state?.kind === 'loading' ? <p class="muted">Loading…</p>
        : state?.kind === 'unavailable' ? <p class="notice">Not available: {state.error.message} ({state.error.status})</p>
          : props.children}
    </section>
  );
}

function Usage(props: { requested: number; allocatable: number; format: (n: number) => string; label: string }) {
  const pct = props.allocatable > 0 ? Math.round((props.requested / props.allocatable) * 100) : NaN;
  return (
    <span class="usage" title={`${props.label}: ${props.format(props.requested)} requested of ${props.format(props.allocatable)} allocatable`}>
      <span data-field="requested">{props.format(props.requested)}</span> / <span data-field="allocatable">{props.format(props.allocatable)}</span>
      {Number.isFinite(pct) ? <span class="pct"> ({pct}%)</span> : null}
    </span>
  );
}

/** ClusterSummary shows /version and the Cluster object. */
export function ClusterSummary(props: { live: Live; serverVersion: string | undefined }) {
  const cluster = props.live.clusters.list()[0];
  const upgrades: string[] = Array.isArray(cluster?.status?.availableUpgrades) ? cluster.status.availableUpgrades : [];
  return (
    <dl class="facts" data-testid="cluster-facts">
      <div><dt>API server</dt><dd data-field="server-version">{props.serverVersion ?? '–'}</dd></div>
      <div><dt>Cluster</dt><dd data-field="cluster-name">{cluster?.metadata.name ?? '–'}</dd></div>
      <div><dt>Control plane version</dt><dd data-field="cluster-version">{cluster?.status?.version ?? cluster?.status?.controlPlaneVersion ?? cluster?.spec?.version ?? '–'}</dd></div>
      <div><dt>Available upgrades</dt><dd data-field="available-upgrades">{upgrades.length ? upgrades.join(', ') : 'none'}</dd></div>
    </dl>
  );
}

/** PoolsTable shows each NodePool with its version and its live node count. */
export function PoolsTable(props: { live: Live }) {
  const pools = props.live.pools.list();
  const names = pools.map((p) => p.metadata.name);
  const nodes = props.live.nodes.list();
  if (pools.length === 0) return <p class="muted">No node pools.</p>;
  return (
    <table data-testid="pools">
      <thead><tr><th scope="col">Pool</th><th scope="col">Version</th><th scope="col">Nodes</th><th scope="col">Ready</th><th scope="col">Node versions</th></tr></thead>
      <tbody>
        {pools.map((pool) => {
          const mine = nodes.filter((n) => poolOfNode(n, names) === pool.metadata.name).map((n) => summarizeNode(n, [], names));
          const versions = new Map<string, number>();
          for (const n of mine) versions.set(n.kubeletVersion, (versions.get(n.kubeletVersion) ?? 0) + 1);
          return (
            <tr key={pool.metadata.name} data-pool={pool.metadata.name}>
              <th scope="row">{pool.metadata.name}</th>
              <td data-field="version">{pool.status?.version ?? pool.spec?.version ?? '–'}</td>
              <td data-field="nodes">{mine.length}</td>
              <td data-field="ready">{mine.filter((n) => n.ready).length}</td>
              <td data-field="node-versions">{[...versions].map(([v, n]) => `${v}=${n}`).join(', ') || '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** NodesTable shows each Node: status, version, cordon, pods, requests against allocatable. */
export function NodesTable(props: { live: Live }) {
  const pools = props.live.pools.list().map((p) => p.metadata.name);
  const pods = props.live.pods.list();
  const nodes = props.live.nodes.list().map((n) => summarizeNode(n, pods, pools));
  if (nodes.length === 0) return <p class="muted">No nodes.</p>;
  return (
    <table data-testid="nodes">
      <thead><tr><th scope="col">Node</th><th scope="col">Status</th><th scope="col">Version</th><th scope="col">Pool</th><th scope="col">Pods</th><th scope="col">CPU requested / allocatable</th><th scope="col">Memory requested / allocatable</th></tr></thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.name} data-node={n.name}>
            <th scope="row">{n.name}</th>
            <td data-field="status"><span class={`badge ${n.ready ? 'ok' : 'bad'}`}>{n.status}</span>{n.cordoned ? <span class="badge warn"> cordoned</span> : null}</td>
            <td data-field="version">{n.kubeletVersion || '–'}</td>
            <td>{n.pool ?? '–'}</td>
            <td data-field="pods">{n.pods}</td>
            <td data-field="cpu"><Usage requested={n.cpuRequested} allocatable={n.cpuAllocatable} format={formatCpu} label="CPU" /></td>
            <td data-field="memory"><Usage requested={n.memoryRequested} allocatable={n.memoryAllocatable} format={formatBytes} label="Memory" /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** DeploymentsTable shows each Deployment's ready/desired and whether a rollout is in progress. */
export function DeploymentsTable(props: { live: Live; now: number }) {
  const rows = props.live.deployments.list().map((d) => ({ d, s: summarizeDeployment(d) }));
  if (rows.length === 0) return <p class="muted">No Deployments.</p>;
  return (
    <table data-testid="deployments">
      <thead><tr><th scope="col">Namespace</th><th scope="col">Deployment</th><th scope="col">Ready</th><th scope="col">Up-to-date</th><th scope="col">Available</th><th scope="col">Rollout</th><th scope="col">Age</th></tr></thead>
      <tbody>
        {rows.map(({ d, s }) => (
          <tr key={`${s.namespace}/${s.name}`} data-deployment={`${s.namespace}/${s.name}`}>
            <td>{s.namespace}</td>
            <th scope="row">{s.name}</th>
            <td data-field="ready">{s.ready}/{s.desired}</td>
            <td data-field="up-to-date">{s.upToDate}</td>
            <td data-field="available">{s.available}</td>
            <td data-field="rollout">{s.rollout ? <span class="badge warn">in progress: {s.rollout}</span> : <span class="badge ok">complete</span>}</td>
            <td>{age(d.metadata.creationTimestamp, props.now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** EventsList shows events newest first (Warning only unless `all`). */
export function EventsList(props: { events: KubeObject[]; now: number; testid: string; empty: string }) {
  if (props.events.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table data-testid={props.testid}>
      <thead><tr><th scope="col">Last seen</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">Object</th><th scope="col">Message</th></tr></thead>
      <tbody>
        {props.events.map((e) => {
          const ev = e as any;
          const involved = ev.involvedObject ?? ev.regarding ?? {};
          return (
            <tr key={`${e.metadata.namespace}/${e.metadata.name}`}>
              <td>{age(ev.lastTimestamp ?? ev.eventTime ?? e.metadata.creationTimestamp, props.now)}</td>
              <td><span class={`badge ${ev.type === 'Warning' ? 'bad' : 'ok'}`}>{ev.type ?? '–'}</span></td>
              <td>{ev.reason ?? '–'}</td>
              <td>{involved.kind ? `${String(involved.kind).toLowerCase()}/${involved.name}` : '–'}</td>
              <td class="message">{ev.message ?? ''}{ev.count > 1 ? <span class="muted"> (×{ev.count})</span> : null}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** warningEvents are the 10 newest Warning events. */
export const warningEvents = (live: Live) => recentEvents(live.events.list(), (e) => (e as any).type === 'Warning', 10);
