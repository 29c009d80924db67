/**
 * The pod printer: the STATUS and RESTARTS logic of Kubernetes' printPod
 * (pkg/printers/internalversion/printers.go), restated for plain objects.
 */
import { AGE_COLUMN, NAME_COLUMN, age, column, since, type Loose, type PrintContext, type Printer } from './format.js';

const POD_SPEC = 'io.k8s.api.core.v1.PodSpec';
const POD_STATUS = 'io.k8s.api.core.v1.PodStatus';

function isRestartableInit(container: Loose): boolean {
  return container?.restartPolicy === 'Always';
}

function laterTime(a: string | undefined, b: unknown): string | undefined {
  if (typeof b !== 'string' || b === '') return a;
  return a === undefined || Date.parse(b) > Date.parse(a) ? b : a;
}

function terminatedReason(terminated: Loose, prefix: string): string {
  if (terminated.reason) return prefix + terminated.reason;
  return terminated.signal ? `${prefix}Signal:${terminated.signal}` : `${prefix}ExitCode:${terminated.exitCode ?? 0}`;
}

interface PodSummary {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  lastRestart?: string;
}

/** initStatus walks init containers; it returns the Init:… reason when the pod is still initializing. */
function initStatus(pod: Loose, summary: PodSummary): { initializing: boolean; restarts: number; lastRestart?: string } {
  const specs = new Map<string, Loose>(((pod.spec?.initContainers ?? []) as Loose[]).map((c) => [c.name, c]));
  const statuses = (pod.status?.initContainerStatuses ?? []) as Loose[];
  let restartable = 0;
  let restartableLast: string | undefined;
  let initializing = false;
  for (const [i, status] of statuses.entries()) {
    summary.restarts += status.restartCount ?? 0;
    summary.lastRestart = laterTime(summary.lastRestart, status.lastState?.terminated?.finishedAt);
    const sidecar = isRestartableInit(specs.get(status.name));
    if (sidecar) {
      restartable += status.restartCount ?? 0;
      restartableLast = laterTime(restartableLast, status.lastState?.terminated?.finishedAt);
    }
    const terminated = status.state?.terminated;
    const waiting = status.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && status.started === true) {
      if (status.ready) summary.ready++;
      continue;
    }
    initializing = true;
    if (terminated) summary.reason = terminatedReason(terminated, 'Init:');
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') summary.reason = `Init:${waiting.reason}`;
    else summary.reason = `Init:${i}/${specs.size}`;
    break;
  }
  return { initializing, restarts: restartable, lastRestart: restartableLast };
}

/** summarize computes READY, STATUS and RESTARTS as `kubectl get pods` shows them. */
export function summarizePod(pod: Loose): PodSummary {
  const containers = (pod.spec?.containers ?? []) as Loose[];
  const sidecars = ((pod.spec?.initContainers ?? []) as Loose[]).filter(isRestartableInit).length;
  const summary: PodSummary = { reason: pod.status?.reason || pod.status?.phase || '', ready: 0, total: containers.length + sidecars, restarts: 0 };
  const conditions = (pod.status?.conditions ?? []) as Loose[];
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) summary.reason = 'SchedulingGated';

  const init = initStatus(pod, summary);
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!init.initializing || initialized) {
    summary.restarts = init.restarts;
    summary.lastRestart = init.lastRestart;
    let hasRunning = false;
    const statuses = (pod.status?.containerStatuses ?? []) as Loose[];
    // Kubernetes walks containers from last to first, so the first container's state wins.
    for (const status of [...statuses].reverse()) {
      summary.restarts += status.restartCount ?? 0;
      summary.lastRestart = laterTime(summary.lastRestart, status.lastState?.terminated?.finishedAt);
      const { waiting, terminated, running } = status.state ?? {};
      if (waiting?.reason) summary.reason = waiting.reason;
      else if (terminated) summary.reason = terminatedReason(terminated, '');
      else if (status.ready && running) {
        hasRunning = true;
        summary.ready++;
      }
    }
    if (summary.reason === 'Completed' && hasRunning) {
      summary.reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && pod.status?.reason === 'NodeLost') summary.reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) summary.reason = 'Terminating';
  return summary;
}

function readinessGates(pod: Loose): string {
  const gates = (pod.spec?.readinessGates ?? []) as Loose[];
  if (gates.length === 0) return '<none>';
  const conditions = (pod.status?.conditions ?? []) as Loose[];
  const ready = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${ready}/${gates.length}`;
}

/** POD_PRINTER prints pods: NAME READY STATUS RESTARTS AGE (+ IP NODE NOMINATED NODE READINESS GATES). */
export const POD_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    column('IP', 'string', [POD_STATUS, 'podIP'], { priority: 1 }),
    column('Node', 'string', [POD_SPEC, 'nodeName'], { priority: 1 }),
    column('Nominated Node', 'string', [POD_STATUS, 'nominatedNodeName'], { priority: 1 }),
    column('Readiness Gates', 'string', [POD_SPEC, 'readinessGates'], { priority: 1 }),
  ],
  cells(pod: Loose, ctx: PrintContext): unknown[] {
    const s = summarizePod(pod);
    const restarts = s.restarts !== 0 && s.lastRestart ? `${s.restarts} (${since(s.lastRestart, ctx)} ago)` : String(s.restarts);
    const ip = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>';
    return [
      pod.metadata?.name ?? '', `${s.ready}/${s.total}`, s.reason, restarts, age(pod, ctx),
      ip, pod.spec?.nodeName || '<none>', pod.status?.nominatedNodeName || '<none>', readinessGates(pod),
    ];
  },
  conditions(pod: Loose) {
    if (pod.status?.phase === 'Succeeded') return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    if (pod.status?.phase === 'Failed') return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    return undefined;
  },
};
