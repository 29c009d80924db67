/**
 * The scheduler's descriptors: Pod and Node changes that may let a pending pod be placed, all on
 * the one key `default` (see keys.ts, reconcile.ts). In-process (`schedulerController`) the
 * change feed signals a background SchedulingLoop; orchestrated (`schedulerOrchestration`) it
 * signals the singleton durable orchestration `scheduler:default` (functions/scheduler.ts).
 * Switching is replacing one name by the other in the registry.
 */
import { findResourceByKind } from '../../api/resources.js';
import type { Controller, ControllerContext, OrchestratedController } from '../controller.js';
import { isPendingPod, SCHEDULER_KEY, schedulerKeys } from './keys.js';
import { signalSchedulingLoop } from './loop.js';

const PODS = findResourceByKind('v1', 'Pod')!;

/** SCHEDULER_CONTROLLER is the controller's name (and its orchestration's). */
export const SCHEDULER_CONTROLLER = 'scheduler';

/** resyncScheduler answers the scheduler key when some pod waits for a node. */
async function resyncScheduler(ctx: ControllerContext): Promise<string[]> {
  const unbound = await ctx.client.listAll(PODS, { fieldSelector: 'spec.nodeName=' });
  return unbound.some(isPendingPod) ? [SCHEDULER_KEY] : [];
}

/**
 * schedulerControllerWith builds the descriptor around `reconcile`: the scheduling pass itself
 * when it runs in-process, or a function that signals the scheduler's singleton orchestration.
 */
export function schedulerControllerWith(reconcile: Controller['reconcile']): Controller {
  return { name: SCHEDULER_CONTROLLER, kinds: ['Pod', 'Node'], keysFor: schedulerKeys, reconcile, resync: resyncScheduler };
}

/**
 * schedulerController places pending pods on nodes in-process: changes signal a background
 * SchedulingLoop (the change feed never waits for a pass). With the durable engine, this becomes
 * `schedulerControllerWith(<signal the scheduler:default orchestration>)`.
 */
export const schedulerController: Controller = schedulerControllerWith(signalSchedulingLoop);

/** schedulerOrchestration is the scheduler as the singleton durable orchestration `scheduler:default`. */
export const schedulerOrchestration: OrchestratedController = {
  name: SCHEDULER_CONTROLLER,
  kinds: ['Pod', 'Node'],
  keysFor: schedulerKeys,
  orchestration: SCHEDULER_CONTROLLER,
  resync: resyncScheduler,
};
