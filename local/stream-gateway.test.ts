import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import transport from 'spdy-transport';
import { WebSocket, type RawData } from 'ws';
import { StreamTunnel } from '../agent/stream-tunnel.js';
import type { ContainerStreamIO, ContainerStreamRequest, Runtime, StreamProvider } from '../agent/runtime/runtime.js';
import { CHANNEL, decodeMessage, encodeClose, encodeData, V5_PROTOCOL } from '../shared/streams/channel.js';
import { STREAM_RESOLVE_HEADER, STREAM_TUNNEL_PATH, type StreamGateway, type StreamTarget } from '../shared/streams/gateway.js';
import { createLocalStreamGateway } from './stream-gateway.js';
import { until } from '../test/support/until.js';

const TARGET: StreamTarget = {
  kind: 'exec', node: 'node-a', namespace: 'default', pod: 'web', podUid: 'u1', container: 'c',
  command: ['upcase'], stdin: true, stdout: true, stderr: true, tty: false, ports: [],
};

/** A runtime whose exec upper-cases stdin to stdout until stdin ends, says so on stderr and exits 3. */
function fakeRuntime(resizes: Array<{ width: number; height: number }>): Runtime & StreamProvider {
  const streams: StreamProvider = {
    exec: (_request: ContainerStreamRequest, io: ContainerStreamIO) => new Promise<number>((resolve) => {
      io.onResize((size) => resizes.push(size));
      io.stdin!.on('data', (chunk: Buffer) => io.stdout!.write(chunk.toString().toUpperCase()));
      io.stdin!.once('end', () => {
        io.stderr!.write('stdin ended');
        resolve(3);
      });
    }),
    attach: async () => undefined,
  };
  // Port-forward connects to the pod's IP: here, this machine.
  return { ...streams, getPodStatus: async () => ({ podIP: '127.0.0.1' }) } as unknown as Runtime & StreamProvider;
}

interface Received {
  messages: Array<{ channel: number; text: string }>;
  closed: Promise<number>;
}

function collect(ws: WebSocket): Received {
  const messages: Received['messages'] = [];
  ws.on('message', (data: RawData) => {
    const m = decodeMessage(data as Buffer);
    if (m?.kind === 'data') messages.push({ channel: m.channel, text: Buffer.from(m.data).toString() });
  });
  return { messages, closed: new Promise((resolve) => ws.once('close', (code: number) => resolve(code))) };
}

