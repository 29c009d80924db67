/**
 * Printers for nodes, namespaces, services, endpoints and events, as Kubernetes' printNode,
 * printNamespace, printService, printEndpoints and printEvent print them.
 */
import {
  AGE_COLUMN, NAME_COLUMN, age, column, formatLabels, int, since, type Loose, type PrintContext, type Printer,
} from './format.js';

const NODE_INFO = 'io.k8s.api.core.v1.NodeSystemInfo';

function nodeStatus(node: Loose): string {
  const ready = ((node.status?.conditions ?? []) as Loose[]).find((c) => c.type === 'Ready');
  const status = ready ? [ready.status === 'True' ? 'Ready' : 'NotReady'] : ['Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeRoles(node: Loose): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries((node.metadata?.labels ?? {}) as Record<string, string>)) {
    if (key.startsWith('node-role.kubernetes.io/') && key.length > 'node-role.kubernetes.io/'.length) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function nodeAddress(node: Loose, type: string): string {
  return ((node.status?.addresses ?? []) as Loose[]).find((a) => a.type === type)?.address ?? '<none>';
}

/** NODE_PRINTER: NAME STATUS ROLES AGE VERSION (+ INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME). */
export const NODE_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'string', [NODE_INFO, 'kubeletVersion']),
    column('Internal-IP', 'string', ['io.k8s.api.core.v1.NodeStatus', 'addresses'], { priority: 1 }),
    column('External-IP', 'string', ['io.k8s.api.core.v1.NodeStatus', 'addresses'], { priority: 1 }),
    column('OS-Image', 'string', [NODE_INFO, 'osImage'], { priority: 1 }),
    column('Kernel-Version', 'string', [NODE_INFO, 'kernelVersion'], { priority: 1 }),
    column('Container-Runtime', 'string', [NODE_INFO, 'containerRuntimeVersion'], { priority: 1 }),
  ],
  cells(node: Loose, ctx: PrintContext): unknown[] {
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata?.name ?? '', nodeStatus(node), nodeRoles(node), age(node, ctx), info.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'), nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>',
    ];
  },
};

/** NAMESPACE_PRINTER: NAME STATUS AGE. */
export const NAMESPACE_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  cells: (ns: Loose, ctx: PrintContext) => [ns.metadata?.name ?? '', ns.status?.phase ?? '', age(ns, ctx)],
};

const SERVICE_SPEC = 'io.k8s.api.core.v1.ServiceSpec';

function loadBalancerIPs(svc: Loose): string {
  return ((svc.status?.loadBalancer?.ingress ?? []) as Loose[]).map((i) => i.ip || i.hostname).filter(Boolean).join(',');
}

function externalIP(svc: Loose): string {
  const external = (svc.spec?.externalIPs ?? []) as string[];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIPs(svc);
      if (external.length > 0) return [...(lb ? lb.split(',') : []), ...external].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(svc: Loose): string {
  const ports = ((svc.spec?.ports ?? []) as Loose[]).map((p) => {
    const protocol = p.protocol ?? 'TCP';
    return p.nodePort ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
  });
  return ports.length === 0 ? '<none>' : ports.join(',');
}

/** SERVICE_PRINTER: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE (+ SELECTOR). */
export const SERVICE_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', [SERVICE_SPEC, 'type']),
    column('Cluster-IP', 'string', [SERVICE_SPEC, 'clusterIP']),
    column('External-IP', 'string', [SERVICE_SPEC, 'externalIPs']),
    column('Port(s)', 'string', [SERVICE_SPEC, 'ports']),
    AGE_COLUMN,
    column('Selector', 'string', [SERVICE_SPEC, 'selector'], { priority: 1 }),
  ],
  cells(svc: Loose, ctx: PrintContext): unknown[] {
    const clusterIP = svc.spec?.clusterIPs?.[0] ?? svc.spec?.clusterIP ?? '<none>';
    return [
      svc.metadata?.name ?? '', svc.spec?.type ?? 'ClusterIP', clusterIP || '<none>', externalIP(svc), servicePorts(svc),
      age(svc, ctx), formatLabels(svc.spec?.selector),
    ];
  },
};

/** formatEndpoints lists up to three `ip:port` endpoints, then `+ N more...`, as kubectl shows them. */
export function formatEndpoints(endpoints: Loose): string {
  const subsets = (endpoints.subsets ?? []) as Loose[];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = (subset.addresses ?? []) as Loose[];
    const ports = (subset.ports ?? []) as Loose[];
    count += ports.length === 0 ? addresses.length : addresses.length * ports.length;
    const targets = ports.length === 0 ? addresses.map((a) => String(a.ip))
      : ports.flatMap((p) => addresses.map((a) => (String(a.ip).includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`)));
    for (const target of targets) if (list.length < max) list.push(target);
  }
  const text = list.join(',');
  return count > max ? `${text} + ${count - max} more...` : text;
}

/** ENDPOINTS_PRINTER: NAME ENDPOINTS AGE. */
export const ENDPOINTS_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', ['io.k8s.api.core.v1.Endpoints', 'subsets']), AGE_COLUMN],
  cells: (ep: Loose, ctx: PrintContext) => [ep.metadata?.name ?? '', formatEndpoints(ep), age(ep, ctx)],
};

const EVENT = 'io.k8s.api.core.v1.Event';

function eventSource(ev: Loose): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

/** EVENT_PRINTER: LAST SEEN TYPE REASON OBJECT MESSAGE (+ SUBOBJECT SOURCE FIRST SEEN COUNT NAME). */
export const EVENT_PRINTER: Printer = {
  columns: [
    column('Last Seen', 'string', [EVENT, 'lastTimestamp']),
    column('Type', 'string', [EVENT, 'type']),
    column('Reason', 'string', [EVENT, 'reason']),
    column('Object', 'string', [EVENT, 'involvedObject']),
    column('Subobject', 'string', ['io.k8s.api.core.v1.ObjectReference', 'fieldPath'], { priority: 1 }),
    column('Source', 'string', [EVENT, 'source'], { priority: 1 }),
    column('Message', 'string', [EVENT, 'message']),
    column('First Seen', 'string', [EVENT, 'firstTimestamp'], { priority: 1 }),
    column('Count', 'string', [EVENT, 'count'], { priority: 1 }),
    { ...NAME_COLUMN, priority: 1 },
  ],
  cells(ev: Loose, ctx: PrintContext): unknown[] {
    const first = ev.firstTimestamp ? since(ev.firstTimestamp, ctx) : since(ev.eventTime, ctx);
    let last = ev.lastTimestamp ? since(ev.lastTimestamp, ctx) : first;
    let count = int(ev.count);
    if (ev.series) {
      last = since(ev.series.lastObservedTime, ctx);
      count = int(ev.series.count);
    } else if (count === 0) {
      count = 1; // singleton events of the events.k8s.io API carry no count
    }
    const kind = String(ev.involvedObject?.kind ?? '').toLowerCase();
    const target = ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind;
    return [
      last, ev.type ?? '', ev.reason ?? '', target, ev.involvedObject?.fieldPath ?? '', eventSource(ev),
      String(ev.message ?? '').trim(), first, count, ev.metadata?.name ?? '',
    ];
  },
};
