/**
 * The local durable engine end to end: the fixture app (test/fixtures/durable-app) on the built
 * local host, driven through df.getClient in HTTP functions and through the durable client's
 * webhooks; assertions on status, output, custom status and history.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app, count, startDurableHost, status, stopDurableHost, waitFor, waitForStatus, webhook, type DurableHostProcess } from './fixtures/durable-app/harness.js';

jest.setTimeout(30_000);

let host: DurableHostProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'coracle-durable-'));
  host = await startDurableHost(dataDir);
});

afterAll(async () => {
  await stopDurableHost(host);
  rmSync(dataDir, { recursive: true, force: true });
});

/** start starts an orchestration through df.getClient (the fixture's HTTP starter) and returns its management links. */
async function start(name: string, id: string, input?: unknown): Promise<Record<string, string>> {
  const r = await app(host, 'POST', `start/${name}/${id}`, input);
  expect(r.status).toBe(202);
  return r.json as Record<string, string>;
}

describe('orchestrations', () => {
  test('a chain of activities completes with its output, custom status and history', async () => {
    const links = await start('chain', 'chain-1');
    expect(links.id).toBe('chain-1');
    expect(links.statusQueryGetUri).toContain(`${host.url}/runtime/webhooks/durabletask/instances/chain-1`);
    const s = await waitForStatus(host, 'chain-1');
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
    expect(s.customStatus).toEqual({ done: 3 });
    expect([count(s, 'TaskScheduled'), count(s, 'TaskCompleted'), count(s, 'ExecutionCompleted')]).toEqual([3, 3, 1]);
    // The statusQueryGetUri the client built answers the same status.
    const viaLink = await (await fetch(links.statusQueryGetUri!)).json() as { output: unknown };
    expect(viaLink.output).toEqual(s.output);
    // And so does df.getClient(...).getStatus inside a function.
    const viaClient = await app(host, 'GET', 'status/chain-1');
    expect((viaClient.json as { runtimeStatus: string }).runtimeStatus).toBe('Completed');
  });

  test('fan-out/fan-in with Task.all', async () => {
    await start('fanOut', 'fan-1', 10);
    const s = await waitForStatus(host, 'fan-1');
    expect(s.output).toBe(2 * (10 * 11) / 2);
    expect(count(s, 'TaskCompleted')).toBe(10);
  });

  test('Task.any: the timer wins without an event, the event wins before the timer', async () => {
    await start('race', 'race-timeout', { ms: 300 });
    await start('race', 'race-event', { ms: 20_000 });
    await waitForStatus(host, 'race-event', ['Running']);
    expect((await webhook(host, 'POST', 'instances/race-event/raiseEvent/approve', { ok: true })).status).toBe(202);
    expect((await waitForStatus(host, 'race-event')).output).toEqual({ approved: { ok: true } });
    expect((await waitForStatus(host, 'race-timeout')).output).toBe('timeout');
  });

  test('callActivityWithRetry: two failures then success; too few attempts gives up', async () => {
    await start('retry', 'retry-ok', { token: 'ok', attempts: 3 });
    await start('retry', 'retry-short', { token: 'short', attempts: 2 });
    const ok = await waitForStatus(host, 'retry-ok');
    expect(ok.output).toEqual({ token: 'ok', calls: 3, after: 'Hello after' });
    expect([count(ok, 'TaskFailed'), count(ok, 'TimerFired')]).toEqual([2, 2]);
    const short = await waitForStatus(host, 'retry-short');
    expect(short.output).toMatchObject({ gaveUp: true });
    expect((short.output as { message: string }).message).toContain('flaky failure 2');
  });

  test('external events raised before and after the wait', async () => {
    await start('events', 'events-1');
    // Raised while the orchestration still runs its first activity: buffered until the wait.
    expect((await app(host, 'POST', 'raise/events-1/early', 'E')).status).toBe(202);
    await waitFor('waiting-late', async () => ((await status(host, 'events-1'))?.customStatus === 'waiting-late' ? true : undefined));
    await app(host, 'POST', 'raise/events-1/late', 'L');
    expect((await waitForStatus(host, 'events-1')).output).toEqual({ early: 'E', late: 'L' });
  });

  test('sub-orchestrations (named and generated ids)', async () => {
    await start('parent', 'parent-1');
    const s = await waitForStatus(host, 'parent-1');
    expect(s.output).toEqual({ child: ['Hello Tokyo', 'Hello Seattle', 'Hello London'], sum: 2 * (1 + 2 + 3 + 4) });
    expect((await status(host, 'parent-1-child'))?.runtimeStatus).toBe('Completed');
  });

  test('continueAsNew counts to N with a fresh history per generation', async () => {
    await start('counter', 'counter-1', { n: 0, target: 5 });
    const s = await waitForStatus(host, 'counter-1');
    expect([s.output, s.input, s.customStatus]).toEqual([5, { n: 5, target: 5 }, { n: 5 }]);
    expect(count(s, 'ExecutionStarted')).toBe(1);
  });

  test('a long timer becomes a chain of sub-timers (max short timer 1 s here)', async () => {
    await start('longTimer', 'long-1', { ms: 2500 });
    const s = await waitForStatus(host, 'long-1');
    expect(s.output as number).toBeGreaterThanOrEqual(2500);
    // One timer of 2.5 s would fire once. Sub-timers of 1 s fire 3 times (1 s, 2 s, 2.5 s), or
    // twice when the first fires late on a loaded machine: less than the 1 s maximum is then left,
    // and the next one goes straight to the final time (as LongTimerTask does).
    const fired = count(s, 'TimerFired');
    expect(fired).toBeGreaterThanOrEqual(2);
    expect(fired).toBeLessThanOrEqual(3);
  });

  test('an orchestrator that throws ends Failed with its error', async () => {
    await start('failing', 'failing-1');
    const s = await waitForStatus(host, 'failing-1');
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toContain('orchestrator broke');
  });
});

