/**
 * The FailedScheduling message, in kube-scheduler's format (framework.FitError.Error):
 * `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
 * affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for
 * incoming pod, 2 Preemption is not helpful for scheduling.` Coracle does not preempt, so a
 * node whose failure preemption could fix reports "No preemption victims found".
 */
import type { FilterFailure } from './filters.js';

/** NodeFailures are the failures of every node examined for one pod. */
export interface NodeFailures {
  total: number;
  failed: FilterFailure[];
}

/** NO_NODES is kube-scheduler's message when the cluster has no nodes at all. */
export const NO_NODES = 'no nodes available to schedule pods';

function countsText(counts: Map<string, number>): string {
  // kube-scheduler sorts the "<count> <reason>" strings themselves.
  return [...counts].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

function bump(counts: Map<string, number>, reason: string): void {
  counts.set(reason, (counts.get(reason) ?? 0) + 1);
}

/** failureMessage renders `failures` as kube-scheduler's message, with the per-reason node counts. */
export function failureMessage(failures: NodeFailures): { message: string; reasons: Record<string, number> } {
  if (failures.total === 0) return { message: NO_NODES, reasons: {} };
  const reasons = new Map<string, number>();
  const preemption = new Map<string, number>();
  for (const f of failures.failed) {
    for (const reason of f.reasons) bump(reasons, reason);
    bump(preemption, f.unresolvable ? 'Preemption is not helpful for scheduling' : 'No preemption victims found for incoming pod');
  }
  const head = `0/${failures.total} nodes are available`;
  return {
    message: `${head}: ${countsText(reasons)}. preemption: ${head}: ${countsText(preemption)}.`,
    reasons: Object.fromEntries(reasons),
  };
}
