import { serverSideApply, trackManagedFields } from './apply.js';
import { ApiError } from '../status.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';
const T2 = '2026-01-01T00:02:00Z';

type Obj = Record<string, any>;

// Typed loosely so that the assertions can reach into the returned objects.
const ssa = (...args: Parameters<typeof serverSideApply>): Obj => serverSideApply(...args);
const track = (...args: Parameters<typeof trackManagedFields>): Obj => trackManagedFields(...args);

function deploymentConfig(overrides: { replicas?: number; image?: string; withPorts?: boolean } = {}): Obj {
  const container: Obj = { name: 'nginx', image: overrides.image ?? 'nginx:1.14.2' };
  if (overrides.withPorts ?? true) container.ports = [{ containerPort: 80 }];
  const spec: Obj = {
    selector: { matchLabels: { app: 'nginx' } },
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [container] } },
  };
  if (overrides.replicas !== undefined) spec.replicas = overrides.replicas;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } }, spec };
}

/** stored stands for what the API server adds on create (uid, resourceVersion, creationTimestamp). */
function stored(obj: Obj): Obj {
  return { ...obj, metadata: { ...obj.metadata, uid: 'u-1', resourceVersion: '1', creationTimestamp: T0, generation: 1 } };
}

function conflictOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a conflict');
}

const entry = (obj: Obj, manager: string): Obj | undefined => obj.metadata.managedFields?.find((e: Obj) => e.manager === manager);

