/**
 * The auto-upgrade controller's orchestration (shared/controllers/autoupgrade.ts): a reconcile
 * orchestration woken by Cluster spec changes, which sleeps on a durable timer until the next
 * moment it has something to look at (the window's opening, a recheck while it is open).
 */
import { AUTO_UPGRADE_CONTROLLER, AUTO_UPGRADE_IDLE_MS, reconcileAutoUpgrade } from '../shared/controllers/autoupgrade.js';
import { EventRecorder } from '../shared/controllers/events.js';
import { controllerContext, releaseCatalog } from './api.js';
import { registerReconcileOrchestration, type ReconcileResult } from './orchestration.js';
import { getAppContext } from './runtime.js';

async function reconcile(): Promise<ReconcileResult> {
  const ctx = await controllerContext('coracle-auto-upgrade');
  const recorder = new EventRecorder(ctx.client, { component: 'coracle-auto-upgrade', now: ctx.now });
  const requeueAfterMs = await reconcileAutoUpgrade({ ctx, recorder, catalog: releaseCatalog((await getAppContext()).config) });
  // A durable timer holds at most this long; the orchestration looks again then.
  return { requeueAfterMs: Math.min(requeueAfterMs, AUTO_UPGRADE_IDLE_MS) };
}

registerReconcileOrchestration({ name: AUTO_UPGRADE_CONTROLLER, reconcile, resyncAfterMs: AUTO_UPGRADE_IDLE_MS });
