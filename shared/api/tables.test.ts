import { humanDuration, printerFor, toTable } from './tables.js';
import { RESOURCES, type ResourceType } from './resources.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function res(plural: string): ResourceType {
  return RESOURCES.find((r) => r.plural === plural)!;
}

interface Table {
  kind: string;
  columnDefinitions: { name: string; type: string; format: string; description: string; priority: number }[];
  rows: { cells: unknown[]; object?: Record<string, unknown>; conditions?: unknown[] }[];
  metadata: Record<string, unknown>;
}

function table(plural: string, objects: Record<string, unknown>[], wide = false): Table {
  return toTable(res(plural), objects, { wide, includeObject: 'None', now: NOW }) as unknown as Table;
}

/** cellsByColumn pairs each cell with its (upper-cased, as kubectl prints) column name. */
function row(plural: string, obj: Record<string, unknown>, wide = false): Record<string, unknown> {
  const t = table(plural, [obj], wide);
  return Object.fromEntries(t.columnDefinitions.map((c, i) => [c.name.toUpperCase(), t.rows[0]!.cells[i]]));
}

describe('humanDuration', () => {
  test.each([
    [-5_000, '<invalid>'], [-500, '0s'], [0, '0s'], [5_000, '5s'], [119_000, '119s'], [120_000, '2m'],
    [200_000, '3m20s'], [10 * MIN, '10m'], [179 * MIN, '179m'], [3 * HOUR, '3h'], [3 * HOUR + 5 * MIN, '3h5m'],
    [8 * HOUR, '8h'], [47 * HOUR, '47h'], [2 * DAY + 3 * HOUR, '2d3h'], [3 * DAY, '3d'], [8 * DAY, '8d'],
    [400 * DAY, '400d'], [2 * 365 * DAY, '2y'], [3 * 365 * DAY + 10 * DAY, '3y10d'], [9 * 365 * DAY, '9y'],
  ])('%d ms is %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe('toTable', () => {
  test('every listed kind has its own printer, NAME first (events: LAST SEEN) and an AGE-like column (metrics: WINDOW, roles: CREATED AT)', () => {
    // Create-only kinds (the access reviews) are never listed.
    for (const r of RESOURCES.filter((r) => r.verbs.includes('list'))) {
      const names = printerFor(r).columns.map((c) => c.name);
      const isRole = r.plural === 'roles' || r.plural === 'clusterroles';
      // Upstream's printRole prints NAME and CREATED AT only.
      expect(names.length).toBeGreaterThanOrEqual(isRole ? 2 : 3);
      expect(names[0]).toBe(r.plural === 'events' ? 'Last Seen' : 'Name');
      // metrics-server's tables end with the measuring window, not an age (the objects are made per request).
      expect(names).toContain(r.plural === 'events' ? 'First Seen' : r.group === 'metrics.k8s.io' ? 'Window' : isRole ? 'Created At' : 'Age');
      for (const c of printerFor(r).columns) expect(c.description).not.toBe('');
    }
  });

  test('table envelope, listMeta and includeObject', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd', creationTimestamp: ago(5_000) }, data: { a: '1' } };
    const base = { wide: false, now: NOW, listMeta: { resourceVersion: '9', continue: 'x' } };
    const none = toTable(res('configmaps'), [cm], { ...base, includeObject: 'None' }) as unknown as Table;
    expect(none).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '9', continue: 'x' } });
    expect(none.rows[0]!.object).toBeUndefined();
    const meta = toTable(res('configmaps'), [cm], { ...base, includeObject: 'Metadata' }) as unknown as Table;
    expect(meta.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm.metadata });
    const full = toTable(res('configmaps'), [cm], { ...base, includeObject: 'Object' }) as unknown as Table;
    expect(full.rows[0]!.object).toBe(cm);
    expect(full.rows[0]!.cells).toEqual(['c', 1, '5s']);
  });

  test('wide adds priority-1 columns, in Kubernetes order', () => {
    const names = (plural: string, wide: boolean): string[] => table(plural, [], wide).columnDefinitions.map((c) => c.name.toUpperCase());
    expect(names('pods', false)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(names('pods', true)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(names('nodes', true)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    expect(names('deployments', true)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(names('replicasets', true)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(names('services', true)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    expect(names('events', false)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(names('events', true)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
    expect(names('namespaces', true)).toEqual(['NAME', 'STATUS', 'AGE']);
    expect(names('configmaps', true)).toEqual(['NAME', 'DATA', 'AGE']);
    expect(names('secrets', true)).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(names('endpoints', true)).toEqual(['NAME', 'ENDPOINTS', 'AGE']);
    expect(names('serviceaccounts', true)).toEqual(['NAME', 'SECRETS', 'AGE']);
    expect(names('leases', true)).toEqual(['NAME', 'HOLDER', 'AGE']);
    expect(names('poddisruptionbudgets', true)).toEqual(['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    const pods = table('pods', [], true).columnDefinitions;
    expect(pods.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    expect(pods[0]).toMatchObject({ type: 'string', format: 'name' });
  });
});

const meta = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ name, namespace: 'default', creationTimestamp: ago(2 * DAY + 3 * HOUR), ...extra });
const running = { running: { startedAt: ago(HOUR) } };

function pod(status: Record<string, unknown>, spec: Record<string, unknown> = {}, extraMeta: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: meta('p', extraMeta), spec: { containers: [{ name: 'a' }], ...spec }, status };
}

describe('pods', () => {
  test('running and ready, with wide cells', () => {
    const p = pod({
      phase: 'Running', podIPs: [{ ip: '10.1.0.4' }], conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: running }],
    }, { nodeName: 'n1', readinessGates: [{ conditionType: 'x/y' }] });
    expect(row('pods', p, true)).toEqual({
      NAME: 'p', READY: '1/1', STATUS: 'Running', RESTARTS: '0', AGE: '2d3h',
      IP: '10.1.0.4', NODE: 'n1', 'NOMINATED NODE': '<none>', 'READINESS GATES': '0/1',
    });
  });

  test.each([
    ['ContainerCreating', { phase: 'Pending', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ContainerCreating' } } }] }],
    ['ImagePullBackOff', { phase: 'Pending', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ImagePullBackOff' } } }] }],
    ['CrashLoopBackOff', { phase: 'Running', containerStatuses: [{ name: 'a', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }],
    ['Completed', { phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }],
    ['Error', { phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }],
    ['ExitCode:3', { phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 3 } } }] }],
    ['Signal:9', { phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137, signal: 9 } } }] }],
    ['Pending', { phase: 'Pending' }],
    ['Evicted', { phase: 'Failed', reason: 'Evicted' }],
    ['SchedulingGated', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }],
  ])('status %s', (expected, status) => {
    expect(row('pods', pod(status)).STATUS).toBe(expected);
  });

  test('init containers: Init:N/M, Init:<reason>, Init:Error', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }] };
    const done = { name: 'i1', state: { terminated: { exitCode: 0 } } };
    expect(row('pods', pod({ phase: 'Pending', initContainerStatuses: [done, { name: 'i2', state: { running: {} } }] }, spec)).STATUS).toBe('Init:1/2');
    expect(row('pods', pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { waiting: { reason: 'ImagePullBackOff' } } }] }, spec)).STATUS)
      .toBe('Init:ImagePullBackOff');
    expect(row('pods', pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 2, reason: 'Error' } } }] }, spec)).STATUS)
      .toBe('Init:Error');
  });

  test('terminating, and a completed container beside a running one', () => {
    const p = pod({ phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: running }] }, {}, { deletionTimestamp: ago(1000) });
    expect(row('pods', p).STATUS).toBe('Terminating');
    const two = pod({
      phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'a', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', ready: true, state: running }],
    }, { containers: [{ name: 'a' }, { name: 'b' }] });
    expect(row('pods', two)).toMatchObject({ READY: '1/2', STATUS: 'NotReady' });
  });

  test('restarts carry the time since the last one; sidecars count as containers', () => {
    const p = pod({
      phase: 'Running',
      containerStatuses: [{ name: 'a', ready: true, restartCount: 5, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MIN) } } }],
      initContainerStatuses: [{ name: 's', ready: true, started: true, restartCount: 1, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(HOUR) } } }],
      conditions: [{ type: 'Initialized', status: 'True' }],
    }, { initContainers: [{ name: 's', restartPolicy: 'Always' }] });
    expect(row('pods', p)).toMatchObject({ READY: '2/2', RESTARTS: '6 (5m ago)', STATUS: 'Running' });
    const completed = table('pods', [pod({ phase: 'Succeeded' })]);
    expect(completed.rows[0]!.conditions).toEqual([expect.objectContaining({ type: 'Completed', reason: 'Succeeded' })]);
  });
});