describe('instance management', () => {
  test('singleton ids: a running id conflicts; terminate, then the id starts again; purge', async () => {
    expect((await webhook(host, 'POST', 'orchestrators/waitForever/single-1')).status).toBe(202);
    expect((await webhook(host, 'POST', 'orchestrators/waitForever/single-1')).status).toBe(409);
    // A running instance is not purged.
    expect((await webhook(host, 'DELETE', 'instances/single-1')).status).toBe(404);
    expect((await app(host, 'POST', 'terminate/single-1?reason=bye')).status).toBe(202);
    const s = await waitForStatus(host, 'single-1');
    expect([s.runtimeStatus, s.output]).toEqual(['Terminated', 'bye']);
    expect((await webhook(host, 'POST', 'instances/single-1/raiseEvent/never', 1)).status).toBe(410);
    expect((await webhook(host, 'POST', 'orchestrators/waitForever/single-1')).status).toBe(202);
    await webhook(host, 'POST', 'instances/single-1/raiseEvent/never', 1);
    expect((await waitForStatus(host, 'single-1')).output).toBe('woken');
    expect((await app(host, 'POST', 'purge/single-1')).json).toEqual({ instancesDeleted: 1 });
    expect(await status(host, 'single-1')).toBeUndefined();
  });

  test('the loopback endpoint of the durable client needs the per-start credential in its URL (issue 15)', async () => {
    const { rpcBaseUrl } = (await app(host, 'GET', 'rpc-base')).json as { rpcBaseUrl: string };
    const base = new URL(rpcBaseUrl);
    expect(base.hostname).toBe('127.0.0.1');
    expect(base.pathname).toMatch(/^\/durabletask\/[A-Za-z0-9_-]{43}\/$/);
    // Without the secret, nothing is served: no status, no terminate, no purge.
    for (const [method, p] of [['GET', '/durabletask/instances/chain-1'], ['POST', '/durabletask/instances/chain-1/terminate?reason=x'], ['DELETE', '/durabletask/instances/chain-1'], ['GET', '/durabletask/wrong/instances/chain-1']]) {
      expect((await fetch(new URL(p, base.origin), { method })).status).toBe(401);
    }
    expect((await fetch(new URL('instances/chain-1', rpcBaseUrl))).status).toBe(200);
  });

  test('unknown instances and functions, the system key, query paging', async () => {
    expect((await webhook(host, 'GET', 'instances/nope')).status).toBe(404);
    expect((await webhook(host, 'POST', 'instances/nope/raiseEvent/x', 1)).status).toBe(404);
    expect((await webhook(host, 'POST', 'orchestrators/noSuchOrchestrator')).status).toBe(400);
    expect((await fetch(new URL('/runtime/webhooks/durabletask/instances/chain-1', host.url))).status).toBe(401);
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const url = new URL('/runtime/webhooks/durabletask/instances/?runtimeStatus=Completed&top=2', host.url);
      url.searchParams.set('code', host.key);
      const res: Response = await fetch(url, { headers: token ? { 'x-ms-continuation-token': token } : {} });
      const page = await res.json() as Array<{ instanceId: string; runtimeStatus: string }>;
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((p) => p.instanceId));
      token = res.headers.get('x-ms-continuation-token');
    } while (token);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['chain-1', 'fan-1']));
  });
});

describe('the reconcile orchestration pattern', () => {
  const reconciles = async () => (await app(host, 'GET', 'reconciles')).json as Record<string, number>;

  test('signals during a reconcile coalesce into one more reconcile', async () => {
    expect((await app(host, 'POST', 'signal/slow-a')).json).toEqual({ result: 'started' });
    await waitFor('first reconcile', async () => ((await reconciles())['slow-a'] === 1 ? true : undefined));
    for (let i = 0; i < 5; i++) expect((await app(host, 'POST', 'signal/slow-a')).json).toEqual({ result: 'signaled' });
    await waitFor('second reconcile', async () => ((await reconciles())['slow-a'] === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1200));
    expect((await reconciles())['slow-a']).toBe(2);
    expect((await status(host, 'recon:slow-a'))?.runtimeStatus).toBe('Running');
  });

  test('a single signal raised while a reconcile runs is not lost: one more reconcile follows', async () => {
    expect((await app(host, 'POST', 'signal/slow-b')).json).toEqual({ result: 'started' });
    await waitFor('first reconcile', async () => ((await reconciles())['slow-b'] === 1 ? true : undefined));
    expect((await app(host, 'POST', 'signal/slow-b')).json).toEqual({ result: 'signaled' }); // within the 400 ms reconcile
    await waitFor('second reconcile', async () => ((await reconciles())['slow-b'] === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1200));
    expect((await reconciles())['slow-b']).toBe(2);
  });

  test('a failing reconcile is retried until it succeeds', async () => {
    await app(host, 'POST', 'signal/fail-a');
    const s = await waitFor('a successful reconcile', async () => {
      const st = await status(host, 'recon:fail-a');
      return (st?.customStatus as { requeueAfterMs?: number } | null)?.requeueAfterMs === 60_000 ? st : undefined;
    });
    expect((s.customStatus as { error?: string }).error).toBeUndefined();
    expect((await reconciles())['fail-a']).toBe(3);
  });

  test('requeueAfter reconciles again without any signal', async () => {
    await app(host, 'POST', 'signal/requeue-a');
    await waitFor('four reconciles', async () => ((await reconciles())['requeue-a'] === 4 ? true : undefined));
    await new Promise((r) => setTimeout(r, 800));
    expect((await reconciles())['requeue-a']).toBe(4);
  });
});
