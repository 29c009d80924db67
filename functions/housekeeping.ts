/**
 * The store's housekeeping, as kube-apiserver does it beside serving: the compactor (keeps
 * `--etcd-compaction-interval` of history, 5 minutes; shared/store/compactor.ts) runs from app
 * start to app termination in every process that holds the runtime, and a reconcile orchestration
 * sweeps Events older than `--event-ttl` (1 hour; shared/controllers/eventttl.ts): woken by Event
 * creations (skipped while a deadline is known) and by a durable timer at the first expiry, so an
 * idle cluster is not woken every minute (it was a once-a-minute timer trigger). Without
 * them a burst of writes (issue 15: 7,500 pods, 53,000 Events) stays in the store for good.
 * Compacting is idempotent and never goes backwards, so several instances may each run one.
 *
 * Settings: `CORACLE_COMPACTION_INTERVAL_SECONDS` (history kept, default 300) and
 * `CORACLE_EVENT_TTL_SECONDS` (default 3600).
 */
import { app } from '@azure/functions';
import { EVENT_TTL_CONTROLLER, EventTtlMemo, sweepExpiredEvents } from '../shared/controllers/eventttl.js';
import { registerReconcileOrchestration, type ReconcileResult } from './orchestration.js';
import { startCompactor } from '../shared/store/compactor.js';
import { controllerContext } from './api.js';
import { getAppContext } from './runtime.js';

/** EVENT_TTL_RESYNC_MS is how long the sweep sleeps with no Event left and nothing created (1 hour). */
export const EVENT_TTL_RESYNC_MS = 60 * 60_000;

const memo = new EventTtlMemo();

/** sweepEvents is one sweep, logged when it deleted something; it answers when to sweep again. */
export async function sweepEvents(): Promise<ReconcileResult> {
  const ctx = await controllerContext('coracle-event-ttl');
  const wait = memo.due(ctx.now());
  if (wait !== undefined) return { requeueAfterMs: wait };
  const report = await sweepExpiredEvents(ctx.client, { now: ctx.now(), ttlMs: (await getAppContext()).config.eventTtlMs });
  memo.record(report);
  if (report.deleted > 0) console.info(`event ttl: deleted ${report.deleted} of ${report.scanned} Events scanned${report.truncated ? ' (more next time)' : ''}`);
  // Truncated: go on soon (1 s) with the rest.
  return { requeueAfterMs: report.truncated ? 1000 : report.nextExpiryAt !== undefined ? Math.max(1000, report.nextExpiryAt - ctx.now().getTime()) : undefined };
}

registerReconcileOrchestration({ name: EVENT_TTL_CONTROLLER, reconcile: sweepEvents, resyncAfterMs: EVENT_TTL_RESYNC_MS });

let stopCompactor: (() => void) | undefined;

app.hook.appStart(async () => {
  const { store, config } = await getAppContext();
  stopCompactor?.();
  stopCompactor = startCompactor(store, {
    retentionMs: config.compactionRetentionMs,
    onError: (err) => console.warn(`compactor: ${(err as Error).message}`),
  });
});

app.hook.appTerminate(() => {
  stopCompactor?.();
  stopCompactor = undefined;
});