describe('the local stream gateway and the agent\'s tunnel', () => {
  let server: http.Server;
  let gateway: StreamGateway;
  let base: string;
  let tunnel: StreamTunnel | undefined;
  const asked: string[] = [];

  beforeEach(async () => {
    asked.length = 0;
    // The API server's answers: the admin's streams resolve to TARGET, node-a's credential names node-a.
    gateway = createLocalStreamGateway({
      dialTimeoutMs: 2000,
      resolve: async (request) => {
        asked.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get(STREAM_RESOLVE_HEADER)}`);
        const auth = request.headers.get('authorization');
        const path = new URL(request.url).pathname;
        if (path === STREAM_TUNNEL_PATH) return auth === 'Bearer node-a' ? Response.json({ node: 'node-a' }) : Response.json({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'not a node' }, { status: 403 });
        if (auth !== 'Bearer admin') return Response.json({ kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' }, { status: 401 });
        if (path.includes('/pods/missing/')) return Response.json({ kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "missing" not found' }, { status: 404 });
        if (path.endsWith('/portforward')) return Response.json({ ...TARGET, kind: 'portforward', container: '', command: [], stdin: false, stdout: false, stderr: false });
        return Response.json({ ...TARGET, node: path.includes('/pods/elsewhere/') ? 'node-b' : 'node-a' });
      },
    });
    server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    tunnel?.stop();
    tunnel = undefined;
    await gateway.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const startTunnel = async (resizes: Array<{ width: number; height: number }> = []) => {
    tunnel = new StreamTunnel({ gateway: `http://${base}`, token: 'node-a', runtime: fakeRuntime(resizes), nodeName: 'node-a', log: () => undefined });
    tunnel.start();
    await tunnel.connected;
    await until('the tunnel to register', async () => gateway.nodes().includes('node-a'), 5000, 20);
  };

  const client = (pod: string, token = 'admin') => new WebSocket(`ws://${base}/api/v1/namespaces/default/pods/${pod}/exec?command=upcase&stdin=true&stdout=true&stderr=true`, [V5_PROTOCOL], { headers: { authorization: `Bearer ${token}` } });

  /** refusal waits for the gateway's HTTP answer to a refused upgrade. */
  const refusal = (ws: WebSocket) => new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) as Record<string, unknown> }));
    });
  });

  it('relays a stream: stdin and its close, a resize, stdout and stderr apart, then the exit Status', async () => {
    const resizes: Array<{ width: number; height: number }> = [];
    await startTunnel(resizes);
    const ws = client('web');
    const got = collect(ws);
    await new Promise((resolve) => ws.once('open', resolve));
    expect(ws.protocol).toBe(V5_PROTOCOL);
    ws.send(encodeData(CHANNEL.resize, '{"Width":80,"Height":24}'));
    ws.send(encodeData(CHANNEL.stdin, 'hello '));
    ws.send(encodeData(CHANNEL.stdin, 'world'));
    await until('the echo', async () => got.messages.some((m) => m.text.includes('WORLD')), 5000, 20);
    ws.send(encodeClose(CHANNEL.stdin));
    expect(await got.closed).toBe(1000);
    expect(got.messages.filter((m) => m.channel === CHANNEL.stdout).map((m) => m.text).join('')).toBe('HELLO WORLD');
    expect(got.messages.filter((m) => m.channel === CHANNEL.stderr).map((m) => m.text)).toEqual(['stdin ended']);
    const status = JSON.parse(got.messages.find((m) => m.channel === CHANNEL.error)!.text) as Record<string, unknown>;
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect(got.messages.at(-1)!.channel).toBe(CHANNEL.error);
    expect(resizes).toEqual([{ width: 80, height: 24 }]);
    expect(asked).toContain(`POST /api/v1/namespaces/default/pods/web/exec 1`);
  });

  it('answers the API server\'s refusal as its Status, and a node without a tunnel as an error dialing backend', async () => {
    await startTunnel();
    const missing = await refusal(client('missing'));
    expect(missing).toEqual({ status: 404, body: expect.objectContaining({ reason: 'NotFound', message: 'pods "missing" not found' }) });
    expect((await refusal(client('web', 'stranger'))).status).toBe(401);
    const elsewhere = await refusal(client('elsewhere'));
    expect(elsewhere.status).toBe(500);
    expect(elsewhere.body.message).toBe('error dialing backend: node "node-b" has no stream tunnel open (hollow nodes have none; a node\'s agent opens it when it starts)');
  });

  it('lets only a node\'s credential open a tunnel, and refuses a data connection nobody waits for', async () => {
    const notNode = await refusal(new WebSocket(`ws://${base}${STREAM_TUNNEL_PATH}`, { headers: { authorization: 'Bearer admin' } }));
    expect(notNode.status).toBe(403);
    const unknown = await refusal(new WebSocket(`ws://${base}${STREAM_TUNNEL_PATH}/no-such-stream`, { headers: { authorization: 'Bearer node-a' } }));
    expect(unknown.status).toBe(404);
    expect(gateway.nodes()).toEqual([]);
  });

  it('takes the agent\'s newer tunnel in place of its older one, and the agent dials again when its tunnel drops', async () => {
    await startTunnel();
    const second = new WebSocket(`ws://${base}${STREAM_TUNNEL_PATH}`, { headers: { authorization: 'Bearer node-a' } });
    await new Promise((resolve) => second.once('open', resolve));
    // The first tunnel was closed for the second; the agent dials again, replacing the second in turn.
    const replaced = new Promise<number>((resolve) => second.once('close', (code: number) => resolve(code)));
    expect(await replaced).toBe(1000);
    await until('the agent\'s tunnel to be back', async () => gateway.nodes().includes('node-a'), 10_000, 20);
    const ws = client('web');
    const got = collect(ws);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(encodeClose(CHANNEL.stdin));
    expect(await got.closed).toBe(1000);
    expect(got.messages.some((m) => m.channel === CHANNEL.error)).toBe(true);
  });

  it('serves kubectl\'s SPDY port-forward session: a data stream reaches the pod\'s port, a refused port is told on the error stream', async () => {
    await startTunnel();
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    const echoPort = (echo.address() as AddressInfo).port;
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    try {
      const socket = await new Promise<Duplex>((resolve, reject) => {
        const req = http.request(`http://${base}/api/v1/namespaces/default/pods/web/portforward`, {
          method: 'POST', headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io', authorization: 'Bearer admin' },
        });
        req.once('upgrade', (res, upgraded) => {
          expect(res.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
          resolve(upgraded);
        });
        req.once('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
        req.end();
      });
      const session = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
      session.start(3.1);
      const open = (type: string, port: number, id: string) =>
        (session as unknown as { request(uri: object): Duplex }).request({ method: 'POST', path: '/', headers: { streamtype: type, port: String(port), requestid: id } });
      const text = (stream: Duplex) => {
        let got = '';
        stream.on('data', (d: Buffer) => (got += d.toString()));
        return () => got;
      };
      open('error', echoPort, '0');
      const data = open('data', echoPort, '0');
      const echoed = text(data);
      data.write('ping through the tunnel');
      await until('the echo', async () => echoed() === 'ping through the tunnel', 5000, 20);
      const failed = text(open('error', closedPort, '1'));
      open('data', closedPort, '1');
      await until('the error', async () => failed().includes(`error forwarding port ${closedPort} to pod web`), 5000, 20);
      expect(failed()).toContain('ECONNREFUSED');
      socket.destroy();
    } finally {
      echo.close();
    }
  });
});
