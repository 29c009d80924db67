/**
 * kubectl's built-in generators (`create deployment|service|secret|…`, `expose`, `run`) send their
 * bodies as Kubernetes protobuf. Each runs against `coracle up`, and the stored object must hold
 * every field that `--dry-run=client -o json` prints for the same command (the server may only add:
 * defaults, uid, resourceVersion, status).
 */
import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';

jest.setTimeout(120_000);

let cluster: Cluster;
let tmp: string;
const k = (...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath });

beforeAll(async () => {
  [cluster, tmp] = await Promise.all([startCluster(), mkdtemp(path.join(os.tmpdir(), 'coracle-kc-'))]);
});
afterAll(async () => {
  await cluster?.destroy();
  await rm(tmp, { recursive: true, force: true });
});

/** missingFrom lists the paths whose value in `expected` is not the same in `actual` (status and null skipped). */
function missingFrom(expected: unknown, actual: unknown, at = ''): string[] {
  if (expected === null) return [];
  if (typeof expected !== 'object') return expected === actual ? [] : [`${at}: ${JSON.stringify(expected)} ≠ ${JSON.stringify(actual)}`];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${at}: ${JSON.stringify(expected)} ≠ ${JSON.stringify(actual)}`];
    return expected.flatMap((v, i) => missingFrom(v, actual[i], `${at}[${i}]`));
  }
  if (typeof actual !== 'object' || actual === null) return [`${at}: missing`];
  return Object.entries(expected as Record<string, unknown>)
    .filter(([key]) => !(at === '' && key === 'status'))
    .flatMap(([key, v]) => missingFrom(v, (actual as Record<string, unknown>)[key], `${at}.${key}`));
}

/**
 * createAndCompare runs a generator with `--dry-run=client -o json`, then for real, then reads the
 * stored object back. `args` are the generator's arguments; `after` (for `run`) follows `--`.
 */
async function createAndCompare(resource: string, name: string, args: string[], after: string[] = []) {
  const dry = await k(...args, '--dry-run=client', '-o', 'json', ...(after.length ? ['--', ...after] : []));
  expect(dry.stderr).toBe('');
  const real = await k(...args, '-v=8', ...(after.length ? ['--', ...after] : []));
  expect(real.code).toBe(0);
  const stored = await k('get', resource, name, '-o', 'json');
  expect(stored.code).toBe(0);
  const object = JSON.parse(stored.stdout);
  expect(missingFrom(JSON.parse(dry.stdout), object)).toEqual([]);
  return { object, verbose: real.stderr };
}

describe('kubectl generators (protobuf bodies)', () => {
  test('create deployment sends protobuf and stores every field, replicas included', async () => {
    const { object, verbose } = await createAndCompare('deployment', 'web',
      ['create', 'deployment', 'web', '--image=busybox', '--image=nginx:1.27', '--replicas=2', '--port=80']);
    expect(verbose).toContain('Content-Type: application/vnd.kubernetes.protobuf');
    expect(object.spec.replicas).toBe(2);
    expect(object.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual(['busybox', 'nginx:1.27']);
    const zero = await createAndCompare('deployment', 'idle', ['create', 'deployment', 'idle', '--image=busybox', '--replicas=0']);
    expect(zero.object.spec.replicas).toBe(0); // a pointer field: zero is a value, not "unset"
  });

  test('create service clusterip / nodeport / loadbalancer / externalname, and headless', async () => {
    const cip = await createAndCompare('service', 'cip', ['create', 'service', 'clusterip', 'cip', '--tcp=80:8080', '--tcp=443:8443']);
    expect(cip.object.spec.ports.map((p: { targetPort: number }) => p.targetPort)).toEqual([8080, 8443]);
    const np = await createAndCompare('service', 'np', ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080']);
    expect(np.object.spec.ports[0].nodePort).toBe(30080);
    await createAndCompare('service', 'lb', ['create', 'service', 'loadbalancer', 'lb', '--tcp=80']);
    const en = await createAndCompare('service', 'en', ['create', 'service', 'externalname', 'en', '--external-name=example.com']);
    expect(en.object.spec.externalName).toBe('example.com');
    const hl = await createAndCompare('service', 'hl', ['create', 'service', 'clusterip', 'hl', '--clusterip=None']);
    expect(hl.object.spec.clusterIP).toBe('None');
  });

  test('expose a deployment (string target port) and create pdb with a percentage and an integer', async () => {
    await k('create', 'deployment', 'api', '--image=busybox', '--port=8000');
    const svc = await createAndCompare('service', 'api', ['expose', 'deployment', 'api', '--port=80', '--target-port=http', '--name=api']);
    expect(svc.object.spec.ports[0].targetPort).toBe('http');
    expect(svc.object.spec.selector).toEqual({ app: 'api' });
    const pct = await createAndCompare('pdb', 'pct', ['create', 'pdb', 'pct', '--selector=app=api', '--min-available=50%']);
    expect(pct.object.spec.minAvailable).toBe('50%');
    const one = await createAndCompare('pdb', 'one', ['create', 'pdb', 'one', '--selector=app=api', '--max-unavailable=1']);
    expect(one.object.spec.maxUnavailable).toBe(1);
  });

  test('create secret generic / docker-registry / tls keeps bytes exactly', async () => {
    const generic = await createAndCompare('secret', 'gen', ['create', 'secret', 'generic', 'gen', '--from-literal=user=admin', '--from-literal=pw=s3cr€t']);
    expect(Buffer.from(generic.object.data.pw, 'base64').toString()).toBe('s3cr€t');
    const reg = await createAndCompare('secret', 'reg',
      ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p']);
    expect(reg.object.type).toBe('kubernetes.io/dockerconfigjson');
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'tls.example' }]);
    cert.setIssuer([{ name: 'commonName', value: 'tls.example' }]);
    const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    cert.sign(forge.pki.privateKeyFromPem(keyPem));
    await writeFile(path.join(tmp, 'tls.crt'), forge.pki.certificateToPem(cert));
    await writeFile(path.join(tmp, 'tls.key'), keyPem);
    const tls = await createAndCompare('secret', 'tls',
      ['create', 'secret', 'tls', 'tls', `--cert=${path.join(tmp, 'tls.crt')}`, `--key=${path.join(tmp, 'tls.key')}`]);
    expect(Buffer.from(tls.object.data['tls.key'], 'base64').toString()).toBe(keyPem);
  });

  test('create configmap / serviceaccount / namespace', async () => {
    const cm = await createAndCompare('configmap', 'settings', ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=level=3']);
    expect(cm.object.data).toEqual({ mode: 'fast', level: '3' });
    await createAndCompare('serviceaccount', 'robot', ['create', 'serviceaccount', 'robot']);
    const ns = await createAndCompare('namespace', 'team-a', ['create', 'namespace', 'team-a']);
    expect(ns.object.status.phase).toBe('Active');
  });

  test('run with env, labels, annotations, port, restart policy and a command', async () => {
    const { object } = await createAndCompare('pod', 'job1',
      ['run', 'job1', '--image=busybox', '--env=A=1', '--env=B=two', '--labels=app=batch,tier=x', '--annotations=note=hi',
        '--port=8080', '--restart=Never', '--image-pull-policy=IfNotPresent', '--command'], ['sh', '-c', 'echo hi']);
    const c = object.spec.containers[0];
    expect([c.command, c.env, c.ports[0].containerPort, object.spec.restartPolicy]).toEqual(
      [['sh', '-c', 'echo hi'], [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }], 8080, 'Never']);
    const args = await createAndCompare('pod', 'args1', ['run', 'args1', '--image=busybox'], ['one', 'two']);
    expect(args.object.spec.containers[0].args).toEqual(['one', 'two']);
  });

  test('generators for kinds that are not served fail as on a cluster without them', async () => {
    for (const args of [['create', 'job', 'j', '--image=busybox'], ['create', 'quota', 'q', '--hard=pods=2']]) {
      const r = await k(...args);
      expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('the server could not find the requested resource')]);
    }
  });
});
