/**
 * Upgrade: the button and its dialog (target, scope, preview, confirm), the live view of the
 * active run (phase, progress, each node's step, events as they come, Pause/Resume/Cancel) and
 * the history of runs. Coded against the UpgradePreview/UpgradeRun API (upgrade-model.ts); when
 * the control plane does not serve it (404) the panel says so and offers nothing.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, type ApiClient, type KubeObject } from './api.js';
import type { Live } from './live.js';
import { EventsList, Section } from './overview.js';
import { eventTime, formatDuration, recentEvents } from './model.js';
import { activeRun, clusterHistory, evictionCount, normalizePlan, onlyBudgetsBlock, problemText, runHistory, UPGRADE_PATHS, viewRun, type HistoryEntry, type Scope, type UpgradePlan, type UpgradeSpec } from './upgrade-model.js';

const UNAVAILABLE = 'Upgrades are not available on this control plane: it does not serve the UpgradeRun API (coracle.io/v1 upgraderuns: not in discovery, or 404).';

/** UpgradePanel is the Upgrade section of the page. */
export function UpgradePanel(props: { live: Live; client: ApiClient; now: number }) {
  const { live, client } = props;
  const [open, setOpen] = useState(false);
  const [previewUnavailable, setPreviewUnavailable] = useState(false);
  const runsState = live.runs.state;
  const unavailable = previewUnavailable || (runsState.kind === 'unavailable' && runsState.error.status === 404);
  const cluster = live.clusters.list()[0];
  const targets: string[] = Array.isArray(cluster?.status?.availableUpgrades) ? cluster.status.availableUpgrades : [];
  const runs = live.runs.list();
  const active = activeRun(runs);
  const why = unavailable ? UNAVAILABLE
    : runsState.kind === 'loading' ? 'Reading upgrade runs…'
      : active ? `Upgrade ${active.metadata.name} is in progress.`
        : targets.length === 0 ? 'No upgrade is available: the cluster lists no newer release.' : undefined;
  return (
    <Section id="upgrade" title="Upgrade" actions={
      <button type="button" class="primary" disabled={why !== undefined} aria-describedby="upgrade-why" onClick={() => setOpen(true)}>Upgrade…</button>
    }>
      <p id="upgrade-why" class={unavailable ? 'notice' : 'muted'} data-testid="upgrade-status">{why ?? `Available: ${targets.join(', ')}`}</p>
      {open ? <UpgradeDialog client={client} live={live} targets={targets} onClose={() => setOpen(false)} onUnavailable={() => setPreviewUnavailable(true)} /> : null}
      {!unavailable && active ? <RunView client={client} live={live} run={active} now={props.now} /> : null}
      {!unavailable && (runs.length > 0 || clusterHistory(cluster).length > 0) ? <History runs={runs} entries={clusterHistory(cluster)} /> : null}
    </Section>
  );
}

/** Problems shows a refusal: its title, and its causes when there are any (a 403 or 409 has none, and is shown all the same). */
function Problems(props: { problems: string[]; title: string; testid?: string }) {
  return (
    <div class="problems" role="alert" data-testid={props.testid}>
      <strong>{props.title}</strong>
      {props.problems.length ? <ul>{props.problems.map((p) => <li key={p}>{p}</li>)}</ul> : null}
    </div>
  );
}

