import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ProbeLoop, runProbe, type ProbeTarget } from './probes.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const target = { containerId: 'x', container: { name: 'c', ports: [{ name: 'http', containerPort: 1 }] } } as unknown as ProbeTarget;

describe('ProbeLoop', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  async function advance(ms: number) {
    await jest.advanceTimersByTimeAsync(ms);
  }

  it('waits initialDelaySeconds, then reports failure only after failureThreshold in a row', async () => {
    const results: boolean[] = [];
    const outcomes = [false, false, true, false, false, false];
    let calls = 0;
    const loop = new ProbeLoop(target, { initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 3 }, (ok) => results.push(ok), Date.now(), async () => outcomes[calls++] ?? false);
    await advance(1999);
    expect(calls).toBe(0);
    await advance(1);
    expect(calls).toBe(1);
    await advance(5000);
    expect(calls).toBe(6);
    expect(results).toEqual([true, false]); // success after one (threshold 1), failure after three failures in a row
    loop.stop();
    await advance(5000);
    expect(calls).toBe(6);
  });

  it('needs successThreshold successes in a row', async () => {
    const results: boolean[] = [];
    const outcomes = [true, false, true, true];
    let calls = 0;
    const loop = new ProbeLoop(target, { periodSeconds: 1, successThreshold: 2, failureThreshold: 1 }, (ok) => results.push(ok), Date.now(), async () => outcomes[calls++] ?? true);
    await advance(3500);
    expect(results).toEqual([false, true]);
    loop.stop();
  });
});

describe('runProbe', () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('answers httpGet by status code and tcpSocket by connection', async () => {
    const t = { ...target, podIP: '127.0.0.1' };
    expect(await runProbe(t, { httpGet: { path: '/healthz', port } })).toBe(true);
    expect(await runProbe(t, { httpGet: { path: '/broken', port } })).toBe(false);
    expect(await runProbe(t, { tcpSocket: { port } })).toBe(true);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    expect(await runProbe(t, { tcpSocket: { port } })).toBe(false);
    server = createServer().listen(0);
  });
});
