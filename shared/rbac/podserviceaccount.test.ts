/** The ServiceAccount admission plugin through the real API server handler: defaulting, refusal, the projected volume and its mounts. */
import { pod, startApiServer, type Harness } from '../../test/support/apiserver.js';
import { admitPodServiceAccount, PROJECTED_TOKEN_SECONDS, SERVICE_ACCOUNT_MOUNT_PATH } from './podserviceaccount.js';

let h: Harness;
const PODS = '/api/v1/namespaces/team/pods';
const SAS = '/api/v1/namespaces/team/serviceaccounts';

beforeAll(async () => {
  h = await startApiServer({ mutate: admitPodServiceAccount });
  expect((await h.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })).status).toBe(201);
  expect((await h.json('POST', SAS, { metadata: { name: 'robot' } })).status).toBe(201);
  expect((await h.json('POST', SAS, { metadata: { name: 'quiet' }, automountServiceAccountToken: false })).status).toBe(201);
});
afterAll(() => h.close());

const withInit = (name: string, spec: Record<string, unknown> = {}) => {
  const p = pod(name) as { spec: Record<string, unknown> };
  return { ...p, spec: { ...p.spec, initContainers: [{ name: 'init', image: 'busybox' }], ...spec } };
};

describe('ServiceAccount admission', () => {
  it('gives a pod `default` and mounts kube-api-access-* read-only in every container and init container', async () => {
    const { status, body } = await h.json('POST', PODS, withInit('plain'));
    expect(status).toBe(201);
    expect(body.spec.serviceAccountName).toBe('default');
    expect(body.spec.serviceAccount).toBe('default');
    const [volume] = body.spec.volumes;
    expect(volume.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(volume.projected.sources).toEqual([
      { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ]);
    for (const c of [...body.spec.containers, ...body.spec.initContainers]) {
      expect(c.volumeMounts).toEqual([{ name: volume.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    }
  });

  it('uses the ServiceAccount the pod names', async () => {
    const { status, body } = await h.json('POST', PODS, withInit('named', { serviceAccountName: 'robot' }));
    expect(status).toBe(201);
    expect([body.spec.serviceAccountName, body.spec.serviceAccount]).toEqual(['robot', 'robot']);
    expect(body.spec.volumes).toHaveLength(1);
  });

  it('refuses a ServiceAccount that does not exist with upstream 403', async () => {
    const { status, body } = await h.json('POST', PODS, pod('ghostly', { spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'x' }] } }));
    expect(status).toBe(403);
    expect(body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403, details: { name: 'ghostly', kind: 'pods' } });
    expect(body.message).toBe('pods "ghostly" is forbidden: error looking up service account team/ghost: serviceaccount "ghost" not found');
  });

  it('mounts nothing when automountServiceAccountToken is false on the pod or on its ServiceAccount; the pod wins', async () => {
    const off = await h.json('POST', PODS, withInit('off', { automountServiceAccountToken: false }));
    expect(off.status).toBe(201);
    expect(off.body.spec.volumes).toBeUndefined();
    expect(off.body.spec.containers[0].volumeMounts).toBeUndefined();
    const quiet = await h.json('POST', PODS, withInit('quiet', { serviceAccountName: 'quiet' }));
    expect(quiet.body.spec.volumes).toBeUndefined();
    const overridden = await h.json('POST', PODS, withInit('loud', { serviceAccountName: 'quiet', automountServiceAccountToken: true }));
    expect(overridden.body.spec.volumes).toHaveLength(1);
  });

  it('leaves a container that already mounts something at the path alone', async () => {
    const spec = {
      containers: [{ name: 'own', image: 'x', volumeMounts: [{ name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }, { name: 'other', image: 'x' }],
      volumes: [{ name: 'mine', emptyDir: {} }],
    };
    const { status, body } = await h.json('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'own' }, spec });
    expect(status).toBe(201);
    expect(body.spec.containers[0].volumeMounts).toEqual([{ name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    expect(body.spec.containers[1].volumeMounts[0].name).toMatch(/^kube-api-access-/);
    expect(body.spec.volumes.map((v: { name: string }) => v.name)).toEqual(['mine', body.spec.containers[1].volumeMounts[0].name]);
  });

  it('admits a pod of `default` before its controller made it (the node asks for the token later)', async () => {
    expect((await h.json('POST', '/api/v1/namespaces', { metadata: { name: 'fresh' } })).status).toBe(201);
    const { status, body } = await h.json('POST', '/api/v1/namespaces/fresh/pods', pod('early'));
    expect(status).toBe(201);
    expect(body.spec.volumes).toHaveLength(1);
  });
});
