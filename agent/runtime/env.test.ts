import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Pod } from './pod-types.js';
import { containerEnv, dockerCommand, EnvError, expandVars, type EnvSources } from './env.js';
import { parseQuantity } from './quantity.js';

const pod: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns1', uid: 'u-1', labels: { app: 'x' } }, spec: { nodeName: 'n1', containers: [] } };
const sources: EnvSources = {
  configMap: async (ns, name) => (ns === 'ns1' && name === 'cm' ? { COLOR: 'blue', 'bad key': 'x', SIZE: '3' } : undefined),
  secret: async (ns, name) => (ns === 'ns1' && name === 's' ? { PASSWORD: 'hunter2' } : undefined),
};

describe('expandVars', () => {
  const vars = new Map([['A', '1'], ['B', 'two']]);
  it('expands defined names, keeps undefined ones and unescapes $$', () => {
    expect(expandVars('$(A)-$(B)-$(C)', vars)).toBe('1-two-$(C)');
    expect(expandVars('$$(A) $$ $x $(', vars)).toBe('$(A) $ $x $(');
  });
});

describe('containerEnv', () => {
  it('gives every container the KUBERNETES_SERVICE_* variables first, which its own env may override', async () => {
    const c: V1Container = { name: 'c', env: [{ name: 'KUBERNETES_SERVICE_PORT', value: '8443' }, { name: 'URL', value: 'https://$(KUBERNETES_SERVICE_HOST)' }] };
    const env = await containerEnv(pod, c, sources, { kubernetesService: { host: '10.96.0.1', port: 443 } });
    expect(env).toEqual(expect.arrayContaining(['KUBERNETES_SERVICE_HOST=10.96.0.1', 'KUBERNETES_SERVICE_PORT=8443', 'KUBERNETES_SERVICE_PORT_HTTPS=443', 'KUBERNETES_PORT=tcp://10.96.0.1:443', 'KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1', 'URL=https://10.96.0.1']));
    expect((await containerEnv(pod, { name: 'c' }, sources, {})).some((e) => e.startsWith('KUBERNETES_'))).toBe(false);
  });

  it('applies envFrom, then env in order with expansion, key refs and field refs', async () => {
    const container: V1Container = {
      name: 'c', image: 'i',
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }, { secretRef: { name: 'missing', optional: true } }],
      env: [
        { name: 'GREETING', value: 'hi $(CM_COLOR)' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'PASSWORD' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cm', key: 'nope', optional: true } } },
      ],
      resources: { limits: { memory: '64Mi' } },
    };
    const env = await containerEnv(pod, container, sources, { podIP: '10.1.2.3' });
    expect(env).toEqual(['CM_COLOR=blue', 'CM_SIZE=3', 'GREETING=hi blue', 'PW=hunter2', 'POD=web', 'IP=10.1.2.3', 'APP=x', 'MEM=64']);
  });
  it('fails with CreateContainerConfigError for a missing required key or object', async () => {
    const missingKey: V1Container = { name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'nope' } } }] };
    await expect(containerEnv(pod, missingKey, sources, {})).rejects.toBeInstanceOf(EnvError);
    const missingObject: V1Container = { name: 'c', image: 'i', envFrom: [{ secretRef: { name: 'gone' } }] };
    await expect(containerEnv(pod, missingObject, sources, {})).rejects.toMatchObject({ reason: 'CreateContainerConfigError' });
  });
});

describe('dockerCommand', () => {
  it('maps command and args onto Entrypoint and Cmd', () => {
    expect(dockerCommand({ name: 'c', command: ['sh', '-c'], args: ['echo $(X)'] }, ['X=1'])).toEqual({ Entrypoint: ['sh', '-c'], Cmd: ['echo 1'] });
    expect(dockerCommand({ name: 'c', command: ['sleep', '5'] }, [])).toEqual({ Entrypoint: ['sleep', '5'], Cmd: [] });
    expect(dockerCommand({ name: 'c', args: ['-v'] }, [])).toEqual({ Cmd: ['-v'] });
    expect(dockerCommand({ name: 'c' }, [])).toEqual({});
  });
});

describe('parseQuantity', () => {
  it('reads binary, decimal, milli and exponent forms', () => {
    expect(['128Mi', '1Gi', '500m', '2', '1.5', '1k', '2e3', '100M'].map(parseQuantity)).toEqual([134217728, 1073741824, 0.5, 2, 1.5, 1000, 2000, 1e8]);
    expect(parseQuantity('lots')).toBeUndefined();
  });
});
