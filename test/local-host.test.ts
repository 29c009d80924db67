/**
 * The local Functions host end to end, on the fixture apps in test/fixtures: the host runs in its
 * own process (it patches `require`, as the Azure worker does) via test/fixtures/run-host.mjs,
 * which imports the built host from dist/ (npm test builds it first).
 */
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT } from './support/cluster.js';

jest.setTimeout(30_000);

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');

interface HostProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  exited: Promise<number | null>;
}

function runHost(app: string): { child: ChildProcess; ready: Promise<HostProcess>; exited: Promise<number | null>; stderr(): string } {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'run-host.mjs'), path.join(FIXTURES, app)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<HostProcess>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: JSON.parse(line).url, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`host exited (${code}) before it was ready: ${err}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited, stderr: () => err };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(base: string, pathAndQuery: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(pathAndQuery, base), { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Resolves when `res` has delivered text containing `needle` (or rejects when it ends first). */
function receiveUntil(res: http.IncomingMessage, received: { text: string }, needle: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (received.text.includes(needle)) return resolve();
    const onData = () => {
      if (received.text.includes(needle)) {
        res.off('data', onData);
        res.off('end', onEnd);
        resolve();
      }
    };
    const onEnd = () => reject(new Error(`stream ended without "${needle}"; got "${received.text}"`));
    res.on('data', onData);
    res.once('end', onEnd);
  });
}

interface OpenStream {
  req: http.ClientRequest;
  response: Promise<http.IncomingMessage>;
  received: { text: string };
  /** Resolves 'end' when the response ends cleanly, 'error' when it is cut off. */
  ended: Promise<'end' | 'error'>;
}

function openStream(base: string, pathAndQuery: string, method = 'GET'): OpenStream {
  const received = { text: '' };
  let settle: (how: 'end' | 'error') => void = () => undefined;
  const ended = new Promise<'end' | 'error'>((resolve) => (settle = resolve));
  const req = http.request(new URL(pathAndQuery, base), { method, headers: method === 'GET' ? {} : { 'transfer-encoding': 'chunked' } });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => (received.text += d));
      res.once('end', () => settle('end'));
      res.once('error', () => settle('error'));
      res.once('aborted', () => settle('error'));
      resolve(res);
    });
    req.on('error', reject);
  });
  return { req, response, received, ended };
}

describe('local host: HTTP triggers', () => {
  let host: HostProcess;
  beforeAll(async () => {
    host = await runHost('functions-app').ready;
  });
  afterAll(async () => {
    host?.child.kill('SIGTERM');
    await host?.exited;
  });

  const json = async (pathAndQuery: string, init?: Parameters<typeof request>[2]) => {
    const res = await request(host.url, pathAndQuery, init);
    expect(res.status).toBe(200);
    return JSON.parse(res.body);
  };

  test('routes by template: constraints, parameters, optional and catch-all segments, routePrefix ""', async () => {
    expect(await json('/items/12')).toMatchObject({ function: 'itemById', contextName: 'itemById', params: { id: '12' } });
    expect(await json('/items/abc')).toMatchObject({ function: 'itemByName', params: { name: 'abc' } });
    expect(await json('/ITEMS')).toMatchObject({ function: 'itemsList', params: {} });
    expect(await json('/opt/x')).toMatchObject({ function: 'optional', params: { a: 'x' } });
    expect(await json('/opt/x/y')).toMatchObject({ function: 'optional', params: { a: 'x', b: 'y' } });
    expect(await json('/files')).toMatchObject({ function: 'catchAll', params: {} });
    expect(await json('/files/a/b/c.txt')).toMatchObject({ function: 'catchAll', params: { rest: 'a/b/c.txt' } });
    expect((await request(host.url, '/status/700')).status).toBe(404); // range(100,599) rejects it
    expect((await request(host.url, '/nothing/here')).status).toBe(404);
  });

  test('methods: a route only answers its methods, otherwise 404 as in Azure', async () => {
    expect((await request(host.url, '/items/12', { method: 'POST' })).status).toBe(404);
    expect(await json('/items/12', { method: 'DELETE' })).toMatchObject({ function: 'itemByName', method: 'DELETE', params: { name: '12' } });
    expect(await json('/items', { method: 'POST', body: '{}' })).toMatchObject({ function: 'itemsList', method: 'POST' });
    expect((await request(host.url, '/items', { method: 'PUT' })).status).toBe(404);
  });

  test('query, headers, status and response headers reach and leave the handler', async () => {
    const got = await json('/items?x=1&y=two%20words', { headers: { 'x-probe': 'hello' } });
    expect(got).toMatchObject({ query: { x: '1', y: 'two words' }, header: 'hello' });
    expect(got.url).toBe(`${host.url}/items?x=1&y=two%20words`);
    const teapot = await request(host.url, '/status/418');
    expect([teapot.status, teapot.headers['x-code']]).toEqual([418, '418']);
    expect((await request(host.url, '/empty')).status).toBe(204);
    expect((await request(host.url, '/fails')).status).toBe(500);
    // The failure is logged (stderr reaches this process a moment after the response).
    for (let i = 0; i < 50 && !host.stderr().includes('boom'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(host.stderr()).toContain('boom');
  });

  test('a handler reads the whole request body', async () => {
    const res = await request(host.url, '/text', { method: 'PUT', body: 'x'.repeat(100_000) });
    expect(res.body).toBe('got 100000 chars');
  });

  test('the request body streams into the handler while its response streams out', async () => {
    const { req, response, received, ended } = openStream(host.url, '/echo', 'POST');
    req.flushHeaders();
    req.write('one;');
    const res = await response;
    // The echo of the first chunk arrives while the request is still open.
    await receiveUntil(res, received, 'one;');
    req.write('two;');
    await receiveUntil(res, received, 'two;');
    req.end('three;');
    expect(await ended).toBe('end');
    expect(received.text).toBe('one;two;three;');
  });

  test('a response body is delivered chunk by chunk before the handler has finished producing it', async () => {
    const { req, response, received, ended } = openStream(host.url, '/trickle');
    req.end();
    const res = await response;
    await receiveUntil(res, received, 'first\n');
    expect(received.text).toBe('first\n'); // the producer is parked until released
    expect((await request(host.url, '/trickle/release', { method: 'POST' })).body).toBe('released');
    expect(await ended).toBe('end');
    expect(received.text).toBe('first\nsecond\n');
  });
});

describe('local host: timers, unsupported triggers, shutdown', () => {
  test('a timer on a seconds schedule runs on startup and then every second', async () => {
    const host = await runHost('functions-app').ready;
    try {
      await new Promise((resolve) => setTimeout(resolve, 3200));
      const ticks: Array<{ at: number; name: string; isPastDue: boolean }> = JSON.parse((await request(host.url, '/ticks')).body);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(ticks.every((t) => t.name === 'everySecond' && t.isPastDue === false)).toBe(true);
      // After the startup run, ticks fall on whole seconds, about a second apart.
      const scheduled = ticks.slice(1);
      for (const t of scheduled) expect(t.at % 1000).toBeLessThan(500);
      for (let i = 1; i < scheduled.length; i++) expect(scheduled[i]!.at - scheduled[i - 1]!.at).toBeGreaterThan(700);
    } finally {
      host.child.kill('SIGTERM');
      await host.exited;
    }
  });

  test('an unsupported trigger fails start-up, naming the function and the trigger type', async () => {
    const run = runHost('functions-app-unsupported');
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('function "queueWorker": trigger type "queueTrigger" is not supported');
    expect(run.stderr()).not.toContain('"fine"');
  });

  test('SIGTERM ends an open watch cleanly and exits 0', async () => {
    const host = await runHost('functions-app').ready;
    const { req, response, received, ended } = openStream(host.url, '/trickle?watch=true');
    req.end();
    const res = await response;
    await receiveUntil(res, received, 'first\n');
    host.child.kill('SIGTERM');
    expect(await ended).toBe('end');
    expect(await host.exited).toBe(0);
  });

  test('SIGTERM never ends another streaming response early as if complete: past the grace period it is cut', async () => {
    const host = await runHost('functions-app').ready;
    const { req, response, received, ended } = openStream(host.url, '/trickle');
    req.end();
    const res = await response;
    await receiveUntil(res, received, 'first\n');
    host.child.kill('SIGTERM');
    expect(await ended).toBe('error');
    expect(received.text).toBe('first\n');
    expect(await host.exited).toBe(0);
  });
});
