/**
 * The agent-side HTTP queue client against the queue server the local host mounts, over HTTPS
 * with a cluster CA: the WorkQueue contract end to end (client → server → SQLite queue), and the
 * node-token authorization (401 without a token, 403 on another node's queue).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, createServingCertificate } from '../cli/pki.js';
import { serveMount } from '../local/fetch-mount.js';
import { createQueueServer, QUEUE_PATH_PREFIX } from '../local/queue-server.js';
import { openHttpWorkQueue } from '../adapters/workqueue/http/index.js';
import { openSqliteWorkQueue } from '../adapters/workqueue/sqlite/index.js';
import { describeWorkQueueContract } from '../shared/workqueue/contract.js';
import type { UserInfo } from '../shared/apiserver/context.js';
import type { WorkQueue, WorkQueueSettings } from '../shared/workqueue/queue.js';

const settings: WorkQueueSettings = { lockDurationMs: 1_000, maxDeliveryCount: 3 };
const ca = createCertificateAuthority();
const serving = createServingCertificate(ca, ['127.0.0.1', 'localhost']);
const TOKENS: ReadonlyMap<string, UserInfo> = new Map([
  ['admin-token', { username: 'admin', groups: ['system:masters'] }],
  ['node-a-token', { username: 'system:node:node-a', groups: ['system:nodes'] }],
  ['node-b-token', { username: 'system:node:node-b', groups: ['system:nodes'] }],
  ['alice-token', { username: 'alice', groups: ['developers'] }],
]);

/** startQueueServer serves a fresh in-memory queue over HTTPS, as the local host mounts it. */
async function startQueueServer(): Promise<{ url: string; backing: WorkQueue; stop(): Promise<void> }> {
  const backing = await openSqliteWorkQueue({ path: ':memory:', settings });
  const mount = { prefix: QUEUE_PATH_PREFIX, handler: createQueueServer({ queue: backing, authenticate: (t) => TOKENS.get(t) }) };
  const shutdown = new AbortController();
  let url = '';
  const server = https.createServer({ key: serving.key, cert: serving.cert }, (req, res) => void serveMount(mount, req, res, url, shutdown.signal));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    backing,
    stop: async () => {
      shutdown.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await backing.close();
    },
  };
}

describeWorkQueueContract(
  'http (agent client → local queue server → sqlite)',
  async () => {
    const server = await startQueueServer();
    const queue = openHttpWorkQueue({ server: server.url, token: 'admin-token', ca: ca.cert });
    return {
      queue,
      destroy: async () => {
        await queue.close();
        await server.stop();
      },
    };
  },
  settings,
);

describe('queue server authorization', () => {
  let server: Awaited<ReturnType<typeof startQueueServer>>;
  const raw = async (path: string, token?: string, body: unknown = {}) => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(`${server.url}${QUEUE_PATH_PREFIX}${path}`, {
        method: 'POST',
        ca: ca.cert,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      }, (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    return { status: res.status, reason: res.body ? (JSON.parse(res.body) as { reason?: string }).reason : undefined };
  };

  beforeAll(async () => {
    server = await startQueueServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers 401 without a token or with an unknown one', async () => {
    expect(await raw('node-a/receive')).toEqual({ status: 401, reason: 'Unauthorized' });
    expect(await raw('node-a/receive', 'nobody')).toEqual({ status: 401, reason: 'Unauthorized' });
  });

  it("answers 403 when a node uses another node's queue, and to users that are neither nodes nor masters", async () => {
    await server.backing.send('node-b', { name: 'secret-work' });
    expect(await raw('node-b/receive', 'node-a-token')).toEqual({ status: 403, reason: 'Forbidden' });
    expect(await raw('node-b/messages', 'node-a-token', { body: { x: 1 } })).toEqual({ status: 403, reason: 'Forbidden' });
    expect(await raw('node-a/receive', 'alice-token')).toEqual({ status: 403, reason: 'Forbidden' });
    // Node a's refused receive took nothing: node b still gets its message.
    const [m] = await server.backing.receive('node-b');
    expect(m?.body).toEqual({ name: 'secret-work' });
  });

  it('lets a node use its own queue through the client, and the client reports Forbidden elsewhere', async () => {
    const nodeA = openHttpWorkQueue({ server: server.url, token: 'node-a-token', ca: ca.cert });
    await server.backing.send('node-a', { name: 'mine' });
    const [m] = await nodeA.receive('node-a', { waitMs: 2_000 });
    expect(m?.body).toEqual({ name: 'mine' });
    await nodeA.complete('node-a', m!);
    await expect(nodeA.receive('node-b')).rejects.toMatchObject({ reason: 'Forbidden' });
    await nodeA.close();
    const anonymous = openHttpWorkQueue({ server: server.url, token: 'wrong', ca: ca.cert });
    await expect(anonymous.send('node-a', { x: 1 })).rejects.toMatchObject({ reason: 'Unauthorized' });
    await anonymous.close();
  });

  it('refuses a server its CA did not sign, and answers 404/405/400 for bad requests', async () => {
    const untrusting = openHttpWorkQueue({ server: server.url, token: 'admin-token' });
    await expect(untrusting.send('node-a', { x: 1 })).rejects.toMatchObject({ reason: 'Unavailable' });
    await untrusting.close();
    expect(await raw('node-a/nothing-here', 'admin-token')).toEqual({ status: 404, reason: 'NotFound' });
    expect(await raw('node-a/deadletters', 'admin-token')).toEqual({ status: 405, reason: 'MethodNotAllowed' });
    expect(await raw('node-a/messages', 'admin-token', { body: 'not an object' })).toEqual({ status: 400, reason: 'BadRequest' });
    expect(await raw('node-a/messages/x/complete', 'admin-token', {})).toEqual({ status: 400, reason: 'BadRequest' });
  });

  it('refuses a body past 256 KiB with 413 before reading it all, and a malformed escape with 400 (issue 15)', async () => {
    const before = process.memoryUsage().rss;
    expect(await raw('node-a/messages', 'node-a-token', { body: { blob: 'x'.repeat(20 * 1024 * 1024) } })).toEqual({ status: 413, reason: 'RequestEntityTooLarge' });
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    expect(await raw('node-a/messages', 'node-a-token', { body: { blob: 'x'.repeat(200 * 1024) } })).toEqual({ status: 201, reason: undefined });
    expect(await raw('node-a/%ZZ', 'admin-token')).toEqual({ status: 400, reason: 'BadRequest' });
  });

  it('a client that goes away mid long-poll leaves the message for the next receiver', async () => {
    const client = openHttpWorkQueue({ server: server.url, token: 'admin-token', ca: ca.cert });
    const ac = new AbortController();
    const waiting = client.receive('node-c', { waitMs: 20_000, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    expect(await waiting).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    await server.backing.send('node-c', { name: 'p' });
    const [m] = await server.backing.receive('node-c');
    expect(m).toMatchObject({ body: { name: 'p' }, deliveryCount: 1 });
    await client.close();
  });
});
