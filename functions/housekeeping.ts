/**
 * The store's housekeeping, as kube-apiserver does it beside serving: the compactor (keeps
 * `--etcd-compaction-interval` of history, 5 minutes; shared/store/compactor.ts) runs from app
 * start to app termination in every process that holds the runtime, and a timer function sweeps
 * Events older than `--event-ttl` (1 hour; shared/controllers/eventttl.ts) once a minute. Without
 * them a burst of writes (issue 15: 7,500 pods, 53,000 Events) stays in the store for good.
 * Compacting is idempotent and never goes backwards, so several instances may each run one.
 *
 * Settings: `CORACLE_COMPACTION_INTERVAL_SECONDS` (history kept, default 300) and
 * `CORACLE_EVENT_TTL_SECONDS` (default 3600).
 */
import { app, type InvocationContext } from '@azure/functions';
import { sweepExpiredEvents } from '../shared/controllers/eventttl.js';
import { startCompactor } from '../shared/store/compactor.js';
import { controllerContext } from './api.js';
import { getAppContext } from './runtime.js';

/** EVENT_TTL_FUNCTION is the timer function's name. */
export const EVENT_TTL_FUNCTION = 'eventttl';

/** sweepEvents is the timer's handler: one bounded sweep, logged when it deleted something. */
export async function sweepEvents(_timer: unknown, context: InvocationContext): Promise<void> {
  const ctx = await controllerContext('coracle-event-ttl');
  const report = await sweepExpiredEvents(ctx.client, { now: ctx.now(), ttlMs: (await getAppContext()).config.eventTtlMs });
  if (report.deleted > 0) context.log(`event ttl: deleted ${report.deleted} of ${report.scanned} Events scanned${report.truncated ? ' (more next time)' : ''}`);
}

app.timer(EVENT_TTL_FUNCTION, { schedule: '30 * * * * *', handler: sweepEvents });

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
