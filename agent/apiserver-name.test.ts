import { afterEach, describe, expect, it } from '@jest/globals';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { ApiClient } from '../shared/controllers/client.js';
import { apiEnvSources } from './env.js';
import { namedApiServer, namedApiServerForPods, podNameRoute, type NamedApiServerForPods } from './apiserver-name.js';
import { containerEnv } from './runtime/env.js';
import { sandboxConfig } from './runtime/moby/containers.js';

describe('namedApiServer', () => {
  it('is the host name and port of a URL that names a host, 443 by default', () => {
    expect(namedApiServer('https://coracle-x1.azurewebsites.net')).toEqual({ host: 'coracle-x1.azurewebsites.net', port: 443 });
    expect(namedApiServer('https://API.Example.com.:6443/')).toEqual({ host: 'api.example.com', port: 6443 });
    expect(namedApiServer('https://localhost:8443')).toEqual({ host: 'localhost', port: 8443 });
    expect(namedApiServer('http://api.internal')).toEqual({ host: 'api.internal', port: 80 });
  });

  it('is undefined for an IP literal: pods then use the kubernetes Service', () => {
    expect(namedApiServer('https://127.0.0.1:6443')).toBeUndefined();
    expect(namedApiServer('https://10.0.0.4')).toBeUndefined();
    expect(namedApiServer('https://[::1]:6443')).toBeUndefined();
    expect(namedApiServer('https://[fd00::4]')).toBeUndefined();
  });
});

describe('podNameRoute', () => {
  const endpoint = { host: 'vm', port: 40123 };
  it('maps a name the node resolves to its loopback onto the bridge address, relayed to the loopback endpoint', () => {
    expect(podNameRoute(endpoint, '127.0.0.1', '10.213.4.1')).toEqual({
      kind: 'relay', hostsEntry: 'vm:10.213.4.1', listen: { host: '10.213.4.1', port: 40123 }, target: { host: '127.0.0.1', port: 40123 },
    });
    expect(podNameRoute(endpoint, '127.0.1.1', '10.213.4.1')).toMatchObject({ kind: 'relay', target: { host: '127.0.1.1' } });
    expect(podNameRoute(endpoint, '::1', '10.213.4.1')).toMatchObject({ kind: 'relay', hostsEntry: 'vm:10.213.4.1' });
  });

  it('leaves any other answer to DNS (Azure front ends change addresses), and a loopback one without a bridge', () => {
    expect(podNameRoute({ host: 'x.azurewebsites.net', port: 443 }, '20.119.8.44', '10.244.3.1')).toEqual({ kind: 'dns' });
    expect(podNameRoute(endpoint, '127.0.0.1', undefined)).toEqual({ kind: 'dns' });
  });
});

describe('a named API server in containers', () => {
  const pod = { apiVersion: 'v1' as const, kind: 'Pod' as const, metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  // A client whose every call fails: the named endpoint must not need the Service.
  const client = new ApiClient(async () => { throw new Error('no API in this test'); }, { baseUrl: 'https://unused.invalid' });

  it('sets KUBERNETES_SERVICE_HOST, _PORT and the KUBERNETES_PORT* family to the name and its port', async () => {
    const sources = apiEnvSources(client, { host: 'coracle-x1.azurewebsites.net', port: 443 });
    const env = await containerEnv(pod, pod.spec.containers[0]!, sources, { kubernetesService: await sources.kubernetesService!() });
    expect(env).toEqual([
      'KUBERNETES_SERVICE_HOST=coracle-x1.azurewebsites.net', 'KUBERNETES_SERVICE_PORT=443', 'KUBERNETES_SERVICE_PORT_HTTPS=443',
      'KUBERNETES_PORT=tcp://coracle-x1.azurewebsites.net:443', 'KUBERNETES_PORT_443_TCP=tcp://coracle-x1.azurewebsites.net:443',
      'KUBERNETES_PORT_443_TCP_PROTO=tcp', 'KUBERNETES_PORT_443_TCP_PORT=443', 'KUBERNETES_PORT_443_TCP_ADDR=coracle-x1.azurewebsites.net',
    ]);
  });

  it('without a name, asks for the Service (none answering here: unknown)', async () => {
    expect(await apiEnvSources(client).kubernetesService!()).toBeUndefined();
  });

  it('puts the node\'s hosts entries in the sandbox, and none by default', () => {
    expect(sandboxConfig('n1', pod, 'img', undefined, undefined, ['vm:10.213.4.1']).HostConfig?.ExtraHosts).toEqual(['vm:10.213.4.1']);
    expect(sandboxConfig('n1', pod, 'img').HostConfig).not.toHaveProperty('ExtraHosts');
  });
});

describe('namedApiServerForPods', () => {
  let made: NamedApiServerForPods | undefined;
  const servers: net.Server[] = [];
  afterEach(() => {
    made?.close();
    for (const s of servers.splice(0)) s.close();
  });
  const listen = (host: string, port = 0) => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer((s) => s.end('api\n')).once('error', reject);
    server.listen(port, host, () => resolve(server));
    servers.push(server);
  });
  const read = (host: string, port: number) => new Promise<string>((resolve, reject) => {
    let text = '';
    net.connect({ host, port }).on('data', (d) => (text += d.toString())).on('end', () => resolve(text)).on('error', reject);
  });

  it('relays the bridge address at the URL\'s port to the loopback endpoint the name resolves to', async () => {
    // 127.0.0.2 stands in for the bridge address: it is not where `localhost` resolves.
    const api = await listen((await lookup('localhost')).address);
    const port = (api.address() as net.AddressInfo).port;
    made = await namedApiServerForPods({ host: 'localhost', port }, '127.0.0.2', () => undefined);
    expect(made.extraHosts).toEqual([`localhost:127.0.0.2`]);
    expect(await read('127.0.0.2', port)).toBe('api\n');
  });

  it('leaves the address to whoever listens there already', async () => {
    const api = await listen('127.0.0.1');
    const port = (api.address() as net.AddressInfo).port;
    await listen('127.0.0.3', port);
    const lines: string[] = [];
    made = await namedApiServerForPods({ host: 'localhost', port }, '127.0.0.3', (m) => lines.push(m));
    expect(made.extraHosts).toEqual(['localhost:127.0.0.3']);
    expect(lines.join('\n')).toContain('which another process serves');
  });
});