describe('other kinds', () => {
  test('nodes: Ready / NotReady / Unknown, SchedulingDisabled, roles, wide info', () => {
    const node = (conditions: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      metadata: meta('n', { labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': 'true' } }),
      spec: extra,
      status: {
        conditions, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n' }],
        nodeInfo: { kubeletVersion: 'v1.35.0', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'docker://24' },
      },
    });
    expect(row('nodes', node([{ type: 'Ready', status: 'True' }]), true)).toEqual({
      NAME: 'n', STATUS: 'Ready', ROLES: 'control-plane,worker', AGE: '2d3h', VERSION: 'v1.35.0',
      'INTERNAL-IP': '10.0.0.1', 'EXTERNAL-IP': '<none>', 'OS-IMAGE': 'Debian', 'KERNEL-VERSION': '6.1', 'CONTAINER-RUNTIME': 'docker://24',
    });
    expect(row('nodes', node([{ type: 'Ready', status: 'Unknown' }], { unschedulable: true })).STATUS).toBe('NotReady,SchedulingDisabled');
    expect(row('nodes', node([])).STATUS).toBe('Unknown');
  });

  test('deployments and replicasets', () => {
    const template = { spec: { containers: [{ name: 'web', image: 'nginx:1' }, { name: 'side', image: 'busybox' }] } };
    const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'env', operator: 'Exists' }] };
    const d = { metadata: meta('d'), spec: { replicas: 3, selector, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
    expect(row('deployments', d, true)).toEqual({
      NAME: 'd', READY: '2/3', 'UP-TO-DATE': 3, AVAILABLE: 2, AGE: '2d3h',
      CONTAINERS: 'web,side', IMAGES: 'nginx:1,busybox', SELECTOR: 'app=web,env,tier in (a,b)',
    });
    const rs = { metadata: meta('rs'), spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template }, status: { replicas: 2, readyReplicas: 1 } };
    expect(row('replicasets', rs)).toEqual({ NAME: 'rs', DESIRED: 2, CURRENT: 2, READY: 1, AGE: '2d3h' });
  });

  test('services: types, external IPs, ports, selector', () => {
    const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): Record<string, unknown> => ({ metadata: meta('s'), spec, status });
    expect(row('services', svc({ clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 443, protocol: 'TCP' }], selector: { b: '2', a: '1' } }), true))
      .toEqual({ NAME: 's', TYPE: 'ClusterIP', 'CLUSTER-IP': '10.96.0.1', 'EXTERNAL-IP': '<none>', 'PORT(S)': '443/TCP', AGE: '2d3h', SELECTOR: 'a=1,b=2' });
    expect(row('services', svc({ type: 'NodePort', clusterIPs: ['10.96.0.2'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }))['PORT(S)'])
      .toBe('80:30080/TCP,53/UDP');
    expect(row('services', svc({ type: 'LoadBalancer', ports: [] }))).toMatchObject({ 'EXTERNAL-IP': '<pending>', 'PORT(S)': '<none>' });
    expect(row('services', svc({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } }))['EXTERNAL-IP']).toBe('1.2.3.4');
    expect(row('services', svc({ type: 'ExternalName', externalName: 'example.com' }))['EXTERNAL-IP']).toBe('example.com');
  });

  test('endpoints show up to three addresses then a count', () => {
    const addresses = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ ip }));
    expect(row('endpoints', { metadata: meta('e'), subsets: [{ addresses, ports: [{ port: 80 }] }] }).ENDPOINTS)
      .toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
    expect(row('endpoints', { metadata: meta('e'), subsets: [{ addresses: addresses.slice(0, 1), ports: [{ port: 8080 }] }] }).ENDPOINTS).toBe('10.0.0.1:8080');
    expect(row('endpoints', { metadata: meta('e') }).ENDPOINTS).toBe('<none>');
  });

  test('events: last seen, object, count, source', () => {
    const ev = {
      metadata: meta('p.123'), type: 'Warning', reason: 'BackOff', message: ' Back-off restarting \n',
      involvedObject: { kind: 'Pod', name: 'p', fieldPath: 'spec.containers{a}' },
      source: { component: 'kubelet', host: 'n1' }, firstTimestamp: ago(10 * MIN), lastTimestamp: ago(30_000), count: 7,
    };
    expect(row('events', ev, true)).toEqual({
      'LAST SEEN': '30s', TYPE: 'Warning', REASON: 'BackOff', OBJECT: 'pod/p', SUBOBJECT: 'spec.containers{a}',
      SOURCE: 'kubelet, n1', MESSAGE: 'Back-off restarting', 'FIRST SEEN': '10m', COUNT: 7, NAME: 'p.123',
    });
    const fresh = { metadata: meta('e2'), type: 'Normal', reason: 'Scheduled', involvedObject: { kind: 'Pod' }, eventTime: ago(3000) };
    expect(row('events', fresh, true)).toMatchObject({ 'LAST SEEN': '3s', OBJECT: 'pod', COUNT: 1, 'FIRST SEEN': '3s' });
  });

  test('namespaces, configmaps, secrets, serviceaccounts, leases, poddisruptionbudgets', () => {
    expect(row('namespaces', { metadata: meta('ns'), status: { phase: 'Active' } })).toEqual({ NAME: 'ns', STATUS: 'Active', AGE: '2d3h' });
    expect(row('configmaps', { metadata: meta('c'), data: { a: '', b: '' }, binaryData: { c: '' } })).toEqual({ NAME: 'c', DATA: 3, AGE: '2d3h' });
    expect(row('secrets', { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }))
      .toEqual({ NAME: 's', TYPE: 'kubernetes.io/tls', DATA: 2, AGE: '2d3h' });
    expect(row('serviceaccounts', { metadata: meta('default') })).toEqual({ NAME: 'default', SECRETS: 0, AGE: '2d3h' });
    expect(row('leases', { metadata: meta('node-a'), spec: { holderIdentity: 'node-a' } })).toEqual({ NAME: 'node-a', HOLDER: 'node-a', AGE: '2d3h' });
    expect(row('poddisruptionbudgets', { metadata: meta('pdb'), spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } }))
      .toEqual({ NAME: 'pdb', 'MIN AVAILABLE': '50%', 'MAX UNAVAILABLE': 'N/A', 'ALLOWED DISRUPTIONS': 1, AGE: '2d3h' });
    expect(row('poddisruptionbudgets', { metadata: meta('pdb'), spec: { maxUnavailable: 1 } })['MAX UNAVAILABLE']).toBe('1');
  });

  test('ages are computed at request time; a missing timestamp is <unknown>', () => {
    const cm = { metadata: { name: 'c', creationTimestamp: new Date(NOW).toISOString() } };
    const at = (now: number): unknown => (toTable(res('configmaps'), [cm], { wide: false, includeObject: 'None', now }) as unknown as Table).rows[0]!.cells[2];
    expect(at(NOW + 5_000)).toBe('5s');
    expect(at(NOW + 200_000)).toBe('3m20s');
    expect(row('configmaps', { metadata: { name: 'x' } }).AGE).toBe('<unknown>');
  });
});

describe('metrics tables', () => {
  test('a PodMetrics row sums its containers in metrics-server units', () => {
    const podMetrics = RESOURCES.find((r) => r.group === 'metrics.k8s.io' && r.kind === 'PodMetrics')!;
    const table = toTable(podMetrics, [{
      kind: 'PodMetrics', metadata: { name: 'p', namespace: 'default' }, window: '15s',
      containers: [{ name: 'a', usage: { cpu: '1500000n', memory: '2048Ki' } }, { name: 'b', usage: { cpu: '2m', memory: '1Mi' } }],
    }], { wide: false, includeObject: 'None' }) as { rows: { cells: unknown[] }[] };
    expect(table.rows[0]!.cells).toEqual(['p', '3500000n', '3072Ki', '15s']);
  });
});
