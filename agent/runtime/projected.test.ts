import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { projectedTokenVolume } from '../../shared/rbac/podserviceaccount.js';
import type { EnvSources, ServiceAccountTokenRequest } from './env.js';
import type { V1Pod } from './pod-types.js';
import { MISSING_ROOT_CA_RETRY_MS, projectedBinds, removePodDirectory, writeProjectedVolumes } from './projected.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-projected-')); });
afterEach(() => rm(dir, { recursive: true, force: true }));

const pod = (): V1Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'team', uid: 'u-1' },
  spec: {
    serviceAccountName: 'robot',
    containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }, { name: 'data', mountPath: '/data' }] }],
    volumes: [projectedTokenVolume('kube-api-access-abcde') as never, { name: 'data', emptyDir: {} }],
  },
});

function sources(configMaps: Record<string, Record<string, string>>, asked: ServiceAccountTokenRequest[]): EnvSources {
  return {
    async configMap(_ns, name) { return configMaps[name]; },
    async secret() { return undefined; },
    async serviceAccountToken(r) {
      asked.push(r);
      return { token: `token-${asked.length}`, expirationTimestamp: new Date(NOW + r.expirationSeconds * 1000).toISOString() };
    },
  };
}

test('writes token, ca.crt and namespace, asks for a pod-bound token, and is due again at 80% of its lifetime', async () => {
  const asked: ServiceAccountTokenRequest[] = [];
  const due = await writeProjectedVolumes(pod(), sources({ 'kube-root-ca.crt': { 'ca.crt': 'PEM' } }, asked), dir, NOW);
  expect(asked).toEqual([{ namespace: 'team', serviceAccountName: 'robot', podName: 'web', podUid: 'u-1', expirationSeconds: 3607, audience: undefined }]);
  expect(due).toBe(NOW + 3607 * 1000 * 0.8);
  const vol = path.join(dir, 'kube-api-access-abcde');
  expect((await readdir(vol)).sort()).toEqual(['ca.crt', 'namespace', 'token']);
  expect(await readFile(path.join(vol, 'token'), 'utf8')).toBe('token-1');
  expect(await readFile(path.join(vol, 'ca.crt'), 'utf8')).toBe('PEM');
  expect(await readFile(path.join(vol, 'namespace'), 'utf8')).toBe('team');
  expect((await stat(path.join(vol, 'token'))).mode & 0o777).toBe(0o644);
  // Renewal replaces the token in place.
  await writeProjectedVolumes(pod(), sources({ 'kube-root-ca.crt': { 'ca.crt': 'PEM' } }, asked), dir, NOW);
  expect(await readFile(path.join(vol, 'token'), 'utf8')).toBe('token-2');
  expect(projectedBinds(pod(), pod().spec!.containers[0]!.volumeMounts, dir)).toEqual([`${vol}:/var/run/secrets/kubernetes.io/serviceaccount:ro`]);
  await removePodDirectory(dir);
  await expect(stat(dir)).rejects.toThrow();
});

test('a missing ConfigMap is a CreateContainerConfigError, but for kube-root-ca.crt; a pod without projected volumes writes nothing', async () => {
  const other = pod();
  (other.spec!.volumes![0] as any).projected.sources[1].configMap.name = 'settings';
  await expect(writeProjectedVolumes(other, sources({}, []), dir, NOW)).rejects.toMatchObject({ reason: 'CreateContainerConfigError', message: 'configmap "settings" not found' });
  expect(await writeProjectedVolumes(pod(), sources({}, []), dir, NOW)).toBe(NOW + MISSING_ROOT_CA_RETRY_MS);
  expect((await readdir(path.join(dir, 'kube-api-access-abcde'))).sort()).toEqual(['namespace', 'token']);
  const plain: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  const empty = path.join(dir, 'plain');
  expect(await writeProjectedVolumes(plain, undefined, empty, NOW)).toBe(Infinity);
  await expect(stat(empty)).rejects.toThrow();
});
