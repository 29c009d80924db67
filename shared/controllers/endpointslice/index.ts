/**
 * The EndpointSlice controller's descriptor: Service, Pod, EndpointSlice and Endpoints changes,
 * keyed `<namespace>/<service>`. A pod change concerns the Services whose selector matches either
 * version of the pod, found through a selector index filled by Service changes and resync; a
 * managed slice or an Endpoints object deleted behind the controller's back brings its Service back.
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import type { Change } from '../change.js';
import type { Controller } from '../controller.js';
import { MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './desired.js';
import { reconcileEndpointSlices } from './reconcile.js';

const SERVICES = findResourceByKind('v1', 'Service')!;

/** ENDPOINTSLICE_CONTROLLER is the controller's name. */
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller';

/** ServiceSelectorIndex remembers each Service's selector (a label map), per namespace. */
export class ServiceSelectorIndex {
  private readonly byNamespace = new Map<string, Map<string, Readonly<Record<string, string>>>>();

  /** observe records (or, when `gone`, forgets) one Service. */
  observe(svc: Readonly<KubeObject>, gone: boolean): void {
    const { namespace, name } = readMetadata(svc);
    if (!namespace || !name) return;
    let names = this.byNamespace.get(namespace);
    const spec = isRecord(svc.spec) ? svc.spec : {};
    const selector = isRecord(spec.selector) && Object.keys(spec.selector).length > 0 ? (spec.selector as Record<string, string>) : undefined;
    if (gone || !selector) {
      names?.delete(name);
      return;
    }
    if (!names) this.byNamespace.set(namespace, (names = new Map()));
    names.set(name, selector);
  }

  /** matching lists the keys of the Services in `namespace` whose selector matches `labels`. */
  matching(namespace: string, labels: Readonly<Record<string, string>> | undefined): string[] {
    const names = this.byNamespace.get(namespace);
    if (!names || !labels) return [];
    return [...names].filter(([, sel]) => Object.entries(sel).every(([k, v]) => labels[k] === v)).map(([name]) => `${namespace}/${name}`);
  }
}

/** endpointSliceKeys maps a change to Service keys, updating `index` from Service changes. */
export function endpointSliceKeys(change: Change, index: ServiceSelectorIndex): string[] {
  const { value } = change;
  const { namespace, name, labels } = readMetadata(value);
  if (!namespace) return [];
  switch (value.kind) {
    case 'Service':
      index.observe(value, change.type === 'delete');
      return name ? [`${namespace}/${name}`] : [];
    case 'Pod': {
      const keys = new Set(index.matching(namespace, labels));
      if (change.prevValue) for (const k of index.matching(namespace, readMetadata(change.prevValue).labels)) keys.add(k);
      return [...keys];
    }
    case 'EndpointSlice':
      return change.type === 'delete' && labels?.[MANAGED_BY_LABEL] === MANAGED_BY && labels[SERVICE_NAME_LABEL] ? [`${namespace}/${labels[SERVICE_NAME_LABEL]}`] : [];
    case 'Endpoints':
      return change.type === 'delete' && name ? [`${namespace}/${name}`] : [];
    default:
      return [];
  }
}

/** endpointSliceControllerWith builds the in-process descriptor (its own selector index). */
export function endpointSliceControllerWith(): Controller {
  const index = new ServiceSelectorIndex();
  return {
    name: ENDPOINTSLICE_CONTROLLER,
    kinds: ['Service', 'Pod', 'EndpointSlice', 'Endpoints'],
    keysFor: (change) => endpointSliceKeys(change, index),
    reconcile: (key, ctx) => reconcileEndpointSlices(key, ctx),
    async resync(ctx) {
      const all = await ctx.client.listAll(SERVICES);
      for (const svc of all) index.observe(svc, false);
      return all.map((svc) => `${readMetadata(svc).namespace}/${readMetadata(svc).name}`);
    },
  };
}

/** endpointSliceController keeps every selector Service's EndpointSlices and Endpoints, in-process. */
export const endpointSliceController: Controller = endpointSliceControllerWith();