describe('serverSideApply', () => {
  it('creates a Deployment and records fieldsV1 exactly as kubectl apply --server-side shows it', () => {
    const out = ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 });
    expect(out.spec).toEqual(deploymentConfig({ replicas: 3 }).spec);
    expect(out.metadata.managedFields).toEqual([{
      manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': {
              '.': {}, 'f:image': {}, 'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            } } },
          },
        },
      },
    }]);
    // Key order is structured-merge-diff's: `.` first, then fields sorted by name.
    const container = out.metadata.managedFields[0].fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'];
    expect(Object.keys(container)).toEqual(['.', 'f:image', 'f:name', 'f:ports']);
  });

  it('re-applying the same configuration changes nothing, not even the time', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const second = ssa(first, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T1 });
    expect(second).toEqual(first);
  });

  it('updates the time and value when the applied configuration changes', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const second = ssa(first, deploymentConfig({ replicas: 5 }), { manager: 'kubectl', force: false, now: T1 });
    expect(second.spec.replicas).toBe(5);
    expect(entry(second, 'kubectl')!.time).toBe(T1);
    expect(second.metadata.uid).toBe('u-1');
  });

  it('removes a field the manager no longer applies', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const second = ssa(first, deploymentConfig({ withPorts: false }), { manager: 'kubectl', force: false, now: T1 });
    expect(second.spec.replicas).toBeUndefined();
    expect(second.spec.template.spec.containers[0].ports).toBeUndefined();
    expect(second.metadata.name).toBe('nginx-deployment');
    expect(second.metadata.uid).toBe('u-1');
    const fields = entry(second, 'kubectl')!.fieldsV1;
    expect(fields['f:spec']['f:replicas']).toBeUndefined();
  });

  it('keeps a dropped field that another manager also owns', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const shared = ssa(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 3 } },
      { manager: 'helm', force: false, now: T1 });
    expect(entry(shared, 'helm')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    const dropped = ssa(shared, deploymentConfig(), { manager: 'kubectl', force: false, now: T2 });
    expect(dropped.spec.replicas).toBe(3);
    expect(entry(dropped, 'kubectl')!.fieldsV1['f:spec']['f:replicas']).toBeUndefined();
  });

  it('lets two managers own different fields and merges containers by name', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const sidecar = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment', annotations: { team: 'a' } },
      spec: { template: { spec: { containers: [{ name: 'log', image: 'fluentbit' }] } } } };
    const out = ssa(first, sidecar, { manager: 'sidecar-injector', force: false, now: T1 });
    expect(out.spec.template.spec.containers.map((c: Obj) => c.name)).toEqual(['nginx', 'log']);
    expect(out.metadata.annotations).toEqual({ team: 'a' });
    expect(entry(out, 'sidecar-injector')!.fieldsV1).toEqual({
      'f:metadata': { 'f:annotations': { 'f:team': {} } },
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"log"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
    });
    expect(entry(out, 'kubectl')!.fieldsV1).toEqual(entry(first, 'kubectl')!.fieldsV1);
  });

  it('rejects a change to a field another manager owns, with the message and causes Kubernetes gives', () => {
    const created = stored(track(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl-client-side-apply', operation: 'Update', now: T0 }));
    const err = conflictOf(() => ssa(created, deploymentConfig({ replicas: 5 }), { manager: 'kubectl', force: false, now: T1 }));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(err.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
    ]);
  });

  it('lists several conflicts per manager', () => {
    const created = stored(track(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl-client-side-apply', operation: 'Update', now: T0 }));
    const err = conflictOf(() => ssa(created, deploymentConfig({ replicas: 5, image: 'nginx:2' }), { manager: 'kubectl', force: false, now: T1 }));
    expect(err.message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n' +
      '- .spec.template.spec.containers[name="nginx"].image');
    expect(err.details?.causes?.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
  });

  it('shares ownership without conflict when the applied value is the same', () => {
    const created = stored(track(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl-client-side-apply', operation: 'Update', now: T0 }));
    const out = ssa(created, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T1 });
    expect(entry(out, 'kubectl')!.fieldsV1['f:spec']['f:replicas']).toEqual({});
    expect(entry(out, 'kubectl-client-side-apply')!.fieldsV1['f:spec']['f:replicas']).toEqual({});
  });

  it('with force takes the conflicting field from the other manager', () => {
    const created = stored(track(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl-client-side-apply', operation: 'Update', now: T0 }));
    const out = ssa(created, deploymentConfig({ replicas: 5 }), { manager: 'kubectl', force: true, now: T1 });
    expect(out.spec.replicas).toBe(5);
    expect(entry(out, 'kubectl')!.fieldsV1['f:spec']['f:replicas']).toEqual({});
    expect(entry(out, 'kubectl-client-side-apply')!.fieldsV1['f:spec']['f:replicas']).toBeUndefined();
    expect(entry(out, 'kubectl-client-side-apply')!.fieldsV1['f:spec']['f:selector']).toEqual({});
  });

  it('reports a conflict with an applier without "using"', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const err = conflictOf(() => ssa(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 1 } },
      { manager: 'hpa', force: false, now: T1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
  });

  it('unions finalizers (a set) and owns them by value', () => {
    const base = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
    const a = stored(ssa(undefined, { ...base, metadata: { name: 'c', finalizers: ['x/a'] } }, { manager: 'a', force: false, now: T0 }));
    const b = ssa(a, { ...base, metadata: { name: 'c', finalizers: ['x/b'] } }, { manager: 'b', force: false, now: T1 });
    expect(b.metadata.finalizers).toEqual(['x/a', 'x/b']);
    expect(entry(b, 'b')!.fieldsV1).toEqual({ 'f:metadata': { 'f:finalizers': { 'v:"x/b"': {} } } });
  });

  it('answers 400 when the configuration carries managedFields', () => {
    const cfg = deploymentConfig();
    cfg.metadata.managedFields = [{ manager: 'x' }];
    expect(conflictOf(() => ssa(undefined, cfg, { manager: 'kubectl', force: false, now: T0 })).code).toBe(400);
  });

  it('gives the fields of an object without managedFields to before-first-apply', () => {
    const legacy = stored(deploymentConfig({ replicas: 3 }));
    const err = conflictOf(() => ssa(legacy, deploymentConfig({ replicas: 4 }), { manager: 'kubectl', force: false, now: T1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  });

  it('does not mutate the current object', () => {
    const first = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const before = structuredClone(first);
    ssa(first, deploymentConfig({ replicas: 7 }), { manager: 'kubectl', force: false, now: T1 });
    expect(first).toEqual(before);
  });
});

describe('trackManagedFields', () => {
  it('gives a creator the fields it set, never the server-set metadata', () => {
    const out = track(undefined, stored(deploymentConfig({ replicas: 3 })), { manager: 'kubectl-create', operation: 'Update', now: T0 });
    const e = entry(out, 'kubectl-create')!;
    expect(e).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1' });
    expect(e.fieldsV1['f:metadata']).toEqual({ 'f:labels': { '.': {}, 'f:app': {} } });
    expect(e.fieldsV1['f:spec']['f:replicas']).toEqual({});
    expect(e.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['.']).toEqual({});
  });

  it('moves a field from an applier to an updater that changes it', () => {
    const applied = stored(ssa(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T0 }));
    const scaled = structuredClone(applied);
    scaled.spec.replicas = 10;
    const out = track(applied, scaled, { manager: 'kube-controller-manager', operation: 'Update', subresource: 'scale', now: T1 });
    expect(entry(out, 'kube-controller-manager')).toEqual({
      manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale',
    });
    expect(entry(out, 'kubectl')!.fieldsV1['f:spec']['f:replicas']).toBeUndefined();
    expect(out.metadata.managedFields.map((e: Obj) => e.operation)).toEqual(['Apply', 'Update']);
    // The applier must now force to take replicas back.
    expect(conflictOf(() => ssa(out, deploymentConfig({ replicas: 3 }), { manager: 'kubectl', force: false, now: T2 })).code).toBe(409);
  });

  it('records nothing for a write that changes nothing', () => {
    const created = stored(track(undefined, deploymentConfig({ replicas: 3 }), { manager: 'kubectl-create', operation: 'Update', now: T0 }));
    const out = track(created, structuredClone(created), { manager: 'kubectl-edit', operation: 'Update', now: T1 });
    expect(out.metadata.managedFields).toEqual(created.metadata.managedFields);
  });

  it('takes removed fields away from their owner and drops empty entries', () => {
    const created = stored(track(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } },
      { manager: 'creator', operation: 'Update', now: T0 }));
    const next = structuredClone(created);
    delete next.data;
    next.metadata.labels = { x: 'y' };
    const out = track(created, next, { manager: 'kubectl-patch', operation: 'Update', now: T1 });
    expect(entry(out, 'creator')).toBeUndefined();
    expect(entry(out, 'kubectl-patch')!.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } });
  });

  it('leaves an existing object without managedFields untracked, as Kubernetes does', () => {
    const legacy = stored(deploymentConfig({ replicas: 3 }));
    const next = structuredClone(legacy);
    next.spec.replicas = 4;
    expect(track(legacy, next, { manager: 'x', operation: 'Update', now: T1 }).metadata.managedFields).toBeUndefined();
  });
});

describe('server-side apply of keys named like Object.prototype members', () => {
  // Found by fuzz.test.ts: a live field `toString` that the applied configuration lacks read as
  // Object.prototype.toString from the configuration, and cloning the function answered 500.
  // (`constructor`, `__proto__` and `prototype` are refused with 400 before any merge.)
  it.each(['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])('keeps or drops a field named %s as any other', (key) => {
    const cm = (data: Obj): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
    const first = stored(ssa(undefined, cm({ [key]: 'a', other: 'b' }), { manager: 'one', force: false, now: T0 }));
    const second = ssa(first, cm({ other: 'b' }), { manager: 'two', force: true, now: T1 });
    expect(second.data).toEqual({ [key]: 'a', other: 'b' });
    const third = ssa(second, cm({ other: 'b' }), { manager: 'one', force: false, now: T2 });
    expect(third.data).toEqual({ other: 'b' });
  });
});
