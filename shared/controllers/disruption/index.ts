/**
 * The disruption controller's descriptor: PodDisruptionBudget and Pod changes, keyed
 * `<namespace>/<name>` of the budget. A pod change concerns the budgets whose selector matches
 * either version of the pod, found through a selector index filled by budget changes and resync.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { Change } from '../change.js';
import type { Controller, ControllerContext } from '../controller.js';
import { EventRecorder } from '../events.js';
import { budgetSelector } from './budget.js';
import { reconcileDisruptionBudget } from './reconcile.js';

const PDBS = findResourceByKind('policy/v1', 'PodDisruptionBudget')!;

/** DISRUPTION_CONTROLLER is the controller's name (and its events' component). */
export const DISRUPTION_CONTROLLER = 'disruption-controller';

/** BudgetIndex remembers each budget's selector, per namespace. */
export class BudgetIndex {
  private readonly byNamespace = new Map<string, Map<string, LabelSelector | undefined>>();

  /** observe records (or, when `gone`, forgets) one budget. */
  observe(pdb: Readonly<KubeObject>, gone: boolean): void {
    const { namespace, name } = readMetadata(pdb);
    if (!namespace || !name) return;
    let names = this.byNamespace.get(namespace);
    if (gone) {
      names?.delete(name);
      return;
    }
    if (!names) this.byNamespace.set(namespace, (names = new Map()));
    names.set(name, budgetSelector(pdb));
  }

  /** matching lists the keys of the budgets in `namespace` whose selector matches `labels`. */
  matching(namespace: string, labels: Readonly<Record<string, string>> | undefined): string[] {
    const names = this.byNamespace.get(namespace);
    if (!names) return [];
    return [...names].filter(([, s]) => s !== undefined && matchesLabels(s, labels)).map(([name]) => `${namespace}/${name}`);
  }
}

/** disruptionKeys maps a change to budget keys, updating `index` from budget changes. */
export function disruptionKeys(change: Change, index: BudgetIndex): string[] {
  const { value } = change;
  if (value.kind === 'PodDisruptionBudget') {
    index.observe(value, change.type === 'delete');
    const { namespace, name } = readMetadata(value);
    return namespace && name ? [`${namespace}/${name}`] : [];
  }
  if (value.kind !== 'Pod') return [];
  const namespace = readMetadata(value).namespace;
  if (!namespace) return [];
  const keys = new Set(index.matching(namespace, readMetadata(value).labels));
  if (change.prevValue) for (const k of index.matching(namespace, readMetadata(change.prevValue).labels)) keys.add(k);
  return [...keys];
}

/** disruptionControllerWith builds the in-process descriptor (its own index and event recorder per client). */
export function disruptionControllerWith(): Controller {
  const index = new BudgetIndex();
  const recorders = new WeakMap<ControllerContext['client'], EventRecorder>();
  const recorderOf = (ctx: ControllerContext): EventRecorder => {
    let r = recorders.get(ctx.client);
    if (!r) recorders.set(ctx.client, (r = new EventRecorder(ctx.client, { component: DISRUPTION_CONTROLLER, now: ctx.now })));
    return r;
  };
  return {
    name: DISRUPTION_CONTROLLER,
    kinds: ['PodDisruptionBudget', 'Pod'],
    keysFor: (change) => disruptionKeys(change, index),
    reconcile: (key, ctx) => reconcileDisruptionBudget(key, ctx, recorderOf(ctx)),
    async resync(ctx) {
      const all = await ctx.client.listAll(PDBS);
      for (const pdb of all) index.observe(pdb, false);
      return all.map((pdb) => `${readMetadata(pdb).namespace}/${readMetadata(pdb).name}`);
    },
  };
}

/** disruptionController keeps every PodDisruptionBudget's status, in-process. */
export const disruptionController: Controller = disruptionControllerWith();