/** UpgradeDialog picks target and scope, previews the plan, and starts the run. */
function UpgradeDialog(props: { client: ApiClient; live: Live; targets: string[]; onClose: () => void; onUnavailable: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const pools = props.live.pools.list().map((p) => p.metadata.name);
  const [spec, setSpec] = useState<UpgradeSpec>({ targetVersion: props.targets[0] ?? '', scope: 'Cluster' });
  const [plan, setPlan] = useState<UpgradePlan | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; causes: string[] } | undefined>();
  const [force, setForce] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const update = (patch: Partial<UpgradeSpec>) => {
    setSpec((s) => ({ ...s, ...patch, pool: (patch.scope ?? s.scope) === 'Pool' ? (patch.pool ?? s.pool ?? pools[0]) : undefined }));
    setPlan(undefined);
    setError(undefined);
  };
  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.status === 404) props.onUnavailable();
    const causes = err instanceof ApiError ? err.causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`) : [];
    const prefix = err instanceof ApiError && err.status === 409 ? 'Another upgrade is running: ' : err instanceof ApiError && err.status === 422 ? 'The upgrade was refused: ' : '';
    setError({ message: err instanceof ApiError && err.status === 404 ? UNAVAILABLE : prefix + describeError(err), causes });
  };
  const body = (s: UpgradeSpec) => ({ targetVersion: s.targetVersion, scope: s.scope, ...(s.scope === 'Pool' ? { pool: s.pool } : {}) });
  const preview = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const created = await props.client.request<KubeObject>(UPGRADE_PATHS.previews, { method: 'POST', body: { apiVersion: 'coracle.io/v1', kind: 'UpgradePreview', spec: body(spec) } });
      setPlan(normalizePlan(created.status?.plan));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const start = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.client.request(UPGRADE_PATHS.runs, { method: 'POST', body: { apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { generateName: 'upgrade-' }, spec: { ...body(spec), ...(force ? { force: true } : {}) } } });
      ref.current?.close();
      props.onClose();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const blocked = plan !== undefined && !plan.canStart;
  const forceable = plan !== undefined && onlyBudgetsBlock(plan);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="upgrade-dialog-title" onClose={props.onClose} data-testid="upgrade-dialog">
      <form method="dialog" onSubmit={(e) => e.preventDefault()}>
        <h2 id="upgrade-dialog-title">Upgrade the cluster</h2>
        <div class="field">
          <label for="upgrade-target">Target version</label>
          <select id="upgrade-target" value={spec.targetVersion} onChange={(e) => update({ targetVersion: (e.target as HTMLSelectElement).value })}>
            {props.targets.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </div>
        <fieldset class="field">
          <legend>Scope</legend>
          {([['Cluster', 'Whole cluster (control plane, then every pool)'], ['ControlPlane', 'Control plane only'], ['Pool', 'One node pool']] as [Scope, string][]).map(([value, label]) => (
            <label key={value} class="radio">
              <input type="radio" name="scope" value={value} checked={spec.scope === value} disabled={value === 'Pool' && pools.length === 0} onChange={() => update({ scope: value })} /> {label}
            </label>
          ))}
          {spec.scope === 'Pool' ? (
            <div class="field">
              <label for="upgrade-pool">Pool</label>
              <select id="upgrade-pool" value={spec.pool} onChange={(e) => update({ pool: (e.target as HTMLSelectElement).value })}>
                {pools.map((p) => <option key={p} value={p}>{p}</option>)}
              </select>
            </div>
          ) : null}
        </fieldset>
        {plan ? <PlanView plan={plan} /> : null}
        {error ? <Problems title={error.message} problems={error.causes} testid="upgrade-error" /> : null}
        {plan && blocked && forceable ? (
          <label class="radio"><input type="checkbox" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} /> Start anyway (force past the blocking budgets above: their pods' nodes are left cordoned)</label>
        ) : null}
        <div class="buttons">
          <button type="button" onClick={() => { ref.current?.close(); }}>Close</button>
          {/* While a request is out the buttons say so with aria-disabled but stay enabled: disabling the focused button would drop the keyboard focus to the page. */}
          <button type="button" onClick={preview} aria-disabled={busy} disabled={!spec.targetVersion}>Preview</button>
          <button type="button" class="primary" onClick={start} aria-disabled={busy} disabled={!plan || (blocked && !(forceable && force))}>Start upgrade</button>
        </div>
      </form>
    </dialog>
  );
}

/** PlanView shows a preview: control plane step, batches and evictions, budgets, estimate. */
function PlanView(props: { plan: UpgradePlan }) {
  const { plan } = props;
  return (
    <div class="plan" data-testid="upgrade-plan" aria-live="polite">
      <h3>Preview</h3>
      <p>Estimated time: <strong data-field="estimate">{formatDuration(plan.estimateSeconds)}</strong>; pods that will move: <strong data-field="evictions">{evictionCount(plan)}</strong>.</p>
      {plan.controlPlane ? <p data-field="control-plane">Control plane: {plan.controlPlane.fromVersion} → {plan.controlPlane.toVersion} (its processes move onto that release first, keeping the cluster's data)</p> : null}
      {plan.pools.map((pool) => (
        <div key={pool.pool} class="pool-plan" data-pool={pool.pool}>
          <h4>Pool {pool.pool} → {pool.target} <span class="muted" data-field="pool-estimate">({formatDuration(pool.estimateSeconds)}; surge {pool.settings?.surge ?? '–'}, max unavailable {pool.settings?.unavailable ?? '–'})</span></h4>
          {pool.upToDate.length ? <p class="muted">Already at the target: {pool.upToDate.join(', ')}</p> : null}
          {!pool.surgeCapacityOk ? <p class="blocks">Not enough surge capacity.</p> : null}
          <ol>
            {pool.batches.map((batch, i) => (
              <li key={i} data-batch={i + 1}>Batch {i + 1}: {batch.map((n) => `${n.name} (${n.version}; ${n.evictions.length} pod${n.evictions.length === 1 ? '' : 's'}${n.evictions.length ? `: ${n.evictions.map((e) => `${e.namespace}/${e.name}`).join(', ')}` : ''})`).join('; ')}</li>
            ))}
          </ol>
          {pool.budgets.length ? (
            <ul class="budgets">
              {pool.budgets.map((b) => <li key={b.budget} class={b.severity === 'blocks' ? 'blocks' : 'holds'}><strong>{b.severity === 'blocks' ? 'Blocks' : 'Holds'}</strong> {b.budget}: {b.reason}</li>)}
            </ul>
          ) : null}
        </div>
      ))}
      {plan.problems.length ? <Problems title="This upgrade cannot start as planned:" problems={plan.problems.map(problemText)} /> : null}
    </div>
  );
}

/** RunView is the live view of the active run. */
function RunView(props: { client: ApiClient; live: Live; run: KubeObject; now: number }) {
  const run = viewRun(props.run);
  const [error, setError] = useState<string | undefined>();
  const path = `${UPGRADE_PATHS.runs}/${encodeURIComponent(run.name)}`;
  const patch = (spec: Record<string, unknown>) => props.client.mergePatch(path, { spec }).then(() => setError(undefined), (err) => setError(describeError(err)));
  const since = run.created ? Date.parse(run.created) : 0;
  const events = recentEvents(props.live.events.list(), (e) => eventTime(e) >= since - 1000, 20);
  const pct = run.total > 0 ? Math.round((run.done / run.total) * 100) : 0;
  return (
    <div class="run" data-testid="upgrade-run" data-run={run.name}>
      <h3>Upgrade {run.name}: {run.scope}{run.pool ? ` ${run.pool}` : ''} to {run.targetVersion}</h3>
      <p>Phase: <strong data-field="phase">{run.phase}</strong>{run.paused ? ' (pause requested)' : ''}{run.cancelRequested ? ' (cancel requested)' : ''}{run.message ? ` — ${run.message}` : ''}</p>
      <div class="progress" role="progressbar" aria-label="Nodes upgraded" aria-valuemin={0} aria-valuemax={run.total} aria-valuenow={run.done} aria-valuetext={`${run.done} of ${run.total} nodes`}>
        <div class="bar" style={{ width: `${pct}%` }} />
      </div>
      <p class="muted" data-field="progress">{run.done} of {run.total} nodes done</p>
      {run.controlPlane ? <p>Control plane: {run.controlPlane.fromVersion ?? '–'} → {run.controlPlane.toVersion ?? '–'}: <strong data-field="control-plane-step">{run.controlPlane.step ?? '–'}</strong></p> : null}
      {run.surgeNodes.length ? <p class="muted" data-field="surge-nodes">Surge nodes added: {run.surgeNodes.join(', ')}</p> : null}
      <div class="buttons">
        {run.paused
          ? <button type="button" onClick={() => patch({ paused: false })}>Resume</button>
          : <button type="button" onClick={() => patch({ paused: true })}>Pause</button>}
        <button type="button" class="danger" disabled={run.cancelRequested} onClick={() => patch({ cancel: true })}>Cancel upgrade</button>
      </div>
      {error ? <p class="notice" role="alert">{error}</p> : null}
      {run.nodes.length ? (
        <table data-testid="run-nodes">
          <thead><tr><th scope="col">Node</th><th scope="col">Pool</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Step</th><th scope="col">Message</th></tr></thead>
          <tbody>
            {run.nodes.map((n) => (
              <tr key={n.name} data-node={n.name}>
                <th scope="row">{n.name}</th><td>{n.pool ?? '–'}</td><td>{n.fromVersion ?? '–'}</td><td>{n.toVersion ?? '–'}</td>
                <td data-field="step"><span class={`badge ${n.step === 'Ready' ? 'ok' : n.step === 'Undrainable' ? 'bad' : 'warn'}`}>{n.step}</span></td>
                <td class="message">{n.message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h4>Events since the run started</h4>
      <EventsList events={events} now={props.now} testid="run-events" empty="No events yet." />
    </div>
  );
}

/**
 * History lists every finished upgrade: the Cluster's status.upgradeHistory (what the run wrote
 * when it ended), newest first, plus any UpgradeRun not (yet) in it with its phase.
 */
function History(props: { runs: KubeObject[]; entries: HistoryEntry[] }) {
  const recorded = new Set(props.entries.map((h) => h.name));
  const others = runHistory(props.runs).filter((r) => !recorded.has(r.name) && r.finished);
  const when = (t?: string) => (t ? new Date(t).toLocaleString() : '–');
  return (
    <details class="history" open>
      <summary>History of upgrades</summary>
      <table data-testid="upgrade-history">
        <thead><tr><th scope="col">Run</th><th scope="col">Scope</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Outcome</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Message</th></tr></thead>
        <tbody>
          {props.entries.map((h) => (
            <tr key={h.name} data-run={h.name}>
              <th scope="row">{h.name}</th><td>{h.scope ?? '–'}</td><td>{h.fromVersion || '–'}</td><td>{h.toVersion ?? '–'}</td>
              <td data-field="outcome"><span class={`badge ${h.outcome === 'Succeeded' ? 'ok' : h.outcome === 'Failed' ? 'bad' : 'warn'}`}>{h.outcome ?? '–'}</span></td>
              <td>{when(h.startTime)}</td><td>{when(h.completionTime)}</td><td class="message">{h.message ?? ''}</td>
            </tr>
          ))}
          {others.map((r) => (
            <tr key={r.name} data-run={r.name}>
              <th scope="row">{r.name}</th><td>{r.scope}{r.pool ? ` ${r.pool}` : ''}</td><td>{r.controlPlane?.fromVersion ?? r.nodes[0]?.fromVersion ?? '–'}</td><td>{r.targetVersion}</td>
              <td data-field="outcome"><span class={`badge ${r.phase === 'Succeeded' ? 'ok' : r.phase === 'Failed' ? 'bad' : 'warn'}`}>{r.phase}</span></td>
              <td>{when(r.startTime ?? r.created)}</td><td>{when(r.completionTime)}</td><td class="message">{r.message ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
